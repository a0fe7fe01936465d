"""Engines agree: the same SQL through each dialect gives the same values.

Each test here runs the same statement on every engine and compares the results
with each other (and, for HMAC, with Python's ``hmac``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from hdh.engines import Engine, Source, get_engine
from hdh.engines.dialects import date_shape, spark_datetime_pattern
from hdh.engines.types import Column
from tests.engines.helpers import ENGINES, numbers

pytestmark = pytest.mark.skipif(len(ENGINES) < 2, reason="one engine only")

# RFC 4231 test cases whose data is text (cases 3 to 5 hash bytes that are not UTF-8).
RFC_4231 = [
    (b"\x0b" * 20, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (
        b"Jefe",
        "what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        b"\xaa" * 131,
        "Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
    (
        b"\xaa" * 131,
        "This is a test using a larger than block-size key and a larger than block-size "
        "data. The key needs to be hashed before being used by the HMAC algorithm.",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ),
]


def each(engines: dict[str, Engine], sql: str) -> dict[str, list[tuple[Any, ...]]]:
    return {name: engine.fetch(sql) for name, engine in engines.items()}


def assert_same(results: dict[str, list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    first, *others = results.values()
    for name, rows in results.items():
        assert rows == first, f"{name} differs"
    assert others, "nothing to compare"
    return first


def texts(engine: Engine, values: list[str | None]) -> str:
    """An inline relation (i, v) of text values, through the engine's own literals."""
    rows = [
        f"SELECT {i} AS i, "
        + (f"CAST({engine.dialect.literal(v)} AS VARCHAR)" if v is not None else "NULL")
        + " AS v"
        for i, v in enumerate(values)
    ]
    return "(" + " UNION ALL ".join(rows) + ")"


@pytest.mark.parametrize(("key", "data", "expected"), RFC_4231)
def test_hmac_matches_rfc_4231_on_every_engine(engine: Engine, key, data, expected):
    sql = engine.dialect.hmac_sha256_hex(key, engine.dialect.literal(data))
    assert engine.scalar(f"SELECT {sql}") == expected
    assert hmac.new(key, data.encode(), hashlib.sha256).hexdigest() == expected


def test_hmac_of_random_text_is_python_hmac_on_every_engine(engines: dict[str, Engine]):
    generator = random.Random(6)
    alphabet = "abcXYZ019 -'\\\"%_éèàçÉœ€ß漢字🙂\u200b\t"
    values = [
        "",
        *("".join(generator.choices(alphabet, k=generator.randint(1, 40))) for _ in range(60)),
    ]
    key = bytes(generator.randrange(256) for _ in range(32))
    expected = [
        (i, hmac.new(key, v.encode(), hashlib.sha256).hexdigest()) for i, v in enumerate(values)
    ]
    for name, engine in engines.items():
        digest = engine.dialect.hmac_sha256_hex(key, "v")
        rows = engine.fetch(f"SELECT i, {digest} FROM {texts(engine, values)} ORDER BY i")
        assert rows == expected, name
        null = engine.scalar(f"SELECT {engine.dialect.hmac_sha256_hex(key, 'NULL')}")
        assert null is None, name


def test_hmac_refuses_an_empty_or_textual_key(engine: Engine):
    with pytest.raises(ValueError, match="non-empty bytes"):
        engine.dialect.hmac_sha256_hex(b"", "v")
    with pytest.raises(ValueError, match="non-empty bytes"):
        engine.dialect.hmac_sha256_hex("secret", "v")  # type: ignore[arg-type]


HOSTILE = [
    "12",
    " 12 ",
    "12.0",
    "12,0",
    "12.5",
    "-7",
    "1e3",
    "9223372036854775808",
    "abc",
    "",
    "0",
    "1",
    "oui",
    "NON",
    "true",
    "2020-01-05",
    "2020-1-5",
    " 2020-01-05 ",
    "2020",
    "2020-01",
    "202001",
    "2020-13",
    "05/01/2020",
    "5/1/2020",
    "31/02/2020",
    "05012020",
    "20200105",
    "2020-01-05 10:11:12",
    "2020-01-05T10:11:12",
    "05/01/2020 10:11:12",
    "05JAN2020:10:11:12",
    "05jan2020:10:11:12",
    "2020-01-05\n",
    "\uff11\uff12",  # full-width digits
    "'; DROP TABLE x; --",
    None,
]


