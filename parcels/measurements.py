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


def ring_measures(xy: np.ndarray, index: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the area and perimeter of each of COUNT geometries whose coordinates are one closed ring:
    XY (n x 2, metric) with INDEX, the geometry of each coordinate (ascending), as
    shapely.get_coordinates(..., return_index=True) gives them. What the geometries hold besides
    one ring (holes, more parts) is not told apart: the caller picks the single rings.

    Shoelace and segment lengths over whole arrays, each ring's coordinates taken from its first
    vertex (as GEOS does, for precision far from the CRS origin).

    >>> square = np.array([[500_000, 4e6], [500_010, 4e6], [500_010, 4e6 + 10], [500_000, 4e6 + 10], [500_000, 4e6]])
    >>> ring_measures(square, np.zeros(5, dtype=int), 1)
    (array([100.]), array([40.]))
    """
    if not len(xy):
        return np.zeros(count), np.zeros(count)
    first = np.searchsorted(index, np.arange(count)).clip(max=len(xy) - 1)
    local = xy - xy[first[index]]
    same = index[1:] == index[:-1]  # consecutive coordinates of one ring: an edge
    edge_of = index[:-1][same]
    x, y = local[:, 0], local[:, 1]
    cross = (x[:-1] * y[1:] - x[1:] * y[:-1])[same]
    area = np.abs(np.bincount(edge_of, weights=cross, minlength=count)) / 2
    steps = np.diff(xy, axis=0)[same]
    perimeter = np.bincount(edge_of, weights=np.hypot(steps[:, 0], steps[:, 1]), minlength=count)
    return area, perimeter


def facing_lengths(ring, street_rows_metric: BaseGeometry | None,
                   tolerance_m: float = FRONTAGE_TOLERANCE_M) -> np.ndarray:
    """Return, for each edge of a counter-clockwise ring, the length of it that faces a street.

    An edge faces a street where, shifted outwards by the tolerance, it lies on the right-of-way.
    Shifting rather than buffering the street keeps side boundaries between neighbours out.
    """
    start, end = ring[:-1], ring[1:]
    vec = end - start
    length = np.hypot(vec[:, 0], vec[:, 1])
    if street_rows_metric is None or street_rows_metric.is_empty:
        return np.zeros(len(length))
    outward = np.column_stack([vec[:, 1], -vec[:, 0]]) / np.maximum(length, 1e-12)[:, None] * tolerance_m
    shifted = shapely.linestrings(np.stack([start + outward, end + outward], axis=1))
    return np.minimum(shapely.length(shapely.intersection(shifted, street_rows_metric)), length)


def depth_m(geom_metric: BaseGeometry, direction: np.ndarray) -> float:
    """Return how far the parcel reaches perpendicular to its main frontage DIRECTION (a unit vector)."""
    normal = np.array([-direction[1], direction[0]])
    offsets = np.asarray(shapely.get_coordinates(geom_metric)) @ normal
    return float(offsets.max() - offsets.min())


def measure_parcel(geom_metric: BaseGeometry, geom_wgs84: BaseGeometry,
                   street_rows_metric: BaseGeometry | None = None) -> ParcelMeasurements:
    """Return area, perimeter, edges with length and bearing, frontage and depth of a parcel."""
    edges: list[Edge] = []
    frontage_total, best_facing, best_direction = 0.0, 0.0, None
    oriented = shapely.orient_polygons(geom_metric, exterior_cw=False)
    polygons = list(getattr(oriented, "geoms", [oriented]))
    polygons_wgs84 = list(getattr(geom_wgs84, "geoms", [geom_wgs84]))
    if street_rows_metric is not None:
        street_rows_metric = shapely.make_valid(street_rows_metric)
    for poly, poly_wgs84 in zip(polygons, polygons_wgs84):
        ring = np.asarray(poly.exterior.coords)
        # Bearings come from the lon/lat ring, which shares vertex order unless orientation flipped it.
        ring_wgs84 = np.asarray(shapely.orient_polygons(poly_wgs84, exterior_cw=False).exterior.coords)
        az, _, _ = GEOD.inv(ring_wgs84[:-1, 0], ring_wgs84[:-1, 1], ring_wgs84[1:, 0], ring_wgs84[1:, 1])
        facing = facing_lengths(ring, street_rows_metric)
        lengths = np.hypot(*(ring[1:] - ring[:-1]).T)
        for i, (length, face) in enumerate(zip(lengths, facing)):
            edges.append(Edge(len(edges), round(float(length), 3), round(float(az[i]) % 360, 2),
                              bool(face > 0.5 * length)))
            if face > best_facing:
                best_facing, best_direction = face, (ring[i + 1] - ring[i]) / length
        frontage_total += float(facing.sum())
    depth = depth_m(geom_metric, best_direction) if best_direction is not None else None
    return ParcelMeasurements(
        area_m2=round(geom_metric.area, 2),
        perimeter_m=round(geom_metric.length, 2),
        frontage_m=round(frontage_total, 2),
        depth_m=round(depth, 2) if depth is not None else None,
        edges=edges,
    )
