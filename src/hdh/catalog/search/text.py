"""Text folding and tokenising, shared by the indexer and the query side.

Both sides must fold the same way, or a search misses what was indexed: accents
and case are removed, "œ" becomes "oe", a final plural "s" is dropped, and short
function words of French and English are ignored.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TERM = 64
_TOKEN = re.compile(r"[a-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "Œ": "oe", "Æ": "ae"})
_STOPWORDS = (
    "au aux avec ce ces dans de des du en est et il la le les leur lui mais me meme ne "
    "nos notre ou par pas pour qu que qui sa se ses son sur ta te un une vos votre "
    "an and are as at be by for from in is it of on or the this to with"
)
STOPWORDS = frozenset(_STOPWORDS.split())


def fold(text: str) -> str:
    """Lower case, no accents, ligatures expanded."""
    if text.isascii():
        return text.lower()
    # Only ASCII letters and digits make terms, so whatever NFKD cannot bring back
    # to ASCII (other scripts, symbols) carries nothing searchable.
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return text.encode("ascii", "ignore").decode("ascii").lower()


def stem(token: str) -> str:
    # Light French/English plural folding: "urgences" and "urgence" meet.
    if len(token) > 3 and token.endswith("s") and token.isalpha() and not token.endswith("ss"):
        return token[:-1]
    return token


def tokens(text: str) -> list[str]:
    """The index terms of ``text``, in order, repeats kept."""
    out = []
    for raw in _TOKEN.findall(fold(text)):
        if len(raw) < 2 or raw in STOPWORDS:
            continue
        out.append(stem(raw)[:MAX_TERM])
    return out


def key(name: str) -> str:
    """The folded form of an identifier, for exact matches ("ER_PRS_F" → "er_prs_f")."""
    return fold(name).strip()[:128]


def trigrams(term: str) -> set[str]:
    padded = f"  {term} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(a: str, b: str) -> float:
    """Trigram similarity (as pg_trgm computes it): shared / union of the two sets."""
    ga, gb = trigrams(a), trigrams(b)
    return len(ga & gb) / len(ga | gb) if ga and gb else 0.0
