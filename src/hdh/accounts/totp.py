"""Time-based one-time passwords (RFC 6238): secrets, codes and the QR code.

Pure functions; the service layer decides what a match means and records it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import re

import pyotp
import segno
from django.utils.translation import gettext as _

STEP_SECONDS = 30
DIGITS = 6
# Accept the previous and the next step too (clock drift of the phone), like
# pyotp's ``valid_window=1``.
VALID_WINDOW = 1
# RFC 4226 §4 R6: a shared secret of at least 128 bits.
MIN_SECRET_BYTES = 16

_CODE = re.compile(r"^[0-9]{6}\Z")
_BASE32 = re.compile(r"^[A-Z2-7]+=*\Z")


class MalformedSecret(ValueError):
    """The text is not a usable base32 TOTP secret."""


def new_secret() -> str:
    """A fresh 160-bit secret, base32 (what authenticator apps expect)."""
    return pyotp.random_base32(length=32)


def normalise_secret(text: str) -> str:
    """Upper-case base32 without spaces or padding; raise :class:`MalformedSecret`."""
    cleaned = re.sub(r"[\s-]", "", text or "").upper().rstrip("=")
    if not cleaned or not _BASE32.match(cleaned):
        raise MalformedSecret(_("le secret doit être en base32 (lettres A à Z, chiffres 2 à 7)"))
    padded = cleaned + "=" * (-len(cleaned) % 8)
    try:
        raw = base64.b32decode(padded)
    except (binascii.Error, ValueError) as exc:
        raise MalformedSecret(_("le secret n'est pas un base32 valide")) from exc
    if len(raw) < MIN_SECRET_BYTES:
        raise MalformedSecret(
            _("le secret doit compter au moins %(bits)d bits") % {"bits": MIN_SECRET_BYTES * 8}
        )
    return cleaned


def normalise_code(text: str) -> str | None:
    """The six digits of a code as typed ("123 456" is accepted), or None if malformed."""
    cleaned = re.sub(r"\s", "", text or "")
    return cleaned if _CODE.match(cleaned) else None


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret + "=" * (-len(secret) % 8), digits=DIGITS, interval=STEP_SECONDS)


def step_at(at: dt.datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def code_at(secret: str, at: dt.datetime) -> str:
    return _totp(secret).generate_otp(step_at(at))


def matching_step(secret: str, code: str, at: dt.datetime, *, after: int | None) -> int | None:
    """The time step whose code is ``code`` within the window, if later than ``after``.

    Refusing steps up to ``after`` (the last accepted one) prevents replay.
    """
    totp = _totp(secret)
    current = step_at(at)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return _totp(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str, *, title: str) -> str:
    """The provisioning URI as an inline SVG QR code, dark on white whatever the theme."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, title=title, dark="#000", light="#fff", svgclass="hdh-totp-qr"
    )
    # segno escapes the title; the role makes screen readers announce it as an image.
    return str(svg).replace("<svg ", '<svg role="img" ', 1)


def grouped(secret: str) -> str:
    """The secret in groups of four characters, easier to type by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
