"""CORNER_TRUNCATION (شطفة): a lot at the corner of two streets must have its corner cut by a chord.

The legs of the cut are equal: ``corner_truncation_ratio`` (1/5) of the wider street's width, at least
``corner_truncation_min_m`` (3 m) and at most ``corner_truncation_max_m`` (6 m) (DOMAIN.md, one Amana's plan
conditions). A street is a road of the plan or a street right-of-way of the registry; its width is measured
across it, square to the lot's edge, a little away from the corner (where the two streets cross it would
read the crossing's diagonal).

The check runs where the rule set asks for it (``corner_truncation_required``; off by default until
ROAD_WIDTH_MIN stops reading a truncation triangle given to a road as a narrow piece of it, and frontage counts
the chord). A lot corner is checked when both its edges front a street (a point on each edge, moved 1 m outwards, lies
within ``frontage_snap_m`` of one), the corner itself touches a street, and its interior angle is between
CORNER_MIN_DEG and CORNER_MAX_DEG. A corner already cut has two vertices of about 90° + half the corner's
angle (135° for a square corner) instead, so it is not checked again; whether an existing cut is long enough
is not measured. The finding locates the missing triangle; its correction cuts it from the lot and gives it
to the plan road it borders.
"""
from __future__ import annotations

import math

import numpy as np
import shapely

from ..context import PlanContext
from ..findings import ERROR, CorrectedFeature, Correction, Finding
from ..registry import Prepared, rule
from ._text import num

CORNER_MIN_DEG = 60.0
CORNER_MAX_DEG = 119.0
PROBE_OUT_M = 1.0
PROBE_ALONG_M = 10.0  # measure a street's width this far from the corner (at most half the edge)
MAX_WIDTH_M = 120.0


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


def _required_leg_m(width_m: float, ctx: PlanContext) -> float:
    r = ctx.rules
    return min(max(r.corner_truncation_ratio * width_m, r.corner_truncation_min_m), r.corner_truncation_max_m)


def missing_truncations(lot, streets, ctx: PlanContext):
    """Yield (corner xy, leg m, wider street width m, the triangle the lot must give up) for each uncut corner."""
    snap = ctx.rules.frontage_snap_m
    for polygon in shapely.get_parts(shapely.orient_polygons(lot, exterior_cw=False)):
        ring = np.asarray(polygon.exterior.coords)[:-1, :2]
        n = len(ring)
        if n < 3:
            continue
        for k in range(n):
            prev, v, nxt = ring[k - 1], ring[k], ring[(k + 1) % n]
            back, ahead = _unit(prev - v), _unit(nxt - v)
            len_back, len_ahead = math.hypot(*(prev - v)), math.hypot(*(nxt - v))
            if len_back == 0 or len_ahead == 0:
                continue
            turn = (v - prev)[0] * (nxt - v)[1] - (v - prev)[1] * (nxt - v)[0]
            angle = math.degrees(math.acos(float(np.clip(back @ ahead, -1, 1))))
            if turn <= 0 or not CORNER_MIN_DEG <= angle <= CORNER_MAX_DEG:
                continue
            if shapely.distance(shapely.Point(v), streets) > snap:
                continue
            widths = []
            for along, length in ((back, len_back), (ahead, len_ahead)):
                # the normal of the edge that points away from the lot
                normal = np.array([-along[1], along[0]])
                base = v + along * min(PROBE_ALONG_M, length / 2)
                if polygon.contains(shapely.Point(base + normal * 0.01)):
                    normal = -normal
                if shapely.distance(shapely.Point(base + normal * PROBE_OUT_M), streets) > snap:
                    widths = []
                    break
                widths.append(street_width_m(base, normal, streets, snap))
            if len(widths) < 2:
                continue
            wider = max(widths)
            leg = min(_required_leg_m(wider, ctx), len_back / 2, len_ahead / 2)
            triangle = shapely.Polygon([v, v + back * leg, v + ahead * leg])
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
    for i in p.lot_idx[p.lot_has_access]:
        lot, label = p.geoms[i], p.labels[i]
        for v, leg, wider, triangle, angle in missing_truncations(lot, streets, ctx):
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
    shared = shapely.length(shapely.intersection(shapely.boundary(p.geoms[roads]), cut.boundary)) if len(roads) \
        else np.zeros(0)
    if not len(roads) or shared.max() <= 0:
        return {"correction": None, "correction_note": "the corner faces streets of the registry, not a road of "
                                                       "the plan: cut it and give the triangle to the right-of-way"}
    road_i = int(roads[int(np.argmax(shared))])
    moved = leg * math.cos(math.radians(angle_deg) / 2)  # from the old corner to the chord
    return {"correction": Correction((
        CorrectedFeature(p.labels[lot_i], shapely.difference(p.geoms[lot_i], cut), int(lot_i)),
        CorrectedFeature(p.labels[road_i], shapely.union(p.geoms[road_i], cut), road_i),
    ), round(moved, 3))}
