"""Factories for the lake: a small SNDS catalog (the real schema-snds descriptors of
the tables the lake and the generator use, with a few of their code lists) and
producers allowed to deposit."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from hdh.accounts.models import User
from hdh.catalog.models import Base
from hdh.catalog.services.dictionary import import_tableschema
from hdh.core.permissions import Role
from hdh.synth.schema import SNDS_SCHEMA
from hdh.synth.snds import TABLES
from tests.factories.accounts import UserFactory
from tests.factories.catalog import create_test_base

CODE_LISTS = ["IR_SEX_V", "IR_NAT_V", "IR_SPE_V", "IR_BIO_R", "MS_CIM_V", "IR_CIM_V", "IR_DPT_V"]


def snds_folder(root: Path) -> Path:
    """A Table Schema folder with the SNDS tables of the generator and some code lists."""
    for path in (SNDS_SCHEMA / "schemas").rglob("*.json"):
        if path.stem in TABLES:
            target = root / "schemas" / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    for name in CODE_LISTS:
        for path in (SNDS_SCHEMA / "nomenclatures").rglob(f"{name}.*"):
            target = root / "nomenclatures" / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    return root


def create_snds_base(root: Path, **overrides: Any) -> Base:
    base = create_test_base(**overrides)
    import_tableschema(directory=snds_folder(root), base=base, by=None)
    base.refresh_from_db()
    return base


def create_producer(**overrides: Any) -> User:
    user: User = UserFactory(roles=[Role.DATA_PRODUCER], **overrides)
    return user