@pytest.mark.parametrize(
    "column",
    [
        Column("c", "integer"),
        Column("c", "year"),
        Column("c", "number"),
        Column("c", "boolean"),
        Column("c", "date"),
        Column("c", "date", "%d%m%Y"),
        Column("c", "date", "%Y-%m"),
        Column("c", "datetime"),
        Column("c", "yearmonth"),
        Column("c", "string"),
    ],
    ids=lambda c: f"{c.type}{c.format}",
)
def test_typed_reading_of_text_is_the_same_on_every_engine(engines: dict[str, Engine], column):
    results = {}
    for name, engine in engines.items():
        typed = engine.dialect.try_cast("v", column)
        results[name] = engine.fetch(f"SELECT i, {typed} FROM {texts(engine, HOSTILE)} ORDER BY i")
    assert_same(results)


JAN_5 = dt.date(2020, 1, 5)
# Only a value written exactly in an accepted format is a date (Dialect._try_cast_calendar).
DATES_BY_DEFAULT = {
    "2020-01-05": JAN_5,
    "2020-1-5": JAN_5,
    "05/01/2020": JAN_5,
    "5/1/2020": JAN_5,
    "05012020": JAN_5,
    "20200105": JAN_5,
    "20101010": dt.date(2010, 10, 10),  # %Y%m%d comes before %d%m%Y
    "29/02/2020": dt.date(2020, 2, 29),
}
DATES_BY_PATTERN = {"05012020": JAN_5, "2020-01-05": JAN_5, "2020-1-5": JAN_5}
NOT_DATES = [
    " 2020-01-05 ",
    "2020-01-05 ",
    "2020-01-05\n",
    "2020-01-05\t",
    "2020-01-05 10:11:12",
    "2020-01-05T10:11:12",
    "05/01/2020 10:11:12",
    "\uff12\uff10\uff12\uff10-01-05",
    "\uff10\uff15\uff10\uff11\uff12\uff10\uff12\uff10",
    "31/02/2020",
    "29/02/2021",
    "2020-13-01",
    "2020-00-10",
    "2020-01-32",
    "32012020",
    "5012020",
    "050120201",
    "2020",
    "2020-01",
    "202001",
    "+2020-01-05",
    "2020-01-05 BC",
    "",
]


@pytest.mark.parametrize(
    ("pattern", "expected"), [(None, DATES_BY_DEFAULT), ("%d%m%Y", DATES_BY_PATTERN)]
)
def test_a_date_is_exactly_an_accepted_format_on_every_engine(
    engines: dict[str, Engine], pattern: str | None, expected: dict[str, dt.date]
):
    values = [*expected, *NOT_DATES]
    column = Column("c", "date", pattern) if pattern else Column("c", "date")
    wanted = [(i, expected.get(v)) for i, v in enumerate(values)]
    for name, engine in engines.items():
        typed = engine.dialect.try_cast("v", column)
        rows = engine.fetch(f"SELECT i, {typed} FROM {texts(engine, values)} ORDER BY i")
        assert rows == wanted, name


@pytest.mark.parametrize(
    ("strftime", "shape"),
    [
        ("%d/%m/%Y", "[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}"),
        ("%d%m%Y", "[0-9]{2}[0-9]{2}[0-9]{4}"),
        ("%Y%m%d", "[0-9]{4}[0-9]{2}[0-9]{2}"),
        ("%d%b%Y:%H.%M", "[0-9]{2}[A-Za-z]{3}[0-9]{4}:[0-9]{1,2}\\.[0-9]{1,2}"),
    ],
)
def test_strftime_patterns_have_one_shape(strftime: str, shape: str):
    assert date_shape(strftime) == shape


