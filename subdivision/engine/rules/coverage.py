"""Rules on how the plan covers its parent parcels and its neighbours."""
from __future__ import annotations

import shapely

from .. import measure
from ..context import PlanContext
from ..findings import ERROR, WARNING, Finding
from ..registry import Prepared, rule
from ._text import name_ar, name_en, named, names_ar, names_en, num, parts_outside


@rule("NO_PARENT")
def no_parent(ctx: PlanContext, p: Prepared) -> list[Finding]:
    if ctx.parents and not p.parent_union.is_empty:
        return []
    return [Finding(
        "NO_PARENT", ERROR,
        "The plan names no parent parcel with a usable polygon",
        "لم يحدد المخطط أي قطعة أم ذات مضلع صالح",
        (), None,
    )]


@rule("PARENT_NOT_ACTIVE")
def parent_not_active(ctx: PlanContext, p: Prepared) -> list[Finding]:
    return [
        Finding(
            "PARENT_NOT_ACTIVE", ERROR,
            f"Parent parcel {parent.code} is {parent.status!s}, not active",
            f"القطعة الأم {parent.code} حالتها {parent.status!s} وليست قائمة",
            (parent.code,), parent.geom,
        )
        for parent in ctx.parents
        if parent.status != "active"
    ]


@rule("OUTSIDE_PARENT")
def outside_parent(ctx: PlanContext, p: Prepared) -> list[Finding]:
    parent = p.parent_union
    if parent.is_empty or not len(p.geoms):
        return []
    indices, parts = p.outside
    return parts_outside("OUTSIDE_PARENT", p, indices, parts, ctx.rules.gap_overlap_tolerance_m2,
                         "{name} extends {area} m² outside the parent parcels",
                         "{name} يمتد منها {area} م² خارج القطع الأم")


@rule("OVERLAP")
def overlap(ctx: PlanContext, p: Prepared) -> list[Finding]:
    """One finding per connected overlapping region, naming every feature that shares it."""
    tol = ctx.rules.gap_overlap_tolerance_m2
    regions = p.overlaps
    out = []
    for geom, area, members in zip(regions.geoms, regions.areas, regions.members):
        if area <= tol:
            continue
        labels = [p.labels[i] for i in members]
        if len(members) == 2:
            a, b = members
            en = f"{name_en(p.kinds[a], labels[0])} and {name_en(p.kinds[b], labels[1])} overlap by {num(area)} m²"
            ar = f"{name_ar(p.kinds[a], labels[0])} و{name_ar(p.kinds[b], labels[1])} متداخلان بمساحة {num(area)} م²"
        else:
            en = f"{len(members):,} features overlap over {num(area)} m²: {names_en(p.kinds[members], labels)}"
            ar = f"{len(members):,} عناصر متداخلة على مساحة {num(area)} م²: {names_ar(p.kinds[members], labels)}"
        features, total = named(labels)
        out.append(Finding("OVERLAP", ERROR, en, ar, features, geom, float(area), tol, features_total=total))
    return out


@rule("GAP")
def gap(ctx: PlanContext, p: Prepared) -> list[Finding]:
    parent = p.parent_union
    if parent.is_empty:
        return []
    tol = ctx.rules.gap_overlap_tolerance_m2
    pieces, _ = measure.explode_polygons([p.uncovered])
    out = []
    for piece in pieces:
        area = piece.area
        if area <= tol:
            continue
        c = piece.representative_point()
        out.append(Finding(
            "GAP", ERROR,
            f"{num(area)} m² of the parent parcels near ({c.x:.1f}, {c.y:.1f}) is not covered by any lot, road or open space",
            f"مساحة {num(area)} م² من القطع الأم قرب ({c.x:.1f}، {c.y:.1f}) غير مغطاة بأي قطعة أو شارع أو مساحة مفتوحة",
            (), piece, area, tol,
        ))
    return out


@rule("EXISTING_PARCEL_CONFLICT")
def existing_parcel_conflict(ctx: PlanContext, p: Prepared) -> list[Finding]:
    parent_codes = {x.code for x in ctx.parents}
    others = [x for x in ctx.existing if x.status == "active" and x.code not in parent_codes]
    if not others or not len(p.geoms):
        return []
    geoms = measure.repair_all([x.geom for x in others])
    f_idx, e_idx = shapely.STRtree(geoms).query(p.geoms, predicate="intersects")
    inter = shapely.intersection(p.geoms[f_idx], geoms[e_idx])
    areas = shapely.area(inter)
    tol = ctx.rules.gap_overlap_tolerance_m2
    out = []
    for i, j, geom, area in zip(f_idx, e_idx, inter, areas):
        if area <= tol:
            continue
        k, label, code = p.kinds[i], p.labels[i], others[j].code
        out.append(Finding(
            "EXISTING_PARCEL_CONFLICT", ERROR,
            f"{name_en(k, label)} overlaps existing parcel {code} by {num(area)} m²",
            f"{name_ar(k, label)} تتداخل مع القطعة القائمة {code} بمساحة {num(area)} م²",
            (label,), geom, float(area), tol,
        ))
    return out


@rule("CHILDREN_AREA_MISMATCH")
def children_area_mismatch(ctx: PlanContext, p: Prepared) -> list[Finding]:
    parent_area = p.parent_area
    if parent_area <= 0:
        return []
    total = float(p.areas.sum()) if len(p.areas) else 0.0
    diff_pct = abs(total - parent_area) / parent_area * 100
    if diff_pct <= ctx.rules.area_tolerance_pct:
        return []
    return [Finding(
        "CHILDREN_AREA_MISMATCH", WARNING,
        f"The plan features total {num(total)} m² but the parent parcels total {num(parent_area)} m² ({diff_pct:.2f}% apart, over {ctx.rules.area_tolerance_pct}%)",
        f"مجموع مساحات عناصر المخطط {num(total)} م² ومساحة القطع الأم {num(parent_area)} م² (فرق {diff_pct:.2f}% يتجاوز {ctx.rules.area_tolerance_pct}%)",
        (), None, diff_pct, ctx.rules.area_tolerance_pct,
    )]
