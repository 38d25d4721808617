"""Building footprints a plan may carry (features of kind ``building``), against the rule set's setbacks and
coverage: BUILDING_SETBACK and BUILDING_COVERAGE.

Each footprint belongs to the lot that holds most of it. The lot's buildable area is the lot less its
setbacks, computed as the site report does (subdivision.permits.geometry): the front setback from edges that
face a road or street right-of-way (``front_setback_ratio`` × the street's width, at most
``front_setback_max_m``; the width measured across the street from the edge's middle), the rear from the edge
opposite the longest frontage, the side from the others. Lengths are compared at 1 cm and areas at 0.01 m²,
as the footprint check does, so a wall exactly on the setback line passes.
"""
from __future__ import annotations

import numpy as np
import shapely

from subdivision.permits import geometry as permit

from ..context import PlanContext
from ..findings import ERROR, Finding
from ..registry import Prepared, rule
from ._text import num
from .corners import street_width_m

BUILDING = "building"
AREA_PRECISION_M2 = 0.01
NO_NAME_STREET = permit.Street("", "", None, shapely.LineString())


def _footprints(p: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Return (feature index, repaired footprint) of the plan's buildings (Prepared keeps them out of geoms)."""
    idx = getattr(p, "building_idx", None)
    if idx is None:
        idx = np.flatnonzero(p.kinds == BUILDING)
        return idx, p.geoms[idx]
    return idx, p.building_geoms


def _buildings_by_lot(p: Prepared) -> dict[int, list[tuple[int, object]]]:
    """Return {lot index: [(building index, footprint)]}; a footprint on no lot is left out."""
    buildings, footprints = _footprints(p)
    lots = p.lot_idx
    out: dict[int, list[tuple[int, object]]] = {}
    if not len(buildings) or not len(lots):
        return out
    tree = shapely.STRtree(p.geoms[lots])
    for b, footprint in zip(buildings, footprints):
        if footprint.is_empty:
            continue
        near = tree.query(footprint, predicate="intersects")
        if not len(near):
            continue
        shared = shapely.area(shapely.intersection(p.geoms[lots[near]], footprint))
        out.setdefault(int(lots[near[int(np.argmax(shared))]]), []).append((int(b), footprint))
    return out


def _rules(ctx: PlanContext) -> permit.Rules:
    r = ctx.rules
    return permit.Rules(r.front_setback_ratio, r.front_setback_max_m, r.side_setback_m, r.rear_setback_m,
                        r.max_coverage_pct)


def buildable_area(lot, streets, ctx: PlanContext):
    """Return (the lot less its setbacks, its edges with their setback in metres)."""
    rules = _rules(ctx)
    edges = permit.edges_of(lot, street_rows=streets, streets=[NO_NAME_STREET])
    setbacks = []
    for edge in edges:
        if edge.kind == permit.FRONT and streets is not None:
            mid = np.asarray(edge.segment.interpolate(0.5, normalized=True).coords[0])
            width = street_width_m(mid, edge.outward, streets, ctx.rules.frontage_snap_m)
            setbacks.append(permit.front_setback_m(width or None, rules))
        else:
            setbacks.append(permit.setback_of(edge, rules))
    # 5 mm less than the setback: a wall exactly on the line (to survey precision) passes
    strips = [permit.setback_strip(e, max(d - 0.005, 0.0)) for e, d in zip(edges, setbacks)]
    keep_out = shapely.union_all(strips) if strips else shapely.Polygon()
    return shapely.make_valid(shapely.difference(lot, keep_out)), list(zip(edges, setbacks))


def _streets(p: Prepared):
    return shapely.union_all(p.access) if len(p.access) else None


@rule("BUILDING_SETBACK")
def building_setback(ctx: PlanContext, p: Prepared) -> list[Finding]:
    by_lot = _buildings_by_lot(p)
    if not by_lot:
        return []
    streets = _streets(p)
    out = []
    for lot_i, buildings in by_lot.items():
        buildable, edges = buildable_area(p.geoms[lot_i], streets, ctx)
        lot_label = p.labels[lot_i]
        for b, footprint in buildings:
            intrusion = shapely.difference(footprint, buildable)
            if round(intrusion.area, 2) <= AREA_PRECISION_M2:
                continue
            depth = max((d - shapely.distance(e.segment, footprint) for e, d in edges), default=0.0)
            label = p.labels[b]
            out.append(Finding(
                "BUILDING_SETBACK", ERROR,
                f"Building {label} on lot {lot_label} reaches {num(intrusion.area)} m² into the setbacks "
                f"(up to {depth:.2f} m closer to the lot's edge than allowed)",
                f"المبنى {label} على القطعة {lot_label} يتعدى على الارتدادات بمساحة {num(intrusion.area)} م² "
                f"(حتى {depth:.2f} م أقرب إلى حد القطعة من المسموح)",
                (label, lot_label), intrusion, round(float(intrusion.area), 2), 0.0,
            ))
    return out


@rule("BUILDING_COVERAGE")
def building_coverage(ctx: PlanContext, p: Prepared) -> list[Finding]:
    limit = ctx.rules.max_coverage_pct
    out = []
    for lot_i, buildings in _buildings_by_lot(p).items():
        lot = p.geoms[lot_i]
        if lot.area <= 0:
            continue
        footprint = shapely.intersection(shapely.union_all([g for _, g in buildings]), lot)
        pct = footprint.area / lot.area * 100
        if round(footprint.area, 2) <= round(lot.area * limit / 100, 2) + AREA_PRECISION_M2:
            continue
        label = p.labels[lot_i]
        out.append(Finding(
            "BUILDING_COVERAGE", ERROR,
            f"Buildings cover {pct:.1f} % of lot {label} ({num(footprint.area)} m² of {num(lot.area)} m²), over "
            f"the maximum of {num(limit)} %",
            f"المباني تغطي {pct:.1f}% من القطعة {label} ({num(footprint.area)} م² من {num(lot.area)} م²)، وهذا "
            f"يتجاوز الحد الأقصى {num(limit)}%",
            (label, *[p.labels[b] for b, _ in buildings]), footprint, round(pct, 2), limit,
        ))
    return out
