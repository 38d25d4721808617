"""Pure measurements of a parcel, made in a metric CRS (metres), never in degrees."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

GEOD = Geod(ellps="WGS84")
FRONTAGE_TOLERANCE_M = 0.5


@dataclass(frozen=True)
class Edge:
    index: int
    length_m: float
    bearing_deg: float  # true (geodesic) azimuth from north, clockwise, 0 to 360
    on_street: bool


@dataclass(frozen=True)
class ParcelMeasurements:
    area_m2: float
    perimeter_m: float
    frontage_m: float
    depth_m: float | None
    edges: list[Edge]

    def as_dict(self) -> dict:
        return asdict(self)


def geodesic_area_m2(geom_wgs84: BaseGeometry) -> float:
    """Return the area on the WGS 84 ellipsoid of a lon/lat geometry."""
    area, _ = GEOD.geometry_area_perimeter(geom_wgs84)
    return abs(area)


def frontage_line(geom_metric: BaseGeometry, street_rows_metric: BaseGeometry | None,
                  tolerance_m: float = FRONTAGE_TOLERANCE_M) -> BaseGeometry:
    """Return the part of the parcel's boundary that lies on a street right-of-way."""
    if street_rows_metric is None or street_rows_metric.is_empty:
        return shapely.LineString()
    return shapely.intersection(geom_metric.boundary, street_rows_metric.buffer(tolerance_m))


def depth_m(geom_metric: BaseGeometry, frontage: BaseGeometry) -> float | None:
    """Return how far the parcel reaches back from its frontage, perpendicular to it."""
    if frontage.is_empty:
        return None
    coords = np.asarray(shapely.get_coordinates(frontage))
    # Direction of the main frontage: the longest straight piece of it.
    segments = np.stack([coords[:-1], coords[1:]], axis=1) if len(coords) > 1 else None
    if segments is None:
        return None
    lengths = np.linalg.norm(segments[:, 1] - segments[:, 0], axis=1)
    a, b = segments[int(np.argmax(lengths))]
    direction = (b - a) / max(np.linalg.norm(b - a), 1e-9)
    normal = np.array([-direction[1], direction[0]])
    offsets = (np.asarray(shapely.get_coordinates(geom_metric)) - a) @ normal
    return float(offsets.max() - offsets.min())


def measure_parcel(geom_metric: BaseGeometry, geom_wgs84: BaseGeometry,
                   street_rows_metric: BaseGeometry | None = None) -> ParcelMeasurements:
    """Return area, perimeter, edges with length and bearing, frontage and depth of a parcel."""
    frontage = frontage_line(geom_metric, street_rows_metric)
    near_street = (
        street_rows_metric.buffer(FRONTAGE_TOLERANCE_M)
        if street_rows_metric is not None and not street_rows_metric.is_empty else None
    )
    edges: list[Edge] = []
    polygons = list(getattr(geom_metric, "geoms", [geom_metric]))
    polygons_wgs84 = list(getattr(geom_wgs84, "geoms", [geom_wgs84]))
    for poly, poly_wgs84 in zip(polygons, polygons_wgs84):
        ring = np.asarray(poly.exterior.coords)
        ring_wgs84 = np.asarray(poly_wgs84.exterior.coords)
        az, _, _ = GEOD.inv(ring_wgs84[:-1, 0], ring_wgs84[:-1, 1], ring_wgs84[1:, 0], ring_wgs84[1:, 1])
        for i in range(len(ring) - 1):
            segment = shapely.LineString([ring[i], ring[i + 1]])
            on_street = bool(near_street is not None and near_street.contains(segment))
            edges.append(Edge(len(edges), round(segment.length, 3), round(float(az[i]) % 360, 2), on_street))
    depth = depth_m(geom_metric, frontage)
    return ParcelMeasurements(
        area_m2=round(geom_metric.area, 2),
        perimeter_m=round(geom_metric.length, 2),
        frontage_m=round(frontage.length, 2),
        depth_m=round(depth, 2) if depth is not None else None,
        edges=edges,
    )
