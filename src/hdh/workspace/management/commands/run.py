"""``hdh run SCRIPT --synthetic BASE``: run a job locally on synthetic data (code to data).

    hdh run analyse.py --synthetic snds --tables ER_PRS_F,IR_BEN_R --rows 500
    hdh run requete.sql --synthetic snds --outputs resultats

The script runs as it would in a project's workspace: the tables are in
``HDH_DATA`` (one ``<TABLE>.parquet`` each, synthetic rows generated from the
catalog's dictionary), its results go to ``HDH_OUTPUTS`` (``./outputs`` by
default, which must be empty), with the workspace's limits. It runs in the
bubblewrap sandbox where one can be made here, else as a plain process;
``--sandbox`` makes the sandbox required. No access to any real data is
involved. The exit code is 0 only when the job succeeded.
"""

from __future__ import annotations

import signal
import tempfile
import threading
from argparse import ArgumentParser
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from hdh.catalog.models import Base
from hdh.core.errors import ValidationFailed
from hdh.synth import samples
from hdh.workspace import local, sandbox
from hdh.workspace.models import SCRIPT_LIMIT

KINDS = {".py": "python", ".sql": "sql"}


class _Follow:
    """``should_cancel`` for the sandbox: prints the log as it grows; Ctrl-C cancels."""

    def __init__(self, log: Path, out: Any) -> None:
        self.log = log
        self.out = out
        self.offset = 0
        self.interrupted = False

    def interrupt(self, signum: int, frame: FrameType | None) -> None:
        self.interrupted = True

    def __call__(self) -> bool:
        self.flush()
        return self.interrupted

    def flush(self) -> None:
        try:
            with self.log.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return
        self.offset += len(chunk)
        if chunk:
            self.out.write(chunk.decode("utf-8", "replace"), ending="")
            self.out.flush()


