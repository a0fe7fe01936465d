from __future__ import annotations

import io

import pyotp
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from hdh.accounts import totp
from hdh.accounts.authorization import user_roles
from hdh.accounts.demo import DemoAccount, create_demo_accounts
from hdh.accounts.models import Organisation, TOTPDevice, User
from hdh.core import clock
from hdh.core.errors import InvalidState
from hdh.core.permissions import Role
from tests.accounts.helpers import events, post_login
from tests.factories.accounts import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "Une-phrase-de-passe-solide"


def _createuser(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    call_command(
        "createuser", *args, stdout=out, **({"stdin": io.StringIO(stdin)} if stdin else {})
    )
    return out.getvalue()


def test_createuser_with_roles_password_and_secret() -> None:
    OrganisationFactory(name="Institut Test", acronym="IT")
    secret = pyotp.random_base32()

    output = _createuser(
        "c.martin",
        "--email", "c.martin@exemple.fr",
        "--first-name", "Camille",
        "--last-name", "Martin",
        "--organisation", "it",
        "--role", "researcher",
        "--role", "auditor",
        "--password-stdin",
        "--totp-secret", secret.lower(),
        stdin=STRONG + "\n",
    )  # fmt: skip

    user = User.objects.get(username="c.martin")
    assert "c.martin" in output
    assert user.check_password(STRONG)
    assert user.organisation.acronym == "IT"
    assert user_roles(user) == {Role.RESEARCHER, Role.AUDITOR}
    device = TOTPDevice.objects.get(user=user)
    assert device.is_confirmed
    assert device.secret == secret
    assert events("accounts.user.created", target_id=str(user.pk))
    assert events("accounts.mfa.enrolled", target_id=str(user.pk))


def test_createuser_reads_the_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HDH_NEW_PASSWORD", STRONG)

    _createuser("env-user", "--email", "env@exemple.fr", "--password-env", "HDH_NEW_PASSWORD")

    assert User.objects.get(username="env-user").check_password(STRONG)


def test_createuser_can_create_the_organisation() -> None:
    _createuser(
        "org-user", "--email", "o@exemple.fr",
        "--organisation", "Nouvel hôpital", "--organisation-kind", "hospital",
    )  # fmt: skip

    assert Organisation.objects.get(name="Nouvel hôpital").kind == Organisation.Kind.HOSPITAL


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "wizard"], None, "Rôle inconnu : wizard"),
        (["--password-stdin"], "court\n", "Compte refusé"),
        (["--password-stdin"], "\n", "Aucun mot de passe"),
        (["--password-env", "HDH_UNSET_VARIABLE"], None, "HDH_UNSET_VARIABLE"),
        (["--totp-secret", "not base32!"], None, "Secret TOTP invalide"),
        (["--totp-secret", "JBSWY3DPEHPK3PXP"], None, "128 bits"),
        (["--organisation", "Inconnue"], None, "Organisation inconnue"),
    ],
)
def test_createuser_errors_are_clear_and_create_nothing(
    args: list[str], stdin: str | None, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        _createuser("nouvelle", "--email", "nouvelle@exemple.fr", *args, stdin=stdin)

    assert not User.objects.filter(username="nouvelle").exists()


def test_createuser_refuses_a_duplicate_username() -> None:
    UserFactory(username="deja-la")

    with pytest.raises(CommandError, match="Compte refusé"):
        _createuser("deja-la", "--email", "autre@exemple.fr")


def test_totpcode_prints_the_current_code_of_a_demo_account(settings: object) -> None:
    user = UserFactory(is_demo=True, with_totp=True)
    out = io.StringIO()

    call_command("totpcode", user.username, stdout=out)

    assert out.getvalue().strip() == totp.code_at(user.totp_device.secret, clock.now())


def test_totpcode_refuses_other_accounts_and_production(settings: object) -> None:
    regular = UserFactory(with_totp=True)
    demo = UserFactory(is_demo=True, with_totp=True)

    with pytest.raises(CommandError, match="pas un compte de démonstration"):
        call_command("totpcode", regular.username)
    with pytest.raises(CommandError, match="pas un compte de démonstration"):
        call_command("totpcode", "personne-inconnue")
    settings.PRODUCTION = True  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="production"):
        call_command("totpcode", demo.username)


def test_demo_accounts_cover_every_role_and_are_idempotent() -> None:
    accounts = create_demo_accounts()
    again = create_demo_accounts()

    assert accounts == again
    assert all(isinstance(account, DemoAccount) for account in accounts)
    assert {role for account in accounts for role in account.roles} == set(Role)
    # One account per role, plus a second output checker (the airlock needs two)
    # and a researcher outside the demo projects.
    assert User.objects.filter(is_demo=True).count() == len(Role) + 2 == len(accounts)
    assert {a.username for a in accounts} >= {
        "demo-researcher",
        "demo-researcher-2",
        "demo-output-checker",
        "demo-output-checker-2",
        "demo-admin",
    }
    admin = User.objects.get(username="demo-admin")
    assert admin.is_staff
    assert admin.is_superuser
    assert Organisation.objects.count() >= 2
    for account in accounts:
        user = User.objects.get(username=account.username)
        assert user.check_password(account.password)
        assert user.totp_device.is_confirmed
        assert user.totp_device.secret == account.totp_secret


def test_a_demo_account_signs_in_with_its_password_and_code(client: Client) -> None:
    [researcher] = [a for a in create_demo_accounts() if a.username == "demo-researcher"]
    out = io.StringIO()

    post_login(client, researcher.username, researcher.password)
    call_command("totpcode", researcher.username, stdout=out)
    response = client.post("/comptes/double-authentification/", {"code": out.getvalue()})

    assert response.status_code == 302
    assert client.get("/comptes/mon-compte/").status_code == 200


def test_demo_accounts_are_refused_in_production(settings: object) -> None:
    settings.PRODUCTION = True  # type: ignore[attr-defined]

    with pytest.raises(InvalidState):
        create_demo_accounts()
    assert not User.objects.exists()


def test_demo_never_takes_over_a_real_account() -> None:
    UserFactory(username="demo-auditor")

    with pytest.raises(InvalidState):
        create_demo_accounts()
