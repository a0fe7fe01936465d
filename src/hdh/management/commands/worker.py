"""``hdh worker``: runs background tasks (Django Tasks API, database backend) and
enqueues the periodic work listed in HDH_PERIODIC_TASKS."""

from __future__ import annotations

import logging
import threading
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger("hdh.worker")


def _periodic(stop: threading.Event, every: float) -> None:
    tasks = [import_string(path) for path in settings.HDH_PERIODIC_TASKS]
    while not stop.is_set():
        for task in tasks:
            try:
                close_old_connections()
                task.enqueue()
            except Exception:  # keep scheduling; the failure is in the worker's log
                logger.exception("could not enqueue periodic task %s", task.name)
            finally:
                close_old_connections()
        stop.wait(every)


class Command(BaseCommand):
    help = "Run the background worker."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between polls when the queue is empty.",
        )
        parser.add_argument(
            "--batch", action="store_true", help="Run every outstanding task, then exit."
        )
        parser.add_argument(
            "--periodic-every",
            type=float,
            default=3600.0,
            help="Seconds between enqueues of periodic work (HDH_PERIODIC_TASKS).",
        )
        parser.add_argument("--no-periodic", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        if not options["no_periodic"] and not options["batch"]:
            threading.Thread(
                target=_periodic,
                args=(stop, options["periodic_every"]),
                daemon=True,
                name="hdh-periodic",
            ).start()
        try:
            call_command(
                "db_worker",
                queue_name="*",
                interval=options["interval"],
                batch=options["batch"],
                reload=False,
                startup_delay=False,
                verbosity=options["verbosity"],
            )
        finally:
            stop.set()
