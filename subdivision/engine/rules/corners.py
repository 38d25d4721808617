"""CORNER_TRUNCATION (شطفة): a lot at the corner of two streets must have its corner cut by a chord.

The legs of the cut are equal: ``corner_truncation_ratio`` (1/5) of the wider street's width, at least
``corner_truncation_min_m`` (3 m) and at most ``corner_truncation_max_m`` (6 m) (DOMAIN.md, one Amana's plan
conditions). A street is a road of the plan or a street right-of-way of the registry; its width is measured
across it, square to the lot's edge, a little away from the corner (where the two streets cross it would
read the crossing's diagonal).

The check runs where the rule set asks for it (``corner_truncation_required``, on by default; a municipality
may switch it off). A cut corner costs nothing elsewhere: the triangle given to a road is no narrow piece of
that road once joined to the street it meets (ROAD_WIDTH_MIN, ``roads.part_of_wider_street``), and the lot's
frontage counts the legs to the uncut corner instead of the chord (LOT_FRONTAGE_MIN and LOT_DEPTH_RATIO,
``measure.cut_corner_frontage_m``), so a corner lot keeps the frontage it had before the cut.
A lot corner is checked when both its edges front a street (a point on each edge, moved 1 m outwards, lies
within ``frontage_snap_m`` of one), the corner itself touches a street, and its interior angle is between
CORNER_MIN_DEG and CORNER_MAX_DEG. A corner already cut has two vertices of about 90° + half the corner's
angle (135° for a square corner) instead, so it is not checked again; whether an existing cut is long enough
is not measured. The finding locates the missing triangle; its correction cuts it from the lot and gives it
to the plan road it borders. ``cut_corners`` applies those corrections (for subdivision.fixes): each corner is
found again on the lot as it is then, the lot loses exactly the triangle, each road takes all its triangles at
once, and the features meeting there share the new vertices.
"""
from __future__ import annotations

import math

import numpy as np
import shapely

from .. import measure
from ..context import PlanContext
from ..findings import ERROR, CorrectedFeature, Correction, Finding
from ..registry import Prepared, rule
from ._text import num

CORNER_MIN_DEG = 60.0
CORNER_MAX_DEG = 119.0
PROBE_OUT_M = 1.0
PROBE_ALONG_M = 10.0  # measure a street's width this far from the corner (at most half the edge)
MAX_WIDTH_M = 120.0
BORDER_M = 0.001  # a triangle's side this close to a road's boundary borders the road


def _unit(v: np.ndarray) -> np.ndarray:
    n = math.hypot(v[0], v[1])
    return v / n if n > 0 else v


def street_width_m(base: np.ndarray, outward: np.ndarray, streets, snap_m: float) -> float:
    """Return the width of the street in front of BASE, measured along OUTWARD (0 when there is none)."""
    ray = shapely.LineString([base, base + outward * MAX_WIDTH_M])
    crossing = shapely.intersection(ray, streets)
    if crossing.is_empty:
        return 0.0
    start = shapely.Point(base)
    pieces = [g for g in shapely.get_parts(shapely.line_merge(crossing) if crossing.geom_type == "MultiLineString"
                                           else crossing) if g.geom_type == "LineString"]
    near = [g for g in pieces if g.distance(start) <= snap_m + 0.01]
    return max((g.length for g in near), default=0.0)


def truncation_leg_m(rules, width_m: float) -> float:
    """Return the corner truncation leg for a corner on a street WIDTH_M wide (DOMAIN.md: 1/5, 3 to 6 m)."""
    return min(max(rules.corner_truncation_ratio * width_m, rules.corner_truncation_min_m),
               rules.corner_truncation_max_m)


