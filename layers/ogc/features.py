"""Reads of a layer's features for OGC API Features: filters on the ORM, GeoJSON made by PostGIS.

Each feature is written by the database as one JSON text (``json_build_object`` around
``ST_AsGeoJSON`` of the 3857 storage column transformed once, in SQL, to the output CRS), so
Python only joins strings: no per-feature geometry objects or dicts. Every filter is an ORM
lookup with bound parameters; names of columns come from the registry only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections, transaction
from django.db.models import Count, F, Func, Max, Min, Q, QuerySet, TextField, Value
from django.db.models.fields.json import JSONField

from layers.bounds import layer_bounds
from layers.ogc.crs import WEB_MERCATOR, OgcCrs
from layers.ogc.params import Interval
from layers.registry import Layer


class _JsonObject(Func):
    function = "json_build_object"
    output_field = JSONField()


class _FeatureText(Func):
    """The text of a GeoJSON Feature, put together from its id, its geometry's GeoJSON and its properties.

    Concatenated as text: embedding ST_AsGeoJSON's output in json_build_object would make
    PostgreSQL parse and re-print every coordinate (measured: about a third of the query).
    """

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, sql_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(sql_params)
        id_sql, geometry_sql, properties_sql = parts
        return ("""('{"type":"Feature","id":' || to_json(""" + id_sql + """)::text || ',"geometry":' || """
                """COALESCE(""" + geometry_sql + """, 'null') || ',"properties":' || (""" + properties_sql
                + """)::text || '}')"""), params


class _FlipCoordinates(Func):
    function = "ST_FlipCoordinates"


@dataclass(frozen=True)
class FeaturePage:
    features: list[str]  # one GeoJSON Feature per element, as JSON text
    number_matched: int


def _output_geometry(layer: Layer, crs: OgcCrs):
    geom = F(layer.geometry_field)
    if crs.srid != WEB_MERCATOR:
        geom = Transform(geom, crs.srid)
    if crs.y_first:  # EPSG:4326 and other latitude/northing-first CRSs
        geom = _FlipCoordinates(geom, output_field=GeometryField(srid=crs.srid))
    return AsGeoJSON(geom, precision=crs.decimals)


def feature_json(layer: Layer, *, crs: OgcCrs, properties: tuple[str, ...]):
    """Return the expression of one row as the text of a GeoJSON Feature with the chosen PROPERTIES."""
    sources = {field.name: field.source for field in layer.fields}
    pairs = []
    for name in properties:
        pairs += [Value(name), F(sources[name])]
    return _FeatureText(F(layer.id_field), _output_geometry(layer, crs), _JsonObject(*pairs))


def filtered(layer: Layer, *, area=None, interval: Interval | None = None, where: Q | None = None) -> QuerySet:
    """Return LAYER's rows whose geometry intersects AREA (EPSG:3857), valid during INTERVAL, matching WHERE."""
    qs = layer.queryset()
    if area is not None:
        qs = qs.filter(**{f"{layer.geometry_field}__intersects": area})
    if interval is not None:
        qs = qs.filter(during(layer, interval))
    if where is not None:
        qs = qs.filter(where)
    return qs


def during(layer: Layer, interval: Interval) -> Q:
    """Return the rows whose validity [from, to) meets the closed INTERVAL (an open 'to' is still valid)."""
    valid_from, valid_to = layer.time_fields
    q = Q()
    if interval.end is not None:
        q &= Q(**{f"{valid_from}__lte": interval.end})
    if interval.start is not None:
        q &= Q(**{f"{valid_to}__isnull": True}) | Q(**{f"{valid_to}__gt": interval.start})
    return q


def feature_page(qs: QuerySet, layer: Layer, *, crs: OgcCrs, properties: tuple[str, ...], offset: int,
                 limit: int) -> FeaturePage:
    """Return one page of features of QS (in the layer's stable order) and how many match in all.

    Runs in a transaction of its own with JIT compilation off: a page of 10,000 features is costed
    past jit_above_cost, and compiling it took 425 ms of a 680 ms query (measured on the Cambridge
    parcels), for queries that run in a few hundred milliseconds without it.
    """
    with transaction.atomic(using=qs.db):
        with connections[qs.db].cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        rows = list(qs.annotate(_ogc_feature=feature_json(layer, crs=crs, properties=properties))
                    .values_list("_ogc_feature", flat=True)[offset:offset + limit])
        if offset == 0 and len(rows) < limit:
            matched = len(rows)  # the whole result is on this page: no second query
        else:
            matched = qs.count()
    return FeaturePage(rows, matched)


def feature_one(layer: Layer, feature_id: str, *, crs: OgcCrs, properties: tuple[str, ...]) -> str | None:
    """Return the GeoJSON text of the feature FEATURE_ID of LAYER, or None when there is none."""
    value = _typed_id(layer, feature_id)
    if value is None:
        return None
    qs = layer.queryset().filter(**{layer.id_field: value})
    return (qs.annotate(_ogc_feature=feature_json(layer, crs=crs, properties=properties))
            .values_list("_ogc_feature", flat=True).first())


def _typed_id(layer: Layer, feature_id: str):
    model = layer.queryset().model
    try:
        field = model._meta.get_field(layer.id_field)
    except FieldDoesNotExist:
        return feature_id
    try:
        value = field.to_python(feature_id)
    except (ValidationError, ValueError, TypeError):
        return None
    if isinstance(value, int) and not -2**63 <= value < 2**63:
        return None
    return value


def spatial_extent(layer: Layer) -> list[float] | None:
    """Return LAYER's bounding box in CRS84 (longitude, latitude), or None when it holds nothing."""
    return layer_bounds(layer)


def temporal_extent(layer: Layer) -> list[str | None] | None:
    """Return [first valid_from, last valid_to] of LAYER (None for an open end), or None without time fields."""
    if layer.time_fields is None:
        return None
    valid_from, valid_to = layer.time_fields
    span = layer.queryset().order_by().aggregate(start=Min(valid_from), end=Max(valid_to),
                                                 still_valid=Count("pk", filter=Q(**{f"{valid_to}__isnull": True})))
    start = span["start"].isoformat().replace("+00:00", "Z") if span["start"] else None
    end = span["end"].isoformat().replace("+00:00", "Z") if span["end"] and not span["still_valid"] else None
    return [start, end]
