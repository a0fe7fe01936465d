"""SQL batch jobs: a script of reads and ``CREATE … AS SELECT`` whose results become output files.

``python -m hdh.workspace.sqljob SCRIPT`` runs inside the job sandbox with the
project dataset in ``HDH_DATA`` and the job's outputs folder in
``HDH_OUTPUTS``. Each top-level read (SELECT, WITH, VALUES, DESCRIBE,
SUMMARIZE, EXPLAIN) writes ``result-<n>.csv`` (n counts the outputs), or the
file a ``-- output: name.csv`` (or ``.parquet``) comment line just before it
names. Tables and views created with ``CREATE [TEMP] TABLE|VIEW name AS
SELECT …`` live in the job's in-memory database only.

All statements are checked before any runs and results are staged, then moved
into place only when the whole script succeeded: a refused or failing script
writes no file. Exit code 0 on success, 1 with the French message on stderr.
DuckDB's memory limit comes from ``HDH_SQL_MEMORY`` (e.g. ``1536MB``) if the
launcher sets it, else half the address-space limit, else 2 GB.

This module imports no Django (see ``sql.py`` for the engine lockdown).
"""

from __future__ import annotations

import csv
import json
import os
import re
import resource
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from hdh.workspace.sql import (
    TABLE_NAME,
    Deadline,
    QueryFailed,
    QueryRefused,
    check_read,
    check_select,
    check_text,
    dataset_tables,
    leading_keywords,
    locked_connection,
    parse_statements,
    quote_identifier,
    text_after,
    to_json_value,
    translate_error,
)

OUTPUT_NAME = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}(?:\.[A-Za-z0-9_-]{1,20})*\.(?:csv|parquet)"
)
OUTPUT_DIRECTIVE = re.compile(r"^\s*--\s*output\s*:\s*(\S*)\s*$", re.IGNORECASE | re.MULTILINE)
_CREATE = re.compile(
    r"create(?: or replace)?(?: (?:temp|temporary))? (?:table|view)(?: if not exists)? ?"
)
_FETCH_CHUNK = 10_000
MEMORY = re.compile(r"[1-9][0-9]{0,6}(?:KB|MB|GB|TB|KiB|MiB|GiB|TiB)")


@dataclass(frozen=True)
class BatchLimits:
    """Limits of one SQL batch job; ``max_rows`` caps each output file."""

    max_rows: int = 10_000_000
    seconds: float = 3600.0
    memory: str = "2GB"
    threads: int = 2
    max_sql_chars: int = 200_000
    max_temp_size: str = "4GB"
    max_statements: int = 200


@dataclass(frozen=True)
class ScriptStep:
    number: int  # 1-based position of the statement in the script
    kind: Literal["select", "create"]
    sql: str  # exactly what is executed: the checked text, or the rebuilt CREATE
    output: str | None  # file name in the outputs folder, for a read


# --- checking a script -----------------------------------------------------------------------


def _numbered(refusal: QueryRefused, number: int) -> QueryRefused:
    message = f"Instruction {number} : {refusal}"
    if isinstance(refusal, QueryFailed):
        return QueryFailed(message)
    return QueryRefused(message, kind=refusal.kind)


def _create_statement(connection: duckdb.DuckDBPyConnection, sql: str) -> str:
    """``CREATE [OR REPLACE] [TEMP] TABLE|VIEW [IF NOT EXISTS] name AS <select>``, rebuilt."""
    words = leading_keywords(sql)
    index = next((i for i, (_, word) in enumerate(words) if word == "as"), 0)
    head = " ".join(w for _, w in words[: index - 1]) if index else ""
    name = words[index - 1][1] if index else ""
    if not _CREATE.fullmatch(head + " ") or not TABLE_NAME.fullmatch(name):
        raise QueryRefused(
            "Seules les instructions CREATE [TEMP] TABLE|VIEW nom AS SELECT … sont permises "
            "(nom simple, sans guillemets, chemin ni liste de colonnes).",
            kind="statement",
        )
    body = parse_statements(text_after(sql, words, index + 1))
    if len(body) != 1 or body[0].type != duckdb.StatementType.SELECT:
        raise QueryRefused(
            "CREATE … AS doit être suivi d'une seule requête SELECT.", kind="statement"
        )
    check_select(connection, body[0].query)
    return f"{head.upper()} {quote_identifier(name)} AS {body[0].query}"


