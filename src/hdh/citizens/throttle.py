"""Anti-automation for the public forms: a fixed-window counter in the cache.

Counted per client address and per session, so that neither a shared address
nor a fresh session alone lifts the limit. The address key is a hash: the cache
holds no IP address.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.http import HttpRequest

from hdh.core import clock

WINDOW_SECONDS = 3600
LIMITS = {"objection": 10, "lookup": 20, "rights": 5}


def _keys(request: HttpRequest, scope: str) -> list[str]:
    window = int(clock.now().timestamp()) // WINDOW_SECONDS
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    keys = [f"hdh-citizens:{scope}:{window}:ip:{hashlib.sha256(address.encode()).hexdigest()}"]
    if request.session.session_key:
        keys.append(f"hdh-citizens:{scope}:{window}:session:{request.session.session_key}")
    return keys


def allow(request: HttpRequest, scope: str) -> bool:
    """Count one attempt; False once the address or the session went over the limit."""
    limit = LIMITS[scope]
    allowed = True
    for key in _keys(request, scope):
        cache.add(key, 0, WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:
            cache.set(key, 1, WINDOW_SECONDS)
            count = 1
        allowed = allowed and count <= limit
    return allowed
