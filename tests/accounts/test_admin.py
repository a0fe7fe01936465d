from __future__ import annotations

import pytest
from django.test import Client

from hdh.accounts.authorization import user_roles
from hdh.accounts.models import RoleAssignment, User
from hdh.core import clock
from hdh.core.permissions import Role
from tests.accounts.helpers import events, sign_in
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(frozen: clock.FrozenClock) -> Client:
    admin = UserFactory(username="chef", roles=[Role.ADMINISTRATOR], with_totp=True)
    browser = Client()
    sign_in(browser, admin)
    return browser


def test_the_admin_signs_in_through_the_platform_login(client: Client) -> None:
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == "/comptes/connexion/?next=/admin/"
    assert client.get("/admin/login/?next=/admin/accounts/").url == (
        "/comptes/connexion/?next=/admin/accounts/"
    )


def test_staff_flag_without_the_administrator_role_does_not_open_the_admin(
    client: Client, frozen: clock.FrozenClock
) -> None:
    user = UserFactory(roles=[Role.AUDITOR], with_totp=True, is_staff=True)
    sign_in(client, user)

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403
    [denied] = events("permission.denied", actor_id=str(user.pk))
    assert denied.details["permission"] == "admin.site"


def test_administrators_reach_the_admin(admin_client: Client) -> None:
    for path in (
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/organisation/",
        "/admin/accounts/roleassignment/",
        "/admin/accounts/totpdevice/",
    ):
        assert admin_client.get(path).status_code == 200, path


def test_the_totp_secret_is_never_shown(admin_client: Client) -> None:
    user = UserFactory(roles=[Role.RESEARCHER], with_totp=True)
    secret = user.totp_device.secret

    pages = [
        admin_client.get(f"/admin/accounts/user/{user.pk}/change/"),
        admin_client.get("/admin/accounts/totpdevice/"),
        admin_client.get(f"/admin/accounts/totpdevice/{user.totp_device.pk}/change/"),
    ]

    for page in pages:
        assert page.status_code == 200
        assert secret not in page.content.decode()


def test_roles_are_granted_through_an_audited_admin_action(admin_client: Client) -> None:
    admin = User.objects.get(username="chef")
    user = UserFactory()

    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "grant_regulator", "_selected_action": [str(user.pk)]},
    )

    assert response.status_code == 302
    assert user_roles(User.objects.get(pk=user.pk)) == {Role.REGULATOR}
    [event] = events("accounts.role.granted", target_id=str(user.pk))
    assert event.actor_id == str(admin.pk)


def test_a_refused_admin_action_reports_why(admin_client: Client) -> None:
    user = UserFactory(roles=[Role.REGULATOR])

    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "grant_regulator", "_selected_action": [str(user.pk)]},
        follow=True,
    )

    assert "a déjà le rôle" in response.content.decode()


def test_deactivation_from_the_admin_goes_through_the_service(admin_client: Client) -> None:
    user = UserFactory()

    admin_client.post(
        "/admin/accounts/user/", {"action": "deactivate", "_selected_action": [str(user.pk)]}
    )

    assert not User.objects.get(pk=user.pk).is_active
    assert events("accounts.user.deactivated", target_id=str(user.pk))


def test_role_rows_cannot_be_edited_or_deleted_in_the_admin(admin_client: Client) -> None:
    user = UserFactory(roles=[Role.RESEARCHER])
    assignment = RoleAssignment.objects.get(user=user)

    assert admin_client.get("/admin/accounts/roleassignment/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/accounts/roleassignment/{assignment.pk}/delete/").status_code
        == 403
    )
    assert admin_client.post(f"/admin/accounts/user/{user.pk}/delete/").status_code == 403


def test_accounts_added_in_the_admin_are_created_by_the_service(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "nouvelle-recrue",
            "email": "recrue@exemple.fr",
            "password1": "Une-phrase-de-passe-solide",
            "password2": "Une-phrase-de-passe-solide",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="nouvelle-recrue")
    assert user.check_password("Une-phrase-de-passe-solide")
    [event] = events("accounts.user.created", target_id=str(user.pk))
    assert event.actor_id == str(User.objects.get(username="chef").pk)


def test_identity_edits_in_the_admin_are_audited_by_field_name(admin_client: Client) -> None:
    user = UserFactory(first_name="Ancien", email="ancien@exemple.fr")

    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": user.username,
            "first_name": "Nouveau",
            "last_name": user.last_name,
            "email": "nouveau@exemple.fr",
            "organisation": str(user.organisation_id),
            "role_assignments-TOTAL_FORMS": "0",
            "role_assignments-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(pk=user.pk).first_name == "Nouveau"
    [event] = events("accounts.user.updated", target_id=str(user.pk))
    assert event.details == {"fields": ["email", "first_name"]}


def test_organisations_added_in_the_admin_are_audited(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/accounts/organisation/add/",
        {"name": "Hôpital du test", "acronym": "HDT", "kind": "hospital", "siren": ""},
    )

    assert response.status_code == 302
    assert events("accounts.organisation.created")


def test_signing_out_of_the_admin_is_audited(admin_client: Client) -> None:
    admin_client.post("/admin/logout/")

    [event] = events("accounts.logout")
    assert event.actor_id == str(User.objects.get(username="chef").pk)
