"""The workspace SQL engine: read-only DuckDB over one project dataset (console and SQL jobs).

Two independent barriers stand between a query and anything outside the
project's own Parquet files:

1. **The connection.** Each query (console) or script (batch job) gets a fresh
   in-memory DuckDB whose configuration is locked before any user text runs:
   external access off with only the dataset's files allowed
   (``allowed_paths``), no extension install or autoload, no Python
   replacement scans, a memory and thread limit, a private spill directory
   with a size cap, then ``lock_configuration`` so nothing can be ``SET`` back.
   This alone stops file, network and extension access (the escape tests prove
   it without the second barrier).
2. **The statement check.** The text is parsed by DuckDB itself
   (``extract_statements`` and ``json_serialize_sql``): one read-only statement
   for the console, reads and ``CREATE TABLE|VIEW … AS SELECT`` for SQL jobs
   (``sqljob.py``);
   table functions outside a short allow-list and functions that read files,
   settings or the environment are refused by name, wherever they appear, with
   a message a researcher understands.

The DuckDB documentation calls these settings defence in depth, not a
boundary (a published advisory had ``sniff_csv`` read files with external access
off): batch jobs also run inside the job sandbox (``sandbox.py``); console
queries run in the calling process and rely on both barriers above.

This module imports no Django: it also runs inside the job sandbox.
"""

# SQL here is built from dataset table names checked against TABLE_NAME, from
# paths escaped as literals, and from statement texts that were parsed and
# checked first; no other value is spliced in.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
import re
import shutil
import tempfile
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import duckdb

TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

# Table functions a query may call. Everything else in a FROM clause (read_*,
# glob, parquet_* metadata, sniff_csv, query/query_table, arrow_scan with raw
# pointers, duckdb_settings, …) is refused: the list is short on purpose, so a
# function added by a later DuckDB is refused until someone decides otherwise.
ALLOWED_TABLE_FUNCTIONS = frozenset(
    {
        "range",
        "generate_series",
        "unnest",
        "json_each",
        "json_tree",
        "pragma_table_info",
        "duckdb_tables",
        "duckdb_columns",
        "duckdb_schemas",
        "duckdb_types",
        "duckdb_functions",
        "duckdb_keywords",
        "duckdb_constraints",
    }
)
# Scalar functions that reveal the host (settings hold paths, the environment
# may hold secrets) or run serialised plans.
REFUSED_FUNCTIONS = frozenset(
    {
        "current_setting",
        "getenv",
        "getvariable",
        "json_execute_serialized_sql",
        "json_deserialize_sql",
        "write_log",
    }
)
_FILE_FUNCTION_PREFIXES = ("read_", "parquet_", "sniff_", "glob", "iceberg_", "delta_", "st_read")
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_READS = "SELECT, WITH … SELECT, VALUES, DESCRIBE, SUMMARIZE, EXPLAIN"


class QueryRefused(Exception):
    """A query or script the engine will not run; ``str(e)`` is a French message for the page.

    ``kind`` is a short code safe for the audit trail (it never contains SQL
    text or values): size, characters, syntax, statement, function, path,
    file_access, timeout, memory, output, dataset, engine, error.
    """

    def __init__(self, message: str, *, kind: str = "refused") -> None:
        super().__init__(message)
        self.kind = kind


