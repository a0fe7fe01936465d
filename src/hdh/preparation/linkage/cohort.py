# SQL here quotes every column name through the engine's dialect; no cohort
# value is ever spliced into a statement.
# ruff: noqa: S608
"""Reading and checking an external cohort file before it is linked.

A cohort is a CSV (UTF-8, comma or semicolon separated) or a Parquet file with
one row per person as the external source knows them. Required columns:
``record_id``, ``first_name``, ``surname``, ``birth_date``, ``sex``,
``postcode``; an optional ``birth_name``. Other columns are never read.

Every problem is reported with the file, the line and the column, and nothing
is written: the whole file is checked and normalised in memory before linkage
starts.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from hdh.core.errors import ValidationFailed
from hdh.core.redaction import looks_like_nir
from hdh.engines.base import Engine, Source

REQUIRED = ("record_id", "first_name", "surname", "birth_date", "sex", "postcode")
OPTIONAL = ("birth_name",)
MAX_LINE_BYTES = 64 * 1024
MAX_VALUE_LENGTH = 100
MAX_PROBLEMS = 20
# Spreadsheet formula prefixes (OWASP CSV injection): such a cell is refused,
# not silently rewritten, so the producer fixes their export.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NAME_KEEP = re.compile(r"[^A-Z' -]")
_SPACES = re.compile(r"\s+")
_POSTCODE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%d-%m-%Y")
_SEX = {"1": "1", "2": "2", "M": "1", "H": "1", "F": "2"}

# Columns of the normalised cohort, the same on the identity side.
LINK_COLUMNS = (
    "unique_id",
    "first_name",
    "surname",
    "surname_first",
    "birth_name",
    "birth_date",
    "birth_year",
    "postcode",
    "department",
    "sex",
)


class CohortInvalid(ValidationFailed):
    """The cohort file was refused; ``problems`` name the line, column and rule."""


@dataclass(frozen=True)
class Cohort:
    path: Path
    table: pa.Table  # columns LINK_COLUMNS, every value text or null
    rows: int


def load(engine: Engine, path: Path) -> Cohort:
    """Check and normalise the cohort at ``path``; raise :class:`CohortInvalid` on any problem."""
    path = Path(path)
    if not path.is_file():
        raise CohortInvalid(f"{path.name}: fichier introuvable", [f"{path.name}: introuvable"])
    if path.stat().st_size == 0:
        raise CohortInvalid(f"{path.name}: fichier vide", [f"{path.name}: fichier vide"])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        source = _csv_source(path)
    elif suffix == ".parquet":
        source = Source(paths=(path,), format="parquet")
    else:
        raise CohortInvalid(
            f"{path.name}: format non pris en charge",
            [f"{path.name}: extension {suffix or '(aucune)'} ; attendu .csv ou .parquet"],
        )
    rows = _read(engine, path, source)
    if not rows:
        raise CohortInvalid(f"{path.name}: aucune ligne", [f"{path.name}: aucune ligne de données"])
    # A CSV's first data line is line 2 (after the header).
    first_line = 2 if suffix == ".csv" else 1
    return Cohort(path=path, table=_normalise(path, rows, first_line), rows=len(rows))


def _csv_source(path: Path) -> Source:
    problems: list[str] = []
    header: list[str] | None = None
    delimiter = ","
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if len(raw) > MAX_LINE_BYTES:
                problems.append(
                    f"{path.name}, ligne {number}: ligne de plus de {MAX_LINE_BYTES} octets"
                )
                break
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"{path.name}, ligne {number}: encodage invalide (UTF-8 attendu)")
                break
            if number == 1:
                line = line.removeprefix("\ufeff")
                delimiter = ";" if line.count(";") > line.count(",") else ","
                header = next(csv.reader([line], delimiter=delimiter))
    if problems:
        raise CohortInvalid(f"{path.name}: fichier refusé", problems)
    if not header:
        raise CohortInvalid(f"{path.name}: en-tête absent", [f"{path.name}: en-tête absent"])
    names = [name.strip() for name in header]
    _check_columns(path, names)
    if len(set(names)) != len(names):
        raise CohortInvalid(
            f"{path.name}: colonnes en double", [f"{path.name}: un nom de colonne est répété"]
        )
    return Source(
        paths=(path,),
        format="csv",
        delimiter=delimiter,
        columns=tuple(header),
        max_line_bytes=MAX_LINE_BYTES,
        # The BOM, if any, was part of the first column's name above.
        encoding="utf-8",
    )


def _check_columns(path: Path, names: list[str]) -> None:
    missing = [column for column in REQUIRED if column not in names]
    if missing:
        raise CohortInvalid(
            f"{path.name}: colonnes manquantes",
            [f"{path.name}, colonne {column}: colonne obligatoire absente" for column in missing],
        )


def _read(engine: Engine, path: Path, source: Source) -> list[dict[str, str | None]]:
    try:
        relation = engine.relation(source)
        available = [name for name, _ in engine.columns(f"SELECT * FROM {relation}")]
    except Exception as error:
        raise CohortInvalid(
            f"{path.name}: illisible", [f"{path.name}: illisible ({type(error).__name__})"]
        ) from None
    names = [name.removeprefix("\ufeff").strip() for name in available]
    _check_columns(path, names)
    wanted = [*REQUIRED, *(column for column in OPTIONAL if column in names)]
    by_name = dict(zip(names, available, strict=True))
    select = ", ".join(
        f"{engine.dialect.as_text(engine.quote(by_name[column]))} AS {engine.quote(column)}"
        for column in wanted
    )
    try:
        fetched = engine.fetch(f"SELECT {select} FROM {relation}")
    except Exception as error:
        # The engine's message may quote a line of the file: only its kind is kept.
        raise CohortInvalid(
            f"{path.name}: illisible",
            [f"{path.name}: lecture impossible ({type(error).__name__}) : lignes mal formées ?"],
        ) from None
    return [dict(zip(wanted, row, strict=True)) for row in fetched]


def _normalise(path: Path, rows: list[dict[str, str | None]], first_line: int) -> pa.Table:
    problems: list[str] = []
    columns: dict[str, list[str | None]] = {name: [] for name in LINK_COLUMNS}
    seen: set[str] = set()

    def problem(line: int, column: str, rule: str) -> None:
        problems.append(f"{path.name}, ligne {line}, colonne {column}: {rule}")

    for offset, row in enumerate(rows):
        line = first_line + offset
        for column, value in row.items():
            if value is None:
                continue
            if value.startswith(_FORMULA_START):
                problem(line, column, "valeur commençant comme une formule (=, +, -, @)")
            elif _CONTROL.search(value):
                problem(line, column, "caractère de contrôle")
            elif len(value) > MAX_VALUE_LENGTH:
                problem(line, column, f"plus de {MAX_VALUE_LENGTH} caractères")
        record_id = (row["record_id"] or "").strip()
        if not record_id:
            problem(line, "record_id", "identifiant vide")
        elif looks_like_nir(record_id):
            problem(line, "record_id", "ressemble à un NIR : utiliser un identifiant d'étude")
        elif record_id in seen:
            problem(line, "record_id", "identifiant en double")
        seen.add(record_id)
        valid_date, birth_date = _date(row["birth_date"])
        if not valid_date:
            problem(line, "birth_date", "date invalide (AAAA-MM-JJ ou JJ/MM/AAAA)")
        sex = _blank(row["sex"])
        if sex is not None and sex.upper() not in _SEX:
            problem(line, "sex", "valeur attendue : 1, 2, M, H ou F")
        postcode = _blank(row["postcode"])
        if postcode is not None and not _POSTCODE.match(postcode.upper()):
            problem(line, "postcode", "code postal à 5 caractères attendu")
        if len(problems) >= MAX_PROBLEMS:
            break
        surname = normalise_name(row["surname"])
        date_text = birth_date
        columns["unique_id"].append(record_id)
        columns["first_name"].append(normalise_name(row["first_name"]))
        columns["surname"].append(surname)
        columns["surname_first"].append(first_part(surname))
        columns["birth_name"].append(normalise_name(row.get("birth_name")))
        columns["birth_date"].append(date_text)
        columns["birth_year"].append(date_text[:4] if date_text else None)
        columns["postcode"].append(postcode.upper() if postcode else None)
        columns["department"].append(department_of(postcode.upper()) if postcode else None)
        columns["sex"].append(_SEX.get(sex.upper()) if sex else None)
    if problems:
        raise CohortInvalid(f"{path.name}: {len(problems)} problème(s)", problems)
    return pa.table({name: pa.array(values, type=pa.string()) for name, values in columns.items()})


def _blank(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _date(value: str | None) -> tuple[bool, str | None]:
    """(valid, ISO date text); a blank value is valid and None."""
    text = _blank(value)
    if text is None:
        return True, None
    for pattern in _DATE_FORMATS:
        try:
            parsed = dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if 1880 <= parsed.year <= 2100:
            return True, parsed.isoformat()
    return False, None


def normalise_name(value: str | None) -> str | None:
    """Upper case, no accents, letters, spaces, apostrophes and hyphens only."""
    text = _blank(value)
    if text is None:
        return None
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").upper()
    plain = _NAME_KEEP.sub(" ", plain.replace("’", "'"))
    plain = _SPACES.sub(" ", plain.replace(" -", "-").replace("- ", "-")).strip(" -'")
    return plain or None


def first_part(surname: str | None) -> str | None:
    """The first name of a double name: ``DUPONT-MARTIN`` -> ``DUPONT``."""
    if surname is None:
        return None
    return surname.split("-", 1)[0]


def department_of(postcode: str) -> str:
    """The département a postcode belongs to (``971`` overseas, ``20`` for Corsica)."""
    return postcode[:3] if postcode.startswith("97") else postcode[:2]
