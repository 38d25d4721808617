"""The parcel list's query parameters, parsed with the shared parameter parsers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gisportal.errors import InvalidParameter
from gisportal.params import (
    parse_as_of,
    parse_bbox,
    parse_choice,
    parse_positive_int,
    parse_srid,
)
from parcels.models import LandUse, ParcelStatus

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


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

