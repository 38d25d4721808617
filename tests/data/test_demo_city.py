"""Tests of the demo-city generator; pure geometry, no Django.

Run: .venv/bin/python -m pytest -p no:django -p no:cacheprovider tests/data -q
"""

from __future__ import annotations

import re

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import CRS
from shapely import wkt
from shapely.strtree import STRtree

from data.demo_city import LAYER_NAMES, generate, write_gpkg

# The generator builds the whole city (2,000+ lots) and checks it with GEOS: seconds, not milliseconds.
pytestmark = pytest.mark.slow

UTM = "EPSG:32638"
CODE_RE = re.compile(r"^[0-9A-Za-z]+-[0-9A-Za-z]*-[0-9A-Za-z]+$")
OVERLAP_TOLERANCE_M2 = 0.01
FRONTAGE_TOLERANCE_M = 0.05


# --------------------------------------------------------------------------- measurement helpers


def overlapping_pairs(geoms, tolerance_m2: float = OVERLAP_TOLERANCE_M2) -> list[tuple[int, int, float]]:
    """Return (i, j, area) for every pair of geometries overlapping by more than the tolerance."""
    geoms = np.asarray(geoms, dtype=object)
    tree = STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    bad = areas > tolerance_m2
    return [(int(i), int(j), float(a)) for i, j, a in zip(left[bad], right[bad], areas[bad])]


def overlaps_with(geoms, others, tolerance_m2: float = OVERLAP_TOLERANCE_M2) -> list[tuple[int, int, float]]:
    """Return (i, j, area) for geoms[i] overlapping others[j] by more than the tolerance."""
    geoms = np.asarray(geoms, dtype=object)
    others = np.asarray(others, dtype=object)
    tree = STRtree(others)
    left, right = tree.query(geoms, predicate="intersects")
    areas = shapely.area(shapely.intersection(geoms[left], others[right]))
    bad = areas > tolerance_m2
    return [(int(i), int(j), float(a)) for i, j, a in zip(left[bad], right[bad], areas[bad])]


def frontages_m(lots, rows) -> np.ndarray:
    """Return, per lot, the length of its boundary within 5 cm of any street right of way."""
    lots = np.asarray(lots, dtype=object)
    near = shapely.buffer(np.asarray(rows, dtype=object), FRONTAGE_TOLERANCE_M, join_style="mitre")
    tree = STRtree(near)
    out = np.zeros(len(lots))
    for i, lot in enumerate(lots):
        hits = tree.query(lot, predicate="intersects")
        if len(hits):
            out[i] = shapely.intersection(lot.boundary, shapely.union_all(near[hits])).length
    return out


def depth_width_ratios(lots) -> np.ndarray:
    """Return the long side over the short side of each lot's minimum rotated rectangle."""
    ratios = []
    for lot in lots:
        rect = shapely.oriented_envelope(lot)
        xy = np.asarray(rect.exterior.coords)
        sides = np.hypot(*np.diff(xy[:3], axis=0).T)
        ratios.append(sides.max() / sides.min())
    return np.array(ratios)


def layer_snapshot(frame) -> tuple:
    """Return a frame's columns, attribute values and WKB geometries, for exact comparison."""
    attrs = frame.drop(columns=frame.geometry.name)
    return (
        tuple(frame.columns),
        [tuple(row) for row in attrs.itertuples(index=False)],
        [bytes(b) for b in shapely.to_wkb(frame.geometry.values, output_dimension=2)],
    )


# --------------------------------------------------------------------------- the helpers can fail


def test_helpers_detect_bad_geometry():
    a = wkt.loads("POLYGON ((0 0, 20 0, 20 30, 0 30, 0 0))")
    b = wkt.loads("POLYGON ((19 0, 40 0, 40 30, 19 30, 19 0))")  # overlaps a by 30 m²
    row = wkt.loads("POLYGON ((-10 30, 50 30, 50 45, -10 45, -10 30))")
    assert overlapping_pairs([a, b]) == [(0, 1, pytest.approx(30.0))]
    assert overlaps_with([a], [b])[0][2] == pytest.approx(30.0)
    assert frontages_m([a, a.buffer(-5, join_style="mitre")], [row]) == pytest.approx([20.1, 0.0])  # 5 cm of each side edge counts
    assert depth_width_ratios([wkt.loads("POLYGON ((0 0, 10 0, 10 40, 0 40, 0 0))")]) == pytest.approx([4.0])


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def city():
    return generate()


@pytest.fixture(scope="module")
def utm(city):
    return {name: frame.to_crs(UTM) for name, frame in city.layers().items()}


@pytest.fixture(scope="module")
def gpkg(city, tmp_path_factory):
    return write_gpkg(city, tmp_path_factory.mktemp("demo") / "city.gpkg")


# --------------------------------------------------------------------------- determinism


def test_generate_is_deterministic(city):
    again = generate()
    for name in LAYER_NAMES:
        assert layer_snapshot(getattr(again, name)) == layer_snapshot(getattr(city, name)), name


