"""The Django admin for accounts.

Roles, activation and second factors change only through admin actions that
call the services (audited); the rows themselves are read-only here. The admin
site signs people in through the platform's login page (lock-out, second
factor) and opens only to holders of ``Permission.ADMIN_SITE``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hdh.accounts import services
from hdh.accounts.authorization import has_permission
from hdh.accounts.models import Organisation, RoleAssignment, TOTPDevice, User
from hdh.core.errors import HdhError
from hdh.core.permissions import ROLES, Permission, Role


def _admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    if request.user.is_authenticated:
        # Signed in but refused by ``_admin_has_permission``: say so, do not ask again.
        raise PermissionDenied
    return redirect_to_login(
        request.GET.get("next") or reverse("admin:index"), login_url=reverse("accounts:login")
    )


def _admin_has_permission(request: HttpRequest) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    # ``is_staff`` follows the administrator role (see services.users): both must agree.
    return has_permission(user, Permission.ADMIN_SITE) and user.is_active and user.is_staff


# One sign-in path for the whole platform, and one permission entry point.
admin.site.login = _admin_login  # type: ignore[method-assign]
admin.site.has_permission = _admin_has_permission  # type: ignore[method-assign]


Change = Callable[[User, User], object]


def _run(request: HttpRequest, users: QuerySet[User], change: Change, done: Any) -> None:
    """Apply one service call per selected account; report refusals one by one."""
    by: User = request.user  # type: ignore[assignment]
    succeeded = 0
    for user in users:
        try:
            change(by, user)
        except HdhError as exc:
            messages.warning(request, f"{user.username} : {exc}")
        else:
            succeeded += 1
    if succeeded:
        messages.success(
            request, _("%(action)s : %(count)d compte(s).") % {"action": done, "count": succeeded}
        )


def _action(name: str, description: Any, change: Change) -> Callable[..., None]:
    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _run(request, queryset, change, description)

    action.__name__ = name
    action.short_description = description  # type: ignore[attr-defined]
    return action


def _granting(role: Role) -> Change:
    def change(by: User, user: User) -> object:
        return services.grant_role(by=by, user=user, role=role)

    return change


def _revoking(role: Role) -> Change:
    def change(by: User, user: User) -> object:
        services.revoke_role(by=by, user=user, role=role)
        return None

    return change


def _role_actions() -> list[Callable[..., None]]:
    actions = []
    for role in Role:
        label = ROLES[role].label
        actions.append(
            _action(
                f"grant_{role.value}",
                format_lazy(_("Attribuer le rôle « {} »"), label),
                _granting(role),
            )
        )
        actions.append(
            _action(
                f"revoke_{role.value}",
                format_lazy(_("Retirer le rôle « {} »"), label),
                _revoking(role),
            )
        )
    return actions


_ACCOUNT_ACTIONS = [
    _action(
        "deactivate",
        _("Désactiver les comptes et fermer leurs sessions"),
        lambda by, user: services.deactivate_user(by=by, user=user),
    ),
    _action(
        "reset_second_factor",
        _("Réinitialiser la double authentification"),
        lambda by, user: services.reset_totp(by=by, user=user),
    ),
    _action(
        "unlock",
        _("Déverrouiller les comptes"),
        lambda by, user: services.unlock_user(by=by, user=user),
    ),
]


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    fields = ("role", "granted_by", "granted_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "organisation",
        "is_active",
        "is_demo",
        "locked_until",
    )
    list_filter = ("is_active", "is_demo", "organisation", "role_assignments__role")
    search_fields = ("username", "email", "first_name", "last_name")
    inlines = [RoleAssignmentInline]
    readonly_fields = (
        "is_active",
        "is_demo",
        "is_staff",
        "is_superuser",
        "last_login",
        "date_joined",
        "failed_login_count",
        "last_failed_login_at",
        "locked_until",
        "password_changed_at",
    )
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name", "email", "organisation")}),
        (
            _("État du compte"),
            {
                "fields": (
                    "is_active",
                    "is_demo",
                    "is_staff",
                    "is_superuser",
                    "last_login",
                    "date_joined",
                    "password_changed_at",
                )
            },
        ),
        (
            _("Verrouillage"),
            {"fields": ("failed_login_count", "last_failed_login_at", "locked_until")},
        ),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )
    actions = [*_ACCOUNT_ACTIONS, *_role_actions()]

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [] if obj is None else list(self.inlines)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if change:
            services.save_account_changes(
                by=request.user,  # type: ignore[arg-type]
                user=obj,
                changed=form.changed_data,
            )
            return
        created = services.create_user(
            by=request.user,  # type: ignore[arg-type]
            username=obj.username,
            email=obj.email,
            password=form.cleaned_data.get("password1"),
        )
        obj.pk = created.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Accounts are deactivated, never deleted: the audit log refers to them.
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "acronym", "kind", "siren", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "acronym", "siren")
    readonly_fields = ("created_at",)

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        services.save_organisation(
            by=request.user,  # type: ignore[arg-type]
            organisation=obj,
            changed=form.changed_data,
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Organisations are referred to by accounts and, later, by applications.
        return False


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(_ReadOnlyAdmin):
    list_display = ("user", "role", "granted_by", "granted_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email")


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(_ReadOnlyAdmin):
    # The secret is never shown: anyone who reads it can make codes.
    list_display = ("user", "created_at", "confirmed_at")
    fields = ("user", "created_at", "confirmed_at")
    search_fields = ("user__username",)
