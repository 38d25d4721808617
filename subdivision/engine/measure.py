"""Pure geometry measurements in a metric CRS: repair, thinness, frontage, depth, road width.

Functions take and return numpy arrays of shapely geometries where they run over many
features, so a plan of 20,000 lots is measured with a handful of vectorized GEOS calls.
"""
from __future__ import annotations

import math
import re

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

EMPTY = shapely.from_wkt("POLYGON EMPTY")
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
# Widths are compared at 1 cm: the opening's diameter is shrunk by half a centimetre so a road
# whose width rounds to the limit passes (11.996 m against 12 m), and one of 11.99 m does not.
WIDTH_PRECISION_M = 0.01
_WIDTH_EPS_M = WIDTH_PRECISION_M / 4  # on the radius
# Mitred buffers keep corners; a high limit keeps them at the acute ends of a road eroded to a
# hair (GEOS's default of 5 bevels them, and the bevel would read as a narrow strip).
MITRE_LIMIT = 1000.0


def polygonal(geom: BaseGeometry | None) -> BaseGeometry:
    """Return the valid polygonal part of ``geom`` (2D), or an empty polygon."""
    if geom is None:
        return EMPTY
    try:
        geom = shapely.force_2d(geom)
        if geom.is_empty:
            return EMPTY
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        if shapely.get_type_id(geom) in _POLYGONAL:
            return geom
        parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in _POLYGONAL]
        if not parts:
            return EMPTY
        merged = shapely.union_all(parts)
        return merged if shapely.get_type_id(merged) in _POLYGONAL else EMPTY
    except shapely.errors.ShapelyError:
        return EMPTY


