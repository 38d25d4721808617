"""Draw one candidate layout of a parent parcel: roads, lots cut along them, open space (pure, metres).

The candidate is drawn in a frame turned by ``angle_deg`` so the parallel roads run along the u axis:
roads of the road width every two lot depths (rows of lots back to back between them), optionally a spine
road across them, every road cut to the parent and kept only where it is full width and reaches a street
right-of-way. Each row of lots fronts the road beside it and is cut into lots of the lot width; a piece
that fails a lot rule is merged with its neighbour in the row when that passes, else it becomes open space.
Corners where a lot fronts two streets are truncated. Lots then become open space, largest first, until the
public share is reached.
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
import shapely.affinity
import shapely.errors
from shapely.geometry.base import BaseGeometry

from subdivision.engine import RuleSet, measure
from subdivision.engine.rules.corners import (
    PROBE_ALONG_M,
    PROBE_OUT_M,
    corner_vertices,
    truncation_leg_m,
)

from .lots import Access, is_sliver, lots_pass
from .targets import AREA_MARGIN, Dimensions

CONNECT_M = 2.0  # a road within this of a street right-of-way is connected to it
MIN_PIECE_M2 = 1e-4
# Interior angles read as a street corner (the engine's CORNER_TRUNCATION checks 60° to 119°).
CORNER_MIN_ANGLE_DEG = 55.0
CORNER_MAX_ANGLE_DEG = 125.0


@dataclass(frozen=True)
class Candidate:
    angle_deg: float
    offset_v: float  # where the first road falls, as a share of the road spacing
    offset_u: float  # where the first lot line falls, as a share of the lot width
    spine_u: float | None = None  # where the spine road crosses, as a share of the parent's u extent


@dataclass
class Drawn:
    candidate: Candidate
    lots: list = field(default_factory=list)
    roads: list = field(default_factory=list)
    open_spaces: list = field(default_factory=list)


def _facing_points(starts, ends, access_union, snap_m: float) -> np.ndarray:
    """Return True where the segment START-END (interior on its left) faces ACCESS_UNION all along.

    Five points along the segment, moved outwards by half the snap distance, must lie in a street.
    """
    d = ends - starts
    length = np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-12)
    normal = np.column_stack([d[:, 1], -d[:, 0]]) / length[:, None]
    fractions = np.array([0.05, 0.3, 0.5, 0.7, 0.95])
    pts = starts[:, None, :] + d[:, None, :] * fractions[None, :, None] + normal[:, None, :] * (snap_m / 2)
    inside = shapely.intersects_xy(access_union, pts[..., 0].ravel(), pts[..., 1].ravel())
    return inside.reshape(len(starts), len(fractions)).all(axis=1)


def _probes_street(v: np.ndarray, along: np.ndarray, length: np.ndarray, side: float, access_union,
                   snap_m: float) -> np.ndarray:
    """Return True where the edge leaving corner V along unit ALONG (LENGTH long) fronts a street as the engine's
    CORNER_TRUNCATION reads it: the point PROBE_ALONG_M along it (at most half way), moved PROBE_OUT_M outwards,
    lies within SNAP_M of a street. SIDE is 1 where the interior lies left of ALONG, -1 where it lies right."""
    base = v + along * np.minimum(PROBE_ALONG_M, length / 2)[:, None]
    outward = side * np.column_stack([along[:, 1], -along[:, 0]])
    probe = base + outward * PROBE_OUT_M
    return shapely.dwithin(access_union, shapely.points(probe), snap_m)


def truncate_corners(pieces: list, access_union, own_roads_union, rules: RuleSet,
                     road_width_m: float) -> tuple[list, list]:
    """Return PIECES with every street corner cut, and the triangles cut (each a polygon).

    A corner is cut where both its edges front a street near the corner, the corner touches a street and its
    interior angle is a real corner (as the engine's CORNER_TRUNCATION rule reads them); the legs follow the
    wider street: the layout's road width when both are its own roads, else the largest leg (a right-of-way's
    width is not known here), never more than half an edge.
    """
    arr = np.empty(len(pieces), dtype=object)
    arr[:] = list(pieces)
    if not len(arr) or access_union.is_empty:
        return list(pieces), []
    single = np.flatnonzero(shapely.get_type_id(arr) == shapely.GeometryType.POLYGON)
    out = list(pieces)
    found = corner_vertices(arr[single], CORNER_MIN_ANGLE_DEG, CORNER_MAX_ANGLE_DEG, min_edge_m=1e-6) \
        if len(single) else None
    if found is None:
        return out, []
    piece_of, _, v, ua, ub, la, lb, _ = found
    near = shapely.dwithin(access_union, shapely.points(v), rules.frontage_snap_m)
    if not near.any():
        return out, []
    piece_of, v, ua, ub, la, lb = single[piece_of[near]], v[near], ua[near], ub[near], la[near], lb[near]
    leg_max = rules.corner_truncation_max_m
    in_a = v + ua * np.minimum(la, leg_max + 1.0)[:, None]
    out_b = v + ub * np.minimum(lb, leg_max + 1.0)[:, None]
    # Edge prev->v runs into the corner and v->next leaves it; the interior lies on their left.
    snap = rules.frontage_snap_m
    # The engine's own test of a street corner (CORNER_TRUNCATION): a point on each edge, moved out, near a street.
    front = (_probes_street(v, ua, la, -1.0, access_union, snap)
             & _probes_street(v, ub, lb, 1.0, access_union, snap))
    if own_roads_union.is_empty:
        own = np.zeros(len(v), dtype=bool)
    else:
        own = _facing_points(in_a, v, own_roads_union, snap) & _facing_points(v, out_b, own_roads_union, snap)
    by_piece: dict[int, list] = {}
    for k in np.flatnonzero(front):
        leg = truncation_leg_m(rules, road_width_m) if own[k] else leg_max
        leg = min(leg, la[k] / 2, lb[k] / 2)
        tri = shapely.Polygon([v[k], v[k] + ua[k] * leg, v[k] + ub[k] * leg])
        by_piece.setdefault(int(piece_of[k]), []).append(tri)
    triangles = []
    for j, tris in by_piece.items():
        out[j] = measure.polygonal(shapely.difference(out[j], shapely.union_all(tris)))
        triangles += [(j, t) for t in tris]
    return out, triangles


def _no_check(stage: str) -> None:
    return None


def draw(parent: BaseGeometry, street_rows: list, rules: RuleSet, dims: Dimensions, cand: Candidate,
         check: Callable[[str], None] = _no_check) -> Drawn:
    """Return the candidate's lots, roads and open spaces, in the parent's CRS.

    CHECK is called between steps (an engine ``Budget.check``): it raises to stop a drawing that runs too long.
    """
    origin = parent.centroid
    turn = lambda g: shapely.affinity.rotate(g, -cand.angle_deg, origin=origin)
    back = lambda g: shapely.affinity.rotate(g, cand.angle_deg, origin=origin)
    out = Drawn(cand)
    P = turn(parent)
    shapely.prepare(P)
    rows = [turn(s) for s in street_rows]
    rows_union = shapely.union_all(rows) if rows else shapely.Polygon()
    umin, vmin, umax, vmax = P.bounds
    R, D, W, p = dims.road_width_m, dims.lot_depth_m, dims.lot_width_m, dims.period_m
    v0 = vmin - cand.offset_v * p
    ks = range(-1, math.ceil((vmax - v0) / p) + 1)

    # Roads: the parallel ones, and a spine across them; full width only, and only where they reach a street.
    road_boxes = [shapely.box(umin - 1, v0 + k * p + D, umax + 1, v0 + k * p + D + R) for k in ks]
    if cand.spine_u is not None:
        us = umin + cand.spine_u * (umax - umin) - R / 2
        road_boxes.append(shapely.box(us, vmin - 1, us + R, vmax + 1))
    roads = shapely.intersection(shapely.union_all(road_boxes), P)
    roads = measure.polygonal(shapely.intersection(measure.opening(roads, R / 2 - 0.05), roads))
    near = rows_union.buffer(CONNECT_M) if not rows_union.is_empty else shapely.Polygon()
    parts, _ = measure.explode_polygons(np.array([roads], dtype=object))
    kept = [g for g in parts if g.area > 1.0 and not near.is_empty and g.intersects(near)]
    roads_union = shapely.union_all(kept) if kept else shapely.Polygon()
    land = measure.polygonal(shapely.difference(P, roads_union)) if kept else P

    # Rows of lots: below each road (fronting it upwards) and above it.
    u0 = umin - cand.offset_u * W
    n_u = math.ceil((umax - u0) / W) + 1
    us_ = [(u0 + j * W, u0 + (j + 1) * W) for j in range(n_u)]
    bands = []
    for k in ks:
        base = v0 + k * p
        bands.append((base, base + D))
        bands.append((base + D, base + D + R))  # a road's band, where the road was cut away
        bands.append((base + D + R, base + 2 * D + R))
    pieces, band_of, order = [], [], []
    for b, (va, vb) in enumerate(bands):
        check("cutting the rows of lots")
        if vb < vmin or va > vmax:
            continue
        # The row's strip of land first (fast), then its cells, so no cell meets the whole parcel's outline.
        try:
            strip = shapely.clip_by_rect(land, umin - 1, va, umax + 1, vb)
        except shapely.errors.GEOSException:  # clip_by_rect refuses some valid rings; the overlay does not
            strip = measure.polygonal(shapely.intersection(land, shapely.box(umin - 1, va, umax + 1, vb)))
        if strip.is_empty:
            continue
        shapely.prepare(strip)
        cells = np.array([shapely.box(ua, va, ub, vb) for ua, ub in us_], dtype=object)
        hit = np.flatnonzero(shapely.intersects(strip, cells))
        parts, owner = measure.explode_polygons(shapely.intersection(cells[hit], strip))
        for part, j in zip(parts, hit[owner]):
            if part.area > MIN_PIECE_M2:
                pieces.append(part)
                band_of.append(b)
                order.append(int(j))

    access = Access(kept, rows)
    access_union = shapely.union_all(list(access.geoms)) if len(access.geoms) else shapely.Polygon()
    shapely.prepare(access_union)
    shapely.prepare(roads_union)
    # The cut triangles become open space: joined to a road they would read as a narrow piece of it.
    cut_pieces, triangles = truncate_corners(pieces, access_union, roads_union, rules, R)
    triangles_open = [t for t in (shapely.intersection(t, pieces[j]) for j, t in triangles) if t.area > MIN_PIECE_M2]
    pieces = cut_pieces
    ok = lots_pass(pieces, access, rules) if pieces else np.zeros(0, dtype=bool)

    # Walk each row in order: a failing piece joins the next piece, or the previous lot, when the union passes.
    lots, remnants = [], list(triangles_open)
    min_area = rules.min_lot_area_m2 * AREA_MARGIN

    def passes(merged) -> bool:
        # Area and shape first (cheap): most unions of boundary scraps fail there, before the frontage is measured.
        return (merged.geom_type == "Polygon" and merged.area >= min_area
                and bool(lots_pass([merged], access, rules)[0]))
    by_band: dict[int, list[int]] = {}
    for i, b in enumerate(band_of):
        by_band.setdefault(b, []).append(i)
    for b, idx in by_band.items():
        check("merging the pieces of each row")
        idx.sort(key=lambda i: (order[i], pieces[i].centroid.x))
        row: list = []
        pending = None
        for i in idx:
            g = pieces[i]
            if pending is not None:
                merged = measure.polygonal(shapely.union(pending, g))
                if passes(merged):
                    row.append(merged)
                    pending = None
                    continue
                if row and row[-1].intersects(pending):
                    merged = measure.polygonal(shapely.union(row[-1], pending))
                    if passes(merged):
                        row[-1] = merged
                        pending = None
                if pending is not None:
                    remnants.append(pending)
                    pending = None
            if ok[i]:
                row.append(g)
            else:
                pending = g
        if pending is not None:
            merged = measure.polygonal(shapely.union(row[-1], pending)) if row else None
            if merged is not None and passes(merged):
                row[-1] = merged
            else:
                remnants.append(pending)
        lots.extend(row)

    open_parts = _parts(remnants)
    grid = [shapely.box(ua, va, ub, vb) for ua, ub in us_ for va, vb in bands]
    lots, open_parts, kept = _absorb_slivers(lots, open_parts, kept, access, rules, grid, check)
    lots, open_parts = _reach_share(lots, open_parts, kept, P.area, dims.public_share_pct)
    out.lots = [back(g) for g in lots]
    out.roads = [back(g) for g in kept]
    out.open_spaces = [back(g) for g in open_features(open_parts, rules)]
    return out


def _parts(geoms: list) -> list:
    """Return the polygons of the union of GEOMS."""
    if not geoms:
        return []
    parts, _ = measure.explode_polygons(np.array([shapely.union_all(geoms)], dtype=object))
    return [g for g in parts if g.area > MIN_PIECE_M2]


def open_features(pieces: list, rules: RuleSet) -> list:
    """Return open spaces: PIECES joined where they touch, except where the join would be a sliver (a long
    strip), which stays in its pieces."""
    out = []
    arr = np.empty(len(pieces), dtype=object)
    arr[:] = list(pieces)
    tree = None
    for part in _parts(pieces):
        if not is_sliver(part, rules):
            out.append(part)
            continue
        tree = tree or shapely.STRtree(arr)  # a 100 ha layout has thousands of pieces: look up, never scan
        near = arr[tree.query(part, predicate="intersects")]
        mine = [measure.polygonal(g) for g in shapely.intersection(near, part)]
        out += [g for g in mine if g.area > MIN_PIECE_M2]
    return out


def _absorb_slivers(lots: list, open_parts: list, roads: list, access: Access, rules: RuleSet, grid: list,
                    check: Callable[[str], None] = _no_check):
    """Give open-space parts the engine would call slivers to the neighbouring lots, cut by the lot grid.

    A long strip (along the parent's edge, say) is cut at the lot lines; each piece joins the lot it shares
    most boundary with when that lot still passes, else stays open space on its own (short, so not thin).
    """
    keep = []
    tree = shapely.STRtree(grid)
    lot_tree = shapely.STRtree(lots)  # merged lots only grow, so their old shapes still find their neighbours
    for part in open_parts:
        check("giving slivers to their neighbours")
        if not is_sliver(part, rules):
            keep.append(part)
            continue
        chunks = [g for g in shapely.intersection(np.asarray(grid, dtype=object)[tree.query(part)], part)
                  if not g.is_empty and g.area > MIN_PIECE_M2]
        left = []
        for chunk in (measure.polygonal(c) for c in chunks):
            shared = [(shapely.intersection(chunk.boundary, lots[i].boundary).length, int(i))
                      for i in lot_tree.query(chunk, predicate="dwithin", distance=1e-6)]
            done = False
            for length, i in sorted(shared, reverse=True):
                if length <= 1e-6:
                    break
                merged = measure.polygonal(shapely.union(lots[i], chunk))
                if merged.geom_type == "Polygon" and lots_pass([merged], access, rules)[0]:
                    lots[i] = merged
                    done = True
                    break
            if not done:
                left.append(chunk)
        keep += left
    return lots, open_features(keep, rules), roads


def _reach_share(lots: list, open_parts: list, roads: list, parent_area: float, share_pct: float):
    """Turn lots into open space, largest first (fewest lots lost), until the public share is reached."""
    public = sum(g.area for g in roads) + sum(g.area for g in open_parts)
    need = share_pct / 100 * parent_area - public
    if need <= 0:
        return lots, open_parts
    area = [g.area for g in lots]
    # Lots by area, ties first drawn last, so the last is the largest and the first drawn of its size (one sort,
    # not a scan of every lot per lot given up: a 100 ha layout gives up hundreds).
    order = sorted(range(len(lots)), key=lambda k: (area[k], -k))
    sizes = [area[k] for k in order]
    gone: set[int] = set()
    while need > 0 and order:
        # The smallest lot that closes the gap (the first drawn of its size), else the largest (fewest lots lost
        # either way).
        j = len(order) - 1 if sizes[-1] < need else bisect.bisect_right(sizes, sizes[bisect.bisect_left(sizes, need)]) - 1
        i = order.pop(j)
        sizes.pop(j)
        gone.add(i)
        need -= area[i]
    return [g for i, g in enumerate(lots) if i not in gone], open_parts + [lots[i] for i in sorted(gone)]
