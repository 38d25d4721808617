"""CORNER_TRUNCATION (شطفة): a corner lot between two streets must give up a triangle with equal legs of 1/5 of
the wider street's width, at least 3 m and at most 6 m; the finding locates the triangle, its correction cuts
it. Pure shapely, no database."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from subdivision.engine import (
    ExistingParcel,
    PlanContext,
    PlanFeature,
    RuleSet,
    prepare,
    validate,
)
from subdivision.engine.corrections import corrected_geometries

ONLY = ("CORNER_TRUNCATION", "GAP", "OVERLAP", "OUTSIDE_PARENT")
REQUIRED = RuleSet(corner_truncation_required=True)


def corner_plan(south_m: float, west_m: float, *, corner_lot=None, rules=REQUIRED, roads_in_plan=True):
    """A parent 100 m square: a road SOUTH_M wide along its south edge, one WEST_M wide along its west edge,
    and four lots in the rest; lot 1 is the corner lot."""
    x0, y0 = west_m, south_m
    mx, my = (x0 + 100) / 2, (y0 + 100) / 2
    lots = {
        "1": corner_lot or box(x0, y0, mx, my),
        "2": box(mx, y0, 100, my),
        "3": box(x0, my, mx, 100),
        "4": box(mx, my, 100, 100),
    }
    south, west = box(0, 0, 100, south_m), box(0, south_m, west_m, 100)
    features = [PlanFeature("lot", no, g, index=k) for k, (no, g) in enumerate(lots.items())]
    if roads_in_plan:
        features += [PlanFeature("road", "R1", south, index=4), PlanFeature("road", "R2", west, index=5)]
        parent = box(0, 0, 100, 100)
        rows = ()
    else:
        parent = box(x0, y0, 100, 100)
        rows = (south, west)
    return PlanContext(features=tuple(features), parents=(ExistingParcel("P", parent, "active"),),
                       street_rows=rows, rules=rules)


def truncations(ctx):
    return [f for f in validate(ctx, only=("CORNER_TRUNCATION",)).findings if f.code == "CORNER_TRUNCATION"]


@pytest.mark.parametrize("south_m, west_m, leg_m", [(15, 15, 3.0), (15, 25, 5.0), (20, 40, 6.0), (12, 10, 3.0)])
def test_missing_truncation_is_located_with_legs_from_the_wider_street(south_m, west_m, leg_m):
    (finding,) = truncations(corner_plan(south_m, west_m))
    assert finding.features == ("1",)
    assert finding.limit == pytest.approx(leg_m, abs=1e-6)
    expected = shapely.Polygon([(west_m, south_m), (west_m + leg_m, south_m), (west_m, south_m + leg_m)])
    assert finding.location.equals_exact(shapely.normalize(expected), 1e-6) or \
        finding.location.symmetric_difference(expected).area < 1e-6
    assert finding.value == pytest.approx(leg_m ** 2 / 2, abs=1e-6)
    assert "truncation" in finding.message_en and "شطفة" in finding.message_ar


def test_rule_set_limits_are_used():
    rules = RuleSet(corner_truncation_required=True, corner_truncation_ratio=0.25, corner_truncation_min_m=2.0,
                    corner_truncation_max_m=10.0)
    (finding,) = truncations(corner_plan(15, 32, rules=rules))
    assert finding.limit == pytest.approx(8.0)


def test_a_truncated_corner_passes():
    leg = 5.0
    x0, y0 = 25, 15
    cut = shapely.Polygon([(x0 + leg, y0), (62.5, y0), (62.5, 57.5), (x0, 57.5), (x0, y0 + leg)])
    ctx = corner_plan(15, 25, corner_lot=cut)
    assert truncations(ctx) == []


def test_lots_on_one_street_need_no_truncation():
    ctx = corner_plan(15, 15)
    labels = {f.features[0] for f in truncations(ctx)}
    assert labels == {"1"}


def test_correction_cuts_the_triangle_and_gives_it_to_the_road():
    ctx = corner_plan(15, 25)
    report = validate(ctx, only=ONLY)
    (finding,) = [f for f in report.findings if f.code == "CORNER_TRUNCATION"]
    assert finding.correction is not None
    assert {cf.label for cf in finding.correction.features} == {"1", "R1"} or \
        {cf.label for cf in finding.correction.features} == {"1", "R2"}
    assert finding.correction.max_displacement_m == pytest.approx(5 * np.cos(np.radians(45)), abs=1e-3)
    p = prepare(ctx)
    geoms, applied = corrected_geometries(p.geoms, p.kinds, report.findings)
    assert applied == 1
    fixed = PlanContext(features=tuple(PlanFeature(f.kind, f.lot_no, g, index=f.index)
                                       for f, g in zip(ctx.features, geoms)), parents=ctx.parents, rules=ctx.rules)
    after = validate(fixed, only=ONLY)
    assert [f.code for f in after.findings] == []
    assert geoms[0].area == pytest.approx(ctx.features[0].geom.area - 12.5, abs=1e-6)


def test_registry_streets_get_a_note_instead_of_a_correction():
    ctx = corner_plan(15, 25, roads_in_plan=False)
    (finding,) = truncations(ctx)
    assert finding.correction is None
    assert "right-of-way" in finding.correction_note


def test_clean_plan_of_the_other_rules_is_untouched():
    # a lot with no street at all is no corner
    ctx = corner_plan(15, 15)
    lonely = PlanContext(features=tuple(f for f in ctx.features if f.kind == "lot"), parents=ctx.parents,
                         rules=REQUIRED)
    assert truncations(lonely) == []


def test_off_unless_the_rule_set_asks_for_it():
    assert truncations(corner_plan(15, 25, rules=RuleSet())) == []