def corner_vertices(lots: np.ndarray, min_deg: float = CORNER_MIN_DEG, max_deg: float = CORNER_MAX_DEG,
                    min_edge_m: float = 0.0):
    """Return, for every convex vertex of LOTS' exterior rings (counter-clockwise, so the interior lies left of
    each edge) with an interior angle in [MIN_DEG, MAX_DEG] and both edges longer than MIN_EDGE_M: (lot
    position, polygon, vertex, unit back, unit ahead, length back, length ahead, angle deg), as arrays; None
    when LOTS have no vertex."""
    polygons, owner = shapely.get_parts(shapely.orient_polygons(lots, exterior_cw=False), return_index=True)
    rings = shapely.get_exterior_ring(polygons)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    last = np.r_[ring_of[1:] != ring_of[:-1], True]  # each ring repeats its first vertex at its end
    coords, ring_of = coords[~last], ring_of[~last]
    if not len(coords):
        return None
    first = np.r_[0, np.flatnonzero(ring_of[1:] != ring_of[:-1]) + 1]
    count = np.diff(np.r_[first, len(coords)])
    start_of = np.repeat(first, count)
    k = np.arange(len(coords)) - start_of
    n = np.repeat(count, count)
    prev = coords[start_of + (k - 1) % n]
    nxt = coords[start_of + (k + 1) % n]
    back, ahead = prev - coords, nxt - coords
    len_back, len_ahead = np.hypot(*back.T), np.hypot(*ahead.T)
    ok = (len_back > min_edge_m) & (len_ahead > min_edge_m) & (n >= 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        back, ahead = back / len_back[:, None], ahead / len_ahead[:, None]
        turn = (-back[:, 0]) * ahead[:, 1] - (-back[:, 1]) * ahead[:, 0]
        angle = np.degrees(np.arccos(np.clip((back * ahead).sum(axis=1), -1, 1)))
    ok &= (turn > 0) & (angle >= min_deg) & (angle <= max_deg)
    i = np.flatnonzero(ok)
    return (owner[ring_of[i]], polygons[ring_of[i]], coords[i], back[i], ahead[i], len_back[i], len_ahead[i],
            angle[i])


def truncations_missing(lots: np.ndarray, streets, ctx: PlanContext):
    """Yield (lot position in LOTS, corner xy, leg m, wider street width m, the triangle the lot must give up,
    angle) for each uncut street corner of LOTS. Whole arrays first: the vertex must lie on a street, and a
    point 1 m out of each of its edges too; only the few corners left are measured one by one."""
    snap = ctx.rules.frontage_snap_m
    found = corner_vertices(np.asarray(lots, dtype=object)) if len(lots) else None
    if found is None:
        return
    lot_of, polygons, v, back, ahead, len_back, len_ahead, angle = found
    near = shapely.dwithin(streets, shapely.points(v), snap)
    lot_of, polygons, v, back, ahead = lot_of[near], polygons[near], v[near], back[near], ahead[near]
    len_back, len_ahead, angle = len_back[near], len_ahead[near], angle[near]
    probes = []
    for along, length in ((back, len_back), (ahead, len_ahead)):
        normal = np.column_stack([-along[:, 1], along[:, 0]])  # the edge's normal that points away from the lot
        base = v + along * np.minimum(PROBE_ALONG_M, length / 2)[:, None]
        inside = shapely.contains(polygons, shapely.points(base + normal * 0.01))
        normal[inside] = -normal[inside]
        out = shapely.dwithin(streets, shapely.points(base + normal * PROBE_OUT_M), snap)
        probes.append((base, normal, out))
    both = probes[0][2] & probes[1][2]
    for j in np.flatnonzero(both).tolist():
        widths = [street_width_m(base[j], normal[j], streets, snap) for base, normal, _ in probes]
        wider = max(widths)
        leg = min(truncation_leg_m(ctx.rules, wider), len_back[j] / 2, len_ahead[j] / 2)
        triangle = shapely.Polygon([v[j], v[j] + back[j] * leg, v[j] + ahead[j] * leg])
        yield int(lot_of[j]), v[j], leg, wider, triangle, float(angle[j])


def missing_truncations(lot, streets, ctx: PlanContext):
    """Yield (corner xy, leg m, wider street width m, the triangle the lot must give up) for each uncut corner."""
    for _, v, leg, wider, triangle, angle in truncations_missing(np.array([lot], dtype=object), streets, ctx):
        yield v, leg, wider, triangle, angle


@rule("CORNER_TRUNCATION")
def corner_truncation(ctx: PlanContext, p: Prepared) -> list[Finding]:
    if not ctx.rules.corner_truncation_required or not len(p.access) or not len(p.lot_idx):
        return []
    streets = shapely.union_all(p.access)
    shapely.prepare(streets)
    tol = ctx.rules.gap_overlap_tolerance_m2
    roads = p.road_idx
    out = []
    lots = p.lot_idx[p.lot_has_access]
    for k, v, leg, wider, triangle, angle in truncations_missing(p.geoms[lots], streets, ctx):
        i = lots[k]
        lot, label = p.geoms[i], p.labels[i]
        cut = shapely.intersection(lot, triangle)
        if cut.area <= tol:
            continue
        out.append(Finding(
            "CORNER_TRUNCATION", ERROR,
            f"Lot {label} has no corner truncation at ({v[0]:.1f}, {v[1]:.1f}), where two streets meet: cut "
            f"{num(leg)} m along each side ({num(cut.area)} m²; the wider street is {num(wider)} m wide)",
            f"القطعة {label} بلا شطفة عند الزاوية ({v[0]:.1f}، {v[1]:.1f}) حيث يلتقي شارعان: تقطع {num(leg)} م "
            f"على كل ضلع ({num(cut.area)} م²؛ عرض الشارع الأعرض {num(wider)} م)",
            (label,), cut, float(cut.area), float(leg),
            **_correction(p, i, cut, roads, leg, angle),
        ))
    return out


def _correction(p: Prepared, lot_i: int, cut, roads: np.ndarray, leg: float, angle_deg: float) -> dict:
    """Return the finding's correction: the lot less the triangle, and the plan road that takes it."""
    # the road the triangle borders most; a lot and a road drawn against each other are apart by round-off
    # (a plan stored in degrees and measured in metres), so their boundaries are compared to BORDER_M
    roads = roads[shapely.dwithin(p.geoms[roads], cut, BORDER_M)] if len(roads) else roads
    shared = shapely.length(shapely.intersection(shapely.buffer(shapely.boundary(p.geoms[roads]), BORDER_M),
                                                 cut.boundary)) if len(roads) else np.zeros(0)
    if not len(roads) or shared.max() <= 0:
        return {"correction": None,
                "correction_note": "the corner faces streets of the registry, not a road of the plan: cut it and "
                                   "give the triangle to the right-of-way",
                "correction_note_ar": "تطل الزاوية على شوارع مسجلة لا على طريق من المخطط: اقطعها وأضف المثلث إلى "
                                      "حرم الطريق"}
    road_i = int(roads[int(np.argmax(shared))])
    moved = leg * math.cos(math.radians(angle_deg) / 2)  # from the old corner to the chord
    return {"correction": Correction((
        CorrectedFeature(p.labels[lot_i], shapely.difference(p.geoms[lot_i], cut), int(lot_i)),
        CorrectedFeature(p.labels[road_i], _joined(p.geoms[road_i], [cut]), road_i),
    ), round(moved, 3))}


# --- applying the corrections -------------------------------------------------------------------------------

# A boundary this close to a vertex of a cut triangle is moved onto it: the hairline misfit (µm) between a lot
# and the roads it was drawn against must leave no slit between a road, its new triangle and the other street.
JOIN_M = 0.001


def _corner_of(finding: Finding) -> np.ndarray | None:
    """Return the lot corner a CORNER_TRUNCATION finding is about: the vertex of its triangle opposite the chord."""
    location = finding.location
    if location is None or location.is_empty:
        return None
    polygon = max(shapely.get_parts(location), key=lambda x: x.area)
    ring = np.asarray(polygon.exterior.coords)[:-1, :2]
    if len(ring) < 3:
        return None
    # the vertex whose two neighbours are furthest apart is the corner (the legs are equal, the chord longest)
    opposite = [math.hypot(*(ring[k - 1] - ring[(k + 1) % len(ring)])) for k in range(len(ring))]
    return ring[int(np.argmax(opposite))]


def _cut_vertex(lot, v: np.ndarray, on_back: np.ndarray, on_ahead: np.ndarray):
    """Return LOT with its vertex V replaced by the chord ON_BACK - ON_AHEAD (both on V's edges)."""
    parts = []
    for polygon in shapely.get_parts(shapely.orient_polygons(lot, exterior_cw=False)):
        ring = np.asarray(polygon.exterior.coords)[:-1, :2]
        hit = np.flatnonzero((ring == v).all(axis=1))
        if len(hit):
            k = int(hit[0])
            ring = np.vstack([ring[:k], on_back, on_ahead, ring[k + 1:]])
            polygon = shapely.Polygon(ring, [np.asarray(r.coords) for r in polygon.interiors])
        parts.append(polygon)
    return measure.polygonal(parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts))