class QueryFailed(QueryRefused):
    """An allowed query that DuckDB could not run (unknown column, bad cast, …)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="error")


@dataclass(frozen=True)
class ConsoleLimits:
    max_rows: int = 1000
    seconds: float = 30.0
    memory: str = "1GB"
    threads: int = 1
    max_sql_chars: int = 20_000
    max_temp_size: str = "1GB"


@dataclass(frozen=True)
class ConsoleResult:
    columns: list[str]
    types: list[str]
    rows: list[tuple[object, ...]]
    truncated: bool
    duration_ms: int


# --- datasets ---------------------------------------------------------------------------------


def dataset_tables(folder: Path) -> dict[str, Path]:
    """TABLE name → Parquet file of a project dataset folder (one ``<TABLE>.parquet`` per table).

    Anything that is not a plain ``*.parquet`` file with a valid table name is
    ignored (``manifest.json``, sub-folders); a symbolic link anywhere in the
    folder is refused, since it could point at another project's data.
    """
    if folder.is_symlink():
        raise QueryRefused("Le dossier du jeu de données est un lien symbolique.", kind="dataset")
    try:
        real = folder.resolve(strict=True)
        entries = sorted(os.scandir(real), key=lambda e: e.name)
    except OSError as error:
        raise QueryRefused(
            "Le dossier du jeu de données est introuvable.", kind="dataset"
        ) from error
    tables: dict[str, Path] = {}
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.is_symlink():
            raise QueryRefused(
                f"Le jeu de données contient un lien symbolique ({entry.name!r}) : refusé.",
                kind="dataset",
            )
        if not entry.name.endswith(".parquet") or not entry.is_file(follow_symlinks=False):
            continue
        stem = entry.name[: -len(".parquet")]
        if not TABLE_NAME.fullmatch(stem):
            continue
        if stem.lower() in seen:
            raise QueryRefused(
                f"Deux tables ne diffèrent que par la casse : {seen[stem.lower()]} et {stem}.",
                kind="dataset",
            )
        seen[stem.lower()] = stem
        tables[stem] = real / entry.name
    return tables


def _checked_tables(tables: dict[str, Path]) -> dict[str, Path]:
    checked: dict[str, Path] = {}
    for name, path in tables.items():
        if not TABLE_NAME.fullmatch(name):
            raise QueryRefused(f"Nom de table invalide : {name!r}.", kind="dataset")
        if not path.is_absolute() or path.is_symlink() or not path.is_file():
            raise QueryRefused(f"Fichier de la table {name} invalide.", kind="dataset")
        checked[name] = path.resolve(strict=True)
    return checked


# --- the locked connection -------------------------------------------------------------------


def _literal(text: str) -> str:
    if "\x00" in text:
        raise QueryRefused("Chemin invalide.", kind="dataset")
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def locked_connection(
    tables: dict[str, Path],
    *,
    memory: str,
    threads: int,
    max_temp_size: str,
    temp_directory: Path | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh in-memory DuckDB that can read the given Parquet files as views, and nothing else.

    The spill directory is private to this connection (DuckDB also allows
    reading it, so it must never be shared) and removed afterwards.
    """
    checked = _checked_tables(tables)
    if temp_directory is not None:
        temp_directory.mkdir(parents=True, exist_ok=True)
    spill = Path(tempfile.mkdtemp(prefix="hdh-sql-", dir=temp_directory))
    try:
        connection = _open(
            checked, memory=memory, threads=threads, max_temp_size=max_temp_size, spill=spill
        )
        try:
            yield connection
        finally:
            connection.close()
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _open(
    checked: dict[str, Path], *, memory: str, threads: int, max_temp_size: str, spill: Path
) -> duckdb.DuckDBPyConnection:
    try:
        connection = duckdb.connect(
            ":memory:",
            config={
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "allow_community_extensions": False,
                "allow_unsigned_extensions": False,
                # Without this, a table name could resolve to a pandas or Arrow
                # object of the calling Python process.
                "python_enable_replacements": False,
                "memory_limit": memory,
                "threads": threads,
                "temp_directory": str(spill),
                "max_temp_directory_size": max_temp_size,
            },
        )
        try:
            # allowed_paths can only be set once the database has started; the
            # views are then bound with external access already off.
            paths = ", ".join(_literal(str(p)) for p in checked.values())
            connection.execute(f"SET allowed_paths = [{paths}]")
            connection.execute("SET enable_external_access = false")
            for name, path in checked.items():
                connection.execute(
                    f"CREATE VIEW {quote_identifier(name)} AS "
                    f"SELECT * FROM read_parquet({_literal(str(path))})"
                )
            connection.execute("SET lock_configuration = true")
        except BaseException:
            connection.close()
            raise
    except duckdb.Error as error:
        # DuckDB's message may name server paths: the page gets the error class only.
        raise QueryRefused(
            f"Le moteur SQL n'a pas pu démarrer ({type(error).__name__}).", kind="engine"
        ) from error
    return connection


