"""The geometry of a building permit, in pure functions over shapely geometries in a metric CRS (metres).

Corners, edges with grid bearings, which edges front a street and which is the rear, the setbacks and
the buildable area (the parcel less its setbacks). Nothing here touches Django or the database: the
selectors load the parcel and its streets, these functions measure, the API and the sketch show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from parcels.measurements import facing_lengths

# A vertex that strays less than this from the line through its neighbours is not a corner.
COLLINEAR_TOLERANCE_M = 0.005
# An edge faces a street when more than this share of its length lies along the right-of-way.
FRONTING_SHARE = 0.5
# Non-fronting edges whose outward normal is within this angle of the main frontage's opposite are the rear.
REAR_ANGLE_DEG = 45.0
FRONT, SIDE, REAR = "front", "side", "rear"


@dataclass(frozen=True)
class Corner:
    number: int  # 1, 2, ... clockwise from the north-westmost corner
    x: float  # easting in the metric CRS, metres
    y: float  # northing


@dataclass(frozen=True)
class Street:
    """A street the parcel may front: a centreline (LineString) or a right-of-way (Polygon), in metres."""

    name_en: str
    name_ar: str
    row_width_m: float | None
    geom: BaseGeometry


@dataclass(frozen=True)
class Edge:
    index: int  # position in the clockwise ring, from 0
    from_corner: int
    to_corner: int
    start: tuple[float, float]
    end: tuple[float, float]
    length_m: float
    bearing_deg: float  # grid bearing: from grid north of the metric CRS, clockwise, 0 to 360
    facing_m: float  # the length of the edge that lies along a street right-of-way
    street: Street | None  # the street it fronts, None when it fronts none
    kind: str = SIDE  # front, side or rear

    @property
    def fronts_street(self) -> bool:
        return self.street is not None

    @property
    def segment(self) -> shapely.LineString:
        return shapely.LineString([self.start, self.end])

    @property
    def outward(self) -> np.ndarray:
        """Return the unit normal pointing out of the parcel (left of a clockwise edge)."""
        dx, dy = self.end[0] - self.start[0], self.end[1] - self.start[1]
        return np.array([-dy, dx]) / max(math.hypot(dx, dy), 1e-12)


@dataclass(frozen=True)
class Rules:
    """The building limits of a rule set (PlanningRuleSet's setback and coverage fields)."""

    front_setback_ratio: float = 0.2
    front_setback_max_m: float = 6.0
    side_setback_m: float = 2.0
    rear_setback_m: float = 2.0
    max_coverage_pct: float = 60.0


@dataclass(frozen=True)
class Frontage:
    street: Street
    frontage_m: float
    front_setback_m: float
    edges: tuple[int, ...]  # edge indexes


def grid_bearing_deg(start, end) -> float:
    """Return the bearing from START to END: degrees from grid north, clockwise, 0 to 360.

    >>> grid_bearing_deg((0, 0), (1, 0)), grid_bearing_deg((0, 0), (0, -1))
    (90.0, 180.0)
    """
    return math.degrees(math.atan2(end[0] - start[0], end[1] - start[1])) % 360.0


def clockwise_rings(geom: BaseGeometry) -> list[np.ndarray]:
    """Return each polygon's exterior as clockwise corners (open ring), collinear vertices dropped,
    starting at its north-westmost corner (the largest northing − easting; the most northerly on a tie).

    Holes are left out: corners and edges are the parcel's outer boundary.
    """
    rings = []
    polygons = sorted(shapely.get_parts(geom), key=lambda p: -p.area)
    for polygon in polygons:
        simple = shapely.simplify(polygon, COLLINEAR_TOLERANCE_M, preserve_topology=True)
        if simple.is_empty or simple.geom_type != "Polygon":
            simple = polygon
        oriented = shapely.orient_polygons(simple, exterior_cw=True)
        ring = np.asarray(oriented.exterior.coords)[:-1, :2]
        keep = np.r_[True, np.any(np.abs(np.diff(ring, axis=0)) > 1e-9, axis=1)]
        ring = ring[keep]
        if len(ring) < 3:
            continue
        # Round away the last micrometres so two nearly equal candidates never swap between runs.
        key = np.round(ring[:, 1] - ring[:, 0], 6), np.round(ring[:, 1], 6)
        start = int(np.lexsort((key[1], key[0]))[-1])
        rings.append(np.roll(ring, -start, axis=0))
    return rings


def corners_of(geom: BaseGeometry) -> list[Corner]:
    """Return the parcel's corners, numbered clockwise from the north-westmost, rounded to the millimetre."""
    out = []
    for ring in clockwise_rings(geom):
        for x, y in ring:
            out.append(Corner(len(out) + 1, round(float(x), 3), round(float(y), 3)))
    return out


def street_for(segment: shapely.LineString, outward: np.ndarray, streets: list[Street]) -> Street | None:
    """Return the street an edge fronts: the one nearest the edge's midpoint moved 1 m outwards.

    A centreline counts by its distance less half the street's width (its right-of-way's edge); a
    right-of-way polygon by its own distance. On a tie, a street with an Arabic name wins.
    """
    if not streets:
        return None
    mid = segment.interpolate(0.5, normalized=True)
    probe = shapely.Point(mid.x + outward[0], mid.y + outward[1])

    def gap(street: Street) -> tuple[float, int]:
        distance = street.geom.distance(probe)
        if street.geom.geom_type in ("LineString", "MultiLineString"):
            distance = max(0.0, distance - (street.row_width_m or 0.0) / 2)
        return round(distance, 2), 0 if street.name_ar else 1

    return min(streets, key=gap)


def front_setback_m(row_width_m: float | None, rules: Rules) -> float:
    """Return the front setback on a street: its width × the ratio, at most the maximum.

    A street of unknown width gets the maximum (the safe side).
    """
    if not row_width_m:
        return rules.front_setback_max_m
    return min(rules.front_setback_ratio * row_width_m, rules.front_setback_max_m)


def edges_of(geom: BaseGeometry, *, street_rows: BaseGeometry | None, streets: list[Street]) -> list[Edge]:
    """Return every edge of the parcel's outer boundary, clockwise, with length, grid bearing and street.

    An edge fronts a street when more than half its length lies along the street right-of-way
    (parcels.measurements.facing_lengths, the same test as the parcel's own frontage).
    """
    if street_rows is not None:
        street_rows = shapely.make_valid(street_rows)
    edges: list[Edge] = []
    first = 1
    for ring in clockwise_rings(geom):
        n = len(ring)
        closed = np.vstack([ring, ring[:1]])
        # facing_lengths takes a counter-clockwise ring: reverse it, and the answer, edge for edge.
        facing = facing_lengths(closed[::-1], street_rows)[::-1]
        for k in range(n):
            start, end = tuple(map(float, closed[k])), tuple(map(float, closed[k + 1]))
            length = math.hypot(end[0] - start[0], end[1] - start[1])
            fronts = bool(facing[k] > FRONTING_SHARE * length)
            edge = Edge(len(edges), first + k, first + (k + 1) % n, start, end, length,
                        grid_bearing_deg(start, end), float(facing[k]), None)
            if fronts:
                edge = _with(edge, street=street_for(edge.segment, edge.outward, streets)
                             or Street("", "", None, shapely.LineString()), kind=FRONT)
            edges.append(edge)
        first += n
    return classify_rear(edges)


def _with(edge: Edge, **changes) -> Edge:
    return Edge(**{**edge.__dict__, **changes})


def frontages_of(edges: list[Edge], rules: Rules) -> list[Frontage]:
    """Return the parcel's frontages, one per street, longest first."""
    by_street: dict[tuple, list[Edge]] = {}
    for edge in edges:
        if edge.street is not None:
            by_street.setdefault((edge.street.name_en, edge.street.name_ar, edge.street.row_width_m), []).append(edge)
    out = [Frontage(group[0].street, sum(e.facing_m for e in group), front_setback_m(group[0].street.row_width_m, rules),
                    tuple(e.index for e in group)) for group in by_street.values()]
    return sorted(out, key=lambda f: -f.frontage_m)


def classify_rear(edges: list[Edge]) -> list[Edge]:
    """Mark as rear the edges opposite the longest frontage (within REAR_ANGLE_DEG); the others stay side.

    The main frontage's direction is that of its longest edge. With no edge within the angle, the
    single most nearly opposite edge is the rear. Without any frontage there is no rear.
    """
    fronting = [e for e in edges if e.kind == FRONT]
    if not fronting:
        return edges
    main = frontages_of(edges, Rules())[0]
    longest = max((edges[i] for i in main.edges), key=lambda e: e.length_m)
    opposite = -longest.outward
    others = [e for e in edges if e.kind != FRONT]
    if not others:
        return edges
    alignment = {e.index: float(opposite @ e.outward) for e in others}
    rear = {i for i, a in alignment.items() if a >= math.cos(math.radians(REAR_ANGLE_DEG))}
    if not rear:
        best = max(alignment, key=alignment.get)
        rear = {best} if alignment[best] > 0 else set()
    return [_with(e, kind=REAR) if e.index in rear else e for e in edges]


def setback_of(edge: Edge, rules: Rules) -> float:
    """Return how far a building must keep from EDGE."""
    if edge.kind == FRONT:
        return front_setback_m(edge.street.row_width_m if edge.street else None, rules)
    return rules.rear_setback_m if edge.kind == REAR else rules.side_setback_m


def setback_strip(edge: Edge, distance_m: float) -> BaseGeometry:
    """Return the ground within DISTANCE_M of EDGE (empty for no setback)."""
    if distance_m <= 0:
        return shapely.Polygon()
    return edge.segment.buffer(distance_m, quad_segs=8)


def buildable_area(geom: BaseGeometry, edges: list[Edge], rules: Rules) -> BaseGeometry:
    """Return the parcel less its setbacks: every point at least each edge's setback from that edge."""
    strips = [setback_strip(e, setback_of(e, rules)) for e in edges]
    keep_out = shapely.union_all(strips) if strips else shapely.Polygon()
    return shapely.make_valid(shapely.difference(geom, keep_out))


def max_coverage_m2(area_m2: float, rules: Rules) -> float:
    return area_m2 * rules.max_coverage_pct / 100.0
