"""``hdh workspace lifecycle|list``: workspace upkeep from the command line.

``hdh workspace lifecycle`` records what the permits' end dates impose
(read-only, then archived after ``HDH_WORKSPACE_ARCHIVE_DAYS``) and fails the
jobs whose worker stopped; the worker also runs it periodically. ``hdh
workspace list`` prints each workspace's reference, state and job count.
Output holds references and counts, never data.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Count

from hdh.workspace import jobs, services, storage
from hdh.workspace.models import Workspace


class Command(BaseCommand):
    help = "Apply workspace lifecycle rules; list workspaces."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "lifecycle",
            help="Turn ended permits' workspaces read-only, archive old ones, fail dead jobs.",
        )
        sub.add_parser("list", help="List workspaces with their state and folder.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "lifecycle":
            counts = services.sync_lifecycle()
            interrupted = jobs.recover_interrupted_jobs()
            self.stdout.write(
                f"{counts['read_only']} workspace(s) now read-only, "
                f"{counts['archived']} archived, {counts['jobs_stopped']} job(s) stopped, "
                f"{interrupted} interrupted job(s) marked failed"
            )
            return
        found = Workspace.objects.annotate(job_count=Count("jobs")).order_by("reference")
        for workspace in found:
            self.stdout.write(
                f"{workspace.reference}  {workspace.effective_state():9}  "
                f"{workspace.job_count} job(s)  {storage.workspace_folder(workspace.reference)}"
            )
        if not found:
            self.stdout.write("no workspace")