def test_seed_changes_the_city(city):
    other = generate(83)
    assert layer_snapshot(other.parcels) != layer_snapshot(city.parcels)


def test_write_gpkg_is_deterministic(city, gpkg, tmp_path):
    second = write_gpkg(generate(), tmp_path / "again.gpkg")
    assert [name for name, _ in pyogrio.list_layers(gpkg)] == list(LAYER_NAMES)
    for name in LAYER_NAMES:
        first_frame = pyogrio.read_dataframe(gpkg, layer=name)
        second_frame = pyogrio.read_dataframe(second, layer=name)
        assert layer_snapshot(first_frame) == layer_snapshot(second_frame), name
        assert len(first_frame) == len(getattr(city, name)), name


def test_gpkg_round_trips_the_generated_values(city, gpkg):
    read = pyogrio.read_dataframe(gpkg, layer="parcels")
    assert read["parcel_code"].tolist() == city.parcels["parcel_code"].tolist()
    assert read["stated_area"].tolist() == city.parcels["stated_area"].tolist()
    assert shapely.equals_exact(read.geometry.values, city.parcels.geometry.values, tolerance=0).all()


# --------------------------------------------------------------------------- CRS and location


def test_gpkg_layers_are_lon_lat_in_north_riyadh(gpkg):
    for name in LAYER_NAMES:
        info = pyogrio.read_info(gpkg, layer=name)
        assert CRS.from_user_input(info["crs"]).to_epsg() == 4326, name
        frame = pyogrio.read_dataframe(gpkg, layer=name)
        minx, miny, maxx, maxy = frame.total_bounds
        assert 46.5 <= minx and maxx <= 46.8, (name, minx, maxx)
        assert 24.7 <= miny and maxy <= 24.95, (name, miny, maxy)


def test_city_is_about_two_km_square(utm):
    minx, miny, maxx, maxy = utm["parcels"].total_bounds
    assert 1800 <= maxx - minx <= 2200
    assert 1800 <= maxy - miny <= 2200


def test_text_columns_are_plain_strings(city):
    for name, frame in city.layers().items():
        for column in frame.columns.drop(frame.geometry.name):
            values = frame[column].tolist()
            if any(isinstance(v, str) for v in values):
                assert all(type(v) is str for v in values), (name, column)


# --------------------------------------------------------------------------- layers and identifiers


def test_layer_row_counts(city):
    assert len(city.municipality) == 1
    assert city.municipality.iloc[0]["code"] == "RUH"
    assert 2 <= len(city.districts) <= 4
    assert city.districts["code"].is_unique
    assert all(re.search("[\u0600-\u06ff]", s) for s in city.districts["name_ar"])
    assert len(city.blocks) > 50
    assert len(city.streets) == len(city.street_rows)
    assert 1800 <= len(city.parcels) <= 2400


def test_parcel_codes_are_unique_and_url_safe(city):
    parcels = city.parcels
    assert parcels["parcel_code"].is_unique
    assert all(CODE_RE.match(code) for code in parcels["parcel_code"])
    assert (parcels["parcel_code"] == parcels["plan_no"] + "-" + parcels["block_no"] + "-" + parcels["parcel_no"]).all()
    assert not parcels.duplicated(["plan_no", "block_no", "parcel_no"]).any()
    assert 2 <= parcels["plan_no"].nunique() <= 10


def test_blocks_are_unique_per_plan(city):
    assert not city.blocks.duplicated(["plan_no", "block_no"]).any()


def test_parcel_attributes_use_known_codes(city):
    parcels = city.parcels
    assert set(parcels["district"]) <= set(city.districts["code"])
    assert set(parcels["zone_code"]) <= set(city.zoning["zone_code"])
    assert set(parcels["land_use"]) <= {"residential", "commercial", "mixed", "public_facility", "open_space"}
    counts = parcels["land_use"].value_counts()
    assert counts["residential"] > len(parcels) / 2
    assert counts["commercial"] > 0 and counts["public_facility"] > 0 and counts["open_space"] > 0
    assert set(parcels.loc[parcels["land_use"] == "public_facility", "facility"]) == {"mosque", "school"}


def test_stated_area_is_the_utm_area(city, utm):
    computed = utm["parcels"].geometry.area.to_numpy()
    assert np.abs(city.parcels["stated_area"].to_numpy() - computed).max() < 0.01


# --------------------------------------------------------------------------- topology


def test_parcels_do_not_overlap(utm):
    assert overlapping_pairs(utm["parcels"].geometry.values) == []


def test_parcels_do_not_overlap_street_rows(utm):
    assert overlaps_with(utm["parcels"].geometry.values, utm["street_rows"].geometry.values) == []


def test_geometries_are_valid(city):
    for name, frame in city.layers().items():
        assert shapely.is_valid(frame.geometry.values).all(), name
        assert not frame.geometry.is_empty.any(), name


