"""The permit geometry on a known rectangle: corners, edges, bearings, frontage, setbacks, buildable area."""

import math

import pytest
import shapely

from subdivision.permits.footprint import check_footprint
from subdivision.permits.geometry import (
    FRONT,
    REAR,
    SIDE,
    Rules,
    Street,
    buildable_area,
    corners_of,
    edges_of,
    front_setback_m,
    frontages_of,
    grid_bearing_deg,
)

# A 20 m (east-west) by 30 m lot whose south side lies on a 20 m street (centreline 10 m south).
LOT = shapely.box(0, 0, 20, 30)
ROW = shapely.box(-50, -20, 70, 0)
STREET = Street("King Fahd Road", "طريق الملك فهد", 20.0, shapely.LineString([(-50, -10), (70, -10)]))


def lot_edges(lot=LOT, rows=ROW, streets=(STREET,)):
    return edges_of(lot, street_rows=rows, streets=list(streets))


def test_corners_are_numbered_clockwise_from_the_north_west_corner():
    # Whatever the ring's orientation and start in the data.
    for lot in (LOT, shapely.Polygon([(20, 0), (20, 30), (0, 30), (0, 0)]), shapely.orient_polygons(LOT)):
        assert [(c.number, c.x, c.y) for c in corners_of(lot)] == [
            (1, 0, 30), (2, 20, 30), (3, 20, 0), (4, 0, 0)]


def test_collinear_vertices_are_not_corners_and_coordinates_keep_millimetres():
    lot = shapely.Polygon([(0, 0), (0, 15), (0.001, 30), (10, 30), (20.0004, 30), (20, 0)])
    corners = corners_of(shapely.MultiPolygon([lot]))
    assert [(c.x, c.y) for c in corners] == [(0.001, 30), (20.0, 30), (20, 0), (0, 0)]


def test_edges_have_lengths_grid_bearings_and_the_street_they_front():
    edges = lot_edges()
    assert [(e.from_corner, e.to_corner) for e in edges] == [(1, 2), (2, 3), (3, 4), (4, 1)]
    assert [round(e.length_m, 6) for e in edges] == [20, 30, 20, 30]
    assert [round(e.bearing_deg, 6) for e in edges] == [90, 180, 270, 0]
    assert [e.fronts_street for e in edges] == [False, False, True, False]
    assert edges[2].street.name_ar == "طريق الملك فهد" and edges[2].street.row_width_m == 20
    # The rear is the edge opposite the (longest) frontage; the others are sides.
    assert [e.kind for e in edges] == [REAR, SIDE, FRONT, SIDE]


@pytest.mark.parametrize("start, end, bearing", [((0, 0), (0, 5), 0), ((0, 0), (3, 3), 45), ((0, 0), (-1, 0), 270),
                                                 ((2, 2), (1, 1), 225)])
def test_grid_bearing_is_clockwise_from_north(start, end, bearing):
    assert grid_bearing_deg(start, end) == pytest.approx(bearing)


@pytest.mark.parametrize("width, setback", [(20, 4.0), (15, 3.0), (40, 6.0), (None, 6.0)])
def test_front_setback_is_a_fifth_of_the_street_width_at_most_six_metres(width, setback):
    assert front_setback_m(width, Rules()) == pytest.approx(setback)


def test_buildable_area_is_the_lot_less_its_setbacks():
    edges = lot_edges()
    buildable = buildable_area(LOT, edges, Rules())
    # front 4 m (south), rear 2 m (north), sides 2 m.
    assert buildable.equals_exact(shapely.box(2, 4, 18, 28), 1e-6) or buildable.symmetric_difference(
        shapely.box(2, 4, 18, 28)).area < 1e-6
    frontage = frontages_of(edges, Rules())
    assert [(f.street.name_en, f.frontage_m, f.front_setback_m) for f in frontage] == [("King Fahd Road", 20, 4)]