def repair_all(geoms: list[BaseGeometry | None]) -> np.ndarray:
    """Return valid polygonal versions of ``geoms``; the common case stays vectorized."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = [EMPTY if g is None else g for g in geoms]
    ok = np.isin(shapely.get_type_id(arr), _POLYGONAL) & shapely.is_valid(arr)
    ok &= ~shapely.has_z(arr)
    for i in np.flatnonzero(~ok):
        arr[i] = polygonal(arr[i])
    return arr


def invalidity_point(reason: str) -> BaseGeometry | None:
    """Return the point named in a GEOS validity reason such as ``Self-intersection[5 5]``."""
    match = re.search(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)", reason or "")
    if not match:
        return None
    return shapely.Point(float(match.group(1)), float(match.group(2)))


def thinness(geoms) -> np.ndarray:
    """Return the isoperimetric quotient 4πA/P² (1 for a disk, → 0 for a sliver)."""
    area = shapely.area(geoms)
    perimeter = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * np.pi * area / perimeter**2, 0.0)


def narrower_than(geoms, width_m: float) -> np.ndarray:
    """Return True where a polygon vanishes under a negative buffer of half ``width_m``."""
    eroded = shapely.buffer(geoms, -width_m / 2, join_style="mitre", mitre_limit=MITRE_LIMIT)
    return shapely.is_empty(eroded) | (shapely.area(eroded) == 0)


def opening(geom: BaseGeometry, radius_m: float) -> BaseGeometry:
    """Return the morphological opening (erode then dilate, mitred so corners survive)."""
    eroded = shapely.buffer(geom, -radius_m, join_style="mitre", mitre_limit=MITRE_LIMIT)
    if eroded.is_empty:
        return EMPTY
    return shapely.buffer(eroded, radius_m, join_style="mitre", mitre_limit=MITRE_LIMIT)


def narrow_part(roads, min_width_m):
    """Return the part of each road narrower than ``min_width_m`` (road minus its opening).

    Vectorized over ``roads`` and ``min_width_m`` (scalars or arrays).
    """
    radius = np.maximum(np.asarray(min_width_m, dtype=float) / 2 - _WIDTH_EPS_M, 0.0)
    eroded = shapely.buffer(roads, -radius, join_style="mitre", mitre_limit=MITRE_LIMIT)
    opened = shapely.buffer(eroded, radius, join_style="mitre", mitre_limit=MITRE_LIMIT)
    return shapely.difference(roads, opened)


# A cell whose area is covered to within this by disjoint features has no gap worth drawing.
_SETTLED_M2 = 1e-4


def uncovered(region: BaseGeometry, geoms, tree: shapely.STRtree, per_cell: int = 256,
              check=None, disjoint_areas: np.ndarray | None = None) -> BaseGeometry:
    """Return the part of ``region`` not covered by ``geoms`` without one giant union.

    The region is cut into grid cells of about ``per_cell`` features; each cell subtracts
    the union of its own (clipped) features, so the cost grows linearly with the plan.
    ``disjoint_areas``, given when the features are known not to overlap (and to stick out of the
    region by a negligible area), are their areas: a cell whose features add up to its area is
    then skipped without any union (features wholly inside the cell are not even clipped).
    """
    if region.is_empty:
        return EMPTY
    n = len(geoms)
    if n == 0:
        return region
    k = max(1, math.ceil(math.sqrt(n / per_cell)))
    xmin, ymin, xmax, ymax = region.bounds
    xs = np.linspace(xmin, xmax, k + 1)
    ys = np.linspace(ymin, ymax, k + 1)
    cells = shapely.box(*np.meshgrid(xs[:-1], ys[:-1]), *np.meshgrid(xs[1:], ys[1:])).ravel()
    targets = shapely.intersection(region, cells)
    bounds = shapely.bounds(geoms) if disjoint_areas is not None else None
    pieces = []
    for cell, target in zip(cells, targets):
        if check is not None:
            check("finding uncovered parts of the parent parcels")
        if target.is_empty or target.area == 0:
            continue
        cand = tree.query(cell, predicate="intersects")
        if len(cand) == 0:
            pieces.append(target)
            continue
        if bounds is not None:
            cx0, cy0, cx1, cy1 = cell.bounds
            b = bounds[cand]
            inside = (b[:, 0] >= cx0) & (b[:, 1] >= cy0) & (b[:, 2] <= cx1) & (b[:, 3] <= cy1)
            covered = float(disjoint_areas[cand[inside]].sum())
            covered += float(shapely.area(shapely.intersection(geoms[cand[~inside]], cell)).sum())
            if target.area - covered <= _SETTLED_M2:
                continue
        local = shapely.union_all(shapely.intersection(geoms[cand], cell))
        gap = shapely.difference(target, local)
        if not gap.is_empty and gap.area > 0:
            pieces.append(gap)
    if not pieces:
        return EMPTY
    merged = shapely.union_all(pieces)
    parts, _ = explode_polygons([merged])
    return shapely.multipolygons(parts) if len(parts) else EMPTY


def inscribed_width(geom: BaseGeometry) -> float:
    """Return twice the maximum inscribed circle radius: the widest the polygon gets (±1 mm)."""
    if geom.is_empty or geom.area == 0:
        return 0.0
    return 2.0 * shapely.maximum_inscribed_circle(geom, tolerance=0.0005).length


def local_width(piece: BaseGeometry, road: BaseGeometry, limit_m: float) -> float:
    """Return how wide ``road`` is where its narrow ``piece`` lies (both lower bounds, the larger wins).

    A narrow piece may be the whole road (its inscribed circle is the road's width) or a short
    stretch cut across the road (its inscribed circle is the stretch's length, but the cuts cross
    the road's middle, where the distance to the road's edges is half the width).
    """
    inside = inscribed_width(piece)
    xmin, ymin, xmax, ymax = piece.bounds
    edges = shapely.clip_by_rect(road.boundary, xmin - limit_m, ymin - limit_m, xmax + limit_m, ymax + limit_m)
    if edges.is_empty:
        return inside
    samples = shapely.points(shapely.get_coordinates(shapely.segmentize(piece.boundary, limit_m / 50)))
    across = 2.0 * float(shapely.distance(samples, edges).max()) if len(samples) else 0.0
    return max(inside, min(across, limit_m * 10))


def _ring_segments(polys) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (start xy, end xy, owner index, ring number) of every ring segment, as ``boundary_segments``."""
    polys = np.asarray(polys, dtype=object)
    oriented = shapely.orient_polygons(polys, exterior_cw=False)
    parts, part_owner = shapely.get_parts(oriented, return_index=True)
    is_poly = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    parts, part_owner = parts[is_poly], part_owner[is_poly]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    if len(coords) < 2:
        empty = np.empty((0, 2))
        none = np.empty(0, dtype=np.intp)
        return empty, empty, none, none
    same_ring = coord_ring[:-1] == coord_ring[1:]
    start, end = coords[:-1][same_ring], coords[1:][same_ring]
    ring = coord_ring[:-1][same_ring]
    owner = part_owner[ring_part[ring]]
    keep = np.any(start != end, axis=1)
    return start[keep], end[keep], owner[keep], ring[keep]


def boundary_segments(polys) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (start xy, end xy, owner index) of every ring segment, rings oriented so the
    polygon interior lies on the left of each segment."""
    start, end, owner, _ = _ring_segments(polys)
    return start, end, owner


def _facing_m(start: np.ndarray, end: np.ndarray, access_tree: shapely.STRtree, access, snap_m: float) -> np.ndarray:
    """Return how much of each segment (interior on its left) faces a road or street, shifted out by SNAP_M."""
    vec = end - start
    seg_len = np.hypot(vec[:, 0], vec[:, 1])
    outward = np.column_stack([vec[:, 1], -vec[:, 0]]) / seg_len[:, None]  # right-hand normal
    shifted = shapely.linestrings(np.stack([start + outward * snap_m, end + outward * snap_m], axis=1))
    seg_idx, acc_idx = access_tree.query(shifted, predicate="intersects")
    if len(seg_idx) == 0:
        return np.zeros(len(seg_len))
    pieces = shapely.length(shapely.intersection(shifted[seg_idx], access[acc_idx]))
    facing = np.bincount(seg_idx, weights=pieces, minlength=len(seg_len))
    return np.minimum(facing, seg_len)  # overlapping roads/ROWs must not count twice


def frontage(lots, access_tree: shapely.STRtree, access, snap_m: float):
    """Return per-lot (frontage length m, main frontage unit direction [n, 2]).

    A boundary segment faces a road where, shifted outwards by ``snap_m``, it lies inside a
    road or street polygon. Shifting (rather than buffering the road) keeps the side
    boundaries between neighbouring lots, which run into the road buffer, out of the sum.
    """
    lots = np.asarray(lots, dtype=object)
    n = len(lots)
    frontage_m = np.zeros(n)
    main_dir = np.tile([1.0, 0.0], (n, 1))
    start, end, owner = boundary_segments(lots)
    if len(owner) == 0 or len(access) == 0:
        return frontage_m, main_dir
    vec = end - start
    seg_len = np.hypot(vec[:, 0], vec[:, 1])
    unit = vec / seg_len[:, None]
    facing = _facing_m(start, end, access_tree, access, snap_m)
    if not facing.any():
        return frontage_m, main_dir
    frontage_m = np.bincount(owner, weights=facing, minlength=n)
    # Main frontage direction: the road-facing segment with the longest facing length.
    order = np.lexsort((facing, owner))
    last = np.r_[owner[order][1:] != owner[order][:-1], True]
    best = order[last]
    has = facing[best] > 0
    main_dir[owner[best][has]] = unit[best][has]
    return frontage_m, main_dir


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the z of the cross products of rows of A and B (> 0 where B turns left from A)."""
    return a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]


