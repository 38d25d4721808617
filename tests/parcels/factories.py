"""Small parcels and municipalities for tests, built in UTM 38N (Riyadh) and stored through services."""

from __future__ import annotations

import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry

from gisportal import crs
from parcels.services import municipality_create, parcel_create

RIYADH_ORIGIN = (670000.0, 2745000.0)  # EPSG:32638, north Riyadh


def metric_to_storage(geom_metric, srid: int = 32638) -> GEOSGeometry:
    moved = crs.transform(geom_metric, srid, settings.STORAGE_SRID)
    if moved.geom_type == "Polygon":
        moved = shapely.MultiPolygon([moved])
    return GEOSGeometry(memoryview(shapely.to_wkb(moved)), srid=settings.STORAGE_SRID)


def rect(x: float, y: float, w: float, h: float, origin=RIYADH_ORIGIN):
    return shapely.box(origin[0] + x, origin[1] + y, origin[0] + x + w, origin[1] + y + h)


def riyadh(code: str = "RUH"):
    boundary = crs.transform(rect(-5000, -5000, 10000, 10000), 32638, 4326)
    return municipality_create(code=code, name_en="Riyadh test", name_ar="الرياض", boundary_wgs84=boundary,
                               metric_srid=32638)


def make_parcel(municipality, code: str, geom_metric, **fields):
    return parcel_create(municipality=municipality, parcel_code=code, geom=metric_to_storage(geom_metric),
                         **fields)
