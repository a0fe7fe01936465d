from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

from hdh.core import views

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok_when_the_database_answers(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response.headers["Cache-Control"]


def test_healthz_answers_head_requests(client: Client) -> None:
    assert client.head("/healthz").status_code == 200


class _FailingConnection:
    def cursor(self) -> None:
        raise OperationalError("could not connect to server: secret-host:5432")


def test_healthz_is_503_without_details_when_the_database_fails(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "connection", _FailingConnection())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "error"}
    assert b"secret-host" not in response.content


def test_healthz_refuses_writes(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
