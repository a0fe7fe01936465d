"""``hdh prepare plan|run|objections``: preparation from the command line.

``hdh prepare plan APPLICATION_ID`` prints the plan (compiled from the permit
when none exists yet); ``hdh prepare run APPLICATION_ID [--engine NAME]`` runs
the approved plan synchronously (taking over a run a crash left behind) and
prints the manifest summary. ``hdh prepare sweep`` fails the preparation and
linkage runs whose worker stopped (and deletes their cohort files); the worker
also runs it periodically. Output holds names and counts, never rows.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hdh.access.models import Application, Permit
from hdh.accounts.models import User
from hdh.core.errors import HdhError
from hdh.engines import available
from hdh.preparation import objections, services
from hdh.preparation.models import TERMINAL, ExtractionPlan, PlanStatus, PreparationRun


def _application_id(value: str) -> int:
    if not value.isdigit() or len(value) > 12:
        raise CommandError("APPLICATION_ID is a number")
    return int(value)


class Command(BaseCommand):
    help = "Compile, show and run extraction plans; inspect the objection register."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        plan = sub.add_parser("plan", help="Print the extraction plan of an application.")
        plan.add_argument("application_id")
        plan.add_argument("--user", help="Data engineer creating the plan if none exists.")
        run = sub.add_parser("run", help="Run the approved plan of an application.")
        run.add_argument("application_id")
        run.add_argument("--engine", default="duckdb")
        run.add_argument("--user", help="Data engineer the run is recorded for.")
        sub.add_parser("objections", help="Show the objection register's version and size.")
        sub.add_parser("sweep", help="Fail the runs whose worker stopped; delete their cohorts.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            if action == "sweep":
                from hdh.preparation import tasks

                counts = tasks.sweep()
                self.stdout.write(
                    f"{counts['runs_interrupted']} interrupted preparation run(s) and "
                    f"{counts['linkages_interrupted']} interrupted linkage run(s) marked failed"
                )
                return
            if action == "objections":
                version = objections.register_version()
                from hdh.core import clock

                _, active = objections.register_snapshot(clock.now())
                self.stdout.write(
                    f"register version {version}, {len(active)} objection(s) in force"
                )
                return
            permit = self._permit(options["application_id"])
            user = self._user(options.get("user"))
            if action == "plan":
                self._plan(permit, user)
            else:
                self._run(permit, user, options["engine"])
        except HdhError as exc:
            raise CommandError(str(exc)) from None

    def _permit(self, value: str) -> Permit:
        application = Application.objects.filter(pk=_application_id(value)).first()
        if application is None:
            raise CommandError("no such application")
        permit = Permit.objects.filter(application=application).first()
        if permit is None:
            raise CommandError("this application has no permit")
        return permit

    def _user(self, username: str | None) -> User | None:
        if username is None:
            return None
        if len(username) > 150:
            raise CommandError("no such user")
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError("no such user")
        return user

    def _plan(self, permit: Permit, user: User | None) -> None:
        plan = ExtractionPlan.objects.filter(permit=permit).order_by("-number").first()
        if plan is None:
            if user is None:
                from hdh.preparation.plan import compile_plan

                self.stdout.write(json.dumps(compile_plan(permit).to_json(), indent=2))
                return
            plan = services.create_plan(permit=permit, by=user)
        self.stdout.write(f"plan {plan.number} ({plan.status})")
        self.stdout.write(json.dumps(plan.spec, indent=2, sort_keys=True))

    def _run(self, permit: Permit, user: User | None, engine: str) -> None:
        if engine not in available():
            raise CommandError(f"unknown engine; available: {', '.join(available())}")
        plan = ExtractionPlan.objects.filter(permit=permit, status=PlanStatus.APPROVED).first()
        if plan is None:
            raise CommandError("no approved plan: approve one on the plan page first")
        left = (
            PreparationRun.objects.filter(plan__permit=permit)
            .exclude(status__in=TERMINAL)
            .order_by("created_at")
            .first()
        )
        run = left or services.start_run(plan=plan, by=user, engine=engine)
        done = services.execute_run(run.pk, takeover=True)
        if done is None or done.status != "succeeded":
            status = done.status if done else "missing"
            raise CommandError(f"run {run.pk} {status}: {done.error if done else ''}")
        manifest = done.dataset.manifest
        self.stdout.write(
            f"run {done.pk} succeeded on {manifest['engine']}: dataset "
            f"v{done.dataset.version:04d}, key v{manifest['key']['version']}, "
            f"objection register v{manifest['objection_register_version']}"
        )
        for table in manifest["tables"]:
            self.stdout.write(
                f"  {table['table']}\t{table['rows']} rows\t{table['bytes']} bytes\t"
                f"{table['sha256']}"
            )
