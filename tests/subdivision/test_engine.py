"""validate(): the report's validity, summary arithmetic and robustness."""
from __future__ import annotations

import dataclasses

import pytest
import shapely

from subdivision.engine import RULES, Finding, PlanFeature, Report, registry, validate
from tests import geometries as geo

SUMMARY_KEYS = {
    "parent_area_m2", "lots_count", "lots_area_m2", "roads_area_m2", "open_space_area_m2",
    "utility_area_m2", "public_share_pct", "overlap_area_m2", "uncovered_area_m2", "outside_area_m2",
}


def test_clean_block_is_valid_with_no_findings():
    report = validate(geo.clean_block())
    assert isinstance(report, Report)
    assert report.valid is True
    assert report.findings == []


def test_clean_block_summary():
    s = validate(geo.clean_block()).summary
    assert set(s) == SUMMARY_KEYS
    # four corner lots each give a 4.5 m² truncation triangle to a road
    assert s == {
        "parent_area_m2": 8100.0, "lots_count": 6, "lots_area_m2": 3600.0 - 18,
        "roads_area_m2": 4500.0 + 18, "open_space_area_m2": 0.0, "utility_area_m2": 0.0,
        "public_share_pct": 55.78, "overlap_area_m2": 0.0, "uncovered_area_m2": 0.0,
        "outside_area_m2": 0.0,
    }


def test_summary_counts_overlap_gap_outside_and_open_space():
    ctx = geo.with_feature(geo.clean_block(), "2", wkt=geo.box_wkt(20, 0, 42, 28))  # 56 m² overlap, 40 m² gap
    ctx = geo.adding(
        ctx,
        PlanFeature("open_space", "OS1", geo.g(geo.box_wkt(75, 30, 85, 60))),  # 300 m² outside
        PlanFeature("utility", "U1", geo.g(geo.box_wkt(75, 60, 80, 75))),  # 75 m² outside
    )
    s = validate(ctx).summary
    assert s["lots_count"] == 6
    assert s["lots_area_m2"] == 3000.0 - 18 + 22 * 28
    assert s["open_space_area_m2"] == 300.0
    assert s["utility_area_m2"] == 75.0
    assert s["overlap_area_m2"] == 56.0
    assert s["uncovered_area_m2"] == 40.0
    assert s["outside_area_m2"] == 375.0
    assert s["public_share_pct"] == round((4518 + 300 + 75) / 8100 * 100, 2)


def test_warnings_alone_keep_the_plan_valid():
    report = validate(geo.wrong_stated_area())
    assert [f.code for f in report.findings] == ["STATED_AREA_MISMATCH"]
    assert report.valid is True


def test_an_error_makes_the_plan_invalid():
    report = validate(geo.small_lot())
    assert "LOT_AREA_MIN" in {f.code for f in report.findings}
    assert report.valid is False


def test_invalid_geometry_is_reported_and_the_rest_still_validated():
    report = validate(geo.with_feature(geo.bowtie_lot(), "5", wkt=geo.box_wkt(20, 30, 33, 60)))
    codes = {(f.code, f.features) for f in report.findings}
    assert ("GEOM_INVALID", ("1",)) in codes
    assert ("LOT_AREA_MIN", ("5",)) in codes
    assert ("RULE_FAILED", ()) not in codes


def test_a_crashing_rule_becomes_a_rule_failed_finding(monkeypatch):
    def boom(ctx, p):
        raise RuntimeError("kaput")

    monkeypatch.setitem(registry.RULES, "BOOM", boom)
    report = validate(geo.clean_block())
    assert [f.code for f in report.findings] == ["RULE_FAILED"]
    assert "BOOM" in report.findings[0].message_en
    assert report.valid is False


def test_only_limits_the_rules_run():
    report = validate(geo.small_lot(), only=("GAP",))
    assert report.findings == []


def test_rule_decorator_refuses_a_second_function_for_a_code():
    with pytest.raises(ValueError):
        registry.rule("GAP")(lambda ctx, p: [])


def test_weird_input_never_crashes_validation():
    ctx = geo.adding(
        geo.clean_block(),
        PlanFeature("lot", None, None),
        PlanFeature("lot", "X", shapely.from_wkt("GEOMETRYCOLLECTION(POINT(1 1), POLYGON((80 0, 90 0, 90 10, 80 0)))")),
        PlanFeature("road", "R9", shapely.from_wkt("POLYGON EMPTY")),
    )
    ctx = dataclasses.replace(ctx, municipality_boundary=shapely.from_wkt("POLYGON((0 0, 10 10, 10 0, 0 10, 0 0))"))
    report = validate(ctx)
    assert "RULE_FAILED" not in {f.code for f in report.findings}
    assert {"GEOM_NOT_POLYGON", "MISSING_LOT_NO"} <= {f.code for f in report.findings}
    assert all(isinstance(f, Finding) for f in report.findings)


def test_every_rule_code_is_registered():
    expected = {
        "GEOM_INVALID", "GEOM_NOT_POLYGON", "OUT_OF_MUNICIPALITY", "PARENT_NOT_ACTIVE",
        "OUTSIDE_PARENT", "OVERLAP", "GAP", "SLIVER", "EXISTING_PARCEL_CONFLICT",
        "DUPLICATE_LOT_NO", "MISSING_LOT_NO", "LOT_AREA_MIN", "LOT_FRONTAGE_MIN",
        "LOT_DEPTH_RATIO", "NO_STREET_ACCESS", "ROAD_WIDTH_MIN", "PUBLIC_SHARE_MIN",
        "STATED_AREA_MISMATCH",
    }
    assert expected <= set(RULES)
