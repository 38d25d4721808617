"""A small street block for the permit tests: three 20 × 30 m lots on a 20 m street in UTM 38N (Riyadh)."""

from __future__ import annotations

import shapely
from django.conf import settings
from django.contrib.gis.geos import LineString, MultiLineString

from gisportal import crs
from parcels.models import District, Street, ZoningDistrict
from tests.parcels.factories import (
    RIYADH_ORIGIN,
    make_parcel,
    metric_to_storage,
    rect,
    riyadh,
)

X0, Y0 = RIYADH_ORIGIN


def storage_line(coords) -> MultiLineString:
    line = crs.transform(shapely.LineString([(X0 + x, Y0 + y) for x, y in coords]), 32638, settings.STORAGE_SRID)
    return MultiLineString(LineString(list(line.coords)), srid=settings.STORAGE_SRID)


def build_block():
    """Return the municipality: lots 82-1-1..3 west to east, their south sides on King Fahd Road (20 m)."""
    municipality = riyadh()
    district = District.objects.create(municipality=municipality, code="D1", name_en="Al Malqa", name_ar="الملقا",
                                       geom=metric_to_storage(rect(-500, -500, 1000, 1000)))
    ZoningDistrict.objects.create(municipality=municipality, zone_code="R1", name_en="Residential villas",
                                  name_ar="فلل سكنية", allowed_uses=["residential"],
                                  geom=metric_to_storage(rect(-500, -500, 1000, 1000)))
    for i in range(3):
        make_parcel(municipality, f"82-1-{i + 1}", rect(i * 20, 0, 20, 30), plan_no="82", block_no="1",
                    parcel_no=str(i + 1), district=district, zone_code="R1")
    Street.objects.create(municipality=municipality, name_en="King Fahd Road", name_ar="طريق الملك فهد",
                          row_width_m=20, centreline=storage_line([(-50, -10), (110, -10)]))
    Street.objects.create(municipality=municipality, name_en="Olaya Street", name_ar="شارع العليا",
                          row_width_m=15, centreline=storage_line([(67.5, -50), (67.5, 80)]))
    return municipality


def metric(x: float, y: float) -> tuple[float, float]:
    return X0 + x, Y0 + y


def lonlat_ring(coords) -> list[list[float]]:
    """Return local metric coordinates (metres from the origin) as a closed lon/lat ring."""
    ring = crs.transform(shapely.LineString([metric(x, y) for x, y in coords]), 32638, 4326)
    points = [list(p) for p in ring.coords]
    return points + [points[0]]


def lonlat_box(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [lonlat_ring([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])]}
