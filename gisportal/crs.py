"""Coordinate reference systems: the storage SRID, metric CRSs, and cached transformers."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from django.conf import settings
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = 4326


def storage_srid() -> int:
    return settings.STORAGE_SRID


def utm_srid_for(lon: float, lat: float) -> int:
    """Return the EPSG code of the WGS 84 UTM zone containing (lon, lat).

    >>> utm_srid_for(46.7, 24.8)   # Riyadh
    32638
    >>> utm_srid_for(-71.1, 42.37)  # Cambridge, Massachusetts
    32619
    """
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"not a longitude/latitude: ({lon}, {lat})")
    zone = min(int((lon + 180) // 6) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


@lru_cache(maxsize=64)
def transformer(source_srid: int, target_srid: int) -> Transformer:
    """Return a transformer from one EPSG code to another, x/y in lon/lat (GIS) order."""
    return Transformer.from_crs(CRS.from_epsg(source_srid), CRS.from_epsg(target_srid), always_xy=True)


def transform(geom, source_srid: int, target_srid: int):
    """Return GEOM (a shapely geometry or an array of them) moved from one CRS to another."""
    if source_srid == target_srid:
        return geom
    return shapely.transform(geom, lambda xy: transform_xy(xy, source_srid, target_srid))


def transform_xy(xy: np.ndarray, source_srid: int, target_srid: int) -> np.ndarray:
    """Return the coordinates XY (n x 2) moved from one CRS to another."""
    if source_srid == target_srid:
        return xy
    x, y = transformer(source_srid, target_srid).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def transform_bounds(bounds, source_srid: int, target_srid: int) -> tuple[float, float, float, float]:
    """Return the bounds, in TARGET_SRID, of the box BOUNDS (minx, miny, maxx, maxy) in SOURCE_SRID.

    The box's edges are densified, so the result holds everything inside the box; it costs a few
    dozen points instead of transforming every geometry only to take their bounds.
    """
    if source_srid == target_srid:
        return tuple(float(v) for v in bounds)
    return transformer(source_srid, target_srid).transform_bounds(*bounds, densify_pts=21)


def is_geographic(srid: int) -> bool:
    return CRS.from_epsg(srid).is_geographic


def to_wgs84(geom: BaseGeometry, source_srid: int) -> BaseGeometry:
    return transform(geom, source_srid, WGS84)


def from_geos(geom, target_srid: int) -> BaseGeometry:
    """Return a GeoDjango geometry as a shapely one in TARGET_SRID."""
    return transform(shapely.from_wkb(bytes(geom.wkb)), geom.srid, target_srid)
