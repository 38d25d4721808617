"""Reads from the parcel registry. Spatial filters go through ORM lookups, never SQL strings."""

from __future__ import annotations

import json

import shapely
from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.contrib.gis.geos import Polygon
from django.db import connection
from django.db.models import DateTimeField, F, QuerySet, Value

from gisportal import crs
from gisportal.errors import InvalidParameter, NotFound
from parcels.measurements import measure_parcel
from parcels.models import (
    Block,
    District,
    Municipality,
    Parcel,
    ParcelStatus,
    ParcelVersion,
    Record,
    Street,
    ZoningDistrict,
)
from parcels.queries import ParcelQuery

NEIGHBOUR_TOLERANCE_M = 0.5
# valid_from / valid_to in answers are the bounds of the state shown (the current one has no end).
STATE_COLUMNS = ("municipality_code", "parcel_code", "plan_no", "block_no", "parcel_no", "district_code",
                 "land_use", "zone_code", "stated_area_m2", "area_m2", "perimeter_m", "status", "version",
                 "state_from", "state_to", "change", "change_source", "geometry_json")


def bbox_polygon(bbox: tuple[float, float, float, float]) -> Polygon:
    """Return the lon/lat bbox as a polygon in the storage SRID (exact: Mercator keeps it a rectangle)."""
    polygon = Polygon.from_bbox(bbox)
    polygon.srid = crs.WGS84
    moved = crs.transform(shapely.from_wkb(bytes(polygon.wkb)), crs.WGS84, settings.STORAGE_SRID)
    result = Polygon(list(moved.exterior.coords), srid=settings.STORAGE_SRID)
    return result


