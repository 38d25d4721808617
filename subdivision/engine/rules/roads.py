"""Rules on plan roads.

ROAD_WIDTH_MIN reports the parts of a road narrower than its minimum (``measure.narrow_part``). A narrow part
that only belongs to a wider street space is not a narrow road: the corner truncation triangle (شطفة) that a
drawing or a correction gives to one road where it meets another street sticks out of that road alone, but
joined to the roads and rights-of-way it touches it is part of the crossing (``part_of_wider_street``).
"""
from __future__ import annotations

import numpy as np
import shapely

from .. import measure
from ..context import PASSAGE_LAND_USES, PlanContext
from ..findings import ERROR, Finding
from ..registry import Prepared, rule

SEAM_M = 1e-4  # neighbours are widened this much to close round-off seams (far below the 1 cm of widths)


def part_of_wider_street(pieces, road, neighbours, limits_m, tolerance_m2: float) -> np.ndarray:
    """Return, for each narrow piece of ROAD in PIECES, whether it is part of a wider street once joined to
    NEIGHBOURS.

    NEIGHBOURS are the other roads and rights-of-way the pieces touch and LIMITS_M their minimum widths (the
    road's own limit first). A piece belongs to the street space when the opening of the road and its
    neighbours at the narrowest of those limits covers it. Where a neighbour's limit is the lower one (a
    passage), the piece must also be narrow at that limit on its road alone, so a stretch of road wide enough
    for a passage but not for a road is still reported where it meets one. Pieces of one road at one crossing
    (the same neighbours) are judged together: one opening for all of them.
    """
    pieces = np.asarray(pieces, dtype=object)
    if not len(neighbours):
        return np.zeros(len(pieces), dtype=bool)
    limit_m = float(min(limits_m))
    # Only the street around the pieces matters (roads can be long): what covers a point of a piece in the
    # opening comes from well within twice the limit of it, even with mitred corners.
    around = shapely.box(*shapely.buffer(shapely.union_all(pieces), 2 * limit_m).bounds)
    # A road and the street it meets are drawn against each other but lie a few µm apart once read from degrees:
    # without closing that seam their union is two pieces and the opening cuts the crossing apart.
    seamless = shapely.buffer(neighbours, SEAM_M, join_style="mitre", mitre_limit=measure.MITRE_LIMIT)
    street = measure.polygonal(shapely.union_all(shapely.intersection([road, *seamless], around)))
    wider = shapely.area(shapely.intersection(pieces, measure.narrow_part(street, limit_m))) <= tolerance_m2
    if limit_m < limits_m[0] and wider.any():
        alone = measure.polygonal(shapely.intersection(road, around))
        wider &= shapely.area(shapely.intersection(pieces, measure.narrow_part(alone, limit_m))) > tolerance_m2
    return wider


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
    if not len(pieces):
        return []
    rows = measure.repair_all(list(ctx.street_rows))
    rows = rows[~shapely.is_empty(rows)]
    road_tree, row_tree = shapely.STRtree(p.geoms[idx]), shapely.STRtree(rows)
    # Group the pieces by road and by the streets they touch: a corner truncation triangle given to a road
    # is a narrow piece of it, one at each corner, and the pieces at one crossing are judged together.
    groups: dict[tuple, list[int]] = {}
    for n, (piece, k) in enumerate(zip(pieces, owner)):
        if piece.area <= r.gap_overlap_tolerance_m2:
            continue
        near_roads = tuple(int(j) for j in road_tree.query(piece, predicate="dwithin", distance=r.frontage_snap_m)
                           if j != k)
        near_rows = tuple(int(j) for j in row_tree.query(piece, predicate="dwithin", distance=r.frontage_snap_m))
        groups.setdefault((int(k), near_roads, near_rows), []).append(n)
    reported = []
    for (k, near_roads, near_rows), members in groups.items():
        limit = float(limits[k])
        neighbours = [*p.geoms[idx[list(near_roads)]], *rows[list(near_rows)]]
        neighbour_limits = [limit, *limits[list(near_roads)], *[r.min_road_width_m] * len(near_rows)]
        wider = part_of_wider_street(pieces[members], p.geoms[idx[k]], neighbours, neighbour_limits,
                                     r.gap_overlap_tolerance_m2)
        reported += [n for n, w in zip(members, wider) if not w]
    out = []
    for n in sorted(reported):
        piece, k = pieces[n], owner[n]
        i, limit = idx[k], float(limits[k])
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
