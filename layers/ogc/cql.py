"""CQL2 filters (OGC API Features Part 3) translated to Django ORM Q objects, never to SQL text.

pygeofilter parses CQL2 text and CQL2 JSON into one AST; its Django backend turns that AST into
a Q. Around it, this module:
- allows only the layer's queryables (served names mapped to ORM paths through the registry, and
  ``geometry``): any other property is a 400 before anything reaches the database;
- places geometry literals (and BBOX) in their CRS, ``filter-crs`` (CRS84 by default), and moves
  them to the storage CRS here, so the spatial index of the 3857 column serves the filter;
- works around pygeofilter 0.3.3 reading CQL2 JSON ``{"bbox": [...]}`` in the wrong order.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.db.models import Q
from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.backends.django.evaluate import DjangoFilterEvaluator
from pygeofilter.backends.evaluator import handle
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

from gisportal import crs as gcrs
from gisportal.errors import InvalidParameter
from layers.ogc.crs import WEB_MERCATOR, OgcCrs
from layers.registry import Layer

GEOMETRY_PROPERTY = "geometry"
FILTER_LANGUAGES = ("cql2-text", "cql2-json")
MAX_FILTER_CHARS = 100_000
# What pygeofilter's Django backend translates (and what the conformance document declares).
_SUPPORTED = (ast.And, ast.Or, ast.Not, ast.Comparison, ast.Between, ast.Like, ast.In, ast.IsNull,
              ast.SpatialComparisonPredicate, ast.Attribute, ast.Function)


def queryables(layer: Layer) -> dict[str, str]:
    """Return the layer's queryables: served name -> ORM path."""
    return {**{field.name: field.source for field in layer.fields}, GEOMETRY_PROPERTY: layer.geometry_field}


class _Evaluator(DjangoFilterEvaluator):
    """pygeofilter's Django evaluator with geometry literals placed in FILTER_CRS and moved to EPSG:3857."""

    def __init__(self, field_mapping: dict[str, str], filter_crs: OgcCrs):
        super().__init__(field_mapping, None)
        self.filter_crs = filter_crs

    def _stored(self, geometry) -> GEOSGeometry:
        geom = shapely.geometry.shape(geometry)
        if self.filter_crs.y_first:
            geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
        if self.filter_crs.geographic:  # Web Mercator cannot hold the poles
            geom = shapely.clip_by_rect(geom, -180, -85.06, 180, 85.06) if geom.geom_type != "Point" else geom
        moved = gcrs.transform(geom, self.filter_crs.srid, WEB_MERCATOR)
        if moved.is_empty or not all(abs(v) < 1e9 for v in moved.bounds):
            raise InvalidParameter(f"filter: a geometry lies outside {self.filter_crs.uri}")
        return GEOSGeometry(memoryview(shapely.to_wkb(moved)), srid=WEB_MERCATOR)

    @handle(values.Geometry)
    def geometry(self, node):
        return self._stored(node.geometry)

    @handle(values.Envelope)
    def envelope(self, node):
        return self._stored(node.geometry)

    @handle(ast.Function)
    def function(self, node, *arguments):
        # CQL2 text parses BBOX(x1, y1, x2, y2) as a function; it is the only one taken.
        if node.name.lower() == "bbox" and len(arguments) in (4, 6):
            numbers = [getattr(a, "value", a) for a in arguments]
            if len(numbers) == 6:
                numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
            if all(isinstance(n, (int, float)) for n in numbers):
                x1, y1, x2, y2 = numbers
                return self._stored(shapely.geometry.mapping(shapely.box(x1, y1, x2, y2)))
        raise InvalidParameter(f"filter: function {node.name!r} is not supported")


def _types(layer: Layer) -> dict[str, str]:
    return {**{field.name: field.type for field in layer.fields}, GEOMETRY_PROPERTY: "geometry"}


def _fits(kind: str, value) -> bool:
    """Return True when the literal VALUE can be compared with a property of type KIND."""
    if isinstance(value, bool):
        return kind == "boolean"
    return {
        "string": isinstance(value, str),
        "integer": isinstance(value, int),
        "number": isinstance(value, (int, float)),
        "date-time": isinstance(value, (datetime, date)),
        "boolean": False,
    }.get(kind, False)


