# SQL here is built from names this module generates, paths quoted by the
# engine's dialect and a key inlined by the dialect's HMAC; no uploaded value is
# spliced into a statement.
# ruff: noqa: S608
"""Linking an external cohort to a project's dataset, as a staff service.

A data engineer uploads a cohort file (names, birth date, postcode, sex) for a
permit whose dataset is published. A background run links it to the SNDS
beneficiaries' identities with Splink (:func:`hdh.preparation.linkage.link_cohort`),
drops links to people in the objection register at the run date, replaces each
linked level-1 pseudonym with the project's level-2 pseudonym, and publishes a
new dataset version: the current version's tables unchanged (hard links, same
checksums), ``COHORT_LINKS.parquet`` and the quality report, through the same
seal-rename-record path as a preparation run. The cohort file is deleted when
the run ends, and the deletion is audited.

See docs/adr/0010-record-linkage.md (addendum).
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from hdh.access import scanning
from hdh.access.models import Permit
from hdh.accounts.authorization import require_permission
from hdh.audit import services as audit
from hdh.core import clock, lake
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.governance import service_writes
from hdh.core.permissions import Permission
from hdh.core.redaction import scrub
from hdh.engines import files, get_engine
from hdh.preparation import objections, policies, services, uploads
from hdh.preparation.linkage import cohort as cohorts
from hdh.preparation.linkage import link_cohort
from hdh.preparation.linkage import probabilistic as splinking
from hdh.preparation.models import (
    LINKAGE_TERMINAL,
    TERMINAL,
    LinkageRun,
    LinkageStatus,
    PreparationRun,
    ProjectDataset,
)

logger = logging.getLogger(__name__)

LINKS_TABLE = "COHORT_LINKS"
LINKS_FILE = f"{LINKS_TABLE}.parquet"
REPORT_FILE = f"{LINKS_TABLE}_report.json"
CHART_FILE = f"{LINKS_TABLE}_match_weights.vl.json"
# The project's person column: COHORT_LINKS joins the dataset's tables on it.
PERSON_COLUMN = "BEN_NIR_PSA"
LINKS_COLUMNS = ["record_id", PERSON_COLUMN, "match_probability", "linked"]
IDENTITY_TABLE = "IR_IDENTITE"
DEFAULT_THRESHOLD = 0.9
# A running linkage whose heartbeat is older than this may be taken over.
STALE_AFTER = dt.timedelta(hours=1)

_HEX_RUN = re.compile(r"[0-9A-Fa-f]{16,}")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


class LinkageFailed(Exception):
    """The run cannot go on; the message is safe to show and to store."""


# --- where things are -----------------------------------------------------------
def cohort_path(run: LinkageRun) -> Path:
    return uploads.linkage_root() / f"cohort-run{run.pk}.csv"


def identity_files(base: str) -> list[Path]:
    """The identity table of ``base`` (names, birth dates, NIR): kept apart from the
    lake, under ``HDH_IDENTITIES`` (default ``$HDH_HOME/identite``), for level-1
    pseudonymisation and linkage only."""
    root = Path(getattr(settings, "HDH_IDENTITIES", Path(settings.HDH_HOME) / "identite"))
    folder = root / lake.safe_segment(base) / IDENTITY_TABLE
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def current_dataset(permit: Permit) -> ProjectDataset | None:
    return (
        ProjectDataset.objects.filter(permit=permit, superseded_at__isnull=True)
        .order_by("-version")
        .first()
    )


def staging_path(run: LinkageRun) -> Path:
    return lake.path("projects", run.project.reference, "datasets", f"staging-linkage{run.pk}")


# --- request --------------------------------------------------------------------
def request_linkage(
    *,
    permit: Permit,
    chunks: Any,
    name: str,
    threshold: float = DEFAULT_THRESHOLD,
    engine: str = "duckdb",
    by: Any,
) -> LinkageRun:
    """Check and store an uploaded cohort file, and queue its linkage run.

    The file is refused, and nothing is kept, unless it is a CSV within the
    size limit that the antivirus passes and :mod:`~hdh.preparation.linkage.cohort`
    accepts line by line.
    """
    require_permission(by, Permission.PREPARATION_RUN, permit)
    source = _check_requestable(permit, threshold=threshold, engine=engine)
    if not name.lower().endswith(".csv"):
        raise ValidationFailed(_("Le fichier de cohorte doit être un CSV (.csv)."), ["cohort"])
    limit = uploads.max_bytes()
    try:
        stored = uploads.store(chunks, limit=limit)
    except OverflowError:
        raise ValidationFailed(_too_large(limit), ["cohort"]) from None
    kept: Path | None = None
    try:
        if stored.bytes == 0:
            raise ValidationFailed(_("Le fichier est vide."), ["cohort"])
        _scan(by, permit, stored.path)
        records = _check_cohort(stored.path)
        with transaction.atomic():
            with service_writes():
                run = LinkageRun.objects.create(
                    permit=permit,
                    project=permit.project,
                    source_dataset=source,
                    threshold=threshold,
                    engine=engine,
                    cohort_bytes=stored.bytes,
                    cohort_sha256=stored.sha256,
                    cohort_records=records,
                    created_by=by,
                )
            kept = cohort_path(run)
            os.rename(stored.path, kept)
            audit.record(
                action="linkage.requested",
                by=by,
                target=run,
                details={
                    "permit": permit.reference,
                    "based_on": source.version,
                    "threshold": threshold,
                    "engine": engine,
                    "records": records,
                    "bytes": stored.bytes,
                },
            )
    except BaseException:
        stored.path.unlink(missing_ok=True)
        if kept is not None:
            kept.unlink(missing_ok=True)
        raise
    return run


def _check_requestable(permit: Permit, *, threshold: float, engine: str) -> ProjectDataset:
    policies.check_permit_preparable(permit)
    if not 0.0 < threshold < 1.0:
        raise ValidationFailed(_("Le seuil doit être strictement entre 0 et 1."), ["threshold"])
    from hdh.engines import available

    if engine not in available():
        raise ValidationFailed(_("Moteur inconnu."), ["engine"])
    source = current_dataset(permit)
    if source is None:
        raise InvalidState(_("Préparez d'abord le jeu de données du projet."))
    if LinkageRun.objects.filter(permit=permit).exclude(status__in=LINKAGE_TERMINAL).exists():
        raise InvalidState(_("Un appariement de cette autorisation est déjà en cours."))
    if PreparationRun.objects.filter(plan__permit=permit).exclude(status__in=TERMINAL).exists():
        raise InvalidState(_("Une préparation de cette autorisation est en cours."))
    if services.current_key(permit.project).version != source.key_version:
        raise InvalidState(_("Un changement de clé du projet est en cours : attendez sa fin."))
    if not identity_files(_base_of(source)):
        raise InvalidState(_("La table des identités (IR_IDENTITE) n'est pas disponible."))
    return source


def _base_of(dataset: ProjectDataset) -> str:
    return str(dataset.manifest.get("plan", {}).get("base") or "snds")


def _too_large(limit: int) -> str:
    return _("Le fichier de cohorte dépasse %(mb)s Mo.") % {"mb": max(1, limit // (1024 * 1024))}


def refuse_too_large(*, permit: Permit, by: Any) -> ValidationFailed:
    """The error for an upload stopped at the size cap while the request was read."""
    require_permission(by, Permission.PREPARATION_RUN, permit)
    return ValidationFailed(_too_large(uploads.max_bytes()), ["cohort"])


def _scan(by: Any, permit: Permit, path: Path) -> None:
    def chunks() -> Any:
        with path.open("rb") as handle:
            while block := handle.read(scanning.CHUNK):
                yield block

    try:
        verdict = scanning.configured().scan(chunks())
    except scanning.ScannerUnavailable:
        logger.error("upload scanner unavailable for a cohort file")
        audit.record(
            action="linkage.upload_refused",
            by=by,
            target=permit,
            outcome="failure",
            details={"reason": "scanner_unavailable"},
        )
        raise ValidationFailed(
            _("L'analyse antivirus est indisponible : le fichier n'a pas été accepté."), ["cohort"]
        ) from None
    if not verdict.clean:
        audit.record(
            action="linkage.upload_refused",
            by=by,
            target=permit,
            outcome="failure",
            details={"reason": "malware", "signature": verdict.signature},
        )
        raise ValidationFailed(_("Le fichier a été refusé par l'antivirus."), ["cohort"])


def _check_cohort(path: Path) -> int:
    """Check the whole file now, so that the page names every problem (line, column, rule)."""
    workdir = Path(settings.HDH_HOME) / "tmp" / f"cohort-check-{uuid.uuid4().hex}"
    try:
        with get_engine("duckdb", workdir=workdir, memory_limit=_memory_limit()) as engine:
            loaded = cohorts.load(engine, path)
    except cohorts.CohortInvalid as exc:
        # Problems name our stored file; the engineer knows it as "the file".
        problems = [_plain(problem, path.name) for problem in exc.problems]
        raise ValidationFailed(_("Le fichier de cohorte est refusé."), problems) from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return loaded.rows


def _plain(problem: str, stored_name: str) -> str:
    return problem.replace(stored_name, _("fichier"))


def _memory_limit() -> str:
    return str(getattr(settings, "HDH_PREPARATION_MEMORY_LIMIT", services.ENGINE_MEMORY_LIMIT))


# --- run -------------------------------------------------------------------------
def claim(run_id: int, *, takeover: bool = False) -> LinkageRun | None:
    now = clock.now()
    with transaction.atomic():
        run = LinkageRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.is_terminal:
            return None
        if run.status == LinkageStatus.RUNNING and not takeover:
            beat = run.heartbeat_at or run.started_at
            if beat is not None and now - beat < STALE_AFTER:
                return None
        with service_writes():
            run.status = LinkageStatus.RUNNING
            run.started_at = run.started_at or now
            run.heartbeat_at = now
            run.save(update_fields=["status", "started_at", "heartbeat_at"])
    return run


def execute_linkage(run_id: int, *, takeover: bool = False) -> LinkageRun | None:
    """Run a queued linkage to one terminal state; the cohort file is deleted either way."""
    run = claim(run_id, takeover=takeover)
    if run is None:
        return LinkageRun.objects.filter(pk=run_id).first()
    workdir = Path(settings.HDH_HOME) / "tmp" / f"linkage-run{run.pk}"
    staging = staging_path(run)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    try:
        _link_and_publish(run, workdir=workdir, staging=staging)
    except Exception as exc:
        shutil.rmtree(staging, ignore_errors=True)
        logger.error("cohort linkage %s failed: %s", run.pk, type(exc).__name__)
        _fail(run.pk, _error_text(exc))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        _delete_cohort(run)
    return LinkageRun.objects.get(pk=run.pk)


def _link_and_publish(run: LinkageRun, *, workdir: Path, staging: Path) -> LinkageRun:
    source = run.source_dataset
    if source.superseded_at is not None:
        raise LinkageFailed(_("La version de départ a été remplacée entre-temps : relancez."))
    if services.verify_dataset(source):
        raise LinkageFailed(_("La version de départ ne correspond plus à son manifeste."))
    identities = identity_files(_base_of(source))
    if not identities:
        raise LinkageFailed(_("La table des identités (IR_IDENTITE) n'est pas disponible."))
    cohort = cohort_path(run)
    if not cohort.is_file():
        raise LinkageFailed(
            _("Le fichier de cohorte n'est plus disponible : déposez-le à nouveau.")
        )
    linked_at = clock.now()
    register_version, objectors = objections.register_snapshot(linked_at)
    key = services.key_bytes(run.project, source.key_version)
    options: dict[str, Any] = {"workdir": workdir / "engine"}
    if run.engine == "duckdb":
        options["memory_limit"] = _memory_limit()
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with get_engine(run.engine, **options) as engine:
        result = link_cohort(
            engine=engine,
            cohort=cohort,
            identity=engine.dialect.read_parquet(identities),
            out=workdir / "splink",
            threshold=run.threshold,
        )
        _beat(run.pk)
        tables = _carry_over(source, staging)
        withdrawn, written = _write_links(engine, result.links, staging, key, objectors)
    documents = []
    for name, produced, kind in (
        (REPORT_FILE, result.folder / splinking.REPORT, "linkage_report"),
        (CHART_FILE, result.folder / splinking.CHART, "linkage_chart"),
    ):
        shutil.copyfile(produced, staging / name)
        documents.append(
            {
                "path": name,
                "kind": kind,
                "bytes": (staging / name).stat().st_size,
                "sha256": files.sha256_of(staging / name),
            }
        )
    report = result.report
    linked = result.linked - withdrawn
    expected = report.get("expected") or []
    summary = {
        "records": result.records,
        "identities": result.identities,
        "comparisons": result.comparisons,
        "linked": linked,
        "withdrawn_for_objection": withdrawn,
        "threshold": run.threshold,
        "expected": expected,
        "expected_at_threshold": next(
            (row for row in expected if row.get("threshold") == run.threshold), None
        ),
        "splink_version": report.get("splink_version"),
        "parameters": report.get("parameters"),
        "m_u": report.get("m_u"),
        "seconds": report.get("seconds"),
        "engine": run.engine,
        "objection_register_version": register_version,
        "key_version": source.key_version,
        "based_on": source.version,
    }
    links_entry = {
        "table": LINKS_TABLE,
        "path": written.path.name,
        "rows": written.rows,
        "bytes": written.bytes,
        "sha256": written.sha256,
        "columns": LINKS_COLUMNS,
        "dropped": [],
    }
    manifest = copy.deepcopy(source.manifest)
    manifest.update(
        {
            "format": services.MANIFEST_FORMAT,
            "tables": [*tables, links_entry],
            "files": documents,
            "linkage": {
                "run": run.pk,
                "based_on": source.version,
                "engine": run.engine,
                "threshold": run.threshold,
                "records": result.records,
                "linked": linked,
                "withdrawn_for_objection": withdrawn,
                "objection_register_version": register_version,
                "linkage_time": linked_at.isoformat(),
                "splink_version": report.get("splink_version"),
                "key_version": source.key_version,
            },
        }
    )
    return _publish(run, source=source, manifest=manifest, staging=staging, summary=summary)


def _carry_over(source: ProjectDataset, staging: Path) -> list[dict[str, Any]]:
    """The source version's tables, hard-linked (copied across file systems)."""
    folder = lake.root() / source.path
    kept = []
    for entry in source.manifest["tables"]:
        if entry["table"] == LINKS_TABLE:
            continue  # a new cohort's links replace an earlier cohort's
        name = Path(entry["path"]).name
        try:
            os.link(folder / name, staging / name)
        except OSError:
            shutil.copyfile(folder / name, staging / name)
        kept.append(dict(entry))
    return kept