def _output_directive(statement: str) -> str | None:
    """The name in the last ``-- output: name`` comment line before the statement's first token."""
    tokens = [p for p, t in duckdb.tokenize(statement) if t != duckdb.token_type.comment]
    leading = statement[: tokens[0]] if tokens else statement
    found = OUTPUT_DIRECTIVE.findall(leading)
    return str(found[-1]) if found else None


def plan_script(
    connection: duckdb.DuckDBPyConnection, script: str, *, limits: BatchLimits
) -> list[ScriptStep]:
    """Check every statement of a script before any runs; name each read's output file."""
    statements = parse_statements(check_text(script, max_chars=limits.max_sql_chars))
    if not statements:
        raise QueryRefused("Le script ne contient aucune instruction.", kind="syntax")
    if len(statements) > limits.max_statements:
        raise QueryRefused(
            f"Le script compte trop d'instructions (maximum {limits.max_statements}).",
            kind="size",
        )
    steps: list[ScriptStep] = []
    names: set[str] = set()
    for number, statement in enumerate(statements, start=1):
        try:
            directive = _output_directive(statement.query)
            if statement.type == duckdb.StatementType.CREATE:
                if directive is not None:
                    raise QueryRefused(
                        "« -- output: » ne s'applique qu'à une requête de lecture.", kind="output"
                    )
                sql = _create_statement(connection, statement.query)
                steps.append(ScriptStep(number, "create", sql, None))
                continue
            sql = check_read(connection, statement.query)
            name = directive if directive is not None else f"result-{len(names) + 1}.csv"
            if not OUTPUT_NAME.fullmatch(name):
                raise QueryRefused(
                    f"Nom de fichier de sortie refusé ({name!r}) : lettres, chiffres, « - », "
                    "« _ », « . », terminé par .csv ou .parquet.",
                    kind="output",
                )
            if name.lower() in names:
                raise QueryRefused(
                    f"Le fichier de sortie {name} est déjà produit par une autre instruction.",
                    kind="output",
                )
        except QueryRefused as refusal:
            raise _numbered(refusal, number) from refusal
        names.add(name.lower())
        steps.append(ScriptStep(number, "select", sql, name))
    return steps


# --- writing results -------------------------------------------------------------------------


def _too_many_rows(name: str, max_rows: int) -> QueryRefused:
    return QueryRefused(
        f"Le résultat {name} dépasse {max_rows} lignes : agrégez ou filtrez.", kind="output"
    )


def _create_file(target: Path) -> int:
    return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)


def _csv_value(value: object) -> object:
    converted = to_json_value(value)
    if isinstance(converted, list | dict):
        return json.dumps(converted, ensure_ascii=False)
    return "" if converted is None else converted


