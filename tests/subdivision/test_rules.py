"""Every rule: triggered by one perturbed plan (code, severity, features, location) and
silent on the clean plan. Run without Django: the engine is pure shapely."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import shapely

from subdivision.engine import RULES, prepare, validate
from tests import geometries as geo


def run(code: str, ctx):
    return RULES[code](ctx, prepare(ctx))


@dataclass(frozen=True)
class Case:
    code: str
    plan: object  # factory in tests.geometries
    severity: str
    features: tuple[str, ...]
    area: float | None  # expected location area (None: location is not areal)
    centroid: tuple[float, float] | None
    value: float | None = None
    count: int = 1


CASES = [
    Case("GEOM_INVALID", geo.bowtie_lot, "error", ("1",), 0.0, (10, 15)),
    Case("GEOM_NOT_POLYGON", geo.line_lot, "error", ("1",), 0.0, (10, 0)),
    Case("SLIVER", geo.narrow_sliver_lot, "error", ("7",), 15.0, (19.75, 15)),
    Case("SLIVER", geo.thin_open_space, "error", ("OS1",), 120.0, (61, 30), 4 * 3.141592653589793 * 120 / 124**2),
    Case("OUT_OF_MUNICIPALITY", geo.top_road_outside_municipality, "error", ("R2",), 270.0, (30, 73.5), 270.0),
    Case("NO_PARENT", geo.no_parent, "error", (), None, None),
    Case("PARENT_NOT_ACTIVE", geo.retired_parent, "error", ("P-1",), 8100.0, (30, 30)),
    Case("OUTSIDE_PARENT", geo.open_space_outside_parent, "error", ("OS1",), 300.0, (80, 45), 300.0),
    Case("OVERLAP", geo.overlapping_lots, "error", ("2", "3"), 60.0, (41, 15), 60.0),
    Case("GAP", geo.gap_between_lots, "error", (), 40.0, (30, 29), 40.0),
    Case("EXISTING_PARCEL_CONFLICT", geo.road_on_existing_parcel, "error", ("R4",), 150.0, (72.5, 15), 150.0),
    Case("CHILDREN_AREA_MISMATCH", geo.open_space_outside_parent, "warning", (), None, None, 300 / 8100 * 100),
    Case("DUPLICATE_LOT_NO", geo.duplicate_lot_no, "error", ("2",), 1200.0, (30, 30), 2.0),
    Case("MISSING_LOT_NO", geo.missing_lot_no, "error", (), 600.0, (30, 15)),
    # 13 x 30 m with centroid (6.5, 15), less the corner triangle of 4.5 m² with centroid (1, 1)
    Case("LOT_AREA_MIN", geo.small_lot, "error", ("1",), 385.5,
         ((390 * 6.5 - 4.5 * 1) / 385.5, (390 * 15 - 4.5 * 1) / 385.5), 385.5),
    Case("STATED_AREA_MISMATCH", geo.wrong_stated_area, "warning", ("2",), 600.0, (30, 15), 20 / 600 * 100),
    Case("NO_STREET_ACCESS", geo.landlocked_lot, "error", ("2",), 500.0, (30, 17.5)),
    Case("LOT_FRONTAGE_MIN", geo.narrow_frontage_lot, "error", ("2",), 450.0, (32.5, 15), 15.0),
    Case("LOT_DEPTH_RATIO", geo.deep_lots, "warning", ("2",), 1400.0, (30, 35), 3.5),
    Case("ROAD_WIDTH_MIN", geo.necked_road, "error", ("R1",), 50.0, (35, -2.5), 5.0),
    Case("ROAD_WIDTH_MIN", geo.narrow_passage, "error", ("R3",), 360.0, (-3, 30), 6.0),
    Case("PUBLIC_SHARE_MIN", geo.low_public_share, "error", (), None, None, 20.0),
    Case("CORNER_TRUNCATION", geo.uncut_corner_lots, "error", ("1",), 4.5, (1, 1), 4.5),
    Case("BUILDING_SETBACK", geo.building_in_front_setback, "error", ("B1", "2"), 15 * 1.995, (30, 1.9975),
         29.93),
    Case("BUILDING_COVERAGE", geo.building_over_coverage, "error", ("2", "B1"), 400.0, (30, 15.5), 66.67),
]


def _case_id(case: Case) -> str:
    return f"{case.code}-{case.plan.__name__}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule_triggers(case: Case):
    found = run(case.code, case.plan())
    # deep_lots has three equally deep lots; check the middle one, the others are alike.
    matching = [f for f in found if f.features == case.features]
    assert matching, [(f.features, f.message_en) for f in found]
    finding = matching[0]
    assert finding.code == case.code
    assert finding.severity == case.severity
    assert finding.message_en and finding.message_ar
    assert any("\u0600" <= ch <= "\u06ff" for ch in finding.message_ar)
    if case.area is None:
        assert finding.location is None
    else:
        assert finding.location is not None
        assert finding.location.area == pytest.approx(case.area, abs=0.01)
        c = finding.location.centroid
        assert (c.x, c.y) == pytest.approx(case.centroid, abs=0.01)
    if case.value is not None:
        assert finding.value == pytest.approx(case.value, rel=1e-3)


def test_every_registered_rule_has_a_triggering_case():
    assert set(RULES) == {c.code for c in CASES}


@pytest.mark.parametrize("plan", list(geo.CLEAN_PLANS.values()), ids=list(geo.CLEAN_PLANS))
@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_silent_on_clean_plan(code, plan):
    assert run(code, plan()) == []


# --- details that the table above cannot express ------------------------------------------

def test_geom_invalid_message_carries_the_geos_reason():
    (finding,) = run("GEOM_INVALID", geo.bowtie_lot())
    assert "Self-intersection" in finding.message_en
    assert finding.location.geom_type == "Point"


def test_overlap_below_tolerance_is_ignored():
    ctx = geo.with_feature(geo.clean_block(), "2", wkt=geo.box_wkt(20, 0, 40.01, 30))  # 0.3 m²
    assert run("OVERLAP", ctx) == []


def test_gap_below_tolerance_is_ignored():
    ctx = geo.with_feature(geo.clean_block(), "2", wkt=geo.box_wkt(20, 0, 40, 29.99))  # 0.2 m²
    assert run("GAP", ctx) == []


def test_bad_lot_does_not_stop_rules_on_the_others():
    found = run("LOT_AREA_MIN", geo.with_feature(geo.bowtie_lot(), "2", wkt=geo.box_wkt(20, 0, 33, 30)))
    # the bow-tie is measured after repair: two triangles of 150 m² each
    assert [(f.features, round(f.value, 1)) for f in found] == [(("1",), 300.0), (("2",), 390.0)]


def test_retired_or_parent_parcels_are_not_conflicts():
    ctx = geo.clean_block()  # holds P-1 itself and a retired parcel under lot 1
    assert {p.code for p in ctx.existing} >= {"P-1", "OLD-9"}
    assert run("EXISTING_PARCEL_CONFLICT", ctx) == []


def test_overlapping_lots_reported_once_per_pair():
    assert len(run("OVERLAP", geo.overlapping_lots())) == 1


def test_twelve_metre_road_passes_the_twelve_metre_limit():
    ctx = geo.with_feature(geo.clean_block(), "R4", wkt=geo.box_wkt(60, 0, 72, 60))
    assert run("ROAD_WIDTH_MIN", ctx) == []


def test_frontage_on_existing_street_row_counts():
    found = run("NO_STREET_ACCESS", geo.low_public_share())
    assert found == []
    assert run("LOT_FRONTAGE_MIN", geo.low_public_share()) == []


def test_weird_geometries_are_geometry_findings_and_nothing_else():
    """Empty, mixed, degenerate and missing geometries: each named once by a geometry rule, no rule fails."""
    ctx = geo.adding(
        geo.clean_block(),
        geo.PlanFeature("lot", "8", shapely.from_wkt("POLYGON EMPTY")),
        geo.PlanFeature("lot", "9", shapely.from_wkt("GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 1 1))")),
        geo.PlanFeature("road", "R9", shapely.from_wkt("POLYGON((0 0, 0 0, 0 0, 0 0))")),
        geo.PlanFeature("lot", "10", None),
    )
    p = prepare(ctx)
    found = {code: sorted(f.features for f in fn(ctx, p)) for code, fn in RULES.items()}
    assert found.pop("GEOM_INVALID") == [("R9",)]
    assert found.pop("GEOM_NOT_POLYGON") == [("10",), ("8",), ("9",)]
    # The broken features are left out of the other rules, and the clean block around them passes.
    assert {code: features for code, features in found.items() if features} == {}
    report = validate(ctx)
    assert not report.valid
    assert sorted((f.code, f.features) for f in report.findings) == [
        ("GEOM_INVALID", ("R9",)), ("GEOM_NOT_POLYGON", ("10",)), ("GEOM_NOT_POLYGON", ("8",)),
        ("GEOM_NOT_POLYGON", ("9",))]
