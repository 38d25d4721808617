"""The documents of OGC API Features as plain dicts: landing page, conformance, collections, queryables.

Pure of HTTP: a ``Links`` object knows the service's base URL (and the caller's ``?key=``, kept
in every link so that clients that follow links keep their access).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from layers.ogc import features
from layers.ogc.cql import GEOMETRY_PROPERTY
from layers.ogc.crs import CRS84_URI, WEB_MERCATOR, OgcCrs, epsg_crs
from layers.registry import Layer

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
SCHEMA = "application/schema+json"

_F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_F2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/"
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
# Only what is implemented.
CONFORMANCE = [
    _F1 + "core", _F1 + "geojson", _F1 + "html", _F1 + "oas30",
    _F2 + "crs",
    _F3 + "queryables", _F3 + "filter", _F3 + "features-filter",
    _CQL2 + "cql2-text", _CQL2 + "cql2-json", _CQL2 + "basic-cql2", _CQL2 + "advanced-comparison-operators",
    _CQL2 + "basic-spatial-functions", _CQL2 + "basic-spatial-functions-plus", _CQL2 + "spatial-functions",
]
REL_CONFORMANCE = "http://www.opengis.net/def/rel/ogc/1.0/conformance"
REL_DATA = "http://www.opengis.net/def/rel/ogc/1.0/data"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
SCHEMA_TYPES = {"string": {"type": "string"}, "integer": {"type": "integer"}, "number": {"type": "number"},
                "boolean": {"type": "boolean"}, "date-time": {"type": "string", "format": "date-time"}}


@dataclass(frozen=True)
class Links:
    """Absolute URLs of the service's resources."""

    base: str  # e.g. http://host/ogc
    key: str | None = None  # the caller's ?key=, carried on

    def url(self, path: str = "", **params) -> str:
        query = {name: value for name, value in params.items() if value is not None}
        if self.key is not None:
            query["key"] = self.key
        return f"{self.base}{path}" + (f"?{urlencode(query)}" if query else "")

    def pair(self, path: str, *, rel_json: str, rel_html: str, json_type: str = JSON, title: str = "",
             **params) -> list[dict]:
        """Return the JSON and HTML links of PATH; the one of the format answered is 'self'."""
        return [
            {"href": self.url(path, f="json", **params), "rel": rel_json, "type": json_type, "title": title or "JSON"},
            {"href": self.url(path, f="html", **params), "rel": rel_html, "type": HTML, "title": title or "HTML"},
        ]


def self_links(links: Links, path: str, html: bool, json_type: str = JSON) -> list[dict]:
    return links.pair(path, rel_json="alternate" if html else "self", rel_html="self" if html else "alternate",
                      json_type=json_type, title="this document")


def landing(links: Links, *, html: bool) -> dict:
    return {
        "title": "gisportal layers",
        "description": "The city's map layers (parcels, streets, zoning, blocks, districts, and the layers your "
                       "credentials grant) as OGC API Features.",
        "links": [
            *self_links(links, "", html),
            {"href": links.url("/api", f="json"), "rel": "service-desc", "type": OPENAPI, "title": "OpenAPI 3.0"},
            {"href": links.url("/api", f="html"), "rel": "service-doc", "type": HTML, "title": "API (HTML)"},
            *links.pair("/conformance", rel_json="conformance", rel_html="conformance", title="conformance"),
            {"href": links.url("/conformance", f="json"), "rel": REL_CONFORMANCE, "type": JSON,
             "title": "conformance"},
            *links.pair("/collections", rel_json="data", rel_html="data", title="collections"),
            {"href": links.url("/collections", f="json"), "rel": REL_DATA, "type": JSON, "title": "collections"},
        ],
    }


def conformance() -> dict:
    return {"conformsTo": CONFORMANCE}


def collection(layer: Layer, links: Links, crs_list: list[OgcCrs], *, html: bool, top: bool = True) -> dict:
    """Return the description of LAYER as a collection (TOP: the answer of /collections/{id} itself)."""
    path = f"/collections/{layer.id}"
    extent: dict = {}
    bbox = features.spatial_extent(layer)
    if bbox is not None:
        extent["spatial"] = {"bbox": [bbox], "crs": CRS84_URI}
    interval = features.temporal_extent(layer)
    if interval is not None:
        extent["temporal"] = {"interval": [interval], "trs": GREGORIAN}
    own = self_links(links, path, html) if top else links.pair(path, rel_json="self", rel_html="alternate",
                                                                 title=layer.title_en)
    return {
        "id": layer.id,
        "title": layer.title_en,
        "title_ar": layer.title_ar,
        "description": layer.description_en or f"{layer.title_en} ({layer.access.value} layer)",
        "itemType": "feature",
        "links": [
            *own,
            {"href": links.url(f"{path}/items", f="json"), "rel": "items", "type": GEOJSON, "title": "features"},
            {"href": links.url(f"{path}/items", f="html"), "rel": "items", "type": HTML, "title": "features (HTML)"},
            {"href": links.url(f"{path}/queryables", f="json"), "rel": REL_QUERYABLES, "type": SCHEMA,
             "title": "queryables"},
        ],
        "extent": extent,
        "crs": [crs.uri for crs in crs_list],
        "storageCrs": epsg_crs(WEB_MERCATOR).uri,
    }


def collections(layers: list[Layer], links: Links, crs_list: list[OgcCrs], *, html: bool) -> dict:
    return {
        "links": self_links(links, "/collections", html),
        "collections": [collection(layer, links, crs_list, html=html, top=False) for layer in layers],
        "crs": [crs.uri for crs in crs_list],
    }


