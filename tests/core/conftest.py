from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def _french_by_default() -> Iterator[None]:
    """Each test starts from the platform's default language, whatever the last one did."""
    with translation.override(settings.LANGUAGE_CODE):
        yield
