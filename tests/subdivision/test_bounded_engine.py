"""The engine's bounded and exact edges: overlaps merged by region, copies, budgets, lot numbers
compared normalised, road widths at 1 cm, and finding locations that survive slivers."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
import shapely.affinity
from pyproj import Transformer

from subdivision.engine import (
    Budget,
    BudgetExceeded,
    ExistingParcel,
    Finding,
    PlanContext,
    PlanFeature,
    TooComplex,
    prepare,
    validate,
)
from subdivision.engine.overlaps import overlap_regions
from subdivision.engine.rules.lots import duplicate_lot_no, lot_no_key
from subdivision.engine.rules.roads import road_width_min
from tests import geometries as geo


def arr(*geoms):
    out = np.empty(len(geoms), dtype=object)
    out[:] = geoms
    return out


def box(x0, y0, x1, y1):
    return shapely.box(x0, y0, x1, y1)


def test_three_lots_on_one_spot_are_one_region_naming_all_three():
    regions = overlap_regions(arr(box(0, 0, 10, 10), box(5, 0, 15, 10), box(8, 0, 18, 10), box(30, 0, 40, 10)))
    assert len(regions.geoms) == 1
    assert regions.members[0].tolist() == [0, 1, 2]
    assert regions.areas[0] == pytest.approx(100)  # x from 5 to 15 is covered twice or more, counted once


def test_separate_overlaps_are_separate_regions():
    regions = overlap_regions(arr(box(0, 0, 10, 10), box(9, 0, 20, 10), box(19, 0, 30, 10)))
    assert sorted(m.tolist() for m in regions.members) == [[0, 1], [1, 2]]
    assert sorted(regions.areas) == pytest.approx([10, 10])


def test_copies_join_the_region_of_what_overlaps_their_original():
    square = box(0, 0, 10, 10)
    regions = overlap_regions(arr(square, box(5, 5, 15, 15), square, square, box(50, 50, 60, 60)))
    assert len(regions.geoms) == 1
    assert regions.members[0].tolist() == [0, 1, 2, 3]
    assert regions.areas[0] == pytest.approx(100)  # the copied square, counted once


U_SHAPE = shapely.from_wkt("POLYGON ((0 0, 30 0, 30 10, 20 10, 20 2, 10 2, 10 10, 0 10, 0 0))")


def test_two_features_overlapping_in_two_places_name_each_other_in_both_regions():
    # Their intersection is one MultiPolygon in two regions; it used to crash with "need at least one array
    # to concatenate" (a region no piece was found in), which the validator reported as RULE_FAILED.
    regions = overlap_regions(arr(U_SHAPE, box(-1, 8, 31, 12)))
    assert [m.tolist() for m in regions.members] == [[0, 1], [0, 1]]
    assert sorted(regions.areas) == pytest.approx([20, 20])


def test_an_overlap_with_a_part_of_nanometres_is_a_region_not_a_crash():
    # Lot 1 bulges 0.1 mm into lot 2 (a 1e-8 m² triangle, as a round trip through degrees leaves) and lot 2
    # reaches 1 m into lot 1 elsewhere: their intersection has a tiny second part in a region of its own.
    left = shapely.Polygon([(0, 0), (10, 0), (10, 5 - 1e-4), (10 + 1e-4, 5), (10, 5 + 1e-4), (10, 10), (0, 10)])
    right = shapely.Polygon([(9, 0), (20, 0), (20, 10), (10, 10), (10, 2), (9, 2)])
    regions = overlap_regions(arr(left, right))
    assert [m.tolist() for m in regions.members] == [[0, 1], [0, 1]]
    assert sorted(regions.areas) == pytest.approx([1e-8, 2], rel=1e-3)


def test_a_plan_with_an_overlap_in_two_places_reports_overlap_not_a_crashed_rule():
    ctx = PlanContext(
        features=(PlanFeature("lot", "1", U_SHAPE, round(U_SHAPE.area, 2), "residential", 0),
                  PlanFeature("lot", "2", box(0, 8, 30, 30), 660.0, "residential", 1)),
        parents=(ExistingParcel("P", box(0, 0, 30, 30), "active"),),
    )
    codes = [f.code for f in validate(ctx).findings]
    assert "RULE_FAILED" not in codes
    assert codes.count("OVERLAP") == 2


def test_thousands_of_shifted_lots_are_refused_after_bounded_work():
    lots = arr(*(box(i * 0.01, 0, 20 + i * 0.01, 30) for i in range(3000)))
    with pytest.raises(TooComplex, match="3,000 features lie on top of each other"):
        overlap_regions(lots)


def test_a_spent_budget_stops_validation():
    with pytest.raises(BudgetExceeded, match="after 0 s"):
        validate(geo.clean_block(), budget=Budget(0))


def test_a_clean_plan_validates_within_a_budget():
    assert validate(geo.clean_block(), budget=Budget(30)).valid


@pytest.mark.parametrize("a, b", [("1", "١"), ("1", "１"), ("01", "1"), ("A1", "a1"), ("12 A", "12a"),
                                  ("۱۲", "12"), ("0", "00")])
def test_lot_numbers_that_read_the_same_have_one_key(a, b):
    assert lot_no_key(a) == lot_no_key(b)


@pytest.mark.parametrize("a, b", [("1", "10"), ("12", "21"), ("A1", "B1"), ("1-2", "12")])
def test_different_lot_numbers_keep_different_keys(a, b):
    assert lot_no_key(a) != lot_no_key(b)


def test_duplicate_lot_numbers_are_found_in_any_script_and_reported_as_written():
    ctx = geo.clean_block()
    renumbered = tuple(
        PlanFeature(f.kind, {"2": "٣", "4": "03"}.get(f.lot_no, f.lot_no), f.geom, f.stated_area, f.land_use, f.index)
        for f in ctx.features)
    ctx = PlanContext(renumbered, ctx.parents, ctx.existing, ctx.street_rows, ctx.municipality_boundary, ctx.rules)
    findings = duplicate_lot_no(ctx, prepare(ctx))
    assert len(findings) == 1
    assert set(findings[0].features) == {"3", "٣", "03"}
    assert findings[0].value == 3


# ---- road widths against an independent measure -----------------------------------------------
_TO_DEGREES = Transformer.from_crs(31982, 4326, always_xy=True)
_TO_METRES = Transformer.from_crs(4326, 31982, always_xy=True)


def straight_road(width_m: float, degrees: float, length_m: float = 300.0):
    """A straight road drawn in SIRGAS 2000 / UTM 22S that went through lon/lat at 9 decimals (0.1 mm) on its way
    from CAD through QGIS to GeoJSON."""
    road = shapely.affinity.rotate(box(0, 0, length_m, width_m), degrees, origin=(0, 0))
    road = shapely.affinity.translate(road, 690_000, 7_418_000)
    xy = shapely.get_coordinates(road)
    lon, lat = _TO_DEGREES.transform(xy[:, 0], xy[:, 1])
    x, y = _TO_METRES.transform(np.round(lon, 9), np.round(lat, 9))
    return shapely.Polygon(np.column_stack([x, y]))


def road_findings(road):
    ctx = PlanContext(features=(PlanFeature("road", "R1", road),),
                      parents=(ExistingParcel("P", road.buffer(1), "active"),))
    return road_width_min(ctx, prepare(ctx))


@pytest.mark.parametrize("degrees", [0, 17, 45, 80])
@pytest.mark.parametrize("width", [11.95, 11.96, 11.97])
def test_a_narrow_straight_road_is_reported_at_its_measured_width(width, degrees):
    road = straight_road(width, degrees)
    independent = road.area / 300.0  # a straight road's area over its length
    findings = road_findings(road)
    assert len(findings) == 1
    assert findings[0].value == pytest.approx(independent, abs=0.006)
    assert f"is {findings[0].value:.2f} m wide" in findings[0].message_en
    assert "about" not in findings[0].message_en


@pytest.mark.parametrize("degrees", [0, 17, 45, 80])
@pytest.mark.parametrize("width", [11.996, 12.0, 12.004])
def test_a_road_whose_width_rounds_to_the_limit_passes(width, degrees):
    assert road_findings(straight_road(width, degrees)) == []


# ---- locations that snapping would break --------------------------------------------------------
# A 4.75 m², 4 cm-wide road sliver, valid in SIRGAS 2000 / UTM 22S; in lon/lat it self-intersects
# and GEOS's snap rounding raises TopologyException on it.
SLIVER = shapely.from_wkt(
    "POLYGON ((690297.9273724034 7418781.492427411, 690184.6776111996 7418817.459490251, "
    "690071.4520910181 7418853.50279201, 690071.4399697323 7418853.464670114, "
    "690297.9152511175 7418781.454305515, 690297.9273724034 7418781.492427411))")


def test_the_sliver_is_valid_in_metres_and_breaks_plain_snapping_in_degrees():
    from subdivision.services import LOCATION_PRECISION

    assert SLIVER.is_valid
    in_degrees = shapely.transform(SLIVER, lambda xy: np.column_stack(_TO_DEGREES.transform(xy[:, 0], xy[:, 1])))
    with pytest.raises(shapely.errors.GEOSException):
        shapely.set_precision(in_degrees, 10 ** -LOCATION_PRECISION)


def test_a_sliver_location_does_not_lose_the_report():
    from subdivision.services import finding_json, finding_rows

    good = Finding("GAP", "error", "en", "ar", (), box(690000, 7418000, 690010, 7418010), 100.0, 0.5)
    sliver = Finding("ROAD_WIDTH_MIN", "error", "en", "ar", ("R1",), SLIVER, 0.04, 12.0)
    out = [finding_json(row) for row in
           finding_rows([good, sliver, Finding("NO_PARENT", "error", "en", "ar", (), None)], 31982)]
    assert [f["code"] for f in out] == ["GAP", "ROAD_WIDTH_MIN", "NO_PARENT"]
    assert out[1]["location"]["type"] == "Polygon"
    lon, lat = out[1]["location"]["coordinates"][0][0]
    assert -49.2 < lon < -49.1 and -23.4 < lat < -23.3
    assert all(round(c, 7) == c for point in out[1]["location"]["coordinates"][0] for c in point)
    assert out[2]["location"] is None


def _plan(*lots, parent=box(0, 0, 40, 30)):
    features = tuple(PlanFeature("lot", str(i + 1), g, index=i) for i, g in enumerate(lots))
    return PlanContext(features=features, parents=(ExistingParcel("P", parent, "active"),))


@pytest.mark.parametrize("lots", [
    (box(0, 0, 20, 30), box(20, 0, 40, 30)),                                  # covered exactly
    (box(0, 0, 20, 30), box(21, 0, 40, 30)),                                  # a 30 m² gap
    (box(0, 0, 20, 30), box(20, 0, 40 + 1e-9, 30)),                           # sticks out by a hair
    (box(0, 0, 20, 30), box(21, 0, 45, 30)),                                  # a gap and a part outside
    (box(0, 0, 22, 30), box(20, 0, 39, 30)),                                  # an overlap and a gap
    (box(0, 0, 20, 30), box(0, 0, 20, 30), box(25, 0, 40, 30)),               # copies and a gap
])
def test_uncovered_area_agrees_with_the_geometric_difference(lots):
    p = prepare(_plan(*lots))
    expected = shapely.difference(box(0, 0, 40, 30), shapely.union_all(arr(*lots))).area
    assert p.uncovered_area == pytest.approx(expected, abs=1e-6)
    gaps = [f for f in validate(_plan(*lots)).findings if f.code == "GAP"]
    assert sum(f.value for f in gaps) == pytest.approx(expected if expected > 0.5 else 0, abs=1e-6)
