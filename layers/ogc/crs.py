"""Coordinate reference systems of OGC API Features Part 2: the URIs served and their axis order.

Every collection is offered in CRS84 (longitude, latitude: the default), EPSG:4326 (latitude,
longitude: the axis order its definition gives, as Part 2 requires), EPSG:3857 (the storage CRS)
and the metric CRS of each municipality (its UTM zone). Axis order is read from the CRS itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pyproj import CRS

from gisportal.errors import InvalidParameter

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"
WGS84 = 4326
WEB_MERCATOR = 3857


@dataclass(frozen=True)
class OgcCrs:
    """A CRS as OGC API names it: URI, the EPSG code to compute in, and whether Y (latitude/northing) comes first."""

    uri: str
    srid: int
    y_first: bool = False

    @property
    def geographic(self) -> bool:
        return self.srid == WGS84

    @property
    def decimals(self) -> int:
        """Decimal digits written: 7 for degrees (about 1 cm), 3 for metres (1 mm)."""
        return 7 if self.geographic else 3


CRS84 = OgcCrs(CRS84_URI, WGS84, y_first=False)


@lru_cache(maxsize=64)
def epsg_crs(srid: int) -> OgcCrs:
    """Return EPSG:SRID with its axis order as defined by EPSG (4326 is latitude first)."""
    axes = CRS.from_epsg(srid).axis_info
    y_first = bool(axes) and axes[0].direction.lower() in ("north", "south")
    return OgcCrs(f"{EPSG_URI_PREFIX}{srid}", srid, y_first=y_first)


def metric_srids() -> list[int]:
    """Return the metric CRSs (UTM zones) of the municipalities, as EPSG codes."""
    from parcels.selectors import municipality_metric_srids

    return list(municipality_metric_srids())


def supported_crs() -> list[OgcCrs]:
    """Return the CRSs every collection is served in, CRS84 first (the default)."""
    codes = [WGS84, WEB_MERCATOR, *(s for s in metric_srids() if s not in (WGS84, WEB_MERCATOR))]
    return [CRS84, *(epsg_crs(code) for code in codes)]


def parse_crs(name: str, raw: str | None, supported: list[OgcCrs]) -> OgcCrs:
    """Return the CRS named by the URI RAW (CRS84 when absent); a CRS not offered is a 400 naming NAME."""
    if raw in (None, ""):
        return CRS84
    uri = raw.strip()
    if uri.startswith("[") and uri.endswith("]"):  # the safe CURIE form [EPSG:4326]
        uri = uri[1:-1]
    if uri.upper().startswith("EPSG:"):
        uri = EPSG_URI_PREFIX + uri[5:]
    if uri.upper() in ("OGC:CRS84", "CRS84"):
        uri = CRS84_URI
    for crs in supported:
        if crs.uri == uri:
            return crs
    shown = raw if len(raw) <= 80 else raw[:80] + "…"
    raise InvalidParameter(f"{name}: {shown!r} is not offered; use one of {', '.join(c.uri for c in supported)}")
