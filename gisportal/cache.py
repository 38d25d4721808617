"""The shared cache: Redis behind Django's cache framework, seen alike by every gunicorn worker.

``settings.CACHES["default"]`` is ``FailSoftRedisCache`` (below): Django's own Redis backend whose
reads and writes, when Redis cannot be reached, log a warning and behave as a miss (a ``get``
answers the default, a ``set`` stores nothing) instead of failing the request. Tiles are then
built afresh; nothing is wrong, only slower.

Code that needs more than get/set (sets, SCAN, INCR, Lua) takes the raw client with
``redis_client()`` and names its keys with ``cache_key()``, so they carry the same prefix as
Django's own keys: tests that give the cache another prefix (the ``redis_cache`` fixture) then
see none of the server's keys, and their clean-up drops only their own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import redis
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

log = logging.getLogger(__name__)

# Errors that mean "Redis is not there right now", as opposed to a bug in the caller.
REDIS_DOWN_ERRORS: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError, OSError)

_WARN_EVERY_S = 10.0
_last_warned_at = float("-inf")


def warn_unreachable(operation: str, exc: BaseException) -> None:
    """Log that Redis is unreachable, at most once every 10 s per process (an outage would flood the log)."""
    global _last_warned_at
    now = time.monotonic()
    if now - _last_warned_at >= _WARN_EVERY_S:
        _last_warned_at = now
        log.warning("redis unreachable during %s: %s", operation, exc)


def redis_client(alias: str = "default") -> redis.Redis:
    """Return the raw redis-py client of the Django cache ALIAS (its connection pool is shared)."""
    backend = caches[alias]
    if not isinstance(backend, RedisCache):
        raise TypeError(f"CACHES[{alias!r}] is {type(backend).__name__}, not a Redis cache")
    return backend._cache.get_client(None, write=True)


def cache_key(name: str, alias: str = "default") -> str:
    """Return NAME as the cache ALIAS stores it (with KEY_PREFIX and version), for raw-client use."""
    return caches[alias].make_key(name)


def cache_prefix(alias: str = "default") -> str:
    """Return the prefix every key of the cache ALIAS starts with (``make_key('')``)."""
    return caches[alias].make_key("")


def scan_keys(pattern: str, *, alias: str = "default", count: int = 1000) -> Iterator[str]:
    """Yield the keys of the cache ALIAS matching PATTERN (a glob after the prefix), without blocking Redis."""
    client = redis_client(alias)
    for key in client.scan_iter(match=cache_prefix(alias) + pattern, count=count):
        yield key.decode() if isinstance(key, bytes) else key


def delete_prefixed(pattern: str = "*", *, alias: str = "default") -> int:
    """Delete the keys of the cache ALIAS matching PATTERN (default: all of its prefix); return how many."""
    return _unlink_matching(redis_client(alias), cache_prefix(alias) + pattern)


def _unlink_matching(client: redis.Redis, match: str) -> int:
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=match, count=1000):
        batch.append(key)
        if len(batch) >= 500:
            deleted += client.unlink(*batch)
            batch.clear()
    if batch:
        deleted += client.unlink(*batch)
    return deleted


def redis_ping(alias: str = "default") -> str:
    """Return "ok" when the cache ALIAS answers PING, else the reason it does not (for /healthz)."""
    try:
        redis_client(alias).ping()
    except REDIS_DOWN_ERRORS as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    except redis.RedisError as exc:  # e.g. a wrong password or a Redis still loading
        return f"{type(exc).__name__}: {exc}"
    return "ok"


class _ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis client factory, keeping one redis-py client per pool instead of one per call.

    Building a redis.Redis costs about 0.25 ms in redis-py 6 (measured here), more than the round
    trip on the Unix socket; the client is thread-safe (its pool hands out connections).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class FailSoftRedisCache(RedisCache):
    """Django's Redis cache, where an unreachable Redis is a cache miss and a lost write, not an error."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClientRedisCacheClient

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except REDIS_DOWN_ERRORS as exc:
            warn_unreachable("cache get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except REDIS_DOWN_ERRORS as exc:
            warn_unreachable("cache get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except REDIS_DOWN_ERRORS as exc:
            warn_unreachable("cache has_key", exc)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except REDIS_DOWN_ERRORS as exc:
            warn_unreachable("cache set", exc)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except REDIS_DOWN_ERRORS as exc:
            warn_unreachable("cache add", exc)
            return False

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except REDIS_DOWN_ERRORS as exc:
            warn_unreachable("cache set_many", exc)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except REDIS_DOWN_ERRORS as exc:
            warn_unreachable("cache touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except REDIS_DOWN_ERRORS as exc:
            warn_unreachable("cache delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except REDIS_DOWN_ERRORS as exc:
            warn_unreachable("cache delete_many", exc)

    def clear(self):
        """Delete only this cache's keys (its KEY_PREFIX), not the whole Redis database as Django's does."""
        try:
            _unlink_matching(self._cache.get_client(write=True), self.make_key("") + "*")
        except REDIS_DOWN_ERRORS as exc:
            warn_unreachable("cache clear", exc)