def _check_operands(node, operands: list, types: dict[str, str]) -> None:
    """Refuse comparing a property with a literal of another type (a 400 here, not a database error)."""
    kinds = {types[o.name] for o in operands if isinstance(o, ast.Attribute)}
    if "geometry" in kinds:
        raise InvalidParameter("filter: the geometry is compared only with spatial functions (S_INTERSECTS, ...)")
    if len(kinds) > 1 and not kinds <= {"integer", "number"}:
        raise InvalidParameter(f"filter: {type(node).__name__} compares properties of different types")
    for kind in kinds:
        for value in operands:
            if isinstance(value, ast.Node):
                continue
            if not _fits(kind, value):
                raise InvalidParameter(f"filter: {value!r} is not a {kind} value")
        if isinstance(node, ast.Like) and kind != "string":
            raise InvalidParameter("filter: LIKE applies to string properties only")


def _check(node, types: dict[str, str]) -> None:
    """Refuse properties that are not queryables, ill-typed comparisons and what the translation lacks."""
    if isinstance(node, ast.Node):
        if isinstance(node, ast.Attribute):
            if node.name not in types:
                raise InvalidParameter(f"filter: unknown property {node.name!r}; the queryables are "
                                       f"{', '.join(types)}")
            return
        if not isinstance(node, _SUPPORTED) or isinstance(node, ast.Relate):
            raise InvalidParameter(f"filter: {type(node).__name__} is not supported")
        subs = list(node.get_sub_nodes() or ())
        for sub in subs:
            _check(sub, types)
        if isinstance(node, ast.Comparison):
            _check_operands(node, [node.lhs, node.rhs], types)
        elif isinstance(node, ast.Between):
            _check_operands(node, [node.lhs, node.low, node.high], types)
        elif isinstance(node, ast.In):
            _check_operands(node, [node.lhs, *node.sub_nodes], types)
        elif isinstance(node, ast.Like):
            _check_operands(node, [node.lhs], types)
        elif isinstance(node, ast.SpatialComparisonPredicate):
            for operand in (node.lhs, node.rhs):
                if isinstance(operand, ast.Attribute) and types[operand.name] != "geometry":
                    raise InvalidParameter(f"filter: {operand.name!r} is not a geometry")
    elif isinstance(node, (list, tuple)):
        for sub in node:
            _check(sub, types)


def _bbox_as_polygon(node):
    """Return CQL2 JSON as pygeofilter 0.3.3 reads it: every {"bbox": [...]} written as a GeoJSON polygon
    (it swaps the numbers), BETWEEN's bounds as a pair (CQL2 1.0 gives three arguments)."""
    if isinstance(node, dict):
        if node.get("op") == "between" and isinstance(node.get("args"), list) and len(node["args"]) == 3:
            node = {**node, "args": [node["args"][0], [node["args"][1], node["args"][2]]]}
        if set(node) == {"bbox"} and isinstance(node["bbox"], list) and len(node["bbox"]) in (4, 6):
            b = node["bbox"]
            x1, y1, x2, y2 = (b[0], b[1], b[3], b[4]) if len(b) == 6 else b
            if all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in (x1, y1, x2, y2)):
                return {"type": "Polygon", "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}
        return {key: _bbox_as_polygon(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_bbox_as_polygon(value) for value in node]
    return node


def parse_filter(raw: str, *, language: str | None, layer: Layer) -> ast.Node:
    """Return the AST of the filter RAW in LANGUAGE (cql2-text by default), its properties checked."""
    language = language or "cql2-text"
    if language not in FILTER_LANGUAGES:
        raise InvalidParameter(f"filter-lang: {language[:40]!r} is not one of {', '.join(FILTER_LANGUAGES)}")
    if len(raw) > MAX_FILTER_CHARS:
        raise InvalidParameter(f"filter: longer than {MAX_FILTER_CHARS:,} characters")
    try:
        if language == "cql2-json":
            tree = parse_cql2_json(json.dumps(_bbox_as_polygon(json.loads(raw))))
        else:
            tree = parse_cql2_text(raw)
    except InvalidParameter:
        raise
    except (LarkError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        raise InvalidParameter(f"filter: not valid {language}: {_first_line(exc)}") from None
    if not isinstance(tree, ast.Node) or isinstance(tree, ast.Attribute):
        raise InvalidParameter(f"filter: not a {language} predicate")
    _check(tree, _types(layer))
    return tree


def filter_q(tree: ast.Node, *, layer: Layer, filter_crs: OgcCrs) -> Q:
    """Return the Q object of the checked filter TREE on LAYER's rows."""
    try:
        q = _Evaluator(queryables(layer), filter_crs).evaluate(tree)
    except InvalidParameter:
        raise
    except (ValueError, TypeError, KeyError, AssertionError, AttributeError, NotImplementedError) as exc:
        raise InvalidParameter(f"filter: cannot be applied: {_first_line(exc)}") from None
    if not isinstance(q, Q):
        raise InvalidParameter("filter: not a predicate")
    return q


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
