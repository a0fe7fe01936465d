"""The committed state diagram is the one the transitions table generates."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hdh.airlock import diagram, workflow

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_diagram_matches_the_transitions_table() -> None:
    committed = (ROOT / diagram.DOCUMENT).read_text(encoding="utf-8")
    assert committed == diagram.document(), "run `hdh airlock diagram` and commit the result"


def test_every_transition_appears_in_the_diagram() -> None:
    text = diagram.mermaid()
    for (source, target), transition in workflow.TRANSITIONS.items():
        assert f"{source.value} --> {target.value}: {transition.name} " in text


def test_the_command_writes_and_checks_the_diagram(tmp_path: Path) -> None:
    output = tmp_path / "states.md"
    call_command("airlock", "diagram", "--output", str(output), stdout=StringIO())
    assert output.read_text(encoding="utf-8") == diagram.document()
    call_command("airlock", "diagram", "--output", str(output), "--check", stdout=StringIO())
    output.write_text(output.read_text(encoding="utf-8") + "drift\n", encoding="utf-8")
    with pytest.raises(CommandError, match="out of date"):
        call_command("airlock", "diagram", "--output", str(output), "--check", stdout=StringIO())
