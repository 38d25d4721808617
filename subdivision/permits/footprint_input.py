"""Read a proposed building footprint from a request body, once, at the edge: GeoJSON in, a checked
shapely polygon and its CRS out, or InvalidParameter naming what is wrong. No Django here.
"""

from __future__ import annotations

import json
import math
import re

import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from gisportal.errors import InvalidParameter

MAX_BODY_BYTES = 1024 * 1024  # room for MAX_VERTICES lon/lat pairs at full precision
MAX_VERTICES = 10_000
_CRS_NAME = re.compile(r"^(?:urn:ogc:def:crs:EPSG::?|EPSG:)(\d{4,6})$", re.IGNORECASE)
_CRS84 = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "CRS84", "OGC:CRS84"}


def _refuse_constant(name: str):
    raise InvalidParameter(f"body: {name} is not a number GeoJSON allows")


def parse_body(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> dict:
    """Return the JSON object of BODY, refusing what is too large, not UTF-8 JSON, NaN or too deeply nested."""
    if len(body) > max_bytes:
        raise InvalidParameter(f"body: {len(body):,} bytes, over the {max_bytes:,}-byte limit for a footprint")
    if not body.strip():
        raise InvalidParameter("body: empty; send a GeoJSON geometry or Feature")
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise InvalidParameter("body: not UTF-8 text") from None
    except RecursionError:
        raise InvalidParameter("body: nested too deeply") from None
    except ValueError as exc:
        raise InvalidParameter(f"body: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidParameter("body: expected a GeoJSON object (a geometry or a Feature)")
    return data


def srid_from(data: dict, query_srid: str | None) -> int:
    """Return the footprint's EPSG code: the body's `crs` or `srid`, the ?srid= parameter, else 4326.

    Two that disagree are refused rather than one silently chosen.
    """
    found: dict[str, int] = {}
    if "crs" in data and data["crs"] is not None:
        found["crs"] = _srid_of_crs(data["crs"])
    for where, raw in (("srid", data.get("srid")), ("srid parameter", query_srid)):
        if raw in (None, ""):
            continue
        if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).isdigit():
            raise InvalidParameter(f"srid: {raw!r} is not an EPSG code")
        found[where] = _checked_epsg(int(raw), "srid")
    if len(set(found.values())) > 1:
        listed = ", ".join(f"{k} EPSG:{v}" for k, v in found.items())
        raise InvalidParameter(f"crs: the CRS is given more than once and disagrees ({listed})")
    return next(iter(found.values()), 4326)


def _srid_of_crs(crs) -> int:
    name = crs
    if isinstance(crs, dict):
        name = (crs.get("properties") or {}).get("name") if isinstance(crs.get("properties"), dict) else None
    if not isinstance(name, str):
        raise InvalidParameter("crs: expected {\"type\": \"name\", \"properties\": {\"name\": "
                               "\"urn:ogc:def:crs:EPSG::<code>\"}} or \"EPSG:<code>\"")
    if name.strip() in _CRS84:
        return 4326
    match = _CRS_NAME.match(name.strip())
    if not match:
        raise InvalidParameter(f"crs: {name[:100]!r} is not a CRS name this service knows (use EPSG:<code>)")
    return _checked_epsg(int(match[1]), "crs")


def _checked_epsg(srid: int, where: str) -> int:
    try:
        crs = CRS.from_epsg(srid)
    except CRSError:
        raise InvalidParameter(f"{where}: EPSG:{srid} is not a known CRS") from None
    if not (crs.is_geographic or crs.is_projected):
        raise InvalidParameter(f"{where}: EPSG:{srid} is neither geographic nor projected")
    return srid


def geometry_of(data: dict) -> dict:
    """Return the GeoJSON geometry object of DATA (a geometry, or a Feature holding one)."""
    kind = data.get("type")
    if kind == "Feature":
        geometry = data.get("geometry")
        if not isinstance(geometry, dict):
            raise InvalidParameter("geometry: the Feature has no geometry")
        return geometry
    if kind == "FeatureCollection":
        raise InvalidParameter("geometry: send one footprint (a Polygon, MultiPolygon or a Feature), "
                               "not a FeatureCollection")
    return data


def _position(value, where: str) -> tuple[float, float]:
    if not isinstance(value, list) or not 2 <= len(value) <= 3:
        raise InvalidParameter(f"geometry: {where} is not a position [x, y]")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise InvalidParameter(f"geometry: {where} has a coordinate that is not a number")
    x, y = float(value[0]), float(value[1])
    if not (math.isfinite(x) and math.isfinite(y)) or abs(x) > 1e8 or abs(y) > 1e8:
        raise InvalidParameter(f"geometry: {where} has an absurd coordinate ({x}, {y})")
    return x, y


def _ring(value, where: str, budget: list[int]) -> list[tuple[float, float]]:
    if not isinstance(value, list):
        raise InvalidParameter(f"geometry: {where} is not a list of positions")
    budget[0] -= len(value)
    if budget[0] < 0:
        raise InvalidParameter(f"geometry: more than {MAX_VERTICES:,} vertices")
    points = [_position(p, f"{where} point {i + 1}") for i, p in enumerate(value)]
    if len(points) < 4:
        raise InvalidParameter(f"geometry: {where} has {len(points)} points; a ring needs at least 4")
    if points[0] != points[-1]:
        raise InvalidParameter(f"geometry: {where} is not closed (its first and last points differ)")
    return points


def _polygon(value, where: str, budget: list[int]) -> shapely.Polygon:
    if not isinstance(value, list) or not value:
        raise InvalidParameter(f"geometry: {where} has no rings")
    rings = [_ring(r, f"{where} {'exterior' if i == 0 else f'hole {i}'}", budget) for i, r in enumerate(value)]
    return shapely.Polygon(rings[0], rings[1:])


def footprint_geometry(geometry: dict, *, srid: int, max_vertices: int = MAX_VERTICES):
    """Return the footprint as a valid shapely Polygon or MultiPolygon in SRID's units, or refuse it."""
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    budget = [max_vertices]
    if kind == "Polygon":
        geom = _polygon(coordinates, "the polygon", budget)
    elif kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise InvalidParameter("geometry: the MultiPolygon has no polygons")
        geom = shapely.MultiPolygon([_polygon(p, f"polygon {i + 1}", budget) for i, p in enumerate(coordinates)])
    else:
        shown = kind if isinstance(kind, str) else type(kind).__name__
        raise InvalidParameter(f"geometry: a footprint is a Polygon or MultiPolygon, not {shown[:40]!r}")
    if CRS.from_epsg(srid).is_geographic:
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise InvalidParameter(f"geometry: coordinates outside longitude ±180 / latitude ±90 in EPSG:{srid} "
                                   "(projected coordinates? give the crs or srid)")
    if not geom.is_valid:
        raise InvalidParameter(f"geometry: the footprint is not a valid polygon ({shapely.is_valid_reason(geom)})")
    if geom.area <= 0:
        raise InvalidParameter("geometry: the footprint has no area")
    return geom
