"""``hdh totpcode``: the current second-factor code of a demonstration account."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hdh.accounts import services, totp
from hdh.accounts.models import User
from hdh.core import clock


class Command(BaseCommand):
    help = (
        "Affiche le code TOTP courant d'un compte de démonstration. "
        "Refusé en mode production et pour tout autre compte."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="identifiant d'un compte de démonstration")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Refusé : cette commande n'existe pas en mode production.")
        user = User.objects.filter(username=options["username"], is_demo=True).first()
        if user is None:
            raise CommandError(
                f"Refusé : « {options['username']} » n'est pas un compte de démonstration."
            )
        device = services.confirmed_device(user)
        if device is None:
            raise CommandError(
                f"Le compte « {user.username} » n'a pas d'application d'authentification."
            )
        self.stdout.write(totp.code_at(device.secret, clock.now()))
