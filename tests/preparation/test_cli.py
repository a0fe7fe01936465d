"""``hdh prepare``: hostile arguments get a clear error; a run prints its manifest summary."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.preparation.helpers import approved_plan


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [
        ["plan", "abc"],
        ["plan", "-1"],
        ["plan", "9" * 40],
        ["plan", "1; rm -rf /"],
        ["plan", "424242"],
        ["run", "424242"],
        ["run", "1", "--engine", "oracle"],
    ],
)
def test_hostile_arguments_are_refused(args):
    with pytest.raises(CommandError):
        call_command("prepare", *args)


def test_plan_and_run_from_the_command_line(world):
    out = io.StringIO()
    call_command("prepare", "plan", str(world.application.pk), stdout=out)
    assert '"format": "hdh.preparation.plan/1"' in out.getvalue()
    with pytest.raises(CommandError, match="no approved plan"):
        call_command("prepare", "run", str(world.application.pk))
    with pytest.raises(CommandError, match="no such user"):
        call_command("prepare", "run", str(world.application.pk), "--user", "x" * 500)
    approved_plan(world.permit, world.engineer)
    out = io.StringIO()
    call_command(
        "prepare",
        "run",
        str(world.application.pk),
        "--user",
        world.engineer.username,
        stdout=out,
    )
    assert "succeeded on duckdb" in out.getvalue()
    assert "IR_BEN_R" in out.getvalue()
    out = io.StringIO()
    call_command("prepare", "objections", stdout=out)
    assert "register version 0" in out.getvalue()