def test_parcels_lie_in_their_block_and_district(utm):
    parcels = utm["parcels"]
    blocks = utm["blocks"].set_index(["plan_no", "block_no"]).geometry
    districts = utm["districts"].set_index("code").geometry
    for row in parcels.itertuples():
        outside_district = row.geometry.difference(districts[row.district]).area
        assert outside_district < OVERLAP_TOLERANCE_M2, row.parcel_code
        if row.undeveloped:
            continue
        outside_block = row.geometry.difference(blocks[(row.plan_no, row.block_no)]).area
        assert outside_block < OVERLAP_TOLERANCE_M2, row.parcel_code


def test_blocks_are_covered_by_their_parcels(utm):
    parcels = utm["parcels"][utm["parcels"]["undeveloped"] == 0]
    covered = parcels.dissolve(["plan_no", "block_no"]).geometry
    for row in utm["blocks"].itertuples():
        assert row.geometry.symmetric_difference(covered[(row.plan_no, row.block_no)]).area < 0.05


def test_parcels_lie_in_their_zone(utm):
    zones = utm["zoning"].dissolve("zone_code").geometry
    for row in utm["parcels"].itertuples():
        assert row.geometry.difference(zones[row.zone_code]).area < OVERLAP_TOLERANCE_M2, row.parcel_code


def test_everything_lies_in_the_municipality(utm):
    boundary = utm["municipality"].geometry.iloc[0]
    for name, frame in utm.items():
        assert frame.geometry.within(boundary.buffer(0.01)).all(), name


# --------------------------------------------------------------------------- planning rules


def test_residential_and_commercial_lots_meet_the_default_rules(utm):
    parcels = utm["parcels"]
    built = parcels[parcels["land_use"].isin(["residential", "commercial", "mixed"])]
    assert len(built) > 1500
    areas = built.geometry.area.to_numpy()
    assert areas.min() >= 400.0, built.iloc[int(areas.argmin())]["parcel_code"]
    frontage = frontages_m(built.geometry.values, utm["street_rows"].geometry.values)
    assert frontage.min() >= 20.0, built.iloc[int(frontage.argmin())]["parcel_code"]
    ratios = depth_width_ratios(built.geometry.values)
    assert ratios.max() <= 3.0, built.iloc[int(ratios.argmax())]["parcel_code"]


def test_typical_lot_is_a_riyadh_villa_lot(utm):
    residential = utm["parcels"][(utm["parcels"]["land_use"] == "residential") & (utm["parcels"]["undeveloped"] == 0)]
    median = float(np.median(residential.geometry.area))
    assert 500 <= median <= 1000


def test_street_widths_are_realistic(city, utm):
    widths = city.streets.set_index("road_class")["width_m"]
    assert (city.streets["width_m"] >= 8).all()
    assert widths.loc[["arterial"]].between(40, 60).all()
    assert widths.loc[["collector"]].between(20, 30).all()
    assert widths.loc[["local"]].between(12, 20).all()
    assert city.streets["name_en"].is_unique
    assert all(re.search("[\u0600-\u06ff]", s) for s in city.streets["name_ar"])
    assert "King Salman Road" in set(city.streets["name_en"])
    assert (city.streets.geometry.geom_type == "LineString").all()
    # The right of way is the centreline buffered by half its width with flat caps.
    expected = utm["streets"].geometry.length.to_numpy() * city.streets["width_m"].to_numpy()
    assert np.allclose(utm["street_rows"].geometry.area.to_numpy(), expected, rtol=1e-4)


def test_zoning_layer_columns(city):
    zoning = city.zoning
    allowed = {"residential", "commercial", "mixed", "industrial", "public_facility", "open_space"}
    assert {"R1", "C1"} <= set(zoning["zone_code"])
    for uses in zoning["allowed_uses"]:
        assert set(uses.split(",")) <= allowed
    assert (zoning.geometry.geom_type == "Polygon").all()


# --------------------------------------------------------------------------- undeveloped land


def test_undeveloped_parcels_are_ready_to_subdivide(utm):
    parcels = utm["parcels"]
    raw = parcels[parcels["undeveloped"] == 1]
    assert 3 <= len(raw) <= 5
    assert set(raw["land_use"]) == {"residential"}
    rows = utm["street_rows"].geometry.values
    for row in raw.itertuples():
        minx, miny, maxx, maxy = row.geometry.bounds
        short, long = sorted([maxx - minx, maxy - miny])
        assert 150 <= short and long <= 400, row.parcel_code
        assert shapely.distance(row.geometry, rows).min() < FRONTAGE_TOLERANCE_M, row.parcel_code
        assert frontages_m([row.geometry], rows)[0] >= 150, row.parcel_code
        others = parcels[parcels["parcel_code"] != row.parcel_code].geometry.values
        assert overlaps_with([row.geometry], others) == [], row.parcel_code


def test_zoning_partitions_the_districts(utm):
    zoning = utm["zoning"].geometry.values
    assert overlapping_pairs(zoning) == []
    districts_area = utm["districts"].geometry.area.sum()
    assert abs(shapely.area(zoning).sum() - districts_area) < 1.0
