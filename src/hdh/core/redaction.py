"""Recognising values that must never reach a log: French national identifiers
(NIR, 13 digits plus a 2-digit key, spaces allowed) and secrets by field name."""

from __future__ import annotations

import logging
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


# An ICD-10 code (CIM-10): a letter, two digits, an optional dot and subdivision.
ICD10_PATTERN = re.compile(r"(?<![A-Za-z0-9])[A-Z][0-9]{2}(?:\.?[0-9A-Z]{1,4})?(?![A-Za-z0-9])")


def scrub_log(text: str) -> str:
    """``scrub`` plus ICD-10 codes: what a log line may not carry."""
    return ICD10_PATTERN.sub("[code masqué]", scrub(text))


class RedactingFilter(logging.Filter):
    """Masks NIR-like runs and ICD-10 codes in every record a handler writes.

    Code never logs them; this catches what a library logs from the outside
    world: a requested path (``Not Found: /…``), a Host header, an exception's
    message.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub_log(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_log(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub_log(record.stack_info)
        return True
