"""System check: in production mode the platform refuses to start with an unsafe key store.

A missing store is refused where keys are first needed (``default_store``), with
the same clear message, so that ``hdh check --deploy`` can run before
``hdh keys init`` on a new installation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from hdh.keys.store import KeyStore


@register()
def key_store_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if not getattr(settings, "PRODUCTION", False):
        return []
    store = KeyStore(Path(settings.HDH_KEY_STORE), lake=Path(settings.HDH_LAKE))
    if not store.path.exists():
        return []
    return [
        Error(problem, hint="See the README: key store.", id="keys.E001")
        for problem in store.problems()
    ]
