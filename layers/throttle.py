"""Per-caller request throttling for the layer services, with counters shared by all workers.

    caller = caller_for(request)
    throttle.check(caller, request)      # 429 Throttled with Retry-After past the caller's rate

One counter per caller in Redis, in fixed windows of ``THROTTLE_WINDOW_S`` (60 s) that start at
the caller's first request: a Lua script increments it and sets its expiry in one atomic step,
so every gunicorn worker (and every server sharing the Redis) counts against the same number.
Partner keys are counted by key (``GISPORTAL_PARTNER_RATE`` a minute), users by user id
(``GISPORTAL_USER_RATE``), anonymous callers by client address (``GISPORTAL_ANON_RATE``). A rate
of 0 means no limit. A fixed window lets a caller send up to twice its rate across a window
boundary; that is the price of one Redis round trip per request.

When Redis cannot be reached the request is let through (fail open) and a warning is logged:
an outage of the cache must not take the map down with it, and the rates protect capacity,
not secrets (access is checked in PostgreSQL by layers.access either way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import redis
from django.conf import settings

from gisportal.cache import REDIS_DOWN_ERRORS, cache_key, redis_client, warn_unreachable
from gisportal.errors import Throttled
from layers.access import Caller

# INCR the counter; give it its window's expiry when it has none (first request, or a key whose
# expiry was lost). Answers {count, milliseconds left in the window}.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""
_count_script = None  # redis-py Script: EVALSHA, falling back to EVAL after a Redis restart


@dataclass(frozen=True)
class Verdict:
    """What one counted request found: COUNT requests so far in a window that ends in RESET_MS."""

    allowed: bool
    count: int
    limit: int
    reset_ms: int

    @property
    def retry_after_s(self) -> int:
        return max(1, math.ceil(self.reset_ms / 1000))


def rate_per_min(caller: Caller) -> int:
    """Return CALLER's allowed requests a minute (0: no limit)."""
    if caller.kind == "partner":
        return settings.THROTTLE_PARTNER_PER_MIN
    if caller.kind == "user":
        return settings.THROTTLE_USER_PER_MIN
    return settings.THROTTLE_ANON_PER_MIN


def counter_name(caller: Caller, request=None) -> str:
    """Return the name of CALLER's counter: the key or user id, or the client address when anonymous."""
    if caller.anonymous:
        address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
        return f"throttle:anon:{address or 'unknown'}"
    return f"throttle:{caller.identity}"


def count(name: str, *, limit: int, window_s: int) -> Verdict:
    """Count one request against the counter NAME (LIMIT per WINDOW_S); raise redis errors as they come."""
    global _count_script
    client = redis_client()
    if _count_script is None:
        _count_script = client.register_script(_COUNT_SCRIPT)
    current, reset_ms = _count_script(keys=[cache_key(name)], args=[window_s * 1000], client=client)
    return Verdict(allowed=int(current) <= limit, count=int(current), limit=limit, reset_ms=int(reset_ms))


# Set in the WSGI environ by the cached-tile fast path (layers/tiles/fastpath.py) when it already
# counted this anonymous request; WSGI keys from the client are all HTTP_*, so no client can set it.
COUNTED = "gisportal.throttle_counted"


def _limit(per_min: int) -> int:
    return max(1, math.ceil(per_min * settings.THROTTLE_WINDOW_S / 60))


def queue(pipe, caller: Caller, request) -> int | None:
    """Queue one count of CALLER on PIPE (a Redis pipeline shared with other reads); return the limit
    to give verdict() with the script's result, or None when the caller has no limit."""
    global _count_script
    per_min = rate_per_min(caller)
    if per_min <= 0:
        return None
    if _count_script is None:
        _count_script = redis_client().register_script(_COUNT_SCRIPT)
    _count_script(keys=[cache_key(counter_name(caller, request))], args=[settings.THROTTLE_WINDOW_S * 1000],
                  client=pipe)
    return _limit(per_min)


def verdict(result, limit: int) -> Verdict:
    """Return the Verdict of a count queued with queue(), from the pipeline's RESULT."""
    current, reset_ms = result
    return Verdict(allowed=int(current) <= limit, count=int(current), limit=limit, reset_ms=int(reset_ms))


def check(caller: Caller, request=None) -> Verdict | None:
    """Count one request of CALLER; raise Throttled (429, Retry-After) past its rate.

    Pass the REQUEST for anonymous callers: they are counted by client address (without it, all
    anonymous callers share one counter). Answers the verdict, or None when nothing was counted
    (no limit, or Redis unreachable).
    """
    if caller.anonymous and request is not None and request.META.get(COUNTED):
        return None  # the fast path counted this request before handing it on
    per_min = rate_per_min(caller)
    if per_min <= 0:
        return None
    window_s = settings.THROTTLE_WINDOW_S
    limit = max(1, math.ceil(per_min * window_s / 60))
    try:
        verdict = count(counter_name(caller, request), limit=limit, window_s=window_s)
    except REDIS_DOWN_ERRORS as exc:
        warn_unreachable("throttle check (request let through)", exc)
        return None
    except redis.RedisError as exc:  # e.g. Redis out of memory or loading: fail open too
        warn_unreachable("throttle check (request let through)", exc)
        return None
    if not verdict.allowed:
        raise Throttled(
            f"more than {per_min} requests a minute for this {_who(caller)}; "
            f"retry in {verdict.retry_after_s} s",
            retry_after_s=verdict.retry_after_s,
        )
    return verdict


def _who(caller: Caller) -> str:
    return {"partner": "key", "user": "user"}.get(caller.kind, "address")
