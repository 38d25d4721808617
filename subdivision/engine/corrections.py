"""Suggested corrections: snap a plan's drafting errors away, and attach the fix to each finding it closes.

A GAP, OVERLAP, SLIVER or OUTSIDE_PARENT finding is drafting error when it can be closed by moving no vertex
further than the rule set's ``snap_tolerance_m`` (0.5 m by default). Such findings get a ``correction``: the
corrected geometries of the features involved and the largest vertex move; larger ones get ``correction_note``
saying how far a vertex would have to move.

How the plan is corrected (pure, metric CRS):
1. Each correctable finding's size is measured first: the width of a gap, overlap or sliver (twice its
   inscribed circle's radius: closing it moves one side that far) and, for a part outside the parents, how far
   its furthest vertex lies from them. Only findings within the tolerance are corrected, and only vertices
   within the tolerance of their locations move, so nothing else in the plan changes.
2. A sliver part (narrower than the tolerance) of a feature that has other parts is handed to the feature it
   shares most boundary with.
3. The vertices near those findings are snapped, feature by feature in file order: to a vertex of the parents'
   boundary or of an existing neighbouring parcel within the tolerance, else to one of the plan's other
   features (never off the parents' boundary), else onto the nearest point of those boundaries' edges, else of
   the other features' edges. A vertex that lies on an existing neighbouring parcel's boundary never moves.
   Reference vertices within the tolerance of an edge are inserted into it, so edges that bend follow each
   other vertex for vertex. A feature that would move by less than a millimetre is left as drawn.
4. A finding gets its correction when the snapped features close it (what is left is within the rule set's
   gap/overlap tolerance) with no vertex moved further than the snap tolerance; otherwise a note says why.

GEOS's coverage functions were tried first: shapely 2.1.2 on GEOS 3.13.1 has ``coverage_is_valid``,
``coverage_invalid_edges``, ``coverage_simplify`` and ``coverage_union``, but no coverage cleaner (GEOS 3.14's
``CoverageCleaner`` is not exposed by shapely 2.1). ``coverage_simplify`` simplifies a coverage that is already
valid and leaves gaps and overlaps as they are; ``coverage_invalid_edges`` only locates what this module must
close anyway, and says nothing about the parents' boundary or the neighbouring parcels. ``shapely.snap`` snaps
vertex to vertex only (a lot corner 0.3 m outside the middle of a parent's straight edge does not move) and
cannot keep a vertex pinned to a neighbour, so the snapping here is written out, with ``shapely`` doing the
geometry (nearest points on edges, validity repair).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from . import measure
from .budget import UNLIMITED, Budget
from .context import PlanContext
from .findings import CorrectedFeature, Correction, Finding
from .registry import Prepared
from .rules.corners import cut_corners

SNAPPED_CODES = ("GAP", "OVERLAP", "SLIVER", "OUTSIDE_PARENT")
TRUNCATION_CODE = "CORNER_TRUNCATION"
ON_LINE_M = 1e-6  # a vertex this close to a boundary lies on it
PINNED_M = 0.001  # a vertex this close to an existing neighbour's boundary stays where it is
SLACK_M = 1e-6  # measured displacements are compared to the tolerance with this slack
# A feature whose vertices would move less than this is left as drawn (coordinate round-off, e.g. KML's degrees).
NOTICEABLE_M = 0.001


@dataclass(frozen=True)
class SnappedPlan:
    geoms: np.ndarray  # every feature's geometry after snapping (unchanged ones are the same objects)
    displacement_m: np.ndarray  # the largest vertex move of each feature
    changed: np.ndarray  # bool: the feature's geometry changed


def _width_m(geom: BaseGeometry, precision_m: float) -> float:
    """Return twice the largest inscribed circle's radius, to PRECISION_M (a coarse one is fast on long strips)."""
    geom = measure.polygonal(geom)
    if geom.is_empty or geom.area == 0:
        return 0.0
    return 2.0 * shapely.maximum_inscribed_circle(geom, tolerance=precision_m).length