def _write_csv(
    connection: duckdb.DuckDBPyConnection, sql: str, target: Path, max_rows: int, deadline: Deadline
) -> int:
    cursor = connection.execute(sql)
    written = 0
    with open(_create_file(target), "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([str(d[0]) for d in cursor.description or []])
        while chunk := cursor.fetchmany(_FETCH_CHUNK):
            deadline.check()
            written += len(chunk)
            if written > max_rows:
                raise _too_many_rows(target.name, max_rows)
            writer.writerows([_csv_value(v) for v in row] for row in chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return written


def _write_parquet(
    connection: duckdb.DuckDBPyConnection, sql: str, target: Path, max_rows: int, deadline: Deadline
) -> int:
    import pyarrow.parquet as pq

    relation = connection.sql(sql)
    if relation is None:
        raise QueryFailed(f"Aucun résultat à écrire dans {target.name}.")
    reader = relation.to_arrow_reader(_FETCH_CHUNK)
    written = 0
    with open(_create_file(target), "wb") as handle:
        with pq.ParquetWriter(handle, reader.schema) as writer:
            for batch in reader:
                deadline.check()
                written += batch.num_rows
                if written > max_rows:
                    raise _too_many_rows(target.name, max_rows)
                writer.write_batch(batch)
        handle.flush()
        os.fsync(handle.fileno())
    return written


def _publish(staged: Path, target: Path) -> None:
    """Move a staged file into place without ever replacing an existing one."""
    try:
        os.link(staged, target)
    except FileExistsError as error:
        raise QueryRefused(f"Le fichier {target.name} existe déjà.", kind="output") from error
    except OSError:
        # A file system without hard links: check, then rename (same folder, atomic).
        if os.path.lexists(target):
            raise QueryRefused(f"Le fichier {target.name} existe déjà.", kind="output") from None
        os.rename(staged, target)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- running ---------------------------------------------------------------------------------


def _execute(
    connection: duckdb.DuckDBPyConnection,
    steps: list[ScriptStep],
    staging: Path,
    *,
    limits: BatchLimits,
    log: Callable[[str], None],
) -> list[str]:
    written: list[str] = []
    with Deadline(connection, limits.seconds) as deadline:
        for step in steps:
            output = step.output
            try:
                try:
                    deadline.check()
                    if output is None:
                        connection.execute(step.sql).fetchall()
                        log(f"instruction {step.number} : table ou vue créée")
                        continue
                    write = _write_parquet if output.endswith(".parquet") else _write_csv
                    rows = write(connection, step.sql, staging / output, limits.max_rows, deadline)
                except duckdb.Error as error:
                    translate_error(
                        error, deadline=deadline, seconds=limits.seconds, memory=limits.memory
                    )
            except QueryRefused as refusal:
                raise _numbered(refusal, step.number) from refusal
            written.append(output)
            log(f"instruction {step.number} : {rows} lignes écrites dans {output}")
    return written


def run_script(
    script: str,
    *,
    tables: dict[str, Path],
    outputs: Path,
    limits: BatchLimits = BatchLimits(),
    temp_directory: Path | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> list[Path]:
    """Run a SQL batch job over ``tables``; returns the files written into ``outputs``.

    A refused statement (checked before anything runs) and a failure at run
    time (error, time, memory or row limit) both leave ``outputs`` untouched:
    results go to a private staging folder inside ``outputs`` and are linked
    into place only after the last statement succeeded. An existing file is
    never overwritten.
    """
    if outputs.is_symlink() or not outputs.is_dir():
        raise QueryRefused("Le dossier de sortie est invalide.", kind="output")
    with locked_connection(
        tables,
        memory=limits.memory,
        threads=limits.threads,
        max_temp_size=limits.max_temp_size,
        temp_directory=temp_directory,
    ) as connection:
        steps = plan_script(connection, script, limits=limits)
        for step in steps:
            if step.output and os.path.lexists(outputs / step.output):
                raise QueryRefused(
                    f"Instruction {step.number} : le fichier {step.output} existe déjà.",
                    kind="output",
                )
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=outputs))
        try:
            names = _execute(connection, steps, staging, limits=limits, log=log)
            for name in names:
                _publish(staging / name, outputs / name)
            _fsync_dir(outputs)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return [outputs / name for name in names]


# --- command line ----------------------------------------------------------------------------


def _memory_for_sandbox(default: str) -> str:
    """Half the address-space limit the sandbox set, if any: DuckDB must fail cleanly first."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return default
    return f"{max(soft // 2 // (1024 * 1024), 64)}MB"


def _limits_from_environment() -> BatchLimits:
    """Defaults, with DuckDB's memory taken from ``HDH_SQL_MEMORY`` or the address-space limit.

    A cgroup memory limit is invisible from inside the sandbox: the launcher
    passes ``HDH_SQL_MEMORY`` (below the job's limit) so DuckDB spills or fails
    cleanly before the kernel kills the job.
    """
    defaults = BatchLimits()
    memory = os.environ.get("HDH_SQL_MEMORY", "").strip()
    if memory and not MEMORY.fullmatch(memory):
        raise QueryRefused(f"HDH_SQL_MEMORY invalide : {memory[:40]!r}.", kind="engine")
    return BatchLimits(memory=memory or _memory_for_sandbox(defaults.memory))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage : python -m hdh.workspace.sqljob SCRIPT.sql", file=sys.stderr)
        return 2
    data = os.environ.get("HDH_DATA", "")
    outputs = os.environ.get("HDH_OUTPUTS", "")
    if not data or not outputs:
        print("HDH_DATA et HDH_OUTPUTS doivent être définis.", file=sys.stderr)
        return 1
    try:
        limits = _limits_from_environment()
        print(
            f"limites : mémoire {limits.memory}, {limits.threads} fils, {limits.seconds:g} s",
            flush=True,
        )
        try:
            script = Path(args[0]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise QueryRefused(
                "Le script est illisible (fichier absent ou non UTF-8).", kind="syntax"
            ) from error
        files = run_script(
            script,
            tables=dataset_tables(Path(data)),
            outputs=Path(outputs),
            limits=limits,
            log=lambda line: print(line, flush=True),
        )
    except QueryRefused as refusal:
        print(str(refusal), file=sys.stderr)
        return 1
    except (MemoryError, duckdb.Error) as error:
        print(f"Le traitement a échoué : {type(error).__name__}.", file=sys.stderr)
        return 1
    print(f"terminé : {len(files)} fichier(s) écrit(s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
