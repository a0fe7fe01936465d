from __future__ import annotations

from pathlib import Path

import pytest

from hdh.accounts.models import User
from hdh.catalog.models import Base
from hdh.catalog.services.dictionary import import_tableschema
from tests.factories.catalog import create_test_base, write_folder
from tests.factories.lake import create_producer

SEXE = "COD;LIB\n1;Masculin\n2;Féminin\n9;Inconnu\n"


def lake_folder(root: Path) -> Path:
    """Two related tables exercising every rule the lake checks."""
    return write_folder(
        root,
        {
            "PATIENT": {
                "primaryKey": ["PAT_ID"],
                "fields": [
                    {"name": "PAT_ID", "type": "string", "length": "8", "pseudonym": True},
                    {"name": "PAT_SEX", "type": "integer", "nomenclature": "SEXE"},
                    {"name": "PAT_NAI_ANN", "type": "year", "length": "4"},
                    {"name": "PAT_DPT", "type": "string", "length": "3"},
                ],
            },
            "SEJOUR": {
                "primaryKey": ["SEJ_NUM"],
                "fields": [
                    {"name": "SEJ_NUM", "type": "integer", "length": "6"},
                    {"name": "PAT_ID", "type": "string", "length": "8"},
                    {"name": "SEJ_DTE", "type": "date", "format": "%d/%m/%Y"},
                    {
                        "name": "SEJ_NBJ",
                        "type": "integer",
                        "constraints": {"minimum": 0, "maximum": 365},
                    },
                    {"name": "SEJ_MNT", "type": "number"},
                    {"name": "SEJ_URG", "type": "boolean"},
                    {"name": "SEJ_MOD", "type": "string", "constraints": {"enum": ["7", "8", "9"]}},
                ],
                "foreignKeys": [
                    {"fields": "PAT_ID", "reference": {"resource": "PATIENT", "fields": "PAT_ID"}}
                ],
            },
        },
        {
            "SEXE": (
                {
                    "title": "Sexe",
                    "fields": [{"name": "COD", "role": "code"}, {"name": "LIB", "role": "label"}],
                },
                SEXE,
            )
        },
    )


@pytest.fixture
def producer(db: None) -> User:
    return create_producer()


@pytest.fixture
def base(db: None, tmp_path: Path) -> Base:
    base = create_test_base()
    import_tableschema(directory=lake_folder(tmp_path / "schema"), base=base, by=None)
    base.refresh_from_db()
    return base


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    """write(name, text_or_bytes, encoding="utf-8") -> Path of a file to deposit."""
    folder = tmp_path / "deposits"
    folder.mkdir()

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = folder / name
        data = content.encode(encoding) if isinstance(content, str) else content
        path.write_bytes(data)
        return path

    return _write