def needed_move_m(finding: Finding, parent_union: BaseGeometry, tol: float = 0.5) -> float:
    """Return how far a vertex would have to move to close FINDING (its width; outside: its furthest point).

    Widths within TOL are measured to TOL/10 (a cheap erosion tells them apart first); larger ones to 1 cm,
    for the note that says how far."""
    location = finding.location
    if location is None or location.is_empty:
        return float("inf")
    if finding.code == "OUTSIDE_PARENT":
        if parent_union.is_empty:
            return float("inf")
        points = shapely.points(shapely.get_coordinates(location))
        return float(shapely.distance(points, parent_union).max())
    piece = measure.polygonal(location)
    if piece.is_empty:
        return float("inf")
    if measure.narrower_than([piece], tol + SLACK_M)[0]:
        return min(_width_m(piece, tol / 10), tol)
    return max(_width_m(piece, 0.01), tol + 2 * SLACK_M)


class _References:
    """Boundaries vertices snap to: the parents' and existing neighbours' (first), then the plan's features."""

    def __init__(self, ctx: PlanContext, parent_union: BaseGeometry):
        parent_codes = {x.code for x in ctx.parents}
        neighbours = measure.repair_all([x.geom for x in ctx.existing
                                         if x.status == "active" and x.code not in parent_codes])
        self.pinning = shapely.union_all(shapely.boundary(neighbours)) if len(neighbours) else shapely.LineString()
        fixed = [b for b in (shapely.boundary(parent_union), self.pinning) if b is not None and not b.is_empty]
        self.fixed_lines = shapely.union_all(fixed) if fixed else shapely.LineString()
        self.fixed_points = shapely.get_coordinates(self.fixed_lines)
        shapely.prepare(self.pinning)
        shapely.prepare(self.fixed_lines)


def _nearest_vertex(xy: np.ndarray, points: np.ndarray, tol: float) -> np.ndarray | None:
    if not len(points):
        return None
    d = np.hypot(points[:, 0] - xy[0], points[:, 1] - xy[1])
    k = int(np.argmin(d))
    return points[k] if d[k] <= tol else None


def _nearest_on(xy: np.ndarray, lines: BaseGeometry, tol: float) -> tuple[np.ndarray | None, float]:
    """Return (the nearest point of LINES within TOL or None, the distance)."""
    if lines is None or lines.is_empty:
        return None, float("inf")
    point = shapely.Point(xy)
    d = float(shapely.distance(point, lines))
    if d > tol:
        return None, d
    near = shapely.shortest_line(point, lines)
    return np.asarray(near.coords[1]), d


def _target(xy, refs: _References, others_lines, others_points, tol: float) -> np.ndarray | None:
    """Return where the vertex at XY goes, or None when it stays.

    A vertex goes to the nearest vertex within TOL of the parents' or neighbours' boundaries, else of the other
    features (but never off the parents' boundary onto a point not on it), else onto the nearest point of
    those boundaries, else of the other features' edges.
    """
    point = shapely.Point(xy)
    if not refs.pinning.is_empty and shapely.distance(point, refs.pinning) <= PINNED_M:
        return None
    on_fixed = not refs.fixed_lines.is_empty and shapely.distance(point, refs.fixed_lines) <= ON_LINE_M
    for points in (refs.fixed_points, others_points):
        vertex = _nearest_vertex(xy, points, tol)
        if vertex is None:
            continue
        if np.hypot(*(vertex - xy)) <= ON_LINE_M:
            return None
        if on_fixed and shapely.distance(shapely.Point(vertex), refs.fixed_lines) > ON_LINE_M:
            continue
        return vertex
    for lines in (refs.fixed_lines, others_lines):
        near, d = _nearest_on(xy, lines, tol)
        if near is None:
            continue
        if d <= ON_LINE_M:
            return None
        if on_fixed and lines is not refs.fixed_lines:
            return None
        return near
    return None