class Deadline:
    """Interrupts a connection after ``seconds``; tells whether it did.

    DuckDB forgets an interrupt when the next statement starts, so code that
    runs several statements or fetches in chunks calls ``check()`` in between.
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection, seconds: float) -> None:
        self.seconds = seconds
        self.fired = threading.Event()

        def fire() -> None:
            self.fired.set()
            connection.interrupt()

        self._timer = threading.Timer(seconds, fire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        try:
            self._timer.start()
        except RuntimeError as error:  # no thread left under the process or memory limits
            raise QueryRefused(
                "Ressources insuffisantes pour surveiller la durée de la requête.", kind="memory"
            ) from error
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        # An interrupt must never reach a connection that is being closed.
        self._timer.join()

    def check(self) -> None:
        if self.fired.is_set():
            raise timeout(self.seconds)


def timeout(seconds: float) -> QueryRefused:
    return QueryRefused(f"La requête a dépassé {seconds:g} s et a été interrompue.", kind="timeout")


# --- checking statements ---------------------------------------------------------------------


def check_text(sql: object, *, max_chars: int) -> str:
    if not isinstance(sql, str):
        raise QueryRefused("La requête doit être un texte.", kind="characters")
    if len(sql) > max_chars:
        raise QueryRefused(
            f"La requête est trop longue ({len(sql)} caractères ; maximum {max_chars}).",
            kind="size",
        )
    for char in sql:
        if char in _ALLOWED_CONTROLS:
            continue
        if unicodedata.category(char) in _INVISIBLE:
            raise QueryRefused(
                f"Caractère de contrôle ou invisible refusé (U+{ord(char):04X}).",
                kind="characters",
            )
    if not sql.strip():
        raise QueryRefused("La requête est vide.", kind="syntax")
    return sql


@dataclass(frozen=True)
class Parsed:
    type: duckdb.StatementType | None  # None: a kind the Python client does not know
    query: str


def _statement_type(statement: duckdb.Statement) -> duckdb.StatementType | None:
    try:
        return statement.type
    except ValueError:  # e.g. UPDATE EXTENSIONS in DuckDB 2.0
        return None


def parse_statements(sql: str) -> list[Parsed]:
    """The statements of ``sql`` as DuckDB's own parser splits them."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused(f"Erreur de syntaxe : {error}", kind="syntax") from error
    return [Parsed(_statement_type(s), s.query) for s in statements]


def leading_keywords(sql: str) -> list[tuple[int, str]]:
    """(position, lower-case text) of the leading keyword tokens, comments skipped."""
    tokens = [(p, t) for p, t in duckdb.tokenize(sql) if t != duckdb.token_type.comment]
    found: list[tuple[int, str]] = []
    for index, (position, kind) in enumerate(tokens):
        end = tokens[index + 1][0] if index + 1 < len(tokens) else len(sql)
        text = sql[position:end].strip()
        if kind not in (duckdb.token_type.keyword, duckdb.token_type.identifier):
            break
        found.append((position, text.lower()))
        if len(found) >= 16:
            break
    return found


def refuse_statement(sql: str) -> QueryRefused:
    words = [w for _, w in leading_keywords(sql)[:2]]
    head = words[0].upper() if words else "?"
    if head in {"CREATE", "EXPORT", "IMPORT", "UPDATE"} and len(words) > 1:
        head = f"{head} {words[1].upper()}"
    return QueryRefused(
        f"Instruction refusée : {head}. Seule une requête de lecture est permise ({_READS}).",
        kind="statement",
    )


def _walk(tree: Any) -> Iterator[dict[str, Any]]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _looks_like_path(name: str) -> bool:
    return any(c in name for c in "/\\:.~") or name.startswith("$")


def _function_refusal(name: str, *, table_function: bool) -> QueryRefused | None:
    if name.startswith(_FILE_FUNCTION_PREFIXES):
        return QueryRefused(
            f"Fonction refusée : {name}. La lecture de fichiers est interdite ; "
            "interrogez les tables du projet par leur nom.",
            kind="function",
        )
    if name in {"query", "query_table"}:
        return QueryRefused(
            f"Fonction refusée : {name}. Écrivez la requête directement.", kind="function"
        )
    if name in REFUSED_FUNCTIONS:
        return QueryRefused(
            f"Fonction refusée : {name}. Les réglages et l'environnement du serveur "
            "ne sont pas accessibles.",
            kind="function",
        )
    if table_function and name not in ALLOWED_TABLE_FUNCTIONS:
        return QueryRefused(
            f"Fonction de table refusée : {name}. Autorisées : "
            + ", ".join(sorted(ALLOWED_TABLE_FUNCTIONS))
            + ".",
            kind="function",
        )
    return None


