"""A WSGI fast path for the hottest request of the platform: a cached public tile, anonymous caller.

Map clients ask for the same public tiles over and over; once a tile is in the shared cache,
answering it needs no database, no session and no middleware, only the same three steps the tile
view takes: the throttle count of the caller, the layer's access (public needs none), and the
cache read. This wrapper does exactly those, in front of Django, and only when nothing about the
request could change the answer: GET or HEAD, no credentials (no Authorization header, no
``key`` parameter, no session cookie), a public layer (or the public tile) at a zoom it is
served at, valid coordinates. Anything else, and every cache miss, goes to Django unchanged, so
errors, access decisions and rendering have one implementation (layers.tiles.views).

The answer and its headers are those of the view (ETag, 304 on If-None-Match, 204 when empty,
Cache-Control, X-Cache: hit); the request is logged like any other, by gisportal.request.
"""

from __future__ import annotations

import re
import time

import redis

from gisportal.cache import REDIS_DOWN_ERRORS, redis_client
from layers import throttle
from layers.access import Caller
from layers.registry import LAYERS, Access
from layers.tiles import cache
from layers.tiles.grid import tile_check
from layers.tiles.views import MVT_CONTENT_TYPE, PUBLIC_CACHE_CONTROL

_TILE_PATH = re.compile(r"^/tiles/(?:(?P<layer>[a-z_]{1,40})/)?(?P<z>\d{1,2})/(?P<x>\d{1,10})/(?P<y>\d{1,10})\.mvt$")
_ANONYMOUS = Caller(kind="anonymous", identity="anonymous")
_CREDENTIAL_IN_QUERY = re.compile(r"(?:^|&)key=")


class _Meta:
    """What throttle.check reads from a request: its META (the client address)."""

    def __init__(self, environ):
        self.META = environ


def _served(layer_id: str | None, z: int) -> str | None:
    """Return the cache source of a public tile at Z, or None when the view must decide."""
    if layer_id is None:
        return cache.PUBLIC
    layer = LAYERS.get(layer_id)
    if layer is None or layer.access is not Access.PUBLIC or not layer.min_zoom <= z <= layer.max_zoom:
        return None
    return layer_id


def _cookie_names(environ) -> str:
    return environ.get("HTTP_COOKIE", "")


class CachedTileFastPath:
    """Wrap the Django WSGI APPLICATION; answer anonymous hits of cached public tiles before it."""

    def __init__(self, application, *, session_cookie: str = "sessionid", log=None):
        self.application = application
        self.session_cookie = session_cookie + "="
        self.log = log

    def __call__(self, environ, start_response):
        answered = self._answer(environ, start_response)
        return answered if answered is not None else self.application(environ, start_response)

    def _answer(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            return None
        match = _TILE_PATH.match(environ.get("PATH_INFO", ""))
        if match is None or "HTTP_AUTHORIZATION" in environ:
            return None
        if _CREDENTIAL_IN_QUERY.search(environ.get("QUERY_STRING", "")) \
                or self.session_cookie in _cookie_names(environ):
            return None
        started = time.perf_counter()
        z, x, y = int(match["z"]), int(match["x"]), int(match["y"])
        if tile_check(z, x, y) is not None:
            return None
        source = _served(match["layer"], z)
        if source is None:
            return None
        # One Redis round trip: the tile and the caller's throttle count together.
        try:
            pipe = redis_client().pipeline(transaction=False)
            cache.queue_tile_get(pipe, source, z, x, y)
            limit = throttle.queue(pipe, _ANONYMOUS, _Meta(environ))
            results = pipe.execute()
        except (*REDIS_DOWN_ERRORS, redis.RedisError):
            return None  # the view serves without the cache, and logs it
        if limit is not None and not throttle.verdict(results[1], limit).allowed:
            return None  # the view answers the 429 in the platform's format
        tile = cache.tile_from(results[0])
        if tile is None:
            environ[throttle.COUNTED] = True  # a miss: the view renders it, without counting it again
            return None
        headers = [("ETag", tile.etag), ("Cache-Control", PUBLIC_CACHE_CONTROL), ("X-Cache", "hit")]
        if_none_match = environ.get("HTTP_IF_NONE_MATCH", "")
        if if_none_match and (tile.etag in {v.strip().removeprefix("W/") for v in if_none_match.split(",")}
                              or if_none_match.strip() == "*"):
            status, body = "304 Not Modified", b""
        elif not tile.body:
            status, body = "204 No Content", b""
        else:
            status, body = "200 OK", tile.body
            headers += [("Content-Type", MVT_CONTENT_TYPE), ("Content-Length", str(len(body)))]
        start_response(status, headers)
        if self.log is not None:
            self.log(environ, int(status[:3]), started, len(body))
        return [b"" if method == "HEAD" else body]
