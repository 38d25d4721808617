"""Rules on the geometry itself: validity, type, slivers, municipality boundary."""
from __future__ import annotations

import numpy as np
import shapely

from .. import measure
from ..context import ROAD, PlanContext
from ..findings import ERROR, Finding
from ..registry import Prepared, rule
from ._text import name_ar, name_en, num, parts_outside

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


@rule("GEOM_INVALID")
def geom_invalid(ctx: PlanContext, p: Prepared) -> list[Finding]:
    out = []
    raw = p.raw
    invalid = ~shapely.is_valid(raw) & ~shapely.is_missing(raw) & ~shapely.is_empty(raw)
    for i in np.flatnonzero(invalid):
        f, g = ctx.features[i], raw[i]
        reason = shapely.is_valid_reason(g)
        k, label = f.kind, p.labels[i]
        out.append(Finding(
            "GEOM_INVALID", ERROR,
            f"{name_en(k, label)} has an invalid geometry: {reason}",
            f"{name_ar(k, label)} ذات شكل هندسي غير صالح: {reason}",
            (label,), measure.invalidity_point(reason),
        ))
    return out


@rule("GEOM_NOT_POLYGON")
def geom_not_polygon(ctx: PlanContext, p: Prepared) -> list[Finding]:
    out = []
    raw = p.raw
    polygonal = np.isin(shapely.get_type_id(raw), _POLYGONAL) & ~shapely.is_empty(raw)
    for i in np.flatnonzero(~polygonal):
        f, g = ctx.features[i], raw[i]
        gtype = "empty geometry" if g is None or g.is_empty else g.geom_type
        k, label = f.kind, p.labels[i]
        out.append(Finding(
            "GEOM_NOT_POLYGON", ERROR,
            f"{name_en(k, label)} is a {gtype}, not a polygon",
            f"{name_ar(k, label)} ليست مضلعاً بل {gtype}",
            (label,), g if g is not None and not g.is_empty else None,
        ))
    return out


@rule("SLIVER")
def sliver(ctx: PlanContext, p: Prepared) -> list[Finding]:
    r = ctx.rules
    parts, owner = measure.explode_polygons(p.geoms)
    if not len(parts):
        return []
    thin = measure.thinness(parts)
    narrow = measure.narrower_than(parts, r.sliver_min_width_m)
    # A long road is legitimately "thin" by 4πA/P²; only its width matters.
    is_road = p.kinds[owner] == ROAD
    bad_thin = (thin < r.sliver_thinness) & ~is_road
    out = []
    for j in np.flatnonzero(bad_thin | narrow):
        i = owner[j]
        k, label = p.kinds[i], p.labels[i]
        if narrow[j]:
            en = f"narrower than {num(r.sliver_min_width_m)} m"
            ar = f"أضيق من {num(r.sliver_min_width_m)} م"
        else:
            en = f"too thin (thinness {thin[j]:.3f}, under {r.sliver_thinness})"
            ar = f"رفيع جداً (معامل النحافة {thin[j]:.3f} أقل من {r.sliver_thinness})"
        out.append(Finding(
            "SLIVER", ERROR,
            f"{name_en(k, label)} has a sliver piece of {num(parts[j].area)} m², {en}",
            f"{name_ar(k, label)} تحتوي على جزء شريطي مساحته {num(parts[j].area)} م²، {ar}",
            (label,), parts[j], float(thin[j]), r.sliver_thinness,
        ))
    return out


@rule("OUT_OF_MUNICIPALITY")
def out_of_municipality(ctx: PlanContext, p: Prepared) -> list[Finding]:
    boundary = measure.polygonal(ctx.municipality_boundary) if ctx.municipality_boundary is not None else None
    if boundary is None or boundary.is_empty or not len(p.geoms):
        return []
    shapely.prepare(boundary)
    suspects = np.flatnonzero(~shapely.covers(boundary, p.geoms))
    outside = shapely.difference(p.geoms[suspects], boundary)
    return parts_outside("OUT_OF_MUNICIPALITY", p, suspects, outside, ctx.rules.gap_overlap_tolerance_m2,
                         "{name} lies {area} m² outside the municipality boundary",
                         "{name} يقع منها {area} م² خارج حدود البلدية")