def check_srid_known(srid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = %s", [srid])
        if cursor.fetchone() is None:
            raise InvalidParameter(f"srid: EPSG:{srid} is not known to the database")


def current_states() -> QuerySet:
    """Return every parcel's current state, shaped like past_states()."""
    return Parcel.objects.annotate(municipality_code=F("municipality__code"), state_from=F("updated_at"),
                                   state_to=Value(None, output_field=DateTimeField()))


def past_states() -> QuerySet:
    """Return every parcel's past states, shaped like current_states()."""
    return ParcelVersion.objects.annotate(parcel_code=F("parcel__parcel_code"),
                                          municipality_code=F("parcel__municipality__code"),
                                          state_from=F("valid_from"), state_to=F("valid_to"))


def _filter(qs: QuerySet, query: ParcelQuery) -> QuerySet:
    if query.municipality:
        qs = qs.filter(municipality_code=query.municipality)
    if query.district:
        qs = qs.filter(district__code=query.district)
    if query.land_use:
        qs = qs.filter(land_use=query.land_use)
    status = query.status or ParcelStatus.ACTIVE
    if status != "all":
        qs = qs.filter(status=status)
    if query.bbox:
        qs = qs.filter(geom__intersects=bbox_polygon(query.bbox))
    return qs


def state_rows(qs: QuerySet, *, srid: int) -> QuerySet:
    """Return QS as value rows with the geometry encoded as GeoJSON by the database, in SRID."""
    geometry = AsGeoJSON(Transform("geom", srid) if srid != settings.STORAGE_SRID else "geom",
                         precision=7 if crs.is_geographic(srid) else 3)
    return qs.annotate(geometry_json=geometry, district_code=F("district__code")).values(*STATE_COLUMNS)


def parcels_matching(query: ParcelQuery) -> QuerySet:
    """Return the parcel states matching QUERY as value rows: now, or as they were at query.as_of."""
    if query.as_of is None:
        return state_rows(_filter(current_states(), query), srid=query.srid).order_by("municipality_id", "parcel_code")
    current = _filter(current_states().filter(updated_at__lte=query.as_of), query)
    past = _filter(past_states().filter(valid_from__lte=query.as_of, valid_to__gt=query.as_of), query)
    return (state_rows(current, srid=query.srid)
            .union(state_rows(past, srid=query.srid), all=True)
            .order_by("municipality_code", "parcel_code"))


def to_feature(row: dict) -> dict:
    row = dict(row)
    geometry = json.loads(row.pop("geometry_json")) if row.get("geometry_json") else None
    row["valid_from"], row["valid_to"] = row.pop("state_from"), row.pop("state_to")
    properties = {
        "municipality": row.pop("municipality_code"),
        **{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()},
    }
    return {"type": "Feature", "id": f"{properties['municipality']}/{properties['parcel_code']}",
            "geometry": geometry, "properties": properties}


def parcel_get(*, municipality: str, parcel_code: str) -> Parcel:
    parcel = (Parcel.objects.select_related("municipality", "district")
              .filter(municipality__code=municipality, parcel_code=parcel_code).first())
    if parcel is None:
        raise NotFound(f"no parcel {parcel_code!r} in municipality {municipality!r}")
    return parcel


def street_rows_near(*, municipality: Municipality, area: Polygon) -> list:
    """Return the street rights-of-way within AREA (storage SRID), in the municipality's metric CRS.

    Right-of-way polygons where the data has them, cut to AREA (a city's can be one polygon of 100k
    vertices: every check near a plan would carry all of it), and centrelines buffered by half their width.
    """
    sql = """
        SELECT ST_AsBinary(ST_Transform(piece, %(metric)s)) FROM (
            SELECT ST_CollectionExtract(ST_Intersection(r.geom, %(area)s::geometry), 3) AS piece
            FROM parcels_streetrightofway r
            WHERE r.municipality_id = %(m)s AND r.geom && %(area)s::geometry
        ) clipped
        WHERE NOT ST_IsEmpty(piece)
        UNION ALL
        SELECT ST_AsBinary(ST_Buffer(ST_Transform(s.centreline, %(metric)s), s.row_width_m / 2,
                                     'endcap=flat join=mitre'))
        FROM parcels_street s
        WHERE s.municipality_id = %(m)s AND s.row_width_m > 0 AND s.centreline && %(area)s::geometry
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"metric": municipality.metric_srid, "m": municipality.pk, "area": area.ewkb})
        return [shapely.from_wkb(bytes(wkb)) for (wkb,) in cursor.fetchall() if wkb]


def around(geom, distance_m: float) -> Polygon:
    """Return GEOM's extent grown by about DISTANCE_M, as a storage-SRID rectangle.

    Storage units are not metres (Web Mercator stretches them by 1/cos(latitude)): the margin is
    generous, and exact tests are made in metres afterwards.
    """
    minx, miny, maxx, maxy = geom.extent
    margin = distance_m * 3
    box = Polygon.from_bbox((minx - margin, miny - margin, maxx + margin, maxy + margin))
    box.srid = settings.STORAGE_SRID
    return box


def neighbours_of(parcel: Parcel) -> list[str]:
    """Return the codes of active parcels within NEIGHBOUR_TOLERANCE_M of PARCEL, measured in metres."""
    metric = parcel.municipality.metric_srid
    sql = """
        SELECT p.parcel_code FROM parcels_parcel p, parcels_parcel me
        WHERE me.id = %(id)s AND p.municipality_id = me.municipality_id AND p.id <> me.id
          AND p.status = 'active' AND p.geom && ST_Expand(me.geom, %(reach)s)
          AND ST_DWithin(ST_Transform(p.geom, %(metric)s), ST_Transform(me.geom, %(metric)s), %(tol)s)
        ORDER BY p.parcel_code
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"id": parcel.pk, "reach": NEIGHBOUR_TOLERANCE_M * 3, "metric": metric,
                             "tol": NEIGHBOUR_TOLERANCE_M})
        return [code for (code,) in cursor.fetchall()]


def zoning_of(parcel: Parcel) -> list[dict]:
    """Return the zoning districts the parcel lies in, with the share of its area in each."""
    zones = (ZoningDistrict.objects.filter(municipality=parcel.municipality, geom__intersects=parcel.geom)
             .values("zone_code", "name_en", "name_ar", "allowed_uses", "geom"))
    parcel_area = parcel.geom.area or 1.0
    out = []
    for zone in zones:
        share = zone.pop("geom").intersection(parcel.geom).area / parcel_area
        if share > 0.001:
            out.append({**zone, "share_pct": round(share * 100, 2)})
    return sorted(out, key=lambda z: -z["share_pct"])


