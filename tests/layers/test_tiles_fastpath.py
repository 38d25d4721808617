"""The WSGI fast path answers anonymous hits of cached public tiles, and hands everything else to Django."""

import pytest

from layers.tiles import cache
from layers.tiles.fastpath import CachedTileFastPath

pytestmark = pytest.mark.usefixtures("redis_cache")


class Django:
    """Stands for the Django application behind the fast path: records what reached it."""

    def __init__(self):
        self.calls = []

    def __call__(self, environ, start_response):
        self.calls.append(environ["PATH_INFO"])
        start_response("299 From Django", [])
        return [b"django"]


def _get(app, path, *, method="GET", query="", **headers):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": "127.0.0.9",
               **{f"HTTP_{k.upper()}": v for k, v in headers.items()}}
    answer = {}

    def start_response(status, response_headers):
        answer["status"], answer["headers"] = status, dict(response_headers)

    answer["body"] = b"".join(app(environ, start_response))
    return answer


def _cache(source, z, x, y, body):
    assert cache.tile_put(source, z, x, y, body, seen_generation=cache.generation(source))
    return cache.etag_of(body)


@pytest.fixture
def app():
    django = Django()
    return CachedTileFastPath(django), django


def test_a_cached_public_tile_is_answered_without_django(app):
    fast, django = app
    etag = _cache("parcels", 16, 41258, 28099, b"tile-bytes")
    answer = _get(fast, "/tiles/parcels/16/41258/28099.mvt")
    assert answer["status"] == "200 OK" and answer["body"] == b"tile-bytes" and django.calls == []
    assert answer["headers"]["ETag"] == etag and answer["headers"]["X-Cache"] == "hit"
    assert answer["headers"]["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert answer["headers"]["Cache-Control"].startswith("public")


def test_revalidation_empty_tiles_head_and_the_public_tile(app):
    fast, django = app
    etag = _cache("parcels", 16, 1, 2, b"abc")
    assert _get(fast, "/tiles/parcels/16/1/2.mvt", if_none_match=etag)["status"] == "304 Not Modified"
    assert _get(fast, "/tiles/parcels/16/1/2.mvt", method="HEAD")["body"] == b""
    _cache("parcels", 16, 3, 3, b"")
    assert _get(fast, "/tiles/parcels/16/3/3.mvt")["status"] == "204 No Content"
    _cache(cache.PUBLIC, 14, 5, 6, b"all-public")
    assert _get(fast, "/tiles/14/5/6.mvt")["body"] == b"all-public"
    assert django.calls == []


@pytest.mark.parametrize("path, method, query, headers", [
    ("/tiles/parcels/16/41258/28099.mvt", "GET", "", {"authorization": "Bearer gpk_x"}),  # credentials
    ("/tiles/parcels/16/41258/28099.mvt", "GET", "key=gpk_x", {}),
    ("/tiles/parcels/16/41258/28099.mvt", "GET", "", {"cookie": "sessionid=abc"}),
    ("/tiles/parcels/16/41258/28099.mvt", "POST", "", {}),
    ("/tiles/parcels/16/41258/28100.mvt", "GET", "", {}),  # not cached: Django renders it
    ("/tiles/parcel_history/16/41258/28099.mvt", "GET", "", {}),  # a partner layer
    ("/tiles/plans/16/41258/28099.mvt", "GET", "", {}),  # an internal layer
    ("/tiles/parcels/5/1/1.mvt", "GET", "", {}),  # outside the layer's zoom range: the view's 404
    ("/tiles/parcels/16/99999999/1.mvt", "GET", "", {}),  # off the grid: the view's 400
    ("/tiles/parcels.json", "GET", "", {}),
])
def test_everything_else_goes_to_django(app, path, method, query, headers):
    fast, django = app
    for source in ("parcels", "parcel_history", "plans"):
        _cache(source, 16, 41258, 28099, b"cached")
    _cache("parcels", 5, 1, 1, b"cached")
    answer = _get(fast, path, method=method, query=query, **headers)
    assert answer["status"] == "299 From Django" and django.calls == [path]


def test_a_throttled_caller_is_handed_to_the_view_which_answers_429(app, settings):
    fast, django = app
    settings.THROTTLE_ANON_PER_MIN = 2
    _cache("parcels", 16, 7, 7, b"t")
    statuses = [_get(fast, "/tiles/parcels/16/7/7.mvt")["status"] for _ in range(3)]
    assert statuses == ["200 OK", "200 OK", "299 From Django"]


def test_a_miss_is_counted_once_the_view_sees_it_counted(app, settings):
    from django.test import RequestFactory

    from layers import throttle
    from layers.access import Caller

    fast, django = app
    settings.THROTTLE_ANON_PER_MIN = 5
    environ_seen = {}

    def view(environ, start_response):  # what the tile view does on a miss: count the anonymous caller
        request = RequestFactory().get("/")
        request.META.update(environ)
        environ_seen["verdict"] = throttle.check(Caller(kind="anonymous", identity="anonymous"), request)
        start_response("200 OK", [])
        return [b"rendered"]

    fast.application = view
    answer = _get(fast, "/tiles/parcels/16/8/8.mvt")  # not cached
    assert answer["body"] == b"rendered" and environ_seen["verdict"] is None  # counted by the fast path only
    direct = throttle.check(Caller(kind="anonymous", identity="anonymous"), RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.9"))
    assert direct.count == 2  # the miss counted once, then this one
