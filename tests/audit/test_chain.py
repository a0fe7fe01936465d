"""The audit log is a hash chain; record() refuses what must never be logged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from hdh.audit import chain, services
from hdh.audit.models import AppendOnlyError, AuditEvent, AuditSeal
from hdh.audit.verify import verify
from hdh.core import clock

pytestmark = pytest.mark.django_db


def test_events_are_chained_in_order() -> None:
    first = services.record(action="test.first", details={"n": 1})
    second = services.record(action="test.second", target_type="thing", target_id="42")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == chain.GENESIS
    assert second.prev_hash == first.hash
    stored = AuditEvent.objects.get(seq=2)
    assert chain.event_hash(stored.prev_hash, chain.event_payload(stored)) == stored.hash
    assert verify().ok


def test_record_uses_the_platform_clock_in_utc() -> None:
    moment = dt.datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    with clock.frozen(moment):
        event = services.record(action="test.clock")
    assert AuditEvent.objects.get(pk=event.pk).occurred_at == moment


def test_actor_and_target_are_taken_from_objects(django_user_model) -> None:  # type: ignore[no-untyped-def]
    user = django_user_model.objects.create(username="alice", email="alice@example.org")
    event = services.record(action="test.actor", by=user, target=user)
    assert event.actor_id == str(user.pk)
    assert event.actor_label == "alice"
    assert event.target_type == "accounts.user"
    assert event.target_id == str(user.pk)


@pytest.mark.parametrize(
    "details",
    [
        {"password": "hunter2"},
        {"nested": {"totp_code": "123456"}},
        {"note": "patient 1 85 05 78 006 084 36"},
        {"values": ["x", "185057800608436"]},
        {"blob": b"bytes"},
        {"obj": object()},
        {"big": "x" * 10000},
        {"nan": float("nan")},
    ],
)
def test_secrets_identifiers_and_oversized_details_are_refused(details: dict) -> None:
    with pytest.raises(services.UnsafeAuditDetails):
        services.record(action="test.unsafe", details=details)
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize("action", ["", "x" * 101])
def test_malformed_action_is_refused(action: str) -> None:
    with pytest.raises(ValueError, match="audit action"):
        services.record(action=action)


def test_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="outcome"):
        services.record(action="test.outcome", outcome="maybe")


def test_unicode_and_control_characters_round_trip() -> None:
    services.record(action="test.unicode", details={"t": "évènement\r\nforgé\u0000 ✓"})
    assert verify().ok


def test_models_refuse_change_and_delete() -> None:
    event = services.record(action="test.immutable")
    event.action = "test.changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'x'",
        "DELETE FROM audit_auditevent",
        "UPDATE audit_auditseal SET head_seq = 0",
        "DELETE FROM audit_auditseal",
    ],
)
def test_database_triggers_refuse_update_and_delete(sql: str) -> None:
    services.record(action="test.trigger")
    with clock.frozen(dt.datetime(2031, 1, 2, tzinfo=dt.UTC)):
        services.seal_day(day=dt.date(2031, 1, 1))
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.filter(action="test.trigger").exists()
    assert AuditSeal.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_database_trigger_refuses_truncate() -> None:
    services.record(action="test.truncate")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 1


def test_a_failed_audit_write_rolls_back_the_change_it_records(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A seal and its audit event commit together or not at all."""

    def failing_record(**kwargs: object) -> None:
        raise DatabaseError("audit storage unavailable")

    services.record(action="test.before")
    monkeypatch.setattr(services, "record", failing_record)
    with clock.frozen(dt.datetime(2031, 1, 2, tzinfo=dt.UTC)), pytest.raises(DatabaseError):
        services.seal_day(day=dt.date(2031, 1, 1))
    assert not AuditSeal.objects.exists()


def test_sealing_is_daily_idempotent_and_anchored(  # type: ignore[no-untyped-def]
    settings, django_capture_on_commit_callbacks
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        clock.frozen(dt.datetime(2031, 1, 1, 10, tzinfo=dt.UTC)) as frozen,
    ):
        services.record(action="test.day1")
        frozen.advance(dt.timedelta(days=1))
        services.record(action="test.day2")
        frozen.advance(dt.timedelta(days=2))  # now 2031-01-04
        with pytest.raises(ValueError, match="ended"):
            services.seal_day(day=dt.date(2031, 1, 4))
        seals = services.seal_pending_days()
        assert [s.day for s in seals] == [dt.date(2031, 1, d) for d in (1, 2, 3)]
        assert seals[0].head_seq == 1
        assert seals[1].head_seq == 2
        assert seals[2].head_seq == 2
        assert services.seal_pending_days() == []
    lines = settings.HDH_AUDIT_ANCHOR.read_text().splitlines()
    assert len(lines) == 3
    assert oct(settings.HDH_AUDIT_ANCHOR.stat().st_mode & 0o777) == "0o600"
    assert AuditEvent.objects.filter(action="audit.sealed").count() == 3
    report = verify()
    assert report.ok, report.problems
    assert report.seals_checked == 3
