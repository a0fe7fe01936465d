"""Objections on the portal: receipt, status by reference and birth date, withdrawal;
only the pseudonym is stored; hostile input is refused with a clear message."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from hdh.audit.models import AuditEvent
from hdh.citizens import services
from hdh.citizens.models import ObjectionReceipt
from hdh.core import clock
from hdh.keys import pseudonyms
from hdh.keys.store import default_store
from hdh.preparation import objections
from hdh.preparation.models import ObjectionEntry
from tests.citizens.conftest import BIRTH, NIR, SEX, identity

pytestmark = pytest.mark.django_db
URL = "/citoyens/opposition/"


def _file(client: Client, **changes: str):  # type: ignore[no-untyped-def]
    return client.post(URL, identity(**changes))


def test_a_citizen_objects_and_gets_a_receipt_with_a_reference() -> None:
    client = Client()
    assert client.get(URL).status_code == 200
    response = _file(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("citizens:objection_receipt")
    receipt = client.get(response["Location"])
    entry = ObjectionEntry.objects.get()
    assert entry.reference in receipt.content.decode()
    expected = pseudonyms.level1(NIR, BIRTH, SEX, key=default_store().level1_key()[1])
    assert entry.pseudonym == expected
    _, active = objections.register_snapshot(clock.now())
    assert expected in active


def test_nothing_identifying_is_stored_or_audited() -> None:
    _file(Client())
    entry = ObjectionEntry.objects.get()
    receipt = ObjectionReceipt.objects.get()
    stored = " ".join(str(v) for v in receipt.__dict__.values())
    for secret in (NIR, "Martin", "Jeanne", BIRTH.isoformat()):
        assert secret not in stored
    events = AuditEvent.objects.filter(target_id=entry.reference)
    assert {e.action for e in events} >= {
        "preparation.objection_filed",
        "citizens.objection_receipt",
    }
    for event in AuditEvent.objects.all():
        text = f"{event.details} {event.target_id}"
        for secret in (NIR, "Martin", "Jeanne", entry.pseudonym, BIRTH.isoformat()):
            assert secret not in text


def test_status_needs_the_reference_and_the_birth_date_and_withdrawal_works() -> None:
    client = Client()
    _file(client)
    reference = ObjectionEntry.objects.get().reference
    status_url = reverse("citizens:objection_status")
    wrong = client.post(status_url, {"reference": reference, "birth_date": "1987-03-01"})
    assert wrong.status_code == 400
    assert "En vigueur" not in wrong.content.decode()
    right = client.post(status_url, {"reference": reference.lower(), "birth_date": "1987-02-28"})
    assert right.status_code == 200
    assert "En vigueur" in right.content.decode()
    withdrawn = client.post(
        status_url, {"reference": reference, "birth_date": "1987-02-28", "action": "withdraw"}
    )
    assert "Retirée" in withdrawn.content.decode()
    assert ObjectionEntry.objects.get().withdrawn_at is not None
    _, active = objections.register_snapshot(clock.now())
    assert not active
    with pytest.raises(Exception, match="unknown"):
        services.withdraw_objection(reference=reference, birth_date=dt.date(2000, 1, 1))


def test_a_second_objection_by_the_same_person_gives_the_same_reference() -> None:
    first = services.file_objection(nir=NIR, birth_date=BIRTH, sex=SEX)
    again = services.file_objection(nir="1 87 02 63 319 179 80", birth_date=BIRTH, sex=SEX)
    assert first.pk == again.pk
    assert ObjectionReceipt.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"nir": "187026331917981"}, "nir", "clé"),
        ({"nir": "12345"}, "nir", "15 caractères"),
        ({"nir": "x" * 100_000}, "nir", ""),
        ({"nir": "<script>alert(1)</script>"}, "nir", "15 caractères"),
        ({"birth_date": "2999-01-01"}, "birth_date", "futur"),
        ({"birth_date": "1987-13-45"}, "birth_date", ""),
        ({"birth_date": "1988-02-28"}, "birth_date", "ne correspond pas"),
        ({"sex": "2"}, "sex", "ne correspond pas"),
        ({"sex": "9"}, "sex", ""),
        ({"last_name": "<script>alert(1)</script>"}, "last_name", "lettres"),
        ({"first_name": "a" * 5000}, "first_name", ""),
        ({"last_name": ""}, "last_name", ""),
        ({"confirm": ""}, "confirm", ""),
    ],
)
def test_hostile_or_wrong_input_is_refused_clearly(
    changes: dict[str, str], field: str, message: str
) -> None:
    response = _file(Client(), **changes)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    body = response.content.decode()
    assert message in body
    assert "<script>alert(1)</script>" not in body
    assert not ObjectionEntry.objects.exists()


def test_nul_bytes_are_refused() -> None:
    response = _file(Client(), last_name="Mar\x00tin")
    assert response.status_code == 400
    assert not ObjectionEntry.objects.exists()


def test_the_honeypot_keeps_nothing() -> None:
    response = _file(Client(), website="http://spam.example")
    assert response.status_code == 400
    assert not ObjectionEntry.objects.exists()


def test_too_many_attempts_are_throttled() -> None:
    client = Client()
    client.get(URL)
    codes = [_file(client, nir="187026331917981").status_code for _ in range(12)]
    assert codes[:10] == [400] * 10
    assert codes[10:] == [429, 429]
    assert "Trop de tentatives" in _file(client).content.decode()
    assert not ObjectionEntry.objects.exists()


def test_forms_need_the_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    assert _file(client).status_code == 403
    status = client.post(
        reverse("citizens:objection_status"),
        {"reference": "OPP-0000000000", "birth_date": "1987-02-28"},
    )
    assert status.status_code == 403
    assert not ObjectionEntry.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"reference": "x" * 10_000, "birth_date": "1987-02-28"},
        {"reference": "OPP-<script>", "birth_date": "1987-02-28"},
        {"reference": "OPP-0000000000", "birth_date": "3000-01-01"},
        {"reference": "OPP-0000000000\x00", "birth_date": "1987-02-28"},
        {"reference": "OPP-0000000000", "birth_date": "1987-02-28", "action": "withdraw"},
    ],
)
def test_hostile_status_lookups_find_nothing(data: dict[str, str]) -> None:
    response = Client().post(reverse("citizens:objection_status"), data)
    assert response.status_code == 400
    assert "<script>" not in response.content.decode()


def test_the_receipt_page_without_a_filed_objection_leads_to_the_form() -> None:
    response = Client().get(reverse("citizens:objection_receipt"))
    assert response.status_code == 302
    assert response["Location"] == URL


def test_when_the_audit_write_fails_nothing_is_filed(monkeypatch: pytest.MonkeyPatch) -> None:
    from hdh.audit import services as audit

    real = audit.record

    def failing(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["action"] == "citizens.objection_receipt":
            raise RuntimeError("audit store unavailable")
        return real(**kwargs)

    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError):
        services.file_objection(nir=NIR, birth_date=BIRTH, sex=SEX)
    assert not ObjectionEntry.objects.exists()
    assert not ObjectionReceipt.objects.exists()
    assert objections.register_version() == 0
