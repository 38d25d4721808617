"""Vector tiles, TileJSON and the map style: thin views over layers.tiles.

Every request: who is calling (layers.access.caller_for), one throttle count, then the layer
check (404 unknown, 401 anonymous, 403 not granted), before the cache is even asked. Errors
are JSON {code, detail} (gisportal.errors), as under /api/.
"""

from __future__ import annotations

import functools

from django.http import HttpResponse, JsonResponse

from gisportal.errors import InvalidParameter, MethodNotAllowed, NotFound, PlatformError
from gisportal.exception_handler import error_response
from layers import throttle
from layers.access import caller_for, check_layer
from layers.registry import Access
from layers.tiles import cache, mvt, style, tilejson
from layers.tiles.grid import tile_check
from layers.tiles.serving import tile_for

MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
PUBLIC_MAX_AGE_S = 60  # short: the server's cache is exact, clients revalidate cheaply with If-None-Match
PUBLIC_CACHE_CONTROL = f"public, max-age={PUBLIC_MAX_AGE_S}"
PRIVATE_CACHE_CONTROL = "private, max-age=0, must-revalidate"


def platform_errors(view):
    """Serve GET and HEAD only; answer PlatformError raised by VIEW as JSON {code, detail}."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            if request.method not in ("GET", "HEAD"):
                raise MethodNotAllowed(f"{request.method}: use GET or HEAD")
            return view(request, *args, **kwargs)
        except PlatformError as exc:
            headers = dict(getattr(exc, "headers", None) or {})
            if isinstance(exc, MethodNotAllowed):
                headers["Allow"] = "GET, HEAD"
            return error_response(status=exc.http_status, code=exc.code, detail=exc.message, headers=headers or None)

    wrapped.csrf_exempt = True  # read-only: any other method is a 405 here, not a CSRF 403
    return wrapped


def _tile_coordinates(z: str, x: str, y: str) -> tuple[int, int, int]:
    values = []
    for name, raw in (("z", z), ("x", x), ("y", y)):
        if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
            raise InvalidParameter(f"{name}: must be a whole number, not {raw[:20]!r}")
        values.append(int(raw))
    problem = tile_check(*values)
    if problem:
        raise InvalidParameter(problem)
    return values[0], values[1], values[2]


def _etag_matches(request, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    candidates = {value.strip().removeprefix("W/") for value in header.split(",")}
    return etag in candidates or "*" in candidates


def _tile_response(request, tile, hit: bool, *, public: bool) -> HttpResponse:
    if _etag_matches(request, tile.etag):
        response = HttpResponse(status=304)
    elif not tile.body:
        response = HttpResponse(status=204)
    else:
        response = HttpResponse(tile.body, content_type=MVT_CONTENT_TYPE)
    response["ETag"] = tile.etag
    response["Cache-Control"] = PUBLIC_CACHE_CONTROL if public else PRIVATE_CACHE_CONTROL
    if not public:
        response["Vary"] = "Authorization, Cookie"
    response["X-Cache"] = "hit" if hit else "miss"
    return response


@platform_errors
def layer_tile(request, layer: str, z: str, x: str, y: str):
    """GET /tiles/{layer}/{z}/{x}/{y}.mvt: one layer's tile."""
    caller = caller_for(request)
    throttle.check(caller, request)
    served = check_layer(caller, layer)
    z_, x_, y_ = _tile_coordinates(z, x, y)
    if not served.min_zoom <= z_ <= served.max_zoom:
        raise NotFound(f"z: layer {served.id!r} is served from zoom {served.min_zoom} to {served.max_zoom}, "
                       f"not {z_}")
    tile, hit = tile_for(served.id, [served], z_, x_, y_)
    return _tile_response(request, tile, hit, public=served.access is Access.PUBLIC)


@platform_errors
def public_tile(request, z: str, x: str, y: str):
    """GET /tiles/{z}/{x}/{y}.mvt: every public layer whose zoom range holds z, in one tile."""
    caller = caller_for(request)
    throttle.check(caller, request)
    z_, x_, y_ = _tile_coordinates(z, x, y)
    tile, hit = tile_for(cache.PUBLIC, mvt.layers_at(mvt.public_layers(), z_), z_, x_, y_)
    return _tile_response(request, tile, hit, public=True)


def _json(document: dict, *, public: bool) -> HttpResponse:
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = PUBLIC_CACHE_CONTROL if public else PRIVATE_CACHE_CONTROL
    if not public:
        response["Vary"] = "Authorization, Cookie"
    return response


@platform_errors
def layer_tilejson(request, layer: str):
    """GET /tiles/{layer}.json: TileJSON 3.0.0 of one layer."""
    caller = caller_for(request)
    throttle.check(caller, request)
    served = check_layer(caller, layer)
    return _json(tilejson.layer_tilejson(served, request=request), public=served.access is Access.PUBLIC)


@platform_errors
def public_tilejson(request):
    """GET /tiles/public.json: TileJSON 3.0.0 of the tile of all public layers."""
    caller = caller_for(request)
    throttle.check(caller, request)
    return _json(tilejson.public_tilejson(request=request), public=True)


@platform_errors
def default_style(request):
    """GET /styles/default.json?lang=ar|en: the MapLibre style over the public tile."""
    caller = caller_for(request)
    throttle.check(caller, request)
    lang = request.GET.get("lang", "")
    if lang not in style.LANGUAGES:
        raise InvalidParameter(f"lang: must be one of {', '.join(style.LANGUAGES)}, not {lang[:20]!r}")
    document = style.default_style(base_url=request.build_absolute_uri("/").rstrip("/"), lang=lang)
    return _json(document, public=True)

