"""The query parameters of /items, parsed once at the edge: a bad one is a 400 that names it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.utils.dateparse import parse_date, parse_datetime
from pyproj.exceptions import ProjError

from gisportal import crs as gcrs
from gisportal.errors import InvalidParameter
from layers.ogc.crs import WEB_MERCATOR, OgcCrs

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000  # a larger limit is capped to this, and the answer says so
MAX_OFFSET = 1_000_000_000
MERCATOR_MAX_LAT = 85.06  # Web Mercator ends here; a box reaching the pole is clipped to it
# Parameters of /items other than the queryables; anything else is refused (a typo is a 400, not ignored).
ITEMS_PARAMETERS = frozenset({
    "f", "key", "bbox", "bbox-crs", "crs", "limit", "offset", "datetime", "properties",
    "filter", "filter-lang", "filter-crs",
})


@dataclass(frozen=True)
class Limit:
    applied: int
    requested: int

    @property
    def capped(self) -> bool:
        return self.requested > self.applied


@dataclass(frozen=True)
class Interval:
    """A closed time interval; None at an end means unbounded ('..')."""

    start: datetime | None
    end: datetime | None


def _shortened(raw: str, limit: int = 60) -> str:
    return raw if len(raw) <= limit else raw[:limit] + "…"


def parse_limit(raw: str | None) -> Limit:
    """Return the page size: DEFAULT_LIMIT when absent, capped at MAX_LIMIT (the answer then says so)."""
    if raw in (None, ""):
        return Limit(DEFAULT_LIMIT, DEFAULT_LIMIT)
    try:
        value = int(raw) if len(raw) <= 30 else None
    except ValueError:
        value = None
    if value is None or value < 1:
        raise InvalidParameter(f"limit: expected a positive integer, got {_shortened(raw)!r}")
    return Limit(min(value, MAX_LIMIT), value)


def parse_offset(raw: str | None) -> int:
    if raw in (None, ""):
        return 0
    try:
        value = int(raw) if len(raw) <= 30 else None
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_OFFSET:
        raise InvalidParameter(f"offset: expected an integer from 0 to {MAX_OFFSET:,}, got {_shortened(raw)!r}")
    return value


def parse_bbox(raw: str, bbox_crs: OgcCrs) -> GEOSGeometry:
    """Return the area of 'x1,y1,x2,y2' (or 6 numbers with heights) in BBOX_CRS as a polygon in EPSG:3857.

    The numbers follow the axis order of BBOX_CRS (EPSG:4326 is latitude first); in CRS84 a box
    whose west edge lies east of its east edge crosses the antimeridian.
    """
    try:
        values = [float(n) for n in raw.split(",")]
    except ValueError:
        values = []
    if len(values) not in (4, 6) or not all(math.isfinite(v) for v in values):
        raise InvalidParameter(f"bbox: expected 4 or 6 numbers separated by commas, got {_shortened(raw)!r}")
    if len(values) == 6:  # lower corner with height, upper corner with height
        values = [values[0], values[1], values[3], values[4]]
    a1, b1, a2, b2 = values
    minx, miny, maxx, maxy = (b1, a1, b2, a2) if bbox_crs.y_first else (a1, b1, a2, b2)
    if miny > maxy:
        raise InvalidParameter(f"bbox: the lower corner is above the upper one in {_shortened(raw)!r}")
    if bbox_crs.geographic:
        if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
            raise InvalidParameter(f"bbox: longitude must be within ±180 and latitude within ±90, got "
                                   f"{_shortened(raw)!r} (axis order of {bbox_crs.uri})")
        miny, maxy = max(miny, -MERCATOR_MAX_LAT), min(maxy, MERCATOR_MAX_LAT)
        if miny > maxy:
            raise InvalidParameter(f"bbox: {_shortened(raw)!r} lies beyond latitude ±{MERCATOR_MAX_LAT}")
        if minx > maxx:  # across the antimeridian: two boxes
            area = shapely.MultiPolygon([shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy)])
        else:
            area = shapely.box(minx, miny, maxx, maxy)
    else:
        if minx > maxx:
            raise InvalidParameter(f"bbox: the lower corner is right of the upper one in {_shortened(raw)!r}")
        # Edges densified, so that the box keeps its shape once moved to EPSG:3857.
        area = shapely.segmentize(shapely.box(minx, miny, maxx, maxy), max(maxx - minx, maxy - miny) / 16 or 1)
    try:
        moved = gcrs.transform(area, bbox_crs.srid, WEB_MERCATOR)
    except (ValueError, ProjError):  # out of the CRS's area of use
        moved = None
    if moved is None or not shapely.is_valid(moved) or not all(math.isfinite(v) for v in moved.bounds):
        raise InvalidParameter(f"bbox: {_shortened(raw)!r} cannot be placed on the map in {bbox_crs.uri}")
    return GEOSGeometry(memoryview(shapely.to_wkb(moved)), srid=WEB_MERCATOR)


def _instant(text: str, *, end: bool) -> datetime:
    """Return the instant of an RFC 3339 datetime, or of a date (its start or, at an interval's END, its end)."""
    instant = None
    try:
        if len(text) == 10:
            day = parse_date(text)
            if day is not None:
                instant = datetime.combine(day, time.max if end else time.min)
        else:
            instant = parse_datetime(text)
    except ValueError:
        instant = None
    if instant is None:
        raise InvalidParameter(f"datetime: expected an RFC 3339 date-time, a date or an interval a/b with '..' "
                               f"for an open end, got {_shortened(text)!r}")
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def parse_datetime_param(raw: str) -> Interval:
    """Return the instant or interval of the datetime parameter ('t', 'a/b', '../b', 'a/..')."""
    if "/" not in raw:
        return Interval(_instant(raw, end=False), _instant(raw, end=True)) if len(raw) == 10 else \
            Interval(_instant(raw, end=False), _instant(raw, end=False))
    start_raw, _, end_raw = raw.partition("/")
    start = None if start_raw in ("..", "") else _instant(start_raw, end=False)
    end = None if end_raw in ("..", "") else _instant(end_raw, end=True)
    if start is None and end is None:
        raise InvalidParameter("datetime: an interval needs at least one bounded end")
    if start and end and start > end:
        raise InvalidParameter(f"datetime: the interval {_shortened(raw)!r} ends before it starts")
    return Interval(start, end)


def parse_properties(raw: str | None, served: tuple[str, ...]) -> tuple[str, ...]:
    """Return the properties asked for, in the layer's order; every name must be one the layer serves."""
    if raw is None:
        return served
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in served]
    if unknown:
        raise InvalidParameter(f"properties: {_shortened(', '.join(unknown))!r} not served; the properties are "
                               f"{', '.join(served)}")
    return tuple(name for name in served if name in names)


def check_parameters(params, allowed: frozenset[str]) -> None:
    """Refuse a parameter this endpoint does not know (a misspelt 'bbox' must not return everything)."""
    unknown = sorted(name for name in params if name not in allowed)
    if unknown:
        raise InvalidParameter(f"{_shortened(unknown[0])}: unknown parameter; this endpoint takes "
                               f"{', '.join(sorted(allowed))}")