def cut_corner_frontage_m(lots, access_tree: shapely.STRtree, access, snap_m: float, *, max_leg_m: float,
                          corner_deg: tuple[float, float]) -> np.ndarray:
    """Return per lot the frontage its cut street corners (شطفة) took: the legs to the uncut corner less the chord.

    A cut corner is a lot edge (the chord) between two edges that face a road or street, whose extensions
    meet outside the lot at a corner of ``corner_deg`` (min, max interior angle, degrees) within ``max_leg_m``
    of each end of the chord, on a road or street (within ``snap_m``). Added to ``frontage``, it gives the
    frontage of the lot as if the corner were uncut, however the cut triangle was drawn (given to a road, left
    as open space).
    """
    lots = np.asarray(lots, dtype=object)
    extra_m = np.zeros(len(lots))
    start, end, owner, ring = _ring_segments(lots)
    if len(owner) < 3 or len(access) == 0:
        return extra_m
    k = np.arange(len(owner))
    first = np.r_[0, np.flatnonzero(ring[1:] != ring[:-1]) + 1]
    size = np.diff(np.r_[first, len(ring)])
    ring_first, ring_size = np.repeat(first, size), np.repeat(size, size)
    prev = ring_first + (k - ring_first - 1) % ring_size
    nxt = ring_first + (k - ring_first + 1) % ring_size
    chord = end - start
    chord_m = np.hypot(chord[:, 0], chord[:, 1])
    unit = chord / chord_m[:, None]
    u_in, u_out = unit[prev], unit[nxt]  # the edge running into the chord's start, the one leaving its end
    turn_deg = np.degrees(np.arccos(np.clip((u_in * unit).sum(axis=1), -1, 1))
                          + np.arccos(np.clip((unit * u_out).sum(axis=1), -1, 1)))
    det = _cross(u_in, u_out)
    with np.errstate(divide="ignore", invalid="ignore"):
        # The uncut corner: start + leg_in * u_in == end - leg_out * u_out.
        leg_in_m, leg_out_m = _cross(chord, u_out) / det, _cross(u_in, chord) / det
    slack_m = 0.05  # surveyed legs are drawn to the centimetre; the limit is met to 5 cm
    candidate = ((ring_size >= 4) & (_cross(u_in, unit) > 0) & (_cross(unit, u_out) > 0)
                 & (180 - turn_deg >= corner_deg[0] - 1e-6) & (180 - turn_deg <= corner_deg[1] + 1e-6)
                 & (leg_in_m > 0) & (leg_out_m > 0) & (leg_in_m <= max_leg_m + slack_m)
                 & (leg_out_m <= max_leg_m + slack_m))
    c = np.flatnonzero(candidate)
    if not len(c):
        return extra_m
    corner = start[c] + leg_in_m[c, None] * u_in[c]
    near, _ = access_tree.query(shapely.points(corner), predicate="dwithin", distance=snap_m)
    c = c[np.unique(near)]
    if not len(c):
        return extra_m
    around = np.r_[c, prev[c], nxt[c]]
    facing = _facing_m(start[around], end[around], access_tree, access, snap_m)
    chord_facing, in_facing, out_facing = np.split(facing, 3)
    fronts = (in_facing > 0) & (out_facing > 0)
    c = c[fronts]
    gained = leg_in_m[c] + leg_out_m[c] - chord_facing[fronts]
    return np.bincount(owner[c], weights=gained, minlength=len(lots)).astype(float)


def depth_along(lots, direction) -> np.ndarray:
    """Return each lot's extent perpendicular to its unit ``direction`` (its depth)."""
    lots = np.asarray(lots, dtype=object)
    coords, owner = shapely.get_coordinates(lots, return_index=True)
    n = len(lots)
    if len(coords) == 0:
        return np.zeros(n)
    normal = np.column_stack([-direction[:, 1], direction[:, 0]])[owner]
    proj = np.einsum("ij,ij->i", coords, normal)
    hi = np.full(n, -np.inf)
    lo = np.full(n, np.inf)
    np.maximum.at(hi, owner, proj)
    np.minimum.at(lo, owner, proj)
    return np.where(np.isfinite(hi), hi - lo, 0.0)


def explode_polygons(geoms) -> tuple[np.ndarray, np.ndarray]:
    """Return (polygon parts with area, owner index) of polygonal geometries."""
    parts, owner = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (shapely.area(parts) > 0)
    return parts[keep], owner[keep]