def _write_links(
    engine: Any, links: Path, staging: Path, key: bytes, objectors: set[str]
) -> tuple[int, Any]:
    """COHORT_LINKS with project pseudonyms; an objector's link is withdrawn.

    A withdrawn link looks like a record no pair was scored for: no pseudonym,
    no probability, not linked.
    """
    table = f"hdh_linkage_objectors_{uuid.uuid4().hex[:12]}"
    engine.register_arrow(table, pa.table({"p1": pa.array(sorted(objectors), type=pa.string())}))
    try:
        relation = engine.dialect.read_parquet([links])
        kept = "(l.linked AND o.p1 IS NULL)"
        withdrawn = engine.fetch(
            f"SELECT count(*) FROM {relation} l JOIN {table} o "
            "ON o.p1 = l.person_pseudonym WHERE l.linked"
        )[0][0]
        pseudonym = engine.dialect.hmac_sha256_hex(key, "l.person_pseudonym")
        written = engine.write_parquet(
            f"SELECT CAST(l.record_id AS VARCHAR) AS record_id, "
            f"CASE WHEN {kept} THEN {pseudonym} END AS {engine.quote(PERSON_COLUMN)}, "
            "CASE WHEN o.p1 IS NULL THEN l.match_probability END AS match_probability, "
            f"coalesce({kept}, FALSE) AS linked "
            f"FROM {relation} l LEFT JOIN {table} o ON o.p1 = l.person_pseudonym "
            "ORDER BY record_id",
            staging / LINKS_FILE,
        )
    finally:
        engine.unregister(table)
    return int(withdrawn), written


