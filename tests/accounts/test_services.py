from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from hdh.accounts import services
from hdh.accounts.models import Organisation, RoleAssignment, TOTPDevice, User
from hdh.audit import services as audit_services
from hdh.core import clock
from hdh.core.errors import InvalidState, NotAllowed, ValidationFailed
from hdh.core.governance import DirectWriteRefused, service_writes
from hdh.core.permissions import Role
from tests.accounts.helpers import events, sign_in
from tests.factories.accounts import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _failing_record(**kwargs: Any) -> None:
    raise RuntimeError("audit store unavailable")


# --- create_user ---------------------------------------------------------------


def test_create_user_is_audited_and_grants_roles() -> None:
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    organisation = OrganisationFactory()

    user = services.create_user(
        by=admin,
        username="c.dupont",
        email="Claire.Dupont@Exemple.FR",
        password="Une-phrase-de-passe-solide",
        first_name="Claire",
        last_name="Dupont",
        organisation=organisation,
        roles=[Role.RESEARCHER],
    )

    assert user.email == "claire.dupont@exemple.fr"
    assert user.check_password("Une-phrase-de-passe-solide")
    assert user.password_changed_at is not None
    [created] = events("accounts.user.created", target_id=str(user.pk))
    assert created.actor_id == str(admin.pk)
    assert created.details == {
        "organisation_id": organisation.pk,
        "roles": ["researcher"],
        "is_demo": False,
    }
    assert len(events("accounts.role.granted", target_id=str(user.pk))) == 1


def test_create_user_without_password_cannot_sign_in() -> None:
    user = services.create_user(by=None, username="sans-mdp", email="sans@exemple.fr")

    assert not user.has_usable_password()


@pytest.mark.parametrize(
    ("username", "email", "password"),
    [
        ("ok-name", "not-an-email", "Une-phrase-de-passe-solide"),
        ("bad name with spaces!", "a@exemple.fr", "Une-phrase-de-passe-solide"),
        ("x" * 151, "a@exemple.fr", "Une-phrase-de-passe-solide"),
        ("ok-name", "a@exemple.fr", "court"),
        ("ok-name", "a@exemple.fr", "123456789012345"),
        ("ok-name", "a@exemple.fr", "password1234"),
        # A NIR as a username would be written as the actor of every audit event.
        ("185057800608436", "a@exemple.fr", "Une-phrase-de-passe-solide"),
    ],
)
def test_create_user_rejects_bad_input_with_named_problems(
    username: str, email: str, password: str
) -> None:
    with pytest.raises(ValidationFailed) as error:
        services.create_user(by=None, username=username, email=email, password=password)

    assert error.value.problems
    assert not User.objects.filter(email=email).exists()


def test_usernames_and_emails_are_unique_regardless_of_email_case() -> None:
    UserFactory(username="alice", email="alice@exemple.fr")

    with pytest.raises(ValidationFailed):
        services.create_user(by=None, username="alice", email="autre@exemple.fr")
    with pytest.raises(ValidationFailed):
        services.create_user(by=None, username="alice2", email="ALICE@exemple.fr")


def test_only_account_managers_create_accounts() -> None:
    researcher = UserFactory(roles=[Role.RESEARCHER])

    with pytest.raises(NotAllowed):
        services.create_user(by=researcher, username="x", email="x@exemple.fr")
    assert len(events("permission.denied")) == 1


def test_organisation_siren_must_have_nine_digits() -> None:
    with pytest.raises(ValidationFailed):
        services.create_organisation(
            by=None, name="Mauvais SIREN", kind=Organisation.Kind.COMPANY, siren="12345"
        )
    organisation = services.create_organisation(
        by=None, name="Bon SIREN", kind=Organisation.Kind.COMPANY, siren="123456789"
    )
    assert events("accounts.organisation.created", target_id=str(organisation.pk))


# --- roles ---------------------------------------------------------------------


def test_grant_and_revoke_are_audited() -> None:
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    user = UserFactory()

    assignment = services.grant_role(by=admin, user=user, role=Role.OUTPUT_CHECKER)
    assert assignment.granted_by == admin
    services.revoke_role(by=admin, user=user, role=Role.OUTPUT_CHECKER)

    [granted] = events("accounts.role.granted", target_id=str(user.pk))
    [revoked] = events("accounts.role.revoked", target_id=str(user.pk))
    assert granted.details == revoked.details == {"role": "output_checker"}
    assert granted.actor_id == revoked.actor_id == str(admin.pk)
    assert not RoleAssignment.objects.filter(user=user).exists()


def test_granting_twice_or_revoking_what_is_not_held_is_refused() -> None:
    user = UserFactory(roles=[Role.RESEARCHER])

    with pytest.raises(InvalidState):
        services.grant_role(by=None, user=user, role=Role.RESEARCHER)
    with pytest.raises(InvalidState):
        services.revoke_role(by=None, user=user, role=Role.AUDITOR)


def test_only_account_managers_grant_roles() -> None:
    auditor = UserFactory(roles=[Role.AUDITOR])

    with pytest.raises(NotAllowed):
        services.grant_role(by=auditor, user=auditor, role=Role.ADMINISTRATOR)
    assert not RoleAssignment.objects.filter(role=Role.ADMINISTRATOR).exists()


