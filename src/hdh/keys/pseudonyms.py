"""The two levels of pseudonyms.

Level 1 (the pseudonymisation service): NIR + birth date + sex → the lake's
person pseudonym, 17 upper-case letters so it never looks like a NIR. Level 2
(per project): hex HMAC-SHA-256 of the level-1 pseudonym under the project's
key; the SQL engines compute the same value with ``Dialect.hmac_sha256_hex``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

from hdh.keys import nir as nir_rules

LEVEL1_LENGTH = 17
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LEVEL1 = re.compile(r"^[A-Z]{17}$")


class InvalidIdentity(ValueError):
    """The identity given for pseudonymisation is malformed (the value is never repeated)."""


def _sex(value: object) -> int:
    if isinstance(value, bool):
        raise InvalidIdentity("sex is 1 or 2")
    if isinstance(value, str) and value.strip() in {"1", "2"}:
        return int(value.strip())
    if isinstance(value, int) and value in (1, 2):
        return value
    raise InvalidIdentity("sex is 1 or 2")


def _birth_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidIdentity("the birth date is a date")
    return value


def _key(key: object) -> bytes:
    if not isinstance(key, bytes) or len(key) < 16:
        raise InvalidIdentity("a pseudonymisation key is at least 16 bytes")
    return key


def _letters(digest: bytes) -> str:
    number = int.from_bytes(digest, "big")
    out = []
    for _ in range(LEVEL1_LENGTH):
        number, rest = divmod(number, 26)
        out.append(_ALPHABET[rest])
    return "".join(out)


def level1(nir: object, birth_date: object, sex: object, *, key: bytes) -> str:
    """The lake's pseudonym of a person (raises :class:`InvalidIdentity` on bad input)."""
    try:
        normalised = nir_rules.normalise(nir)
    except nir_rules.InvalidNir as exc:
        raise InvalidIdentity(str(exc)) from None
    message = f"{normalised}|{_birth_date(birth_date).isoformat()}|{_sex(sex)}"
    return _letters(hmac.new(_key(key), message.encode("ascii"), hashlib.sha256).digest())


def level1_unchecked(nir: str, birth_date: str, sex: int, key: bytes) -> str:
    """:func:`level1` for bulk use on already valid input (ISO birth date)."""
    message = f"{nir}|{birth_date}|{sex}"
    return _letters(hmac.new(key, message.encode("ascii"), hashlib.sha256).digest())


def is_level1(value: object) -> bool:
    return isinstance(value, str) and bool(_LEVEL1.match(value))


def level2(p1: object, *, key: bytes) -> str:
    """A project's pseudonym of a level-1 pseudonym: hex HMAC-SHA-256 under the project key."""
    if not isinstance(p1, str) or not p1 or len(p1) > 256:
        raise InvalidIdentity("a level-1 pseudonym is non-empty text")
    return hmac.new(_key(key), p1.encode("utf-8"), hashlib.sha256).hexdigest()
