"""``hdh serve``: the web application on a production-grade WSGI server (waitress)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the web application (waitress)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--trusted-proxy",
            default=None,
            metavar="ADDRESS",
            help="Address of the TLS reverse proxy in front ('*' for any) whose "
            "X-Forwarded-Proto and X-Forwarded-For are believed; others are dropped.",
        )

    def handle(
        self,
        *args: Any,
        host: str,
        port: int,
        threads: int,
        trusted_proxy: str | None,
        **options: Any,
    ) -> None:
        from waitress import serve

        from hdh.wsgi import application

        if settings.PRODUCTION and not (settings.STATIC_ROOT / "staticfiles.json").exists():
            raise CommandError("production mode: run 'hdh collectstatic --noinput' first")
        if not 0 < port < 65536:
            raise CommandError(f"invalid port {port}")
        self.stdout.write(f"hdh listening on http://{host}:{port}/", ending="\n")
        self.stdout.flush()
        # Waitress drops proxy headers from untrusted peers: without a trusted proxy,
        # production behind TLS would see plain HTTP and redirect every request to https.
        proxy: dict[str, Any] = (
            {
                "trusted_proxy": trusted_proxy,
                "trusted_proxy_headers": {"x-forwarded-proto", "x-forwarded-for"},
            }
            if trusted_proxy
            else {}
        )
        serve(application, host=host, port=port, threads=threads, ident="hdh", **proxy)