class Command(BaseCommand):
    help = (
        "Run a Python or SQL job script locally against a synthetic sample of a "
        "catalogued base, as it would run in a project workspace."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("script", type=Path, help="the job: a .py or .sql file")
        parser.add_argument(
            "--synthetic", required=True, metavar="BASE", help="the catalogued base (its slug)"
        )
        parser.add_argument(
            "--outputs", type=Path, default=Path("outputs"), help="empty folder for the results"
        )
        parser.add_argument(
            "--rows",
            default=str(samples.DEFAULT_ROWS),
            help=f"synthetic rows per table, 1 to {samples.MAX_ROWS}",
        )
        parser.add_argument(
            "--tables", default="", help="comma-separated tables (default: every table)"
        )
        parser.add_argument(
            "--sandbox", action="store_true", help="refuse to run without the bubblewrap sandbox"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        script: Path = options["script"]
        kind = self._kind(script)
        rows = self._rows(options["rows"])
        base = self._base(options["synthetic"])
        tables = self._tables(base, options["tables"])
        every_table = not options["tables"].strip()
        outputs = self._outputs(options["outputs"])
        with tempfile.TemporaryDirectory(prefix="hdh-run-") as tmp:
            data = Path(tmp) / "data"
            data.mkdir()
            try:
                written, skipped = local.build_synthetic_dataset(
                    base=base, tables=tables, rows=rows, into=data, skip_failures=every_table
                )
            except (ValidationFailed, ValueError) as exc:
                raise CommandError(
                    _("Échantillon synthétique impossible : %(reason)s") % {"reason": exc}
                ) from exc
            for table, reason in skipped:
                self.stderr.write(
                    _("Table %(table)s omise : échantillon synthétique impossible (%(reason)s).")
                    % {"table": table, "reason": reason}
                )
            self.stdout.write(
                _("Données synthétiques de %(base)s : %(tables)s table(s) de %(rows)s lignes.")
                % {"base": base.slug, "tables": len(written), "rows": rows}
            )
            usable, reason = sandbox.sandbox_status()
            if usable:
                self.stdout.write(_("Exécution dans le bac à sable : %(r)s") % {"r": reason})
            elif not options["sandbox"]:
                self.stdout.write(
                    _("Exécution sans bac à sable (%(r)s) : un processus simple.") % {"r": reason}
                )
            log = Path(tmp) / "job.log"
            spec = sandbox.JobSpec(kind=kind, script=script, data=data, outputs=outputs, log=log)
            follow = _Follow(log, self.stdout)
            # Ctrl-C cancels the job (its whole process tree) instead of leaving it behind.
            main = threading.current_thread() is threading.main_thread()
            previous = signal.signal(signal.SIGINT, follow.interrupt) if main else None
            try:
                outcome = sandbox.run(
                    spec, should_cancel=follow, require_sandbox=options["sandbox"]
                )
            finally:
                if main:
                    signal.signal(signal.SIGINT, previous)
            follow.flush()
        files, problems = sandbox.collect_outputs(outputs)
        self.stdout.write("")
        self.stdout.write(_("Sorties dans %(folder)s :") % {"folder": outputs})
        for found in files:
            self.stdout.write(f"  {found.sha256}  {found.size:>12}  {found.name}")
        if not files:
            self.stdout.write(_("  (aucune)"))
        for problem in problems:
            self.stderr.write(_("  ignoré — %(problem)s") % {"problem": problem})
        if outcome.status != "succeeded":
            raise CommandError(outcome.message, returncode=1)
        self.stdout.write(self.style.SUCCESS(outcome.message))

    def _kind(self, script: Path) -> str:
        if not script.is_file():
            raise CommandError(_("Script introuvable : %(path)s") % {"path": script})
        kind = KINDS.get(script.suffix.lower())
        if kind is None:
            raise CommandError(
                _("Type de script non pris en charge (%(suffix)s) : .py (Python) ou .sql (SQL).")
                % {"suffix": script.suffix or _("sans extension")}
            )
        if script.stat().st_size > SCRIPT_LIMIT * 4:
            raise CommandError(_("Script trop long pour un espace projet."))
        try:
            text = script.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CommandError(_("Le script n'est pas un texte UTF-8.")) from exc
        if len(text) > SCRIPT_LIMIT:
            raise CommandError(
                _("Script trop long pour un espace projet (%(n)s caractères au plus).")
                % {"n": SCRIPT_LIMIT}
            )
        return kind

    def _rows(self, asked: str) -> int:
        if not (asked.isascii() and asked.isdigit()) or not 1 <= int(asked) <= samples.MAX_ROWS:
            raise CommandError(
                _("Nombre de lignes invalide (%(asked)s) : un entier de 1 à %(max)s.")
                % {"asked": asked[:20], "max": samples.MAX_ROWS}
            )
        return int(asked)

    def _base(self, slug: str) -> Base:
        base = Base.objects.filter(slug=slug).first()
        if base is not None:
            return base
        known = sorted(Base.objects.values_list("slug", flat=True))
        raise CommandError(
            _("Base inconnue : %(slug)s. Bases du catalogue : %(known)s.")
            % {"slug": slug[:80], "known": ", ".join(known) or _("aucune")}
        )

    def _tables(self, base: Base, asked: str) -> list[str]:
        try:
            catalogued = local.catalogued_tables(base)
        except ValidationFailed as exc:
            raise CommandError(
                _("La base %(slug)s n'a pas de dictionnaire de données.") % {"slug": base.slug}
            ) from exc
        if not asked.strip():
            return catalogued
        wanted = list(dict.fromkeys(t.strip() for t in asked.split(",") if t.strip()))
        unknown = [t for t in wanted if t not in catalogued]
        if unknown:
            raise CommandError(
                _("Table(s) absente(s) du dictionnaire de %(slug)s : %(unknown)s.")
                % {"slug": base.slug, "unknown": ", ".join(t[:80] for t in unknown[:10])}
            )
        if not wanted:
            raise CommandError(_("Aucune table demandée."))
        return wanted

    def _outputs(self, folder: Path) -> Path:
        if folder.exists() and not folder.is_dir():
            raise CommandError(_("%(folder)s existe et n'est pas un dossier.") % {"folder": folder})
        if folder.is_dir() and any(folder.iterdir()):
            raise CommandError(
                _(
                    "Le dossier de sorties %(folder)s n'est pas vide : videz-le ou choisissez-en "
                    "un autre (--outputs), comme un traitement de l'espace projet qui part "
                    "d'un dossier vide."
                )
                % {"folder": folder}
            )
        folder.mkdir(parents=True, exist_ok=True)
        return folder
