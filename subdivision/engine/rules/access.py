"""Rules on how lots reach the street: access, frontage, depth ratio.

A lot's frontage is the length of its boundary that faces a road or street (``measure.frontage``), on every
street it fronts. A corner cut (شطفة) is counted as if uncut: the two legs to the old corner instead of the
chord (``measure.cut_corner_frontage_m``). The municipality asks for the cut, and a planner reads a corner
lot's frontage to the corner of the street lines, so the cut never costs the lot its frontage (a 20 x 30 m
corner lot fronts 50 m whether its corner is cut or not).
"""
from __future__ import annotations

import numpy as np

from .. import measure
from ..context import PlanContext
from ..findings import ERROR, WARNING, Finding
from ..registry import Prepared, rule
from ._text import num
from .corners import CORNER_MAX_DEG, CORNER_MIN_DEG


def frontage_as_uncut(ctx: PlanContext, p: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Return (frontage m, main frontage direction) of every lot, in lot_idx order, cut corners counted uncut."""
    frontage_m, direction = p.lot_frontage
    if not len(frontage_m) or not len(p.access):
        return frontage_m, direction
    r = ctx.rules
    extra_m = measure.cut_corner_frontage_m(
        p.geoms[p.lot_idx], p.access_tree, p.access, r.frontage_snap_m,
        max_leg_m=r.corner_truncation_max_m, corner_deg=(CORNER_MIN_DEG, CORNER_MAX_DEG),
    )
    return frontage_m + extra_m, direction


@rule("NO_STREET_ACCESS")
def no_street_access(ctx: PlanContext, p: Prepared) -> list[Finding]:
    out = []
    snap = ctx.rules.frontage_snap_m
    for k in np.flatnonzero(~p.lot_has_access):
        i = p.lot_idx[k]
        if p.geoms[i].is_empty:
            continue
        label = p.labels[i]
        out.append(Finding(
            "NO_STREET_ACCESS", ERROR,
            f"Lot {label} touches no road or street (within {num(snap)} m)",
            f"القطعة {label} لا تطل على أي شارع (ضمن {num(snap)} م)",
            (label,), p.geoms[i], None, snap,
        ))
    return out


@rule("LOT_FRONTAGE_MIN")
def lot_frontage_min(ctx: PlanContext, p: Prepared) -> list[Finding]:
    limit = ctx.rules.min_frontage_m
    frontage_m, _ = frontage_as_uncut(ctx, p)
    out = []
    # Lots with no access at all are reported once, by NO_STREET_ACCESS.
    # Compared at survey precision (1 cm), so coordinate round-off never flips a result.
    for k in np.flatnonzero((np.round(frontage_m, 2) < limit) & p.lot_has_access):
        i = p.lot_idx[k]
        label = p.labels[i]
        out.append(Finding(
            "LOT_FRONTAGE_MIN", ERROR,
            f"Lot {label} has a street frontage of {num(frontage_m[k])} m, under the minimum of {num(limit)} m",
            f"القطعة {label} واجهتها على الشارع {num(frontage_m[k])} م، وهي أقل من الحد الأدنى {num(limit)} م",
            (label,), p.geoms[i], float(frontage_m[k]), limit,
        ))
    return out


@rule("LOT_DEPTH_RATIO")
def lot_depth_ratio(ctx: PlanContext, p: Prepared) -> list[Finding]:
    limit = ctx.rules.max_depth_ratio
    frontage_m, direction = frontage_as_uncut(ctx, p)
    if not len(frontage_m):
        return []
    depth_m = measure.depth_along(p.geoms[p.lot_idx], direction)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(frontage_m > 0, depth_m / frontage_m, np.inf)
    out = []
    for k in np.flatnonzero((np.round(ratio, 3) > limit) & (frontage_m > 0)):
        i = p.lot_idx[k]
        label = p.labels[i]
        out.append(Finding(
            "LOT_DEPTH_RATIO", WARNING,
            f"Lot {label} is {num(depth_m[k])} m deep for {num(frontage_m[k])} m of frontage: depth/width {ratio[k]:.2f}, over the maximum of {num(limit)}",
            f"القطعة {label} عمقها {num(depth_m[k])} م وواجهتها {num(frontage_m[k])} م: نسبة العمق إلى العرض {ratio[k]:.2f} تتجاوز الحد الأقصى {num(limit)}",
            (label,), p.geoms[i], float(ratio[k]), limit,
        ))
    return out