def test_administrator_role_carries_the_admin_site_flags() -> None:
    UserFactory(roles=[Role.ADMINISTRATOR])
    user = UserFactory()

    services.grant_role(by=None, user=user, role=Role.ADMINISTRATOR)
    user.refresh_from_db()
    assert user.is_staff
    assert user.is_superuser

    services.revoke_role(by=None, user=user, role=Role.ADMINISTRATOR)
    user.refresh_from_db()
    assert not user.is_staff
    assert not user.is_superuser


def test_the_last_active_administrator_keeps_the_role() -> None:
    admin = UserFactory(roles=[Role.ADMINISTRATOR])

    with pytest.raises(InvalidState):
        services.revoke_role(by=admin, user=admin, role=Role.ADMINISTRATOR)


def test_a_failing_audit_write_rolls_the_grant_back(monkeypatch: pytest.MonkeyPatch) -> None:
    user = UserFactory()
    monkeypatch.setattr(audit_services, "record", _failing_record)

    with pytest.raises(RuntimeError):
        services.grant_role(by=None, user=user, role=Role.REGULATOR)

    assert not RoleAssignment.objects.filter(user=user).exists()


def test_a_failing_audit_write_rolls_the_revoke_back(monkeypatch: pytest.MonkeyPatch) -> None:
    user = UserFactory(roles=[Role.REGULATOR])
    monkeypatch.setattr(audit_services, "record", _failing_record)

    with pytest.raises(RuntimeError):
        services.revoke_role(by=None, user=user, role=Role.REGULATOR)

    assert RoleAssignment.objects.filter(user=user, role=Role.REGULATOR).exists()


def test_a_failing_audit_write_rolls_the_new_account_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audit_services, "record", _failing_record)

    with pytest.raises(RuntimeError):
        services.create_user(by=None, username="fantome", email="f@exemple.fr")

    assert not User.objects.filter(username="fantome").exists()


def test_a_failing_audit_write_keeps_the_account_active(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = UserFactory()
    monkeypatch.setattr(audit_services, "record", _failing_record)

    with pytest.raises(RuntimeError):
        services.deactivate_user(by=None, user=user)

    user.refresh_from_db()
    assert user.is_active


# --- governed rows -------------------------------------------------------------


def test_role_assignments_refuse_writes_outside_the_services() -> None:
    user = UserFactory(roles=[Role.RESEARCHER])
    assignment = RoleAssignment.objects.get(user=user)

    with pytest.raises(DirectWriteRefused):
        RoleAssignment.objects.create(user=user, role=Role.AUDITOR)
    with pytest.raises(DirectWriteRefused):
        assignment.delete()
    with pytest.raises(DirectWriteRefused):
        RoleAssignment.objects.filter(user=user).update(role=Role.ADMINISTRATOR)
    with pytest.raises(DirectWriteRefused):
        RoleAssignment.objects.filter(user=user).delete()
    with pytest.raises(DirectWriteRefused):
        RoleAssignment.objects.bulk_create([RoleAssignment(user=user, role=Role.AUDITOR)])


def test_totp_devices_refuse_writes_outside_the_services() -> None:
    user = UserFactory(with_totp=True)
    device = TOTPDevice.objects.get(user=user)

    device.last_used_step = None
    with pytest.raises(DirectWriteRefused):
        device.save()
    with pytest.raises(DirectWriteRefused):
        device.delete()


def test_the_service_write_permission_ends_with_its_block() -> None:
    user = UserFactory()
    with service_writes():
        RoleAssignment.objects.create(user=user, role=Role.AUDITOR)

    with pytest.raises(DirectWriteRefused):
        RoleAssignment.objects.create(user=user, role=Role.RESEARCHER)


# --- deactivation --------------------------------------------------------------


def test_deactivation_ends_every_session_of_the_account() -> None:
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    user = UserFactory()
    other = UserFactory()
    browsers = [Client(), Client()]
    for browser in browsers:
        sign_in(browser, user)
    bystander = Client()
    sign_in(bystander, other)

    ended = services.deactivate_user(by=admin, user=user)

    assert ended == 2
    assert Session.objects.count() == 1
    for browser in browsers:
        response = browser.get("/comptes/mon-compte/")
        assert response.status_code == 302
        assert response.url.startswith("/comptes/connexion/")
    assert bystander.get("/comptes/mon-compte/").status_code == 200
    [event] = events("accounts.user.deactivated", target_id=str(user.pk))
    assert event.details == {"sessions_ended": 2}


def test_an_administrator_cannot_deactivate_themselves() -> None:
    admin = UserFactory(roles=[Role.ADMINISTRATOR])

    with pytest.raises(InvalidState):
        services.deactivate_user(by=admin, user=admin)


def test_unlock_lifts_the_lock_and_is_audited() -> None:
    user = UserFactory(locked_until=clock.now().replace(year=2100), failed_login_count=3)

    services.unlock_user(by=None, user=user)

    user.refresh_from_db()
    assert user.locked_until is None
    assert user.failed_login_count == 0
    assert events("accounts.user.unlocked", target_id=str(user.pk))