def _joined(road, triangles: list):
    """Return ROAD with TRIANGLES added: the road's boundary is first snapped to the triangles' vertices (those
    within JOIN_M of it are put into it), so each triangle shares its leg with the road exactly and the union
    leaves no hairline slit where the lot and the road were drawn a few µm apart."""
    corners = shapely.multipoints(np.vstack([shapely.get_coordinates(t) for t in triangles]))
    snapped = measure.polygonal(shapely.snap(road, corners, JOIN_M))
    return measure.polygonal(shapely.union_all([snapped if not snapped.is_empty else road, *triangles]))


def _share_vertices(geoms: np.ndarray, points) -> None:
    """Insert POINTS into every boundary of GEOMS that passes within JOIN_M of one, so that the features meeting
    at a cut corner (the other street's road, the next lot) share its vertices, exactly and through any later
    change of CRS."""
    near = np.flatnonzero(shapely.dwithin(geoms, points, JOIN_M) & ~shapely.is_empty(geoms))
    for i in near:
        snapped = measure.polygonal(shapely.snap(geoms[i], points, JOIN_M))
        if not snapped.is_empty:
            geoms[i] = snapped


def cut_corners(ctx: PlanContext, geoms: np.ndarray, kinds: np.ndarray, findings: list[Finding],
                ) -> tuple[np.ndarray, dict[int, float], list[int]]:
    """Return GEOMS with the corner of each CORNER_TRUNCATION finding among FINDINGS cut, the area each cut lot
    gave up (m²), and the positions in FINDINGS of the findings applied.

    Each corner is measured again on the lot as it is now (after the snapped corrections, after the cuts of its
    other corners): a corner that moved is cut where it now is, one that is no longer uncut is left. The lot
    loses exactly the triangle (its corner vertex replaced by the chord); each road takes all its triangles at
    once.
    """
    out = geoms.copy()
    rows = measure.repair_all(list(ctx.street_rows))
    roads = np.flatnonzero(kinds == "road")
    streets = shapely.union_all(np.concatenate([out[roads], rows]).astype(object))
    snap = ctx.rules.snap_tolerance_m
    given: dict[int, list] = {}
    lost: dict[int, float] = {}
    applied = []
    for k, finding in enumerate(findings):
        if finding.code != "CORNER_TRUNCATION" or finding.correction is None:
            continue
        corner = _corner_of(finding)
        features = finding.correction.features
        lot_i = next((cf.index for cf in features if kinds[cf.index] == "lot"), None)
        road_i = next((cf.index for cf in features if kinds[cf.index] == "road"), None)
        if corner is None or lot_i is None or road_i is None:
            continue
        lot = measure.polygonal(out[lot_i])
        found = [(v, triangle) for v, _, _, triangle, _ in missing_truncations(lot, streets, ctx)
                 if math.hypot(*(v - corner)) <= snap]
        if not found:
            continue
        v, triangle = min(found, key=lambda x: math.hypot(*(x[0] - corner)))
        _, on_back, on_ahead = np.asarray(triangle.exterior.coords)[:3]
        cut = _cut_vertex(lot, v, on_back, on_ahead)
        lost[lot_i] = lost.get(lot_i, 0.0) + float(lot.area - cut.area)
        out[lot_i] = cut
        given.setdefault(road_i, []).append(triangle)
        applied.append(k)
    for road_i, triangles in given.items():
        out[road_i] = _joined(measure.polygonal(out[road_i]), triangles)
    if given:
        _share_vertices(out, shapely.multipoints(np.vstack([shapely.get_coordinates(t)
                                                            for ts in given.values() for t in ts])))
    return out, lost, applied
