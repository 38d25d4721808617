"""Pure measurements: frontage, depth, widths, repair."""
from __future__ import annotations

import numpy as np
import pytest
import shapely

from subdivision.engine import measure
from tests.geometries import box_wkt, g


def frontage_of(lot_wkts, access_wkts, snap=0.5):
    lots = np.array([g(w) for w in lot_wkts], dtype=object)
    access = np.array([g(w) for w in access_wkts], dtype=object)
    return measure.frontage(lots, shapely.STRtree(access), access, snap)


@pytest.mark.parametrize(
    "lot, roads, expected",
    [
        (box_wkt(20, 0, 40, 30), [box_wkt(-15, -15, 75, 0)], 20.0),  # mid-block lot
        (box_wkt(0, 0, 20, 30), [box_wkt(-15, -15, 75, 0), box_wkt(-15, 0, 0, 60)], 50.0),  # corner
        (box_wkt(20, 0.3, 40, 30), [box_wkt(-15, -15, 75, 0)], 20.0),  # 0.3 m gap: within snap
        (box_wkt(20, 0.8, 40, 30), [box_wkt(-15, -15, 75, 0)], 0.0),  # 0.8 m gap: beyond snap
        (box_wkt(20, 0, 40, 30), [box_wkt(-15, -15, 30, 0)], 10.0),  # road ends mid-lot
        # road polygon and a street right-of-way overlap: counted once
        (box_wkt(20, 0, 40, 30), [box_wkt(-15, -15, 75, 0), box_wkt(-15, -30, 75, 0)], 20.0),
        # clockwise lot ring: orientation must not matter
        ("POLYGON((20 0, 20 30, 40 30, 40 0, 20 0))", [box_wkt(-15, -15, 75, 0)], 20.0),
    ],
)
def test_frontage(lot, roads, expected):
    frontage_m, _ = frontage_of([lot], roads)
    assert frontage_m[0] == pytest.approx(expected, abs=1e-6)


def test_side_boundaries_between_neighbours_do_not_count_as_frontage():
    frontage_m, _ = frontage_of(
        [box_wkt(0, 0, 20, 30), box_wkt(20, 0, 40, 30), box_wkt(40, 0, 60, 30)],
        [box_wkt(-100, -15, 100, 0)],
    )
    assert frontage_m.tolist() == pytest.approx([20, 20, 20])


def test_frontage_on_a_curved_road_follows_the_arc():
    road = shapely.Point(0, 0).buffer(50, quad_segs=32).difference(shapely.Point(0, 0).buffer(35, quad_segs=32))
    lot = shapely.Point(0, 0).buffer(35, quad_segs=32).intersection(shapely.box(0, 0, 50, 50))
    lots = np.array([lot], dtype=object)
    access = np.array([road], dtype=object)
    frontage_m, _ = measure.frontage(lots, shapely.STRtree(access), access, 0.5)
    assert frontage_m[0] == pytest.approx(np.pi * 35 / 2, rel=0.01)


def test_depth_is_measured_across_the_main_frontage():
    lots = np.array([g(box_wkt(0, 0, 20, 70)), g(box_wkt(0, 0, 70, 20))], dtype=object)
    along_x = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert measure.depth_along(lots, along_x).tolist() == pytest.approx([70, 70])


def test_main_frontage_direction_is_the_longest_road_facing_side():
    _, direction = frontage_of([box_wkt(0, 0, 30, 20)], [box_wkt(-15, -15, 75, 0), box_wkt(-15, 0, 0, 60)])
    assert abs(direction[0][0]) == pytest.approx(1.0)  # the 30 m bottom side, along x


@pytest.mark.parametrize(
    "wkt, limit, narrow_area",
    [
        (box_wkt(0, 0, 100, 15), 12, 0.0),
        (box_wkt(0, 0, 100, 12), 12, 0.0),  # exactly the limit passes
        (box_wkt(0, 0, 100, 10), 12, 1000.0),
        ("POLYGON((0 0, 50 0, 50 15, 40 15, 40 30, 30 30, 30 15, 0 15, 0 0))", 12, 150.0),  # 10 m spur
    ],
)
def test_narrow_part(wkt, limit, narrow_area):
    assert measure.narrow_part(g(wkt), limit).area == pytest.approx(narrow_area, abs=0.01)


def test_inscribed_width_of_a_rectangle_is_its_short_side():
    assert measure.inscribed_width(g(box_wkt(0, 0, 100, 10))) == pytest.approx(10, abs=0.05)


def test_thinness_and_narrowness():
    geoms = np.array([g(box_wkt(0, 0, 20, 20)), g(box_wkt(0, 0, 2, 60)), g(box_wkt(0, 0, 0.8, 30))], dtype=object)
    assert measure.thinness(geoms) == pytest.approx([np.pi / 4, 4 * np.pi * 120 / 124**2, 4 * np.pi * 24 / 61.6**2])
    assert measure.narrower_than(geoms, 1.0).tolist() == [False, False, True]


def test_polygonal_repairs_and_drops_non_polygons():
    bowtie = measure.polygonal(g("POLYGON((0 0, 20 30, 20 0, 0 30, 0 0))"))
    assert bowtie.is_valid and bowtie.area == pytest.approx(300)
    assert measure.polygonal(g("LINESTRING(0 0, 1 1)")).is_empty
    assert measure.polygonal(None).is_empty
    assert measure.polygonal(g("POLYGON Z((0 0 5, 1 0 5, 1 1 5, 0 0 5))")).has_z is False


def test_invalidity_point_is_parsed_from_the_geos_reason():
    p = measure.invalidity_point("Self-intersection[5.5 -3e2]")
    assert (p.x, p.y) == (5.5, -300.0)
    assert measure.invalidity_point("Valid Geometry") is None


@pytest.mark.parametrize("per_cell", [1, 3, 1000])
def test_uncovered_merges_gap_pieces_across_grid_cells(per_cell):
    # 10 x 1 strip of 10 m lots with a 0.5 m gap strip along the whole top: crosses every cell
    lots = np.array([g(box_wkt(10 * i, 0, 10 * i + 10, 9.5)) for i in range(10)], dtype=object)
    region = g(box_wkt(0, 0, 100, 10))
    gap = measure.uncovered(region, lots, shapely.STRtree(lots), per_cell=per_cell)
    parts, _ = measure.explode_polygons([gap])
    assert len(parts) == 1
    assert parts[0].area == pytest.approx(50.0)
    assert parts[0].bounds == pytest.approx((0, 9.5, 100, 10))


def test_uncovered_is_empty_for_an_exact_cover():
    lots = np.array([g(box_wkt(10 * i, 0, 10 * i + 10, 10)) for i in range(10)], dtype=object)
    gap = measure.uncovered(g(box_wkt(0, 0, 100, 10)), lots, shapely.STRtree(lots), per_cell=1)
    assert gap.area == pytest.approx(0.0, abs=1e-9)
