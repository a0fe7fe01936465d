"""The NIR (numéro d'inscription au répertoire): shape, normalisation, control key.

A NIR is 13 characters — sex, year and month of birth, département and
commune of birth, order number — followed by a two-digit key equal to
97 - (n mod 97), where Corsica's "2A" and "2B" count as 19 and 18 (INSEE rule).
"""

from __future__ import annotations

import re

_NIR = re.compile(r"^[12378][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}[0-9]{2}$")
_SPACES = re.compile(r"[\s.\-]")


class InvalidNir(ValueError):
    """Not a NIR: wrong type, shape or control key. The message never repeats the value."""


def _numeric(body: str) -> int:
    return int(body[:5] + body[5:7].replace("2A", "19").replace("2B", "18") + body[7:])


def control_key(body: str) -> int:
    """The key of a 13-character NIR body."""
    if len(body) != 13:
        raise ValueError("a NIR body has 13 characters")
    return 97 - _numeric(body) % 97


def is_valid(nir: str) -> bool:
    """A 15-character NIR whose key matches its body."""
    return isinstance(nir, str) and bool(_NIR.match(nir)) and int(nir[13:]) == control_key(nir[:13])


def normalise(value: object) -> str:
    """The 15-character NIR in ``value`` (spaces, dots and dashes removed), key checked."""
    if not isinstance(value, str):
        raise InvalidNir("a NIR is text")
    if len(value) > 40:
        raise InvalidNir("a NIR has 15 characters")
    nir = _SPACES.sub("", value).upper()
    if not _NIR.match(nir):
        raise InvalidNir("a NIR has 15 characters: 13 for the person, 2 for the key")
    if int(nir[13:]) != control_key(nir[:13]):
        raise InvalidNir("the NIR's control key does not match")
    return nir
