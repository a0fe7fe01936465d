"""Governed models: rows that only the service layer may write.

A governed model refuses ``save()``, ``delete()`` and bulk queryset writes unless
the code runs inside :func:`service_writes`, which only service functions enter.
A view, the admin or a shell that tries a direct write gets
:class:`DirectWriteRefused` instead of a silent, unaudited change.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Self

from django.db import models

from hdh.core.errors import HdhError

_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("hdh_service_writes", default=False)


class DirectWriteRefused(HdhError):
    """A governed row was written outside the service layer."""


@contextmanager
def service_writes() -> Iterator[None]:
    """Let the enclosed code write governed models (services only)."""
    token = _allowed.set(True)
    try:
        yield
    finally:
        _allowed.reset(token)


def _check(what: str) -> None:
    if not _allowed.get():
        raise DirectWriteRefused(
            f"{what} is governed: write it through its app's services, which audit it"
        )


class GovernedQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        _check(self.model.__name__)
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        _check(self.model.__name__)
        return super().delete()

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        _check(self.model.__name__)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Any, *args: Any, **kwargs: Any) -> int:
        _check(self.model.__name__)
        return super().bulk_update(objs, *args, **kwargs)


class GovernedModel(models.Model):
    objects: ClassVar[models.Manager[Self]] = GovernedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        _check(type(self).__name__)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        _check(type(self).__name__)
        return super().delete(*args, **kwargs)