def _insertions(a: np.ndarray, b: np.ndarray, candidates: np.ndarray, tol: float) -> tuple[list, float]:
    """Return the candidate points within TOL of segment a-b (strictly between its ends), in order, and the
    furthest of them from the segment."""
    ab = b - a
    length2 = float(ab @ ab)
    if length2 == 0 or not len(candidates):
        return [], 0.0
    t = ((candidates - a) @ ab) / length2
    foot = a + np.outer(t, ab)
    d = np.hypot(*(candidates - foot).T)
    # a point whose foot falls on (or within a millimetre of) an end belongs to that vertex, not to the edge
    ends = np.minimum(np.hypot(*(foot - a).T), np.hypot(*(foot - b).T))
    keep = (t > 0) & (t < 1) & (d <= tol) & (ends > NOTICEABLE_M)
    if not keep.any():
        return [], 0.0
    order = np.argsort(t[keep])
    return list(candidates[keep][order]), float(d[keep].max())


def _snap_ring(coords: np.ndarray, movable: np.ndarray, refs: _References, others_lines, others_points,
               insert_points: np.ndarray, zone: BaseGeometry, tol: float) -> tuple[np.ndarray, float]:
    ring = coords[:-1].copy()
    moved = 0.0
    for k in np.flatnonzero(movable):
        goal = _target(ring[k], refs, others_lines, others_points, tol)
        if goal is not None:
            moved = max(moved, float(np.hypot(*(goal - ring[k]))))
            ring[k] = goal
    out = []
    n = len(ring)
    for k in range(n):
        a, b = ring[k], ring[(k + 1) % n]
        out.append(a)
        if movable[k] or movable[(k + 1) % n] or zone.intersects(shapely.LineString([a, b])):
            extra, offset = _insertions(a, b, insert_points, tol)
            out.extend(extra)
            moved = max(moved, offset)
    out.append(out[0])
    return np.asarray(out), moved


def _snap_polygon(poly, zone, refs, others_lines, others_points, insert_points, tol) -> tuple[BaseGeometry, float]:
    rings = [poly.exterior, *poly.interiors]
    new_rings, moved = [], 0.0
    for ring in rings:
        coords = np.asarray(ring.coords)[:, :2]
        movable = shapely.intersects(zone, shapely.points(coords[:-1]))
        if not movable.any() and not zone.intersects(ring):
            new_rings.append(coords)
            continue
        snapped, m = _snap_ring(coords, movable, refs, others_lines, others_points, insert_points, zone, tol)
        new_rings.append(snapped)
        moved = max(moved, m)
    if len(new_rings[0]) < 4:
        return shapely.Polygon(), moved
    return shapely.Polygon(new_rings[0], [r for r in new_rings[1:] if len(r) >= 4]), moved


