"""People and the organisations they work for, their platform roles and second factor.

Personal data held here (names, e-mail, organisation) is about platform users,
never about patients. Role assignments and TOTP devices are governed: only
``hdh.accounts.services`` writes them, so every change is audited.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from hdh.core import clock
from hdh.core.governance import GovernedModel
from hdh.core.permissions import ROLES, Role

ROLE_CHOICES = [(role.value, ROLES[role].label) for role in Role]

siren_validator = RegexValidator(
    regex=r"^[0-9]{9}\Z",
    message=_("Le numéro SIREN comporte exactement 9 chiffres."),
    code="invalid_siren",
)


class Organisation(models.Model):
    class Kind(models.TextChoices):
        RESEARCH_BODY = "research_body", _("Organisme de recherche")
        HOSPITAL = "hospital", _("Établissement de santé")
        PUBLIC_AGENCY = "public_agency", _("Agence ou administration publique")
        COMPANY = "company", _("Entreprise")
        ASSOCIATION = "association", _("Association")
        DATA_PRODUCER = "data_producer", _("Producteur de données")

    name = models.CharField(_("nom"), max_length=200, unique=True)
    acronym = models.CharField(_("sigle"), max_length=30, blank=True)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    siren = models.CharField(
        _("SIREN"),
        max_length=9,
        blank=True,
        validators=[siren_validator],
        help_text=_("Facultatif : 9 chiffres."),
    )
    created_at = models.DateTimeField(_("créée le"), default=clock.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name


class User(AbstractUser):
    email = models.EmailField(_("adresse électronique"), unique=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    is_demo = models.BooleanField(
        _("compte de démonstration"),
        default=False,
        help_text=_("Compte créé pour la démonstration, dont le mot de passe est public."),
    )
    failed_login_count = models.PositiveIntegerField(
        _("échecs de connexion consécutifs"), default=0, editable=False
    )
    last_failed_login_at = models.DateTimeField(
        _("dernier échec de connexion"), null=True, blank=True, editable=False
    )
    locked_until = models.DateTimeField(
        _("verrouillé jusqu'au"), null=True, blank=True, editable=False
    )
    password_changed_at = models.DateTimeField(
        _("mot de passe changé le"), null=True, blank=True, editable=False
    )

    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = clock.now()

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > clock.now()


class RoleAssignment(GovernedModel):
    user = models.ForeignKey(
        User,
        verbose_name=_("utilisateur"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    role = models.CharField(_("rôle"), max_length=32, choices=ROLE_CHOICES)
    granted_by = models.ForeignKey(
        User,
        verbose_name=_("attribué par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("attribué le"), default=clock.now)

    class Meta:
        ordering = ["user_id", "role"]
        verbose_name = _("attribution de rôle")
        verbose_name_plural = _("attributions de rôles")
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="accounts_role_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


class TOTPDevice(GovernedModel):
    """The user's authenticator app (RFC 6238, 30 s step, 6 digits).

    ``last_used_step`` is the time step of the last accepted code: a code of that
    step or an earlier one is refused, so an intercepted code cannot be replayed.
    """

    user = models.OneToOneField(
        User,
        verbose_name=_("utilisateur"),
        on_delete=models.CASCADE,
        related_name="totp_device",
    )
    secret = models.CharField(_("secret"), max_length=128, editable=False)
    created_at = models.DateTimeField(_("créé le"), default=clock.now, editable=False)
    confirmed_at = models.DateTimeField(_("activé le"), null=True, blank=True, editable=False)
    last_used_step = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("application d'authentification")
        verbose_name_plural = _("applications d'authentification")

    def __str__(self) -> str:
        return str(self.user)

    def __repr__(self) -> str:
        # Never let the secret reach a log or a traceback through repr().
        return f"<TOTPDevice user_id={self.user_id} confirmed={self.is_confirmed}>"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class ApiToken(GovernedModel):
    """A personal API token: a script acts as its owner through ``Authorization: Bearer``.

    Only a SHA-256 digest of the token is kept (the token itself is shown once,
    at creation), with a short prefix to tell tokens apart on the account page.
    Written only by ``hdh.accounts.tokens``, which audits every change.
    """

    owner = models.ForeignKey(
        User, verbose_name=_("titulaire"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    label = models.CharField(_("libellé"), max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("début du jeton"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("créé le"), default=clock.now, editable=False)
    last_used_at = models.DateTimeField(_("dernier usage"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expire le"), editable=False)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")

    def __str__(self) -> str:
        return f"{self.label} ({self.prefix}…)"

    def __repr__(self) -> str:
        return f"<ApiToken pk={self.pk} owner_id={self.owner_id} prefix={self.prefix!r}>"

    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > clock.now()