def _publish(
    run: LinkageRun,
    *,
    source: ProjectDataset,
    manifest: dict[str, Any],
    staging: Path,
    summary: dict[str, Any],
) -> LinkageRun:
    """Seal, rename, then the dataset row, the run's success and the audit event together."""
    manifest_sha = services.seal(staging, manifest)
    with transaction.atomic():
        locked = LinkageRun.objects.select_for_update().get(pk=run.pk)
        if locked.is_terminal:
            shutil.rmtree(staging, ignore_errors=True)
            return locked
        current = ProjectDataset.objects.select_for_update().get(pk=source.pk)
        if current.superseded_at is not None:
            raise LinkageFailed(_("La version de départ a été remplacée entre-temps : relancez."))
        version, folder = services.install(run.project, staging)
        try:
            now = clock.now()
            rows = sum(int(entry["rows"]) for entry in manifest["tables"])
            with service_writes():
                ProjectDataset.objects.filter(
                    permit=run.permit_id, superseded_at__isnull=True
                ).update(superseded_at=now)
                dataset = ProjectDataset.objects.create(
                    project=run.project,
                    permit=run.permit,
                    run=None,
                    version=version,
                    path=str(folder.relative_to(lake.root())),
                    manifest=manifest,
                    manifest_sha256=manifest_sha,
                    key_version=source.key_version,
                    register_version=source.register_version,
                    rows=rows,
                )
                locked.dataset = dataset
                locked.summary = {**summary, "dataset_version": version}
                locked.status = LinkageStatus.SUCCEEDED
                locked.finished_at = now
                locked.save(update_fields=["dataset", "summary", "status", "finished_at"])
            audit.record(
                action="linkage.finished",
                by=run.created_by,
                target=locked,
                details={
                    "status": LinkageStatus.SUCCEEDED,
                    "version": version,
                    "records": summary["records"],
                    "comparisons": summary["comparisons"],
                    "linked": summary["linked"],
                    "withdrawn_for_objection": summary["withdrawn_for_objection"],
                    "register_version": summary["objection_register_version"],
                },
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return locked


def _fail(run_id: int, error: str) -> LinkageRun:
    with transaction.atomic():
        run = LinkageRun.objects.select_for_update().get(pk=run_id)
        if not run.is_terminal:
            with service_writes():
                run.status = LinkageStatus.FAILED
                run.error = error[:2000]
                run.finished_at = clock.now()
                run.save(update_fields=["status", "error", "finished_at"])
            audit.record(
                action="linkage.finished",
                by=run.created_by,
                target=run,
                outcome="failure",
                details={"status": LinkageStatus.FAILED, "error": error.split(":", 1)[0][:60]},
            )
    return run


def _error_text(exc: BaseException) -> str:
    """What is stored and shown of a failure: never a key, a NIR or a quoted value."""
    if isinstance(exc, LinkageFailed):
        return f"{type(exc).__name__}: {exc}"
    if isinstance(exc, cohorts.CohortInvalid):
        return f"{type(exc).__name__}: " + " ; ".join(exc.problems)[:1500]
    # Engine messages quote the failing SQL (key material inlined as hex) and
    # sometimes the offending value: long hex runs, NIR-like runs and quoted
    # text are masked.
    message = _QUOTED.sub("'…'", _HEX_RUN.sub("[…]", scrub(str(exc))))
    return f"{type(exc).__name__}: {message[:300]}"


def _beat(run_id: int) -> None:
    with service_writes():
        LinkageRun.objects.filter(pk=run_id).update(heartbeat_at=clock.now())


def _delete_cohort(run: LinkageRun) -> None:
    """Delete the uploaded cohort file when its run ends, as evidence in the audit log."""
    path = cohort_path(run)
    existed = path.exists()
    problem = ""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        problem = type(exc).__name__
    with transaction.atomic():
        locked = LinkageRun.objects.select_for_update().get(pk=run.pk)
        if locked.cohort_deleted_at is not None and not existed:
            return  # deleted and recorded already (by the run's worker or a sweep)
        if not problem:
            with service_writes():
                locked.cohort_deleted_at = locked.cohort_deleted_at or clock.now()
                locked.save(update_fields=["cohort_deleted_at"])
        audit.record(
            action="linkage.cohort_deleted",
            target=locked,
            outcome="failure" if problem else "success",
            details={
                "bytes": locked.cohort_bytes,
                "present": existed,
                **({"error": problem} if problem else {}),
            },
        )


# --- sweep -----------------------------------------------------------------------
def recover_interrupted_linkages(*, now: dt.datetime | None = None) -> int:
    """Fail every running linkage whose worker stopped beating, and delete its cohort.

    Like an interrupted preparation run or workspace job, the run fails (the
    engineer deposits the cohort again to retry). Its staging and work folders
    go; the cohort file is deleted and the deletion audited, once: a run whose
    deletion failed earlier is retried here once it has been over for the
    takeover interval (so a worker still finishing it is not raced).
    """
    now = now or clock.now()
    count = 0
    running = LinkageRun.objects.filter(status=LinkageStatus.RUNNING)
    for run_id in running.values_list("pk", flat=True):
        with transaction.atomic():
            run = LinkageRun.objects.select_for_update().get(pk=run_id)
            beat = run.heartbeat_at or run.started_at
            if run.status != LinkageStatus.RUNNING or (
                beat is not None and now - beat < STALE_AFTER
            ):
                continue
            shutil.rmtree(staging_path(run), ignore_errors=True)
            shutil.rmtree(
                Path(settings.HDH_HOME) / "tmp" / f"linkage-run{run.pk}", ignore_errors=True
            )
            services.remove_unrecorded_versions(
                run.project,
                belongs=lambda m, pk=run.pk: (m.get("linkage") or {}).get("run") == pk,
            )
            _fail(
                run.pk,
                f"{LinkageFailed.__name__}: "
                + _("Interrompu : le service d'exécution s'est arrêté pendant l'appariement."),
            )
        # After the failure commits, as when a run ends.
        _delete_cohort(run)
        count += 1
    over = LinkageRun.objects.filter(
        status__in=LINKAGE_TERMINAL,
        cohort_deleted_at__isnull=True,
        finished_at__lte=now - STALE_AFTER,
    )
    for run in over:
        if cohort_path(run).exists():
            _delete_cohort(run)
    return count
