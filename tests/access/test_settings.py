"""The guichet's settings from the environment: each bad value stops the start with a
clear error naming the setting; good values reach the code."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core import mail

from hdh.access import deadlines
from hdh.access.services import reviews
from hdh.access.states import Stage, State
from tests.factories.access import Staff, create_application_at

SETUP = "import django; django.setup(); from django.conf import settings as s; "


def start(env: dict[str, str], show: str = "") -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HDH_") or k == "HDH_HOME"}
    return subprocess.run(
        [sys.executable, "-c", SETUP + (f"print({show})" if show else "")],
        env={**clean, "DJANGO_SETTINGS_MODULE": "hdh.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HDH_ACCESS_DEADLINES": "{not json"}, "HDH_ACCESS_DEADLINES is not valid JSON"),
        ({"HDH_ACCESS_DEADLINES": "[1, 2]"}, "HDH_ACCESS_DEADLINES must be"),
        ({"HDH_ACCESS_DEADLINES": "opinion"}, "HDH_ACCESS_DEADLINES must be a list"),
        ({"HDH_ACCESS_DEADLINES": "opinoin=30"}, "unknown stage 'opinoin'"),
        ({"HDH_ACCESS_DEADLINES": "opinion=soon"}, "HDH_ACCESS_DEADLINES['opinion']"),
        ({"HDH_ACCESS_DEADLINES": '{"decision": "0d"}'}, "at least one day"),
        ({"HDH_BASE_URL": "hdh.example.org"}, "HDH_BASE_URL must be"),
        ({"HDH_BASE_URL": "javascript:alert(1)"}, "HDH_BASE_URL must be"),
        ({"HDH_COMMITTEE_QUORUM": "0"}, "HDH_COMMITTEE_QUORUM must be"),
        ({"HDH_COMMITTEE_QUORUM": "most"}, "HDH_COMMITTEE_QUORUM must be"),
        ({"HDH_UPLOAD_SCANNER": "clamd.sock"}, "HDH_UPLOAD_SCANNER must be"),
    ],
)
def test_bad_values_stop_the_start_with_a_clear_error(env: dict[str, str], message: str) -> None:
    result = start(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_good_values_are_read() -> None:
    result = start(
        {
            "HDH_ACCESS_DEADLINES": "opinion=45, decision=3m,admissibility=10wd",
            "HDH_BASE_URL": "https://hdh.example.org/",
            "HDH_COMMITTEE_QUORUM": "3",
            "HDH_UPLOAD_SCANNER": "/run/clamav/clamd.ctl",
        },
        show="s.HDH_ACCESS_DEADLINES, s.HDH_BASE_URL, s.HDH_COMMITTEE_QUORUM, s.HDH_UPLOAD_SCANNER",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "{'opinion': '45', 'decision': '3m', 'admissibility': '10wd'} "
        "https://hdh.example.org 3 /run/clamav/clamd.ctl"
    )
    json_form = start({"HDH_ACCESS_DEADLINES": '{"opinion": "30d"}'}, "s.HDH_ACCESS_DEADLINES")
    assert json_form.stdout.strip() == "{'opinion': '30d'}"


def test_a_bare_number_of_days(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_ACCESS_DEADLINES = {"opinion": "45"}
    assert deadlines.delay_for(Stage.OPINION) == deadlines.Delay(45, "d")


@pytest.mark.django_db
def test_e_mails_carry_absolute_links(settings, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_BASE_URL = "https://hdh.example.org"
    team = Staff()
    application = create_application_at(State.SUBMITTED, team=team)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reviews.take_up(by=team.officer, application=application)
    assert mail.outbox
    link = f"https://hdh.example.org{application.get_absolute_url()}"
    assert all(link in message.body for message in mail.outbox)
