"""Receiving an external cohort file: size-capped while the request is read, then
written chunk by chunk to a private folder outside the lake.

The cap is enforced by an upload handler placed before Django's own, so a file
larger than ``HDH_LINKAGE_UPLOAD_MAX_BYTES`` is never written to disk in full:
reading stops at the cap and the rest of the body is discarded.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

MAX_BYTES = 200 * 1024 * 1024
# Room for the form's other fields and the multipart framing around the file.
FORM_OVERHEAD = 64 * 1024


def max_bytes() -> int:
    return int(getattr(settings, "HDH_LINKAGE_UPLOAD_MAX_BYTES", MAX_BYTES))


def linkage_root() -> Path:
    """Where cohort files wait for their run: under ``HDH_HOME``, never in the lake."""
    return Path(settings.HDH_HOME) / "linkage"


def private_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


class SizeCap(FileUploadHandler):
    """Counts uploaded bytes and stops reading the body past the cap."""

    def __init__(self, request: HttpRequest | None = None, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            # Discard the rest of the body (already bounded by the view's
            # Content-Length check) so the page can still answer.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> Any:
        return None


def body_too_large(request: HttpRequest, limit: int) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > limit + FORM_OVERHEAD


@dataclass(frozen=True)
class Stored:
    path: Path
    bytes: int
    sha256: str


def store(chunks: Any, *, limit: int) -> Stored:
    """Write ``chunks`` to a new private file (0600) of the linkage inbox.

    Raises ``OverflowError`` (and leaves nothing) past ``limit`` bytes.
    """
    inbox = private_folder(private_folder(linkage_root()) / "inbox")
    path = inbox / f"cohort-{uuid.uuid4().hex}.csv"
    digest = hashlib.sha256()
    size = 0
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise OverflowError("cohort file over the size limit")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Stored(path=path, bytes=size, sha256=digest.hexdigest())
