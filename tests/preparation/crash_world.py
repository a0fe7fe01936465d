"""Set up, in the database named by the environment, an application ready to run.

Run as a script by the crash-safety test (a separate process, like an operator
would): migrate, deposit a small synthetic SNDS, take an application to a
signed contract, approve its plan; print "<application id> <engineer username>".
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdh.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import django

    django.setup()
    import datetime as dt

    from django.conf import settings
    from django.core.management import call_command

    from hdh.keys.store import default_store
    from hdh.synth import snds
    from hdh.synth.schema import snds_shapes_from_files
    from tests.preparation.conftest import make_world
    from tests.preparation.helpers import approved_plan

    call_command("migrate", interactive=False, verbosity=0)
    home = Path(settings.HDH_HOME)
    result = snds.generate(
        spec=snds.SndsSpec(beneficiaries=200, seed=3, start=dt.date(2022, 1, 1)),
        out=home / "synth",
        identity_out=home / "synth-id",
        shapes=snds_shapes_from_files(snds.TABLES),
        level1_key=default_store().level1_key()[1],
    )
    world = make_world(home / "work", result)
    approved_plan(world.permit, world.engineer)
    print(world.application.pk, world.engineer.username)


if __name__ == "__main__":
    main()