def test_text_functions_agree(engines: dict[str, Engine]):
    values = ["", "abc", "é", "漢字", "🙂", None]
    results = {}
    for name, engine in engines.items():
        d = engine.dialect
        results[name] = engine.fetch(
            f"SELECT i, {d.text_length('v')}, {d.as_text('CAST(i AS BIGINT)')}, "
            f"{d.as_text('CAST(i AS DOUBLE) / 2')}, {d.as_text('DATE ' + d.literal('2020-01-05'))} "
            f"FROM {texts(engine, values)} ORDER BY i"
        )
    assert assert_same(results)[4] == (4, 1, "4", "2.0", "2020-01-05")
    distinct = each(
        engines, f"SELECT {engines['duckdb'].dialect.distinct_count('n % 7')} FROM {numbers(100)}"
    )
    assert assert_same(distinct) == [(7,)]


def test_literals_and_names_with_quotes_and_backslashes_survive(engines: dict[str, Engine]):
    awkward = "it's a \\ back'slash \"quoted\" \\' end"
    for name, engine in engines.items():
        column = engine.quote('we`ird "name')
        rows = engine.fetch(f"SELECT {engine.dialect.literal(awkward)} AS {column}")
        assert rows == [(awkward,)], name
        assert engine.columns(f"SELECT 1 AS {column}")[0][0] == 'we`ird "name'


def test_column_types_have_one_vocabulary(engines: dict[str, Engine]):
    sql = (
        "SELECT CAST(1 AS BIGINT) AS a, CAST(1 AS INTEGER) AS b, CAST(1 AS DOUBLE) AS c, "
        "CAST('x' AS VARCHAR) AS d, CAST('2020-01-05' AS DATE) AS e, "
        "CAST('2020-01-05 10:00:00' AS TIMESTAMP) AS f, TRUE AS g"
    )
    types = {name: engine.columns(sql) for name, engine in engines.items()}
    assert types["spark"] == types["duckdb"]
    assert [t for _, t in types["spark"]] == [
        "BIGINT",
        "INTEGER",
        "DOUBLE",
        "VARCHAR",
        "DATE",
        "TIMESTAMP",
        "BOOLEAN",
    ]


def test_timestamps_have_no_time_zone(engines: dict[str, Engine]):
    sql = "SELECT CAST('2020-03-29 02:30:00' AS TIMESTAMP) AS t"
    assert_same(each(engines, sql))


