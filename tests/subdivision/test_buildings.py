"""BUILDING_SETBACK and BUILDING_COVERAGE: building footprints a plan carries (kind building), against the rule
set's setbacks (front 1/5 of the street's width up to 6 m, sides and rear 2 m) and coverage (60 %). Pure shapely."""
from __future__ import annotations

import pytest
from shapely.geometry import box

from subdivision.engine import (
    ExistingParcel,
    PlanContext,
    PlanFeature,
    RuleSet,
    validate,
)

ONLY = ("BUILDING_SETBACK", "BUILDING_COVERAGE")


DEFAULT_RULES = RuleSet()


def plan(*buildings, road_m: float = 14.0, rules=DEFAULT_RULES, street_row=False) -> PlanContext:
    """A 25 m x 26 m lot behind a ROAD_M-wide road (a plan road, or the registry's right-of-way)."""
    road = box(0, 0, 100, road_m)
    lot = box(0, road_m, 25, road_m + 26)
    features = [PlanFeature("lot", "1", lot, index=0)]
    if not street_row:
        features.append(PlanFeature("road", "R1", road, index=1))
    features += [PlanFeature("building", f"B{k + 1}", b, index=2 + k) for k, b in enumerate(buildings)]
    return PlanContext(features=tuple(features), parents=(ExistingParcel("P", box(0, 0, 100, 40 + road_m),
                                                                          "active"),),
                       street_rows=(road,) if street_row else (), rules=rules)


def findings(ctx, code=None):
    return [f for f in validate(ctx, only=ONLY).findings if code is None or f.code == code]


def test_a_building_inside_the_buildable_area_passes():
    # front 0.2 x 14 = 2.8 m, sides and rear 2 m: buildable x 2..23, y 16.8..38
    assert findings(plan(box(3, 17, 22, 37))) == []


def test_a_wall_exactly_on_the_setback_line_passes():
    assert findings(plan(box(2, 16.8, 23, 30)), "BUILDING_SETBACK") == []


@pytest.mark.parametrize("street_row", [False, True])
def test_front_setback_follows_the_street_width(street_row):
    def building(road_m):
        return box(3, road_m + 2.5, 22, road_m + 15)  # 2.5 m from the front

    assert findings(plan(building(10), road_m=10, street_row=street_row), "BUILDING_SETBACK") == []  # 2 m needed
    (finding,) = findings(plan(building(20), road_m=20, street_row=street_row), "BUILDING_SETBACK")  # 4 m needed
    assert finding.features == ("B1", "1")
    assert finding.location.area == pytest.approx(19 * 1.5, abs=0.15)  # the line is drawn 5 mm short
    assert "1.50 m closer" in finding.message_en


def test_front_setback_is_capped():
    # a 40 m street: 8 m by the ratio, capped at 6 m
    assert findings(plan(box(3, 40 + 6.1, 22, 60), road_m=40), "BUILDING_SETBACK") == []


def test_side_and_rear_setbacks():
    (side,) = findings(plan(box(1, 17, 10, 30)), "BUILDING_SETBACK")
    assert side.location.area == pytest.approx(13, abs=0.1)
    (rear,) = findings(plan(box(3, 17, 22, 39.5)), "BUILDING_SETBACK")
    assert rear.location.area == pytest.approx(19 * 1.5, abs=0.15)


def test_coverage_over_the_limit():
    (finding,) = findings(plan(box(2, 16.8, 23, 38)), "BUILDING_COVERAGE")  # 445.2 m² of 650 m²
    assert finding.value == pytest.approx(445.2 / 650 * 100, abs=0.01)
    assert finding.limit == 60
    assert finding.features == ("1", "B1")


def test_coverage_counts_every_building_on_the_lot_and_follows_the_rule_set():
    two = plan(box(3, 17, 12, 37), box(13, 17, 22, 37))  # 360 m² of 650: 55 %
    assert findings(two, "BUILDING_COVERAGE") == []
    stricter = plan(box(3, 17, 12, 37), box(13, 17, 22, 37), rules=RuleSet(max_coverage_pct=50))
    (finding,) = findings(stricter, "BUILDING_COVERAGE")
    assert finding.features == ("1", "B1", "B2")


def test_plans_without_buildings_are_not_checked():
    assert findings(plan()) == []