def queryables(layer: Layer, links: Links) -> dict:
    """Return the JSON Schema of what a filter may name: the served fields and the geometry."""
    properties = {field.name: {"title": field.title_en or field.name, **SCHEMA_TYPES.get(field.type, {})}
                  for field in layer.fields}
    geometry_format = {"MultiPolygon": "geometry-multipolygon", "MultiLineString": "geometry-multilinestring",
                       "Polygon": "geometry-polygon", "Point": "geometry-point"}.get(layer.geometry_type, "geometry-any")
    properties[GEOMETRY_PROPERTY] = {"title": "Geometry", "format": geometry_format, "x-ogc-role": "primary-geometry"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": links.url(f"/collections/{layer.id}/queryables"),
        "type": "object",
        "title": layer.title_en,
        "properties": properties,
        "additionalProperties": False,
    }


OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def _parameter(name: str, description: str, schema: dict, *, where: str = "query", style: dict | None = None) -> dict:
    return {"name": name, "in": where, "required": where == "path", "description": description, "schema": schema,
            **(style or {})}


def openapi(links: Links, layers: list[Layer], crs_list: list[OgcCrs], *, max_limit: int) -> dict:
    """Return the OpenAPI 3.0 description of the service as CALLER sees it (the collections it may read)."""
    exception = {"$ref": "#/components/schemas/exception"}
    errors = {str(status): {"description": text, "content": {JSON: {"schema": exception}}} for status, text in (
        (400, "a bad parameter (the description starts with its name)"), (401, "credentials needed or wrong"),
        (403, "the credentials do not grant this collection"), (404, "no such collection or feature"),
        (429, "too many requests (Retry-After)"))}
    f = _parameter("f", "format of the answer", {"type": "string", "enum": ["json", "html"]})
    key = _parameter("key", "partner key (or the header Authorization: Bearer <key>)", {"type": "string"})
    collection_id = _parameter("collectionId", "a collection", {"type": "string", "enum": [l.id for l in layers]},
                               where="path")
    crs_schema = {"type": "string", "format": "uri", "enum": [c.uri for c in crs_list]}
    document = {"content": {JSON: {"schema": {"type": "object"}}, HTML: {"schema": {"type": "string"}}}}

    def get(summary: str, parameters: list, content: dict) -> dict:
        return {"get": {"summary": summary, "parameters": parameters,
                        "responses": {"200": {"description": summary, "content": content}, **errors}}}

    items_parameters = [
        collection_id, f, key,
        _parameter("bbox", "minx,miny,maxx,maxy (or 6 numbers) in bbox-crs, its axis order",
                   {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                   style={"style": "form", "explode": False}),
        _parameter("bbox-crs", "CRS of bbox (CRS84 by default)", crs_schema),
        _parameter("crs", "CRS of the answer (CRS84 by default)", crs_schema),
        _parameter("limit", f"features a page; above {max_limit:,} capped (header OGC-Limit-Capped)",
                   {"type": "integer", "minimum": 1, "maximum": max_limit, "default": 10}),
        _parameter("offset", "features skipped (the next links carry it)", {"type": "integer", "minimum": 0}),
        _parameter("datetime", "instant or interval a/b ('..' open) against the validity dates", {"type": "string"}),
        _parameter("properties", "comma-separated property names to return", {"type": "array",
                   "items": {"type": "string"}}, style={"style": "form", "explode": False}),
        _parameter("filter", "CQL2 filter over the queryables", {"type": "string"}),
        _parameter("filter-lang", "language of filter", {"type": "string", "enum": ["cql2-text", "cql2-json"],
                                                         "default": "cql2-text"}),
        _parameter("filter-crs", "CRS of geometries in filter (CRS84 by default)", crs_schema),
    ]
    feature = {GEOJSON: {"schema": {"type": "object"}}, HTML: {"schema": {"type": "string"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "gisportal layers: OGC API Features", "version": "1.0.0",
                 "description": "The city's map layers as OGC API Features Parts 1, 2 and 3."},
        "servers": [{"url": links.base}],
        "paths": {
            "/": get("landing page", [f, key], document["content"]),
            "/api": get("this document", [f, key], {OPENAPI: {"schema": {"type": "object"}},
                                                    HTML: {"schema": {"type": "string"}}}),
            "/conformance": get("conformance classes", [f, key], document["content"]),
            "/collections": get("the collections the caller may read", [f, key], document["content"]),
            "/collections/{collectionId}": get("one collection", [collection_id, f, key], document["content"]),
            "/collections/{collectionId}/queryables": get("what a filter may name", [collection_id, f, key],
                                                         {SCHEMA: {"schema": {"type": "object"}},
                                                          HTML: {"schema": {"type": "string"}}}),
            "/collections/{collectionId}/items": get("features", items_parameters, feature),
            "/collections/{collectionId}/items/{featureId}": get("one feature", [
                collection_id, _parameter("featureId", "a feature's id", {"type": "string"}, where="path"), f, key,
                _parameter("crs", "CRS of the answer (CRS84 by default)", crs_schema),
                _parameter("properties", "comma-separated property names to return",
                           {"type": "array", "items": {"type": "string"}}, style={"style": "form", "explode": False}),
            ], feature),
        },
        "components": {"schemas": {"exception": {
            "type": "object", "required": ["code"],
            "properties": {"code": {"type": "string"}, "description": {"type": "string"}}}}},
    }
