"""``hdh createtoken USER --label L``: a personal API token, printed once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hdh.accounts import tokens
from hdh.accounts.models import User
from hdh.core.errors import ValidationFailed


class Command(BaseCommand):
    help = (
        "Crée un jeton d'API personnel pour un compte et l'affiche une seule fois "
        "(seule son empreinte SHA-256 est conservée)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="identifiant du titulaire")
        parser.add_argument("--label", required=True, help="libellé (100 caractères au plus)")
        parser.add_argument(
            "--days",
            type=int,
            default=tokens.DEFAULT_DAYS,
            help=f"durée de validité en jours (1 à {tokens.MAX_DAYS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        owner = User.objects.filter(username=options["username"][:150]).first()
        if owner is None:
            raise CommandError("Compte inconnu.")
        try:
            token, raw = tokens.create_token(
                by=None, owner=owner, label=options["label"], days=options["days"]
            )
        except ValidationFailed as exc:
            raise CommandError("Jeton refusé :\n  " + "\n  ".join(exc.problems)) from exc
        self.stderr.write(
            f"Jeton « {token.label} » créé pour {owner.username}, valable jusqu'au "
            f"{token.expires_at:%Y-%m-%d}. Il ne sera plus affiché :"
        )
        self.stdout.write(raw)
