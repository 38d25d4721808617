"""Parse and check the query parameters of the parcel API: a bad one is a 400 that names it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from pyproj import CRS
from pyproj.exceptions import CRSError

from gisportal.errors import InvalidParameter
from parcels.models import LandUse, ParcelStatus

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
# The largest integer parameter (page) taken without a maximum of its own: far past any last page,
# and small enough that offset = (page - 1) × page_size stays within PostgreSQL's bigint.
MAX_INT_PARAMETER = 1_000_000  # as gisportal.pagination.MAX_PAGE


@dataclass(frozen=True)
class ParcelQuery:
    bbox: tuple[float, float, float, float] | None = None
    municipality: str | None = None
    district: str | None = None
    land_use: str | None = None
    status: str | None = None
    as_of: datetime | None = None
    srid: int = 4326
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE


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


KNOWN = {"bbox", "municipality", "district", "land_use", "status", "as_of", "srid", "page", "page_size"}


def parse_parcel_query(params) -> ParcelQuery:
    """Return the ParcelQuery of a request's query parameters, or raise InvalidParameter."""
    unknown = sorted(set(params) - KNOWN)
    if unknown:
        raise InvalidParameter(f"{unknown[0]}: unknown parameter; known ones are {', '.join(sorted(KNOWN))}")
    return ParcelQuery(
        bbox=parse_bbox(params["bbox"]) if params.get("bbox") else None,
        municipality=params.get("municipality") or None,
        district=params.get("district") or None,
        land_use=parse_choice("land_use", params.get("land_use"), {c.value for c in LandUse}),
        status=parse_choice("status", params.get("status"), {c.value for c in ParcelStatus} | {"all"}),
        as_of=parse_as_of(params["as_of"]) if params.get("as_of") else None,
        srid=parse_srid(params.get("srid")),
        page=parse_positive_int("page", params.get("page"), 1),
        page_size=parse_positive_int("page_size", params.get("page_size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
    )

