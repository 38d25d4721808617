"""Parse and check request parameters shared by every API: a bad one is a 400 that names it."""

from __future__ import annotations

import math
from datetime import datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from pyproj import CRS
from pyproj.exceptions import CRSError

from gisportal.errors import InvalidParameter

# The largest integer parameter (page) taken without a maximum of its own: far past any last page,
# and small enough that offset = (page - 1) × page_size stays within PostgreSQL's bigint.
MAX_INT_PARAMETER = 1_000_000


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """Return (minlon, minlat, maxlon, maxlat) from 'minlon,minlat,maxlon,maxlat'."""
    try:
        values = tuple(float(n) for n in raw.split(","))
    except ValueError:
        raise InvalidParameter(f"bbox: expected four numbers minlon,minlat,maxlon,maxlat, got {raw!r}") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidParameter(f"bbox: expected four numbers minlon,minlat,maxlon,maxlat, got {raw!r}")
    minlon, minlat, maxlon, maxlat = values
    if not (-180 <= minlon <= 180 and -180 <= maxlon <= 180 and -90 <= minlat <= 90 and -90 <= maxlat <= 90):
        raise InvalidParameter(f"bbox: longitude must be within ±180 and latitude within ±90, got {raw!r}")
    if minlon > maxlon or minlat > maxlat:
        raise InvalidParameter(f"bbox: minimum greater than maximum in {raw!r} (order is minlon,minlat,maxlon,maxlat)")
    return values


def parse_as_of(raw: str) -> datetime:
    """Return the instant meant by a date (its end: the state at the close of that day) or a datetime."""
    if len(raw) == 10:
        try:
            day = parse_date(raw) if raw[4:5] == "-" else None
        except ValueError:
            day = None
        if day is None:
            raise InvalidParameter(f"as_of: expected a date YYYY-MM-DD or an ISO 8601 datetime, got {raw!r}")
        # The day's last instant, made without "next day minus 1 µs", which overflows on 9999-12-31.
        return timezone.make_aware(datetime.combine(day, time.max), timezone.get_default_timezone())
    try:
        instant = parse_datetime(raw)
    except ValueError:
        instant = None
    if instant is None:
        raise InvalidParameter(f"as_of: expected a date YYYY-MM-DD or an ISO 8601 datetime, got {raw!r}")
    return instant if timezone.is_aware(instant) else timezone.make_aware(instant)


def parse_srid(raw: str | None) -> int:
    if raw in (None, ""):
        return 4326
    try:
        srid = int(raw)
        CRS.from_epsg(srid)
    except (ValueError, CRSError):
        raise InvalidParameter(f"srid: {raw!r} is not a known EPSG code") from None
    return srid


def parse_positive_int(name: str, raw: str | None, default: int, maximum: int | None = None) -> int:
    """Return RAW as an integer from 1 to MAXIMUM (default MAX_INT_PARAMETER), DEFAULT when absent."""
    maximum = MAX_INT_PARAMETER if maximum is None else maximum
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:  # also a number of more than 4300 digits
        raise InvalidParameter(f"{name}: expected a positive integer, got {_shortened(raw)!r}") from None
    if not 1 <= value <= maximum:
        raise InvalidParameter(f"{name}: must be between 1 and {maximum:,}, got {_shortened(raw)}")
    return value


def _shortened(raw: str, limit: int = 40) -> str:
    return raw if len(raw) <= limit else raw[:limit] + "…"


def parse_choice(name: str, raw: str | None, choices: set[str]) -> str | None:
    if raw in (None, ""):
        return None
    if raw not in choices:
        raise InvalidParameter(f"{name}: {raw!r} is not one of {', '.join(sorted(choices))}")
    return raw
