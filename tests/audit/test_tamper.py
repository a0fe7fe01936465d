"""`hdh audit verify` detects every kind of tampering: edit, delete, reorder,
insert, and truncation after a seal — naming the first bad event.

The attacker here has full write access to the database (triggers dropped), as
an administrator or an intruder with the database owner's role would.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from hdh.audit import chain, services, triggers
from hdh.audit.models import AuditEvent
from hdh.audit.verify import verify
from hdh.core import clock

pytestmark = pytest.mark.django_db

DAY = dt.datetime(2031, 3, 1, 9, tzinfo=dt.UTC)


@pytest.fixture
def log(django_capture_on_commit_callbacks) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Ten events on day 1, a seal of day 1, five more events on day 2."""
    with clock.frozen(DAY) as frozen:
        for n in range(10):
            frozen.advance(dt.timedelta(minutes=1))
            services.record(action="test.event", details={"n": n})
        frozen.advance(dt.timedelta(days=1))
        with django_capture_on_commit_callbacks(execute=True):
            services.seal_pending_days()  # seals day 1 at #10, then logs "audit.sealed" as #11
        for n in range(10, 14):
            frozen.advance(dt.timedelta(minutes=1))
            services.record(action="test.event", details={"n": n})
    assert verify().ok
    triggers.remove(connection)  # the attacker's first move; rolled back after the test
    return


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def first_problem() -> tuple[str, int | None, str]:
    report = verify()
    assert not report.ok, "tampering was not detected"
    problem = report.first_problem
    assert problem is not None
    return problem.kind, problem.seq, problem.message


def test_intact_log_verifies(log: None) -> None:
    report = verify()
    assert report.ok
    assert report.events_checked == 15
    assert report.seals_checked == 1


def test_edited_details_are_detected(log: None) -> None:
    sql("UPDATE audit_auditevent SET details = %s WHERE seq = 4", [json.dumps({"n": 99})])
    assert first_problem()[:2] == ("altered", 4)


def test_edited_actor_is_detected(log: None) -> None:
    sql("UPDATE audit_auditevent SET actor_label = 'someone-else' WHERE seq = 7")
    assert first_problem()[:2] == ("altered", 7)


def test_edit_with_recomputed_hash_is_detected(log: None) -> None:
    """Rewriting one event and its own hash breaks the link to the next one."""
    event = AuditEvent.objects.get(seq=5)
    event.details = {"n": 1000}
    new_hash = chain.event_hash(event.prev_hash, chain.event_payload(event))
    sql(
        "UPDATE audit_auditevent SET details = %s, hash = %s WHERE seq = 5",
        [json.dumps({"n": 1000}), new_hash],
    )
    assert first_problem()[:2] == ("broken_link", 6)


def test_deleted_event_is_detected(log: None) -> None:
    sql("DELETE FROM audit_auditevent WHERE seq = 3")
    kind, seq, message = first_problem()
    assert (kind, seq) == ("missing", 4)
    assert "#3" in message


def test_deleted_and_renumbered_events_are_detected(log: None) -> None:
    sql("DELETE FROM audit_auditevent WHERE seq = 3")
    sql("UPDATE audit_auditevent SET seq = seq + 100 WHERE seq > 3")
    sql("UPDATE audit_auditevent SET seq = seq - 101 WHERE seq > 100")
    assert first_problem()[:2] == ("broken_link", 3)


def test_reordered_events_are_detected(log: None) -> None:
    sql("UPDATE audit_auditevent SET seq = -1 WHERE seq = 2")
    sql("UPDATE audit_auditevent SET seq = 2 WHERE seq = 3")
    sql("UPDATE audit_auditevent SET seq = 3 WHERE seq = -1")
    assert first_problem()[:2] == ("broken_link", 2)


def test_inserted_event_is_detected(log: None) -> None:
    sql("UPDATE audit_auditevent SET seq = seq + 1000 WHERE seq >= 6")
    sql("UPDATE audit_auditevent SET seq = seq - 999 WHERE seq >= 1000")
    forged = AuditEvent(
        seq=6,
        occurred_at=DAY,
        action="test.forged",
        outcome="success",
        details={},
        prev_hash=AuditEvent.objects.get(seq=5).hash,
    )
    forged.hash = chain.event_hash(forged.prev_hash, chain.event_payload(forged))
    forged.save()
    # The forged event itself is well formed; its successor no longer links.
    assert first_problem()[:2] == ("broken_link", 7)


def test_truncation_after_a_seal_is_detected(log: None) -> None:
    sql("DELETE FROM audit_auditevent WHERE seq >= 8")
    kind, _, message = first_problem()
    assert kind == "truncated"
    assert "#10" in message


def test_truncation_with_the_seal_removed_is_detected_by_the_anchor(log: None) -> None:
    sql("DELETE FROM audit_auditevent WHERE seq >= 8")
    sql("DELETE FROM audit_auditseal")
    kind, _, message = first_problem()
    assert kind == "truncated"
    assert "anchor" in message


def test_a_whole_rewrite_after_a_seal_is_detected(log: None) -> None:
    """Rewriting events and re-chaining everything still contradicts the seal."""
    sql("UPDATE audit_auditevent SET details = %s WHERE seq = 2", [json.dumps({"n": -1})])
    prev = chain.GENESIS
    for event in AuditEvent.objects.order_by("seq"):
        payload = chain.event_payload(event)
        new_hash = chain.event_hash(prev, payload)
        sql(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s",
            [prev, "tmp" + new_hash[:60], event.seq],
        )
        sql("UPDATE audit_auditevent SET hash = %s WHERE seq = %s", [new_hash, event.seq])
        prev = new_hash
    kind, seq, _ = first_problem()
    assert (kind, seq) == ("seal", 10)


def test_tampered_anchor_is_detected(log: None, settings) -> None:  # type: ignore[no-untyped-def]
    anchor: Path = settings.HDH_AUDIT_ANCHOR
    entry = json.loads(anchor.read_text())
    entry["seal_hash"] = "0" * 64
    anchor.write_text(json.dumps(entry) + "\n")
    assert first_problem()[0] == "seal"


def test_missing_anchor_is_detected(log: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_AUDIT_ANCHOR.unlink()
    assert first_problem()[0] == "anchor"


def test_verify_command_exit_codes(log: None, capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("audit", "verify")
    assert "audit log intact: 15 events, 1 seals" in capsys.readouterr().out
    sql("UPDATE audit_auditevent SET action = 'test.other' WHERE seq = 9")
    with pytest.raises(CommandError) as raised:
        call_command("audit", "verify")
    assert raised.value.returncode == 1
    assert "event #9" in str(raised.value)


def test_verify_command_json_report(log: None, capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("audit", "verify", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["head_seq"] == 15