CSV_CASES = {
    "quoted delimiter and newline": ('A;B\n"x;y";"line\nbreak"\n3;\n', "utf-8"),
    "escaped quote": ('A;B\n"say ""hi""";2\n', "utf-8"),
    "latin-1": ("A;B\nété;ça\n", "latin-1"),
    "byte order mark": ("\ufeffA;B\n1;2\n", "utf-8"),
    "trailing spaces kept": ("A;B\n 1 ; 2 \n", "utf-8"),
    "no final newline": ("A;B\n1;2", "utf-8"),
    "crlf": ("A;B\r\n1;2\r\n", "utf-8"),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_csv_reading_is_the_same_on_every_engine(
    engines: dict[str, Engine], tmp_path: Path, case: str
):
    text, encoding = CSV_CASES[case]
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    source = Source((path,), "csv", delimiter=";", encoding=encoding, columns=("A", "B"))
    results = {
        name: engine.fetch(f"SELECT A, B FROM {engine.relation(source)} ORDER BY A")
        for name, engine in engines.items()
    }
    assert assert_same(results)


@pytest.mark.parametrize(
    "text", ["A;B\n1;x\n2\n", 'A;B\n"unclosed;1\n', "A;B\n1;2;3\n"], ids=["short", "quote", "long"]
)
def test_malformed_csv_fails_on_every_engine(engine: Engine, tmp_path: Path, text: str):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    source = Source((path,), "csv", delimiter=";", columns=("A", "B"))
    with pytest.raises(Exception):  # noqa: B017, PT011 - each engine raises its own error type
        engine.fetch(f"SELECT * FROM {engine.relation(source)}")


def test_parquet_of_many_parts_is_one_ordered_file(engines: dict[str, Engine], tmp_path: Path):
    sql = f"SELECT n, n % 13 AS m FROM {numbers(200_000)} ORDER BY m, n"
    written = {}
    for name, engine in engines.items():
        written[name] = engine.write_parquet(sql, tmp_path / name / "data.parquet")
        assert [p.name for p in (tmp_path / name).iterdir()] == ["data.parquet"]
    assert {w.rows for w in written.values()} == {200_000}
    with get_engine("duckdb") as reader:
        contents = {
            name: reader.fetch(f"SELECT * FROM {reader.dialect.read_parquet([w.path])}")
            for name, w in written.items()
        }
    assert assert_same(contents)[:3] == [(0, 0), (13, 0), (26, 0)]


def test_arrow_tables_and_views_belong_to_one_engine_session():
    table = pa.table({"person": ["a", "b"], "value": [1, 2]})
    with get_engine("spark") as first, get_engine("spark") as second:
        first.register_arrow("people", table)
        assert first.fetch("SELECT person, value FROM people ORDER BY person") == [
            ("a", 1),
            ("b", 2),
        ]
        with pytest.raises(Exception, match="people"):
            second.fetch("SELECT * FROM people")
    with get_engine("spark") as third, pytest.raises(Exception, match="people"):
        third.fetch("SELECT * FROM people")


def test_spark_sessions_share_one_application_with_local_settings():
    from hdh.engines import spark

    with get_engine("spark") as first, get_engine("spark") as second:
        assert first._spark.sparkContext is second._spark.sparkContext
        assert first.master == spark.configured_master()
        settings = first.fetch("SELECT current_timezone()")
        assert settings == [("UTC",)]


@pytest.mark.parametrize(
    ("strftime", "spark"),
    [
        ("%d/%m/%Y", "d/M/yyyy"),
        ("%d%m%Y", "ddMMyyyy"),
        ("%Y%m%d", "yyyyMMdd"),
        ("%d%b%Y:%H:%M:%S", "ddMMMyyyy:H:m:s"),
        ("%Y-%m-%dT%H:%M:%S", "yyyy-M-d'T'H:m:s"),
        ("%Y-%m", "yyyy-M"),
        ("it's %Y", "'it''s 'yyyy"),
    ],
)
def test_strftime_patterns_become_spark_patterns(strftime: str, spark: str):
    assert spark_datetime_pattern(strftime) == spark


def test_an_unknown_date_directive_is_refused():
    with pytest.raises(ValueError, match="%Q"):
        spark_datetime_pattern("%Y%Q")


def test_spark_errors_never_carry_key_material():
    from hdh.engines.dialects import hmac_pads
    from hdh.engines.spark import SparkQueryError

    key = bytes(range(40, 72))
    inner, outer = hmac_pads(key)
    with get_engine("spark") as engine, pytest.raises(SparkQueryError) as caught:
        engine.fetch(f"SELECT {engine.dialect.hmac_sha256_hex(key, 'no_such_column')}")
    message = str(caught.value).lower()
    assert "no_such_column" in message
    assert inner[:32] not in message
    assert outer[:32] not in message


def test_an_arrow_table_can_be_registered_then_forgotten(engine: Engine) -> None:
    engine.register_arrow("hdh_arrow_probe", pa.table({"x": [1, 2, 3]}))
    assert engine.scalar("SELECT sum(x) FROM hdh_arrow_probe") == 6
    assert engine.native() is not None
    engine.unregister("hdh_arrow_probe")
    with pytest.raises(Exception, match=r"(?i)hdh_arrow_probe"):
        engine.fetch("SELECT * FROM hdh_arrow_probe")
