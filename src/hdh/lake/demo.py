"""Demo lake: synthetic SNDS data deposited by the demo data producer.

``HDH_DEMO_BENEFICIARIES`` beneficiaries (default 100,000) over 2023 — about
1.6 million care lines with their pharmacy and biology detail lines, hospital
stays and deaths: every table the generator models goes through the real
deposit path (validation against the catalog, versioned Parquet, profiles,
audit). ``hdh synth snds`` makes larger sets for benchmarks.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings

from hdh.accounts.demo import create_demo_accounts
from hdh.accounts.models import User
from hdh.catalog import demo as catalog_demo
from hdh.catalog.models import Base
from hdh.core.permissions import Role
from hdh.lake.models import DatasetVersion, DepositStatus
from hdh.lake.services import ingest
from hdh.synth import snds
from hdh.synth.arrow import table_files

SEED = 2023


def load() -> str:
    """Deposit the demo SNDS tables once; a one-line summary."""
    catalog_demo.load()
    base = Base.objects.get(slug="snds")
    done = set(DatasetVersion.objects.filter(base=base).values_list("table_name", flat=True))
    todo = [table for table in snds.TABLES if table not in done]
    if todo:
        producer = _producer()
        work = Path(tempfile.mkdtemp(prefix="hdh-demo-snds-"))
        try:
            result = snds.generate(
                spec=snds.SndsSpec(beneficiaries=beneficiaries(), seed=SEED),
                out=work / "tables",
                identity_out=work / "identite",
                shapes=snds.snds_shapes(snds.TABLES),
            )
            # Identities stay outside the lake, for level-1 pseudonymisation to consume.
            identities = Path(settings.HDH_HOME) / "identite" / "snds"
            if not identities.exists():
                identities.parent.mkdir(parents=True, exist_ok=True)
                shutil.copytree(result.identity, identities)
            for table in todo:
                parts = table_files(result.folder, table)
                deposit = ingest(base=base, table=table, files=parts, by=producer)
                if deposit.status != DepositStatus.ACCEPTED:
                    raise RuntimeError(f"demo deposit of {table} rejected: {deposit.reference}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    versions = DatasetVersion.objects.filter(base=base)
    rows = sum(v.row_count for v in versions)
    return f"SNDS synthétique : {versions.count()} versions, {rows} lignes"


def beneficiaries() -> int:
    return max(1, int(settings.HDH_DEMO_BENEFICIARIES))


def _producer() -> User:
    account = next(a for a in create_demo_accounts() if Role.DATA_PRODUCER in a.roles)
    return User.objects.get(username=account.username)
