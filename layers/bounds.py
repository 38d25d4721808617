"""A layer's bounding box in longitude/latitude: TileJSON bounds and OGC API collection extents."""

from __future__ import annotations

import math

from django.contrib.gis.db.models import Extent

from layers.registry import Layer

EARTH_RADIUS_M = 6378137.0


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Return EPSG:3857 metres X, Y as longitude, latitude (EPSG:4326, spherical Mercator inverse)."""
    lon = math.degrees(x / EARTH_RADIUS_M)
    lat = math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS_M)) - math.pi / 2)
    return lon, lat


def layer_bounds(layer: Layer) -> list[float] | None:
    """Return [west, south, east, north] of LAYER's rows in EPSG:4326, or None when it has none."""
    box = layer.rows().order_by().aggregate(box=Extent(layer.geometry_field))["box"]
    if box is None:
        return None
    west, south = lonlat(box[0], box[1])
    east, north = lonlat(box[2], box[3])
    return [round(west, 7), round(south, 7), round(east, 7), round(north, 7)]
