"""Small WKT-built subdivision plans shared by the rule tests.

``clean_block()`` is a 2 x 3 block of 20 x 30 m lots numbered

    4 5 6      y 30..60
    1 2 3      y  0..30      x 0..60

with a 15 m road ring (R1 bottom, R2 top, R3 west, R4 east) inside the parent parcel
P-1 = [-15, 75] x [-15, 75] (8,100 m²). The four corner lots have their street corner cut
(شطفة: legs of 3 m, 1/5 of the 15 m streets) and are 600 - 4.5 = 595.5 m²; the cut triangles
belong to R1 (bottom corners) and R2 (top corners), as CORNER_TRUNCATION's correction gives them.
Every other plan here perturbs it.
"""
from __future__ import annotations

import dataclasses

from shapely import from_wkt

from subdivision.engine import ExistingParcel, PlanContext, PlanFeature, RuleSet


def box_wkt(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"


def cut_box_wkt(x0: float, y0: float, x1: float, y1: float, *, sw: float = 0, se: float = 0, ne: float = 0,
                nw: float = 0) -> str:
    """Return the box with the named corners cut by a chord of equal legs (m)."""
    ring = []
    for (x, y), leg, (in_dx, in_dy), (out_dx, out_dy) in (
        ((x0, y0), sw, (0, 1), (1, 0)), ((x1, y0), se, (-1, 0), (0, 1)),
        ((x1, y1), ne, (0, -1), (-1, 0)), ((x0, y1), nw, (1, 0), (0, -1)),
    ):
        ring += [(x + in_dx * leg, y + in_dy * leg), (x + out_dx * leg, y + out_dy * leg)] if leg else [(x, y)]
    ring.append(ring[0])
    return "POLYGON((" + ", ".join(f"{x:g} {y:g}" for x, y in ring) + "))"


def g(wkt: str):
    return from_wkt(wkt)


LEG_M = 3.0  # corner truncation of the clean block: 1/5 of 15 m is 3 m, the minimum
LOTS = {
    "1": cut_box_wkt(0, 0, 20, 30, sw=LEG_M), "2": box_wkt(20, 0, 40, 30), "3": cut_box_wkt(40, 0, 60, 30, se=LEG_M),
    "4": cut_box_wkt(0, 30, 20, 60, nw=LEG_M), "5": box_wkt(20, 30, 40, 60), "6": cut_box_wkt(40, 30, 60, 60, ne=LEG_M),
}
LOT_AREAS = {"1": 595.5, "2": 600.0, "3": 595.5, "4": 595.5, "5": 600.0, "6": 595.5}
ROADS = {
    # the 15 m strips, with the corner lots' cut triangles on their inner edge
    "R1": "POLYGON((-15 -15, 75 -15, 75 0, 60 0, 60 3, 57 0, 3 0, 0 3, 0 0, -15 0, -15 -15))",
    "R2": "POLYGON((-15 60, 0 60, 0 57, 3 60, 57 60, 60 57, 60 60, 75 60, 75 75, -15 75, -15 60))",
    "R3": box_wkt(-15, 0, 0, 60), "R4": box_wkt(60, 0, 75, 60),
}
PARENT_WKT = box_wkt(-15, -15, 75, 75)
MUNICIPALITY_WKT = box_wkt(-1000, -1000, 1000, 1000)


def lot(no: str | None, wkt: str, index: int = 0, stated_area: float | None = None) -> PlanFeature:
    return PlanFeature("lot", no, g(wkt), stated_area=stated_area, land_use="residential", index=index)


def road(no: str, wkt: str, index: int = 0, land_use: str | None = "road") -> PlanFeature:
    return PlanFeature("road", no, g(wkt), land_use=land_use, index=index)


def clean_block(rules: RuleSet = RuleSet()) -> PlanContext:
    features = [lot(no, wkt, stated_area=LOT_AREAS[no]) for no, wkt in LOTS.items()]
    features += [road(no, wkt) for no, wkt in ROADS.items()]
    features = [dataclasses.replace(f, index=i) for i, f in enumerate(features)]
    return PlanContext(
        features=tuple(features),
        parents=(ExistingParcel("P-1", g(PARENT_WKT), "active"),),
        existing=(
            ExistingParcel("N-1", g(box_wkt(75, 0, 105, 30)), "active"),  # touching neighbour
            ExistingParcel("P-1", g(PARENT_WKT), "active"),  # the parent itself, also in the index
            ExistingParcel("OLD-9", g(box_wkt(0, 0, 10, 10)), "retired"),
        ),
        street_rows=(),
        municipality_boundary=g(MUNICIPALITY_WKT),
        rules=rules,
    )


def with_feature(ctx: PlanContext, label: str, **changes) -> PlanContext:
    """Return ``ctx`` with the feature numbered ``label`` changed (``wkt=`` sets its geometry)."""
    if "wkt" in changes:
        changes["geom"] = g(changes.pop("wkt"))
    hits = [i for i, f in enumerate(ctx.features) if f.lot_no == label]
    assert len(hits) == 1, label
    features = list(ctx.features)
    features[hits[0]] = dataclasses.replace(features[hits[0]], **changes)
    return dataclasses.replace(ctx, features=tuple(features))


def adding(ctx: PlanContext, *new: PlanFeature) -> PlanContext:
    start = len(ctx.features)
    new = tuple(dataclasses.replace(f, index=start + i) for i, f in enumerate(new))
    return dataclasses.replace(ctx, features=ctx.features + new)


def without(ctx: PlanContext, *labels: str) -> PlanContext:
    return dataclasses.replace(ctx, features=tuple(f for f in ctx.features if f.lot_no not in labels))


# --- perturbed plans, one per rule (each named after what is wrong) -----------------------

def bowtie_lot() -> PlanContext:
    """Lot 1 self-intersects at (10, 15); drawn on its uncut corner, whose triangle R1 gives back."""
    ctx = with_feature(clean_block(), "1", wkt="POLYGON((0 0, 20 30, 20 0, 0 30, 0 0))")
    return with_feature(ctx, "R1", wkt="POLYGON((-15 -15, 75 -15, 75 0, 60 0, 60 3, 57 0, -15 0, -15 -15))")


def line_lot() -> PlanContext:
    return with_feature(clean_block(), "1", wkt="LINESTRING(0 0, 20 0)")


def narrow_sliver_lot() -> PlanContext:
    """Lot 7 is a 0.5 x 30 m strip carved off lot 1."""
    ctx = with_feature(clean_block(), "1", wkt=cut_box_wkt(0, 0, 19.5, 30, sw=LEG_M), stated_area=None)
    return adding(ctx, lot("7", box_wkt(19.5, 0, 20, 30)))


def thin_open_space() -> PlanContext:
    """A 2 x 60 m open-space strip (thinness 0.098) replaces 2 m of the east road; lots 3 and 6, no longer
    at a street corner, are uncut (their triangles back from R1 and R2)."""
    ctx = with_feature(clean_block(), "R4", wkt=box_wkt(62, 0, 75, 60))
    ctx = with_feature(ctx, "3", wkt=box_wkt(40, 0, 60, 30), stated_area=600.0)
    ctx = with_feature(ctx, "6", wkt=box_wkt(40, 30, 60, 60), stated_area=600.0)
    ctx = with_feature(ctx, "R1", wkt="POLYGON((-15 -15, 75 -15, 75 0, 3 0, 0 3, 0 0, -15 0, -15 -15))")
    ctx = with_feature(ctx, "R2", wkt="POLYGON((-15 60, 0 60, 0 57, 3 60, 75 60, 75 75, -15 75, -15 60))")
    return adding(ctx, PlanFeature("open_space", "OS1", g(box_wkt(60, 0, 62, 60))))


def top_road_outside_municipality() -> PlanContext:
    """The municipality ends at y = 72, cutting 3 m off road R2."""
    return dataclasses.replace(clean_block(), municipality_boundary=g(box_wkt(-1000, -1000, 1000, 72)))


def retired_parent() -> PlanContext:
    ctx = clean_block()
    return dataclasses.replace(ctx, parents=(ExistingParcel("P-1", g(PARENT_WKT), "retired"),))


def no_parent() -> PlanContext:
    return dataclasses.replace(clean_block(), parents=())


def open_space_outside_parent() -> PlanContext:
    """Open space OS1 = [75, 85] x [30, 60] lies wholly east of the parent."""
    return adding(clean_block(), PlanFeature("open_space", "OS1", g(box_wkt(75, 30, 85, 60))))


def overlapping_lots() -> PlanContext:
    """Lot 2 runs 2 m into lot 3: overlap [40, 42] x [0, 30]."""
    return with_feature(clean_block(), "2", wkt=box_wkt(20, 0, 42, 30))


def gap_between_lots() -> PlanContext:
    """Lot 2 stops at y = 28: gap [20, 40] x [28, 30]."""
    return with_feature(clean_block(), "2", wkt=box_wkt(20, 0, 40, 28), stated_area=None)


def road_on_existing_parcel() -> PlanContext:
    """Active neighbour N-2 = [70, 100] x [0, 30] reaches 5 m into road R4."""
    ctx = clean_block()
    return dataclasses.replace(
        ctx, existing=(ExistingParcel("N-2", g(box_wkt(70, 0, 100, 30)), "active"),) + ctx.existing
    )


def duplicate_lot_no() -> PlanContext:
    """Lot 5 is numbered 2 as well."""
    return with_feature(clean_block(), "5", lot_no="2")


def missing_lot_no() -> PlanContext:
    return with_feature(clean_block(), "2", lot_no=None)


def small_lot() -> PlanContext:
    """Lot 1 is 13 x 30 less its 4.5 m² corner = 385.5 m² (43 m of frontage on two streets); lot 2 takes the
    rest of the row (27 x 30)."""
    ctx = with_feature(clean_block(), "1", wkt=cut_box_wkt(0, 0, 13, 30, sw=LEG_M), stated_area=None)
    return with_feature(ctx, "2", wkt=box_wkt(13, 0, 40, 30), stated_area=None)


def narrow_frontage_lot() -> PlanContext:
    """Lot 2 is 15 x 30 = 450 m²: enough area, 15 m of frontage."""
    ctx = with_feature(clean_block(), "1", wkt=cut_box_wkt(0, 0, 25, 30, sw=LEG_M), stated_area=None)
    return with_feature(ctx, "2", wkt=box_wkt(25, 0, 40, 30), stated_area=None)


def deep_lots() -> PlanContext:
    """Three 20 x 70 m lots (ratio 3.5) on one 15 m road; parent [0, 60] x [-15, 70]."""
    features = [lot(str(i + 1), box_wkt(20 * i, 0, 20 * i + 20, 70), index=i) for i in range(3)]
    features.append(road("R1", box_wkt(0, -15, 60, 0), index=3))
    return PlanContext(
        features=tuple(features),
        parents=(ExistingParcel("P-2", g(box_wkt(0, -15, 60, 70)), "active"),),
        existing=(), street_rows=(), municipality_boundary=g(MUNICIPALITY_WKT), rules=RuleSet(),
    )


def landlocked_lot() -> PlanContext:
    """A 5 m open-space strip separates lot 2 (now [20, 40] x [5, 30]) from road R1."""
    ctx = with_feature(clean_block(), "2", wkt=box_wkt(20, 5, 40, 30), stated_area=None)
    return adding(ctx, PlanFeature("open_space", "OS1", g(box_wkt(20, 0, 40, 5))))


def necked_road() -> PlanContext:
    """Road R1 loses [30, 40] x [-15, -5]: a 5 m wide neck [30, 40] x [-5, 0]."""
    return with_feature(
        clean_block(), "R1",
        wkt="POLYGON((-15 -15, 30 -15, 30 -5, 40 -5, 40 -15, 75 -15, 75 0, 60 0, 60 3, 57 0, 3 0, 0 3, 0 0, "
            "-15 0, -15 -15))",
    )


def narrow_passage() -> PlanContext:
    """Road R3 is a 6 m pedestrian passage [-6, 0] x [0, 60]; the rest of its strip is open space."""
    ctx = with_feature(clean_block(), "R3", wkt=box_wkt(-6, 0, 0, 60), land_use="passage")
    return adding(ctx, PlanFeature("open_space", "OS1", g(box_wkt(-15, 0, -6, 60))))


def low_public_share() -> PlanContext:
    """Only R1 is a plan road (900 m² of a 4,500 m² parent = 20 %); the top lots front an
    existing street right-of-way north of the parent. No lot is at a street corner: none is cut."""
    ctx = with_feature(without(clean_block(), "R2", "R3", "R4"), "R1", wkt=box_wkt(0, -15, 60, 0))
    for no in ("1", "3", "4", "6"):
        ctx = with_feature(ctx, no, wkt=box_wkt(*g(LOTS[no]).bounds), stated_area=600.0)
    return dataclasses.replace(
        ctx,
        parents=(ExistingParcel("P-1", g(box_wkt(0, -15, 60, 60)), "active"),),
        existing=(),
        street_rows=(g(box_wkt(-20, 60, 80, 80)),),
    )


def wrong_stated_area() -> PlanContext:
    """Lot 2 states 620 m² but measures 600 m² (3.33 %)."""
    return with_feature(clean_block(), "2", stated_area=620.0)


CLEAN_PLANS = {"clean_block": clean_block}


# --- issue 12: corner truncation and building footprints -------------------------------------

def uncut_corner_lots() -> PlanContext:
    """The clean block with its four corner lots uncut (the triangles back in the lots, out of R1 and R2)."""
    ctx = clean_block()
    for no in ("1", "3", "4", "6"):
        ctx = with_feature(ctx, no, wkt=box_wkt(*g(LOTS[no]).bounds), stated_area=600.0)
    ctx = with_feature(ctx, "R1", wkt=box_wkt(-15, -15, 75, 0))
    return with_feature(ctx, "R2", wkt=box_wkt(-15, 60, 75, 75))


def building_in_front_setback() -> PlanContext:
    """A building on lot 2 reaches 2 m into its 3 m front setback (R1 is 15 m wide)."""
    return adding(clean_block(), PlanFeature("building", "B1", g(box_wkt(22.5, 1, 37.5, 20))))


def building_over_coverage() -> PlanContext:
    """A 400 m² building on the 600 m² lot 2: 66.7 % against 60 %, inside the setbacks."""
    return adding(clean_block(), PlanFeature("building", "B1", g(box_wkt(22, 3, 38, 28))))
