"""Rights requests: public form, two-month clock, staff inbox (default deny),
audited answer, status by reference and birth date; no identifiers in audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from hdh.audit.models import AuditEvent
from hdh.citizens import services
from hdh.citizens.models import RightsRequest, RightsStatus
from hdh.core import clock
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.permissions import Role
from tests.access.helpers import client_for
from tests.citizens.conftest import NIR
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db
URL = "/citoyens/droits/"
FORM = {
    "kind": "access",
    "message": "Je souhaite savoir quelles données me concernent.",
    "last_name": "Martin",
    "first_name": "Jeanne",
    "birth_date": "1987-02-28",
    "email": "jeanne@example.org",
    "website": "",
}
T0 = dt.datetime(2026, 1, 31, 10, 0, tzinfo=dt.UTC)


def _file(**changes: str) -> RightsRequest:
    response = Client().post(URL, {**FORM, **changes})
    assert response.status_code == 200, response.content.decode()[:2000]
    return RightsRequest.objects.latest("pk")


def test_two_months_clock_clamps_to_the_end_of_the_month() -> None:
    assert services.add_months(dt.date(2026, 1, 31), 2) == dt.date(2026, 3, 31)
    assert services.add_months(dt.date(2025, 12, 31), 2) == dt.date(2026, 2, 28)
    assert services.add_months(dt.date(2026, 11, 15), 2) == dt.date(2027, 1, 15)


def test_a_request_is_filed_clocked_answered_and_followed_by_the_citizen() -> None:
    with clock.frozen(T0) as frozen:
        filed = _file()
        assert filed.due_on == dt.date(2026, 3, 31)
        assert filed.status == RightsStatus.RECEIVED
        auditor = UserFactory(roles=[Role.AUDITOR])
        staff = client_for(auditor)
        inbox = staff.get(reverse("citizens:inbox")).content.decode()
        assert filed.reference in inbox
        assert "en retard" not in inbox
        frozen.advance(dt.timedelta(days=70))
        staff = client_for(auditor)  # the earlier session has expired meanwhile
        assert "en retard" in staff.get(reverse("citizens:inbox")).content.decode()
        detail = reverse("citizens:inbox_detail", args=[filed.reference])
        assert "Le délai de réponse est dépassé" in staff.get(detail).content.decode()
        response = staff.post(detail, {"answer": "Voici les données vous concernant."})
        assert response.status_code == 302
    filed.refresh_from_db()
    assert filed.status == RightsStatus.ANSWERED
    assert filed.answered_by == auditor
    with pytest.raises(InvalidState):
        services.answer_rights_request(request=filed, answer="encore", by=auditor)
    status = Client().post(
        reverse("citizens:rights_status"),
        {"reference": filed.reference, "birth_date": "1987-02-28"},
    )
    assert "Voici les données vous concernant." in status.content.decode()
    wrong = Client().post(
        reverse("citizens:rights_status"),
        {"reference": filed.reference, "birth_date": "1987-02-27"},
    )
    assert wrong.status_code == 400
    assert "Voici les données" not in wrong.content.decode()
    actions = {e.action: e for e in AuditEvent.objects.filter(target_id=filed.reference)}
    assert set(actions) == {"citizens.rights_request_filed", "citizens.rights_request_answered"}
    assert actions["citizens.rights_request_answered"].details["overdue"] is True
    for event in AuditEvent.objects.all():
        text = f"{event.details} {event.target_id}"
        for secret in ("Martin", "Jeanne", "jeanne@example.org", "1987-02-28", "Voici"):
            assert secret not in text


def test_the_nir_is_kept_only_as_a_pseudonym() -> None:
    filed = services.file_rights_request(
        kind="rectification",
        message="Mon adresse est fausse.",
        last_name="Martin",
        first_name="Jeanne",
        birth_date=dt.date(1987, 2, 28),
        email="j@example.org",
        nir=NIR,
        sex=1,
    )
    assert len(filed.pseudonym) == 17
    assert NIR not in str(filed.__dict__)
    with pytest.raises(ValidationFailed):
        services.file_rights_request(
            kind="nonsense",
            message="x",
            last_name="a",
            first_name="b",
            birth_date=dt.date(1987, 2, 28),
            email="j@example.org",
        )


@pytest.mark.parametrize(
    "roles",
    [[], [Role.RESEARCHER], [Role.GUICHET_OFFICER], [Role.DATA_ENGINEER], [Role.ADMINISTRATOR]],
)
def test_the_inbox_is_closed_to_everyone_but_the_dpo_and_auditors(roles: list[Role]) -> None:
    filed = _file()
    urls = [reverse("citizens:inbox"), reverse("citizens:inbox_detail", args=[filed.reference])]
    for url in urls:
        assert Client().get(url).status_code == 302  # anonymous: to the sign-in page
    staff = client_for(UserFactory(roles=roles))
    for url in urls:
        assert staff.get(url).status_code == 403
    assert staff.post(urls[1], {"answer": "non"}).status_code == 403
    filed.refresh_from_db()
    assert filed.status == RightsStatus.RECEIVED


def test_unknown_requests_are_404_for_staff() -> None:
    staff = client_for(UserFactory(roles=[Role.AUDITOR]))
    assert staff.get(reverse("citizens:inbox_detail", args=["DRT-NOPE"])).status_code == 404
    assert staff.get("/citoyens/droits/traitement/" + "x" * 5000 + "/").status_code == 404


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "delete-everything"},
        {"message": ""},
        {"message": "x" * 6000},
        {"message": "bonjour\x00"},
        {"last_name": "<script>alert(1)</script>"},
        {"first_name": "x" * 500},
        {"birth_date": "2999-12-31"},
        {"birth_date": "hier"},
        {"email": "not-an-email"},
        {"email": "a" * 300 + "@example.org"},
        {"website": "http://spam.example"},
    ],
)
def test_hostile_rights_requests_are_refused(changes: dict[str, str]) -> None:
    response = Client().post(URL, {**FORM, **changes})
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not RightsRequest.objects.exists()


def test_rights_requests_are_throttled_and_need_csrf() -> None:
    assert Client(enforce_csrf_checks=True).post(URL, FORM).status_code == 403
    client = Client()
    client.get(URL)
    codes = [client.post(URL, {**FORM, "email": "bad"}).status_code for _ in range(7)]
    assert codes[:5] == [400] * 5
    assert codes[5:] == [429, 429]
    assert not RightsRequest.objects.exists()


def test_an_answer_cannot_be_empty() -> None:
    filed = _file()
    with pytest.raises(ValidationFailed):
        services.answer_rights_request(
            request=filed, answer="  ", by=UserFactory(roles=[Role.AUDITOR])
        )


def test_when_the_audit_write_fails_the_answer_is_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hdh.audit import services as audit

    filed = _file()

    def failing(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError):
        services.answer_rights_request(
            request=filed, answer="Réponse", by=UserFactory(roles=[Role.AUDITOR])
        )
    filed.refresh_from_db()
    assert filed.status == RightsStatus.RECEIVED
    assert filed.answer == ""
