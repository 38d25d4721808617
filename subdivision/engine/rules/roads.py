"""Rules on plan roads."""
from __future__ import annotations

import numpy as np
import shapely

from .. import measure
from ..context import PASSAGE_LAND_USES, PlanContext
from ..findings import ERROR, Finding
from ..registry import Prepared, rule


@rule("ROAD_WIDTH_MIN")
def road_width_min(ctx: PlanContext, p: Prepared) -> list[Finding]:
    r = ctx.rules
    idx = p.road_idx[~shapely.is_empty(p.geoms[p.road_idx])]
    passage = np.array(
        [(ctx.features[i].land_use or "").strip().lower() in PASSAGE_LAND_USES for i in idx], dtype=bool
    )
    limits = np.where(passage, r.min_passage_width_m, r.min_road_width_m)
    narrow = measure.narrow_part(p.geoms[idx], limits)
    pieces, owner = measure.explode_polygons(narrow)
    out = []
    for piece, k in zip(pieces, owner):
        i, limit = idx[k], float(limits[k])
        if piece.area <= r.gap_overlap_tolerance_m2:
            continue
        width = round(measure.local_width(piece, p.geoms[i], limit), 2)  # compared and reported at 1 cm
        if width >= limit:
            continue
        what_en, what_ar = ("Passage", "الممر") if passage[k] else ("Road", "الشارع")
        out.append(Finding(
            "ROAD_WIDTH_MIN", ERROR,
            f"{what_en} {p.labels[i]} is {width:.2f} m wide over {piece.area:.1f} m², under the minimum of {limit:g} m",
            f"{what_ar} {p.labels[i]} عرضه {width:.2f} م على مساحة {piece.area:.1f} م²، وهو أقل من الحد الأدنى {limit:g} م",
            (p.labels[i],), piece, width, limit,
        ))
    return out