def check_select(connection: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse a SELECT whose tree calls a refused function or names a file as a table."""
    rows = connection.execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchall()
    try:
        tree = json.loads(rows[0][0] if rows else "{}")
    except RecursionError as error:
        raise QueryRefused("La requête est trop imbriquée.", kind="size") from error
    if tree.get("error"):
        message = str(tree.get("error_message", ""))
        if "Only SELECT" in message:
            raise QueryRefused(
                "PIVOT et UNPIVOT ne sont pas pris en charge ; écrivez la requête avec GROUP BY.",
                kind="statement",
            )
        raise QueryRefused(f"Erreur de syntaxe : {message}", kind="syntax")
    for node in _walk(tree):
        if node.get("type") == "TABLE_FUNCTION":
            function = node.get("function") or {}
            name = str(function.get("function_name", "")).lower()
            refusal = _function_refusal(name, table_function=True)
            if refusal:
                raise refusal
        elif node.get("class") == "FUNCTION" and "function_name" in node:
            refusal = _function_refusal(str(node["function_name"]).lower(), table_function=False)
            if refusal:
                raise refusal
        elif node.get("type") in {"BASE_TABLE", "SHOW_REF"}:
            name = str(node.get("table_name", ""))
            if _looks_like_path(name) or _looks_like_path(str(node.get("catalog_name", ""))):
                raise QueryRefused(
                    f"Lecture d'un fichier par son chemin refusée : {name!r}. "
                    "Interrogez les tables du projet par leur nom.",
                    kind="path",
                )


def text_after(sql: str, words: list[tuple[int, str]], count: int) -> str:
    if len(words) <= count:
        raise QueryRefused("Requête incomplète.", kind="syntax")
    return sql[words[count][0] :]


def check_read(connection: duckdb.DuckDBPyConnection, sql: str) -> str:
    """Check one statement that must read only; returns the exact text to execute."""
    statements = parse_statements(sql)
    if not statements:
        raise QueryRefused("La requête est vide.", kind="syntax")
    if len(statements) > 1:
        raise QueryRefused(
            "Une seule instruction à la fois : retirez les « ; » qui en séparent plusieurs.",
            kind="statement",
        )
    statement = statements[0]
    if statement.type == duckdb.StatementType.SELECT:
        check_select(connection, statement.query)
        return statement.query
    if statement.type == duckdb.StatementType.EXPLAIN:
        words = leading_keywords(statement.query)
        analyze = len(words) > 1 and words[1][1] in {"analyze", "analyse"}
        inner = text_after(statement.query, words, 2 if analyze else 1)
        inner_statements = parse_statements(inner)
        if len(inner_statements) != 1 or inner_statements[0].type != duckdb.StatementType.SELECT:
            raise refuse_statement(inner)
        check_select(connection, inner_statements[0].query)
        return ("EXPLAIN ANALYZE " if analyze else "EXPLAIN ") + inner_statements[0].query
    if statement.type == duckdb.StatementType.MULTI:
        raise QueryRefused(
            "PIVOT et UNPIVOT ne sont pas pris en charge ; écrivez la requête avec GROUP BY.",
            kind="statement",
        )
    raise refuse_statement(statement.query)


# --- running ---------------------------------------------------------------------------------


def to_json_value(value: object) -> object:
    """A DuckDB value as a JSON-friendly Python value (dates as ISO text, decimals as text)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    return str(value)


def translate_error(
    error: duckdb.Error, *, deadline: Deadline, seconds: float, memory: str
) -> NoReturn:
    if deadline.fired.is_set() or isinstance(error, duckdb.InterruptException):
        raise timeout(seconds) from error
    if isinstance(error, duckdb.OutOfMemoryException):
        raise QueryRefused(
            f"La requête dépasse la mémoire autorisée ({memory}) : filtrez ou agrégez davantage.",
            kind="memory",
        ) from error
    if isinstance(error, duckdb.PermissionException):
        raise QueryRefused(
            "Accès refusé : seules les tables du jeu de données du projet sont lisibles.",
            kind="file_access",
        ) from error
    if isinstance(error, duckdb.InvalidInputException) and "configuration" in str(error):
        raise QueryRefused(
            "Les réglages du moteur sont verrouillés et ne peuvent pas être modifiés.",
            kind="statement",
        ) from error
    raise QueryFailed(f"Erreur dans la requête : {str(error)[:2000]}") from error


def run_query(
    sql: str,
    *,
    tables: dict[str, Path],
    limits: ConsoleLimits = ConsoleLimits(),
    temp_directory: Path | None = None,
) -> ConsoleResult:
    """Run one read-only console query; at most ``limits.max_rows`` rows come back."""
    text = check_text(sql, max_chars=limits.max_sql_chars)
    started = time.monotonic()
    with locked_connection(
        tables,
        memory=limits.memory,
        threads=limits.threads,
        max_temp_size=limits.max_temp_size,
        temp_directory=temp_directory,
    ) as connection:
        statement = check_read(connection, text)
        with Deadline(connection, limits.seconds) as deadline:
            try:
                cursor = connection.execute(statement)
                description = cursor.description or []
                fetched = cursor.fetchmany(limits.max_rows + 1)
            except duckdb.Error as error:
                translate_error(
                    error, deadline=deadline, seconds=limits.seconds, memory=limits.memory
                )
    rows = [tuple(to_json_value(v) for v in row) for row in fetched[: limits.max_rows]]
    return ConsoleResult(
        columns=[str(d[0]) for d in description],
        types=[str(d[1]) for d in description],
        rows=rows,
        truncated=len(fetched) > limits.max_rows,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
