"""OGC API Features (Parts 1, 2 and 3) at /ogc: thin views over the layer registry.

Each view: who is calling (layers.access), throttle, parse the parameters (layers.ogc.params,
layers.ogc.cql), read (layers.ogc.features), answer JSON/GeoJSON or HTML. Errors are answered in
the OGC API exception format ``{"code", "description"}`` (``code`` is the platform's CamelCase
code), with the platform's HTTP statuses.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from django.db import DataError
from django.http import HttpResponse
from django.template import Context, Engine
from django.views.decorators.csrf import csrf_exempt

from gisportal.errors import (
    InvalidParameter,
    MethodNotAllowed,
    NotFound,
    PlatformError,
    ServerError,
)
from layers import throttle
from layers.access import caller_for, check_layer, readable_layers
from layers.ogc import documents, features
from layers.ogc.cql import filter_q, parse_filter
from layers.ogc.crs import CRS84, parse_crs, supported_crs
from layers.ogc.documents import GEOJSON, HTML, JSON, Links
from layers.ogc.params import (
    ITEMS_PARAMETERS,
    MAX_LIMIT,
    check_parameters,
    parse_bbox,
    parse_datetime_param,
    parse_limit,
    parse_offset,
    parse_properties,
)

log = logging.getLogger(__name__)
FORMATS = ("json", "html")
COMMON_PARAMETERS = frozenset({"f", "key"})
ITEM_PARAMETERS = frozenset({"f", "key", "crs", "properties"})
_TEMPLATES = Engine(dirs=[str(Path(__file__).resolve().parent / "templates")], autoescape=True)


# ---- answers ---------------------------------------------------------------------------------

def _error(exc: PlatformError) -> HttpResponse:
    body = json.dumps({"code": exc.code, "description": exc.message})
    response = HttpResponse(body, status=exc.http_status, content_type=JSON)
    for name, value in (getattr(exc, "headers", None) or {}).items():
        response[name] = value
    if exc.http_status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="layers"'
    if exc.http_status == 405:
        response["Allow"] = "GET, HEAD"
    return response


def _json(document: dict, *, content_type: str = JSON, headers: dict | None = None) -> HttpResponse:
    return HttpResponse(json.dumps(document, ensure_ascii=False), content_type=content_type, headers=headers)


def _html(request, template: str, context: dict, *, headers: dict | None = None) -> HttpResponse:
    text = _TEMPLATES.get_template(template).render(Context({**context, "base": request.ogc_links.base}))
    return HttpResponse(text, content_type="text/html; charset=utf-8", headers=headers)


def wants_html(request) -> bool:
    """Return True when the answer is HTML: f=html, or no f and an Accept that prefers text/html."""
    f = request.GET.get("f")
    if f is not None:
        if f not in FORMATS:
            raise InvalidParameter(f"f: {f[:40]!r} is not one of {', '.join(FORMATS)}")
        return f == "html"
    accept = request.META.get("HTTP_ACCEPT", "")
    html_at = accept.find("text/html")
    json_at = accept.find("json")
    return html_at >= 0 and (json_at < 0 or html_at < json_at)


def ogc_view(view):
    """Answer GET/HEAD only, identify and throttle the caller, and answer errors in the OGC format."""

    @csrf_exempt  # read-only: any other method is a 405 here, not a CSRF page
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            if request.method not in ("GET", "HEAD"):
                raise MethodNotAllowed(f"{request.method} is not allowed; use GET")
            caller = caller_for(request)
            throttle.check(caller, request)
            links = Links(base=request.build_absolute_uri("/ogc"), key=request.GET.get("key"))
            request.ogc_links = links
            response = view(request, caller, links, *args, **kwargs)
        except PlatformError as exc:
            return _error(exc)
        except Exception:
            log.exception("OGC API request failed: %s", request.get_full_path()[:500])
            return _error(ServerError("internal server error; it has been logged"))
        response.setdefault("Cache-Control", "no-store")  # answers depend on the caller's credentials
        return response

    return wrapper


def _document(request, document: dict, template: str, context: dict, *, html: bool) -> HttpResponse:
    if html:
        return _html(request, template, {**context, "document": document,
                                         "json_text": json.dumps(document, ensure_ascii=False, indent=2)})
    return _json(document)


# ---- resources -------------------------------------------------------------------------------

@ogc_view
def landing(request, caller, links):
    check_parameters(request.GET, COMMON_PARAMETERS)
    html = wants_html(request)
    return _document(request, documents.landing(links, html=html), "ogc/landing.html", {}, html=html)


@ogc_view
def api(request, caller, links):
    check_parameters(request.GET, COMMON_PARAMETERS)
    html = wants_html(request)
    document = documents.openapi(links, readable_layers(caller), supported_crs(), max_limit=MAX_LIMIT)
    if html:
        return _document(request, document, "ogc/api.html", {}, html=True)
    return _json(document, content_type=documents.OPENAPI)


@ogc_view
def conformance(request, caller, links):
    check_parameters(request.GET, COMMON_PARAMETERS)
    html = wants_html(request)
    return _document(request, documents.conformance(), "ogc/conformance.html", {}, html=html)


@ogc_view
def collections(request, caller, links):
    check_parameters(request.GET, COMMON_PARAMETERS)
    html = wants_html(request)
    document = documents.collections(readable_layers(caller), links, supported_crs(), html=html)
    return _document(request, document, "ogc/collections.html", {}, html=html)


@ogc_view
def collection(request, caller, links, collection_id: str):
    check_parameters(request.GET, COMMON_PARAMETERS)
    layer = check_layer(caller, collection_id)
    html = wants_html(request)
    document = documents.collection(layer, links, supported_crs(), html=html)
    return _document(request, document, "ogc/collection.html", {"layer": layer}, html=html)


@ogc_view
def queryables(request, caller, links, collection_id: str):
    check_parameters(request.GET, COMMON_PARAMETERS)
    layer = check_layer(caller, collection_id)
    html = wants_html(request)
    document = documents.queryables(layer, links)
    if html:
        return _document(request, document, "ogc/queryables.html", {"layer": layer}, html=True)
    return _json(document, content_type=documents.SCHEMA)


@ogc_view
def items(request, caller, links, collection_id: str):
    params = request.GET
    layer = check_layer(caller, collection_id)
    check_parameters(params, ITEMS_PARAMETERS)
    html = wants_html(request)
    crs_list = supported_crs()
    crs = parse_crs("crs", params.get("crs"), crs_list)
    limit = parse_limit(params.get("limit"))
    offset = parse_offset(params.get("offset"))
    properties = parse_properties(params.get("properties"), layer.field_names())
    area = None
    if params.get("bbox") is not None:
        area = parse_bbox(params["bbox"], parse_crs("bbox-crs", params.get("bbox-crs"), crs_list))
    elif params.get("bbox-crs") is not None:
        parse_crs("bbox-crs", params["bbox-crs"], crs_list)
    interval = None
    if params.get("datetime") is not None:
        if layer.time_fields is None:
            raise InvalidParameter(f"datetime: collection {layer.id!r} has no validity dates to filter on")
        interval = parse_datetime_param(params["datetime"])
    where = None
    if params.get("filter") is not None:
        tree = parse_filter(params["filter"], language=params.get("filter-lang"), layer=layer)
        where = filter_q(tree, layer=layer, filter_crs=parse_crs("filter-crs", params.get("filter-crs"), crs_list))
    elif params.get("filter-lang") is not None or params.get("filter-crs") is not None:
        raise InvalidParameter("filter: filter-lang and filter-crs need a filter")

    qs = features.filtered(layer, area=area, interval=interval, where=where)
    try:  # in a transaction of its own: a filter PostgreSQL refuses leaves the connection usable
        page = features.feature_page(qs, layer, crs=crs, properties=properties, offset=offset, limit=limit.applied)
    except DataError as exc:  # e.g. a value out of a column's range; types are checked before
        raise InvalidParameter(f"filter: cannot be applied: {str(exc).splitlines()[0][:200]}") from None

    headers = {"Content-Crs": f"<{crs.uri}>"}
    if limit.capped:
        headers["OGC-Limit-Capped"] = f"requested={limit.requested}; applied={limit.applied}"
    page_links = _page_links(request, links, layer.id, offset=offset, limit=limit.applied,
                             returned=len(page.features), matched=page.number_matched, html=html)
    meta = {
        "numberMatched": page.number_matched,
        "numberReturned": len(page.features),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": page_links,
    }
    if limit.capped:
        meta["limitCapped"] = {"requested": limit.requested, "applied": limit.applied, "maximum": MAX_LIMIT}
    if html:
        return _html(request, "ogc/items.html", {
            "layer": layer, "meta": meta, "features": [json.loads(text) for text in page.features],
            "properties": properties, "offset": offset, "crs": crs,
        }, headers=headers)
    body = ('{"type":"FeatureCollection","features":[' + ",".join(page.features) + "],"
            + json.dumps(meta, ensure_ascii=False)[1:])
    return HttpResponse(body, content_type=GEOJSON, headers=headers)


def _page_links(request, links: Links, collection_id: str, *, offset: int, limit: int, returned: int,
                matched: int, html: bool) -> list[dict]:
    """Return self/alternate and next/prev links; each keeps every other parameter of the request."""
    path = f"{links.base}/collections/{collection_id}/items"

    def url(**changes) -> str:
        query = request.GET.copy()
        for name, value in changes.items():
            query[name] = str(value)
        return f"{path}?{query.urlencode()}"

    kind = HTML if html else GEOJSON
    result = [
        {"href": url(f="html" if html else "json"), "rel": "self", "type": kind, "title": "this page"},
        {"href": url(f="json" if html else "html"), "rel": "alternate", "type": GEOJSON if html else HTML,
         "title": "this page as " + ("GeoJSON" if html else "HTML")},
        {"href": f"{links.url(f'/collections/{collection_id}', f='json')}", "rel": "collection", "type": JSON,
         "title": "the collection"},
    ]
    if offset + returned < matched:
        result.append({"href": url(offset=offset + limit), "rel": "next", "type": kind, "title": "next page"})
    if offset > 0:
        result.append({"href": url(offset=max(0, offset - limit)), "rel": "prev", "type": kind,
                       "title": "previous page"})
    return result


@ogc_view
def item(request, caller, links, collection_id: str, feature_id: str):
    params = request.GET
    layer = check_layer(caller, collection_id)
    check_parameters(params, ITEM_PARAMETERS)
    html = wants_html(request)
    crs = parse_crs("crs", params.get("crs"), supported_crs()) if params.get("crs") else CRS84
    properties = parse_properties(params.get("properties"), layer.field_names())
    text = features.feature_one(layer, feature_id, crs=crs, properties=properties)
    if text is None:
        raise NotFound(f"collection {layer.id!r} has no feature {feature_id[:80]!r}")
    headers = {"Content-Crs": f"<{crs.uri}>"}
    feature = json.loads(text)
    path = f"/collections/{layer.id}/items/{quote(feature_id, safe='')}"
    feature["links"] = [
        *documents.self_links(links, path, html, json_type=GEOJSON),
        {"href": links.url(f"/collections/{layer.id}", f="json"), "rel": "collection", "type": JSON,
         "title": "the collection"},
    ]
    if html:
        return _html(request, "ogc/item.html", {"layer": layer, "feature": feature, "properties": properties}, headers=headers)
    return _json(feature, content_type=GEOJSON, headers=headers)


@ogc_view
def not_found(request, caller, links, rest: str = ""):
    raise NotFound(f"{request.path[:200]}: no such resource")