def lineage_of(parcel: Parcel) -> dict:
    """Return the parcels PARCEL came from and became: those retired and created by the same record.

    ``created_by_plan``/``retired_by_plan`` name the subdivision plan behind each record (the API's
    keys); the reverse accessor ``plan`` is resolved by name, so parcels imports nothing of subdivision.
    """
    parents = (Parcel.objects.filter(retired_by_record=parcel.created_by_record_id)
               .values_list("parcel_code", flat=True) if parcel.created_by_record_id else [])
    children = (Parcel.objects.filter(created_by_record=parcel.retired_by_record_id)
                .values_list("parcel_code", flat=True) if parcel.retired_by_record_id else [])
    record_ids = [r for r in (parcel.created_by_record_id, parcel.retired_by_record_id) if r]
    plan_of = dict(Record.objects.filter(pk__in=record_ids).values_list("pk", "plan")) if record_ids else {}
    return {
        "created_by_plan": plan_of.get(parcel.created_by_record_id),
        "retired_by_plan": plan_of.get(parcel.retired_by_record_id),
        "parents": sorted(parents),
        "children": sorted(children),
    }


def parcel_detail(*, parcel: Parcel, srid: int) -> dict:
    """Return the parcel as a GeoJSON Feature with measurements, neighbours, zoning and lineage."""
    feature = to_feature(state_rows(current_states().filter(pk=parcel.pk), srid=srid).get())
    metric_srid = parcel.municipality.metric_srid
    geom_metric = crs.from_geos(parcel.geom, metric_srid)
    geom_wgs84 = crs.from_geos(parcel.geom, crs.WGS84)
    parts = street_rows_near(municipality=parcel.municipality, area=around(parcel.geom, 100))
    rows = shapely.union_all(parts) if parts else None
    feature["properties"].update({
        "measurements": {**measure_parcel(geom_metric, geom_wgs84, rows).as_dict(), "crs": f"EPSG:{metric_srid}"},
        "district_name_en": parcel.district.name_en if parcel.district else None,
        "neighbours": neighbours_of(parcel),
        "zoning": zoning_of(parcel),
        "lineage": lineage_of(parcel),
        "lifetime": {"from": parcel.valid_from.isoformat(),
                     "to": parcel.valid_to.isoformat() if parcel.valid_to else None},
    })
    return feature


def parcel_history(*, parcel: Parcel, srid: int) -> list[dict]:
    """Return every state of the parcel, the current one first, as GeoJSON features."""
    current = state_rows(current_states().filter(pk=parcel.pk), srid=srid)
    past = state_rows(past_states().filter(parcel=parcel), srid=srid)
    return [to_feature(row) for row in current.union(past, all=True).order_by("-version")]


# ---- the rows of the published map layers (layers.registry reads parcels through these only) ----

def municipality_metric_srids() -> tuple[int, ...]:
    """The metric CRSs of every municipality (what the layer services offer besides 4326/3857)."""
    return tuple(sorted(set(Municipality.objects.order_by().values_list("metric_srid", flat=True))))


def layer_municipalities() -> QuerySet:
    return Municipality.objects.filter(boundary__isnull=False).order_by("code")


def layer_districts() -> QuerySet:
    return District.objects.select_related("municipality").order_by("id")


def layer_streets() -> QuerySet:
    return Street.objects.select_related("municipality").order_by("id")


def layer_zoning() -> QuerySet:
    return ZoningDistrict.objects.select_related("municipality").order_by("id")


def layer_blocks() -> QuerySet:
    return Block.objects.select_related("municipality").order_by("id")


def layer_parcels_active() -> QuerySet:
    return Parcel.objects.filter(status=ParcelStatus.ACTIVE).select_related("municipality").order_by("id")


def layer_parcels_retired() -> QuerySet:
    return (Parcel.objects.filter(status=ParcelStatus.RETIRED)
            .select_related("municipality", "created_by_record", "retired_by_record").order_by("id"))
