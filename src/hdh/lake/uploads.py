"""What a deposit may hold, and how uploaded files reach the ingestion: shared by
the web form and the API so that both apply the same limits."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.translation import gettext as _

from hdh.core.errors import ValidationFailed
from hdh.lake.sources import EXTENSIONS

UPLOAD_MAX_FILES = 100


class Upload(Protocol):
    name: str | None
    size: int | None

    def chunks(self) -> Iterable[bytes]: ...


def check(files: Sequence[Upload]) -> None:
    """A few non-empty files of a readable format, bounded in total size."""
    limit = int(settings.HDH_LAKE_UPLOAD_MAX_BYTES)
    if not files:
        raise ValidationFailed(_("Aucun fichier déposé."), ["files"])
    if len(files) > UPLOAD_MAX_FILES:
        raise ValidationFailed(_("Trop de fichiers dans un même dépôt."), ["files"])
    total = 0
    for upload in files:
        name = Path(upload.name or "").name
        size = upload.size or 0
        if size == 0:
            raise ValidationFailed(_("Le fichier est vide."), [f"files: {name[:200]}"])
        if Path(name).suffix.lower() not in EXTENSIONS:
            raise ValidationFailed(
                _("Format non pris en charge : CSV, Parquet, SAS (sas7bdat) ou Stata (dta)."),
                [f"files: {name[:200]}"],
            )
        total += size
    if total > limit:
        raise ValidationFailed(
            _("Le dépôt dépasse %(mb)s Mo.") % {"mb": max(1, limit // (1024 * 1024))}, ["files"]
        )


@contextmanager
def staged(files: Sequence[Upload]) -> Iterator[list[tuple[str, Path]]]:
    """Copy the uploads, chunk by chunk, into a private temporary folder.

    The stored names are numbers with the original extension, so no uploaded
    name ever becomes a path; the original name is kept for the report.
    """
    with tempfile.TemporaryDirectory(prefix="hdh-upload-") as folder:
        paths = []
        for number, upload in enumerate(files):
            original = Path(upload.name or "").name
            path = Path(folder) / f"{number}{Path(original).suffix.lower()[:10]}"
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            paths.append((original, path))
        yield paths