def test_a_corner_lot_keeps_the_front_setback_on_both_streets():
    side_street = Street("Side St", "", 15.0, shapely.LineString([(27.5, -50), (27.5, 80)]))
    rows = shapely.union(ROW, shapely.box(20, -20, 35, 80))
    edges = lot_edges(rows=rows, streets=(STREET, side_street))
    # The side street's frontage (30 m) is the longest: the rear is opposite it, the west side.
    assert [e.kind for e in edges] == [SIDE, FRONT, FRONT, REAR]
    assert edges[1].street.name_en == "Side St"
    buildable = buildable_area(LOT, edges, Rules())
    assert buildable.symmetric_difference(shapely.box(2, 4, 17, 28)).area < 1e-6


def test_a_turned_lot_measures_the_same():
    turned = shapely.affinity.rotate(LOT, 30, origin=(0, 0))
    rows = shapely.affinity.rotate(ROW, 30, origin=(0, 0))
    street = Street("S", "", 20.0, shapely.affinity.rotate(STREET.geom, 30, origin=(0, 0)))
    edges = lot_edges(turned, rows, (street,))
    assert sorted(round(e.length_m, 6) for e in edges) == [20, 20, 30, 30]
    front = [e for e in edges if e.kind == FRONT]
    assert len(front) == 1 and front[0].bearing_deg == pytest.approx((270 - 30) % 360)
    assert buildable_area(turned, edges, Rules()).area == pytest.approx(16 * 24, abs=1e-6)


def test_a_footprint_inside_the_building_line_passes():
    check = check_footprint(shapely.box(3, 5, 17, 20), LOT, lot_edges(), Rules())
    assert check.ok and check.findings == []
    assert check.coverage_pct == pytest.approx(14 * 15 / 600 * 100, abs=0.01)
    # A wall exactly on the setback line passes too.
    assert check_footprint(shapely.box(2, 4, 12, 20), LOT, lot_edges(), Rules()).ok


def test_a_footprint_crossing_the_front_setback_is_located_where_it_crosses():
    check = check_footprint(shapely.box(3, 2, 17, 20), LOT, lot_edges(), Rules())
    assert not check.ok
    assert [f.code for f in check.findings] == ["SETBACK_FRONT"]
    finding = check.findings[0]
    assert finding.value == pytest.approx(2.0) and finding.limit == pytest.approx(4.0)
    # Exactly the part within 4 m of the front boundary (less the 1 cm tolerance).
    assert finding.location.bounds == pytest.approx((3, 2, 17, 3.99), abs=1e-6)
    assert "King Fahd Road" in finding.message_en and "طريق الملك فهد" in finding.message_ar


def test_a_footprint_too_big_exceeds_the_coverage_and_one_outside_is_named():
    check = check_footprint(shapely.box(2, 4, 18, 28), LOT, lot_edges(), Rules())
    assert [f.code for f in check.findings] == ["COVERAGE_EXCEEDED"]
    assert check.findings[0].value == pytest.approx(64.0) and check.findings[0].limit == 60
    outside = check_footprint(shapely.box(18, 10, 25, 15), LOT, lot_edges(), Rules())
    codes = [f.code for f in outside.findings]
    assert codes == ["FOOTPRINT_OUTSIDE_PARCEL", "SETBACK_SIDE"]
    assert outside.findings[0].location.area == pytest.approx(5 * 5)
    assert outside.findings[1].value == 0 and math.isclose(outside.findings[1].location.area, 1.99 * 5, rel_tol=1e-6)


def test_a_lot_on_no_street_keeps_the_side_setback_all_round():
    edges = lot_edges(rows=None, streets=())
    assert [e.kind for e in edges] == [SIDE] * 4 and not any(e.fronts_street for e in edges)
    assert frontages_of(edges, Rules()) == []
    assert buildable_area(LOT, edges, Rules()).symmetric_difference(shapely.box(2, 2, 18, 28)).area < 1e-6


def test_a_two_part_parcel_numbers_its_corners_on():
    parcel = shapely.MultiPolygon([LOT, shapely.box(100, 0, 110, 10)])
    corners = corners_of(parcel)
    assert [c.number for c in corners] == list(range(1, 9))
    assert (corners[4].x, corners[4].y) == (100, 10)  # the smaller part's north-west corner starts its ring
    edges = lot_edges(parcel)
    assert [(e.from_corner, e.to_corner) for e in edges[4:]] == [(5, 6), (6, 7), (7, 8), (8, 5)]
