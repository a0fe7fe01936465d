"""``hdh createuser``: create an account through the audited service layer."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q

from hdh.accounts import services, totp
from hdh.accounts.models import Organisation
from hdh.core.errors import InvalidState, ValidationFailed
from hdh.core.permissions import Role


class Command(BaseCommand):
    help = (
        "Crée un compte, avec ses rôles et, si demandé, une application d'authentification "
        "déjà confirmée. Le mot de passe se lit sur l'entrée standard ou dans une variable "
        "d'environnement, jamais sur la ligne de commande."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="identifiant de connexion")
        parser.add_argument("--email", required=True, help="adresse électronique (unique)")
        parser.add_argument("--first-name", default="", help="prénom")
        parser.add_argument("--last-name", default="", help="nom")
        parser.add_argument("--organisation", help="nom ou sigle d'une organisation existante")
        parser.add_argument(
            "--organisation-kind",
            choices=Organisation.Kind.values,
            help="crée l'organisation si elle n'existe pas encore, avec ce type",
        )
        parser.add_argument(
            "--role",
            action="append",
            default=[],
            dest="roles",
            metavar="ROLE",
            help="rôle de plateforme (répétable) : " + ", ".join(r.value for r in Role),
        )
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--password-stdin",
            action="store_true",
            help="lit le mot de passe sur l'entrée standard",
        )
        source.add_argument(
            "--password-env", metavar="VAR", help="lit le mot de passe dans cette variable"
        )
        parser.add_argument(
            "--totp-secret",
            metavar="BASE32",
            help="secret TOTP (base32, au moins 128 bits) : l'application est déjà confirmée",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        roles = self._roles(options["roles"])
        password = self._password(options)
        secret = None
        if options["totp_secret"] is not None:
            try:
                secret = totp.normalise_secret(options["totp_secret"])
            except totp.MalformedSecret as exc:
                raise CommandError(f"Secret TOTP invalide : {exc}.") from exc
        try:
            with transaction.atomic():
                organisation = self._organisation(options)
                user = services.create_user(
                    by=None,
                    username=options["username"],
                    email=options["email"],
                    password=password,
                    first_name=options["first_name"],
                    last_name=options["last_name"],
                    organisation=organisation,
                    roles=roles,
                )
                if secret is not None:
                    services.enrol_confirmed_totp(by=None, user=user, secret=secret)
        except ValidationFailed as exc:
            raise CommandError("Compte refusé :\n  " + "\n  ".join(exc.problems)) from exc
        except InvalidState as exc:
            raise CommandError(f"Compte refusé : {exc}.") from exc
        self.stdout.write(self.style.SUCCESS(f"Compte « {user.username} » créé."))
        if password is None:
            self.stdout.write("Sans mot de passe, ce compte ne peut pas encore se connecter.")

    def _roles(self, values: list[str]) -> list[Role]:
        known = {role.value: role for role in Role}
        unknown = [value for value in values if value not in known]
        if unknown:
            raise CommandError(
                f"Rôle inconnu : {', '.join(unknown)}. Rôles possibles : {', '.join(known)}."
            )
        return list(dict.fromkeys(known[value] for value in values))

    def _password(self, options: dict[str, Any]) -> str | None:
        if options["password_stdin"]:
            stream = options.get("stdin") or sys.stdin
            value = stream.readline().rstrip("\r\n")
            if not value:
                raise CommandError("Aucun mot de passe lu sur l'entrée standard.")
            return str(value)
        if options["password_env"]:
            value = os.environ.get(options["password_env"])
            if not value:
                raise CommandError(f"La variable {options['password_env']} est vide ou absente.")
            return value
        return None

    def _organisation(self, options: dict[str, Any]) -> Organisation | None:
        name = options["organisation"]
        if not name:
            return None
        found = Organisation.objects.filter(Q(name__iexact=name) | Q(acronym__iexact=name))
        if len(found) > 1:
            raise CommandError(f"Plusieurs organisations répondent à « {name} ».")
        if found:
            return found[0]
        if options["organisation_kind"]:
            return services.create_organisation(
                by=None, name=name, kind=options["organisation_kind"]
            )
        raise CommandError(
            f"Organisation inconnue : « {name} ». Ajoutez --organisation-kind pour la créer."
        )