def _in_zone(zone: BaseGeometry, points: np.ndarray) -> np.ndarray:
    """Return the rows of POINTS (n x 2) that lie in ZONE (prepared)."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    if not len(points):
        return points
    return points[shapely.intersects_xy(zone, points[:, 0], points[:, 1])]


def snap_plan(ctx: PlanContext, p: Prepared, zone: BaseGeometry, *, budget: Budget = UNLIMITED) -> SnappedPlan:
    """Return the plan's features with their vertices inside ZONE snapped (see the module's docstring)."""
    tol = ctx.rules.snap_tolerance_m
    geoms = p.geoms.copy()
    displacement = np.zeros(len(geoms))
    changed = np.zeros(len(geoms), dtype=bool)
    if zone.is_empty or not len(geoms):
        return SnappedPlan(geoms, displacement, changed)
    refs = _References(ctx, p.parent_union)
    shapely.prepare(zone)
    _hand_over_slivers(ctx, geoms, displacement, changed, zone, tol)
    tree = shapely.STRtree(geoms)
    # The parents' and neighbours' vertices in the zone, found once: beside a city's parcels they number
    # hundreds of thousands, and only the few in the zone can be inserted.
    fixed_in_zone = _in_zone(zone, refs.fixed_points)
    for i in np.flatnonzero(shapely.intersects(geoms, zone)):
        budget.check("snapping the plan's drafting errors")
        near = [j for j in tree.query(shapely.buffer(geoms[i], tol)) if j != i and not geoms[j].is_empty]
        others = shapely.union_all(shapely.boundary(geoms[near])) if near else shapely.LineString()
        others_points = shapely.get_coordinates(others)
        insert_points = np.vstack([fixed_in_zone, _in_zone(zone, others_points)])
        parts, moved = [], 0.0
        for poly in shapely.get_parts(geoms[i]):
            snapped, m = _snap_polygon(poly, zone, refs, others, others_points, insert_points, tol)
            parts.append(snapped)
            moved = max(moved, m)
        new = measure.polygonal(shapely.union_all(parts) if len(parts) > 1 else parts[0])
        if new.is_empty or moved < NOTICEABLE_M or shapely.equals(new, geoms[i]):
            continue
        geoms[i], displacement[i], changed[i] = new, max(displacement[i], moved), True
    return SnappedPlan(geoms, displacement, changed)


def _hand_over_slivers(ctx, geoms, displacement, changed, zone, tol) -> None:
    """Give each sliver part (narrower than the tolerance) of a many-part feature to the feature sharing most
    boundary with it; a feature that is one sliver is left alone (removing a lot is no drafting error)."""
    rules = ctx.rules
    for i in np.flatnonzero(shapely.intersects(geoms, zone)):
        parts = shapely.get_parts(geoms[i])
        if len(parts) < 2:
            continue
        thin = (measure.thinness(parts) < rules.sliver_thinness) | measure.narrower_than(parts,
                                                                                       rules.sliver_min_width_m)
        widths = np.array([_width_m(x, max(tol / 100, 0.001)) if t else np.inf for x, t in zip(parts, thin)])
        small = thin & (widths <= tol + SLACK_M) & shapely.intersects(zone, parts)
        if not small.any() or small.all():
            continue
        for part, width in zip(parts[small], widths[small]):
            shared = shapely.length(shapely.intersection(shapely.boundary(geoms), part.boundary))
            shared[i] = 0
            j = int(np.argmax(shared))
            if shared[j] > 0:
                geoms[j] = measure.polygonal(shapely.union(geoms[j], part))
                changed[j] = True
                displacement[j] = max(displacement[j], width)
        geoms[i] = measure.polygonal(shapely.union_all(parts[~small]))
        displacement[i] = max(displacement[i], float(widths[small].max()))
        changed[i] = True


def _involved(finding: Finding, p: Prepared, geoms: np.ndarray, changed: np.ndarray, tol: float) -> np.ndarray:
    """Return the indexes of the features a finding is about: those it names and those the correction
    changed near it (for a GAP: every feature within TOL of it)."""
    area = shapely.buffer(finding.location, tol)
    near = p.tree.query(area)
    near = near[shapely.intersects(geoms[near], area) | shapely.intersects(p.geoms[near], area)]
    if finding.code == "GAP":
        return np.sort(near)
    named = set(finding.features)
    return np.sort(np.array([i for i in near if p.labels[i] in named or changed[i]], dtype=np.intp))


def _still_there(finding: Finding, p: Prepared, geoms: np.ndarray, idx: np.ndarray, tol: float) -> float:
    """Return what is left of FINDING with the corrected GEOMS (m²)."""
    rules = p.rules
    location = finding.location
    if finding.code == "GAP":
        cover = shapely.union_all(geoms[idx]) if len(idx) else measure.EMPTY
        return float(shapely.difference(shapely.intersection(location, p.parent_union), cover).area)
    if finding.code == "OUTSIDE_PARENT":
        return float(shapely.difference(shapely.union_all(geoms[idx]), p.parent_union).area) if len(idx) else 0.0
    if finding.code == "OVERLAP":
        near = shapely.buffer(location, tol)
        clipped = shapely.intersection(geoms[idx], near)
        total = float(shapely.area(clipped).sum())
        return total - float(shapely.union_all(clipped).area)
    # SLIVER: no thin or narrow part of the feature left where the sliver was
    parts, _ = measure.explode_polygons(geoms[idx])
    parts = parts[shapely.intersects(parts, location)] if len(parts) else parts
    if not len(parts):
        return 0.0
    bad = (measure.thinness(parts) < rules.sliver_thinness) | measure.narrower_than(parts, rules.sliver_min_width_m)
    return float(shapely.area(shapely.intersection(parts[bad], location)).sum()) if bad.any() else 0.0


def _note(need_m: float, tol: float) -> dict:
    """Return why a finding has no correction (correction_note and correction_note_ar): the move it needs."""
    if np.isfinite(need_m):
        return {"correction_note": f"a vertex would move {need_m:.1f} m, over the {tol:g} m tolerance",
                "correction_note_ar": f"ستتحرك نقطة رأس {need_m:.1f} م، أي أكثر من التفاوت المسموح {tol:g} م"}
    return {"correction_note": "it has no location to snap to", "correction_note_ar": "ليس لها موقع يمكن الالتقاط إليه"}


def _left_over_note(left_m2: float) -> dict:
    """Return why a finding has no correction when snapping leaves LEFT_M2 of it."""
    return {"correction_note": f"snapping to the parent's boundary and the neighbouring features leaves {left_m2:.2f} m² "
                               "of it",
            "correction_note_ar": f"الالتقاط إلى حدود القطعة الأم والعناصر المجاورة يُبقي {left_m2:.2f} م² منها"}


def attach_corrections(ctx: PlanContext, p: Prepared, findings: list[Finding], *,
                       budget: Budget = UNLIMITED) -> list[Finding]:
    """Return FINDINGS with a correction, or a note saying why there is none, on every snappable finding."""
    targets = [k for k, f in enumerate(findings) if f.code in SNAPPED_CODES]
    if not targets:
        return findings
    tol = ctx.rules.snap_tolerance_m
    need = {k: needed_move_m(findings[k], p.parent_union, tol) for k in targets}
    small = [k for k in targets if need[k] <= tol + SLACK_M]
    zone = (shapely.union_all([shapely.buffer(findings[k].location, tol + SLACK_M) for k in small])
            if small else measure.EMPTY)
    snapped = snap_plan(ctx, p, zone, budget=budget)
    out = list(findings)
    for k in targets:
        f = findings[k]
        if k not in small:
            out[k] = replace(f, correction=None, **_note(need[k], tol))
            continue
        idx = _involved(f, p, snapped.geoms, snapped.changed, tol)
        moved = idx[snapped.changed[idx]] if len(idx) else idx
        left = _still_there(f, p, snapped.geoms, idx, tol)
        largest = float(snapped.displacement_m[moved].max()) if len(moved) else 0.0
        if not len(moved) or left > ctx.rules.gap_overlap_tolerance_m2 or largest > tol + SLACK_M:
            why = _left_over_note(left) if largest <= tol + SLACK_M else _note(largest, tol)
            out[k] = replace(f, correction=None, **why)
            continue
        out[k] = replace(f, correction=Correction(
            tuple(CorrectedFeature(p.labels[i], snapped.geoms[i], int(i)) for i in moved), round(largest, 3)))
    return out


@dataclass(frozen=True)
class Applied:
    geoms: np.ndarray  # the plan's geometries with the corrections applied
    lost_m2: dict[int, float]  # the area each lot gave up to its corner cuts, by feature index
    applied: list[int]  # the positions, in the findings given, of the corrections applied


def apply_corrections(ctx: PlanContext, geoms: np.ndarray, kinds: np.ndarray, findings: list[Finding]) -> Applied:
    """Return the plan's geometries with the findings' corrections applied.

    Snapped corrections replace the features they name (one snapping pass made them, so they agree); the
    corner truncations are then cut from the lots as they are after it (``rules.corners.cut_corners``).
    """
    out = geoms.copy()
    snapped = []
    for k, f in enumerate(findings):
        if f.correction is None or f.code == TRUNCATION_CODE:
            continue
        for cf in f.correction.features:
            out[cf.index] = cf.geom
        snapped.append(k)
    out, lost_m2, cut = cut_corners(ctx, out, kinds, findings)
    return Applied(out, lost_m2, sorted(snapped + cut))


def corrected_geometries(ctx: PlanContext, geoms: np.ndarray, kinds: np.ndarray,
                         findings: list[Finding]) -> tuple[np.ndarray, int]:
    """Return the plan's geometries with every finding's correction applied, and how many were applied."""
    result = apply_corrections(ctx, geoms, kinds, findings)
    return result.geoms, len(result.applied)
