"""Recognising values that must never reach a log: French national identifiers
(NIR, 13 digits plus a 2-digit key, spaces allowed) and secrets by field name."""

from __future__ import annotations

import re

# Sex digit (1, 2; 3, 4, 7, 8 for provisional numbers), then 12 digits, then an
# optional 2-digit key; blanks between groups are common in forms.
NIR_PATTERN = re.compile(
    r"(?<![0-9])[1-478][ .]?[0-9]{2}[ .]?[0-9AB]{2}[ .]?[0-9AB]{2}[ .]?[0-9]{3}[ .]?[0-9]{3}"
    r"(?:[ .]?[0-9]{2})?(?![0-9])",
    re.IGNORECASE,
)

SECRET_KEY_WORDS = ("password", "passwd", "secret", "token", "otp", "totp", "nir", "apikey")


def looks_like_nir(text: str) -> bool:
    return bool(NIR_PATTERN.search(text))


def is_secret_key(name: str) -> bool:
    lowered = name.lower().replace("-", "").replace("_", "")
    return any(word in lowered for word in SECRET_KEY_WORDS)


def scrub(text: str) -> str:
    """Replace NIR-like runs in free text with a marker."""
    return NIR_PATTERN.sub("[NIR masqué]", text)
