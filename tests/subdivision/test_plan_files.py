"""Reading the sample subdivision plan from every supported format (no Django, no DB)."""

from __future__ import annotations

import io
import json

import pytest
import shapely
from pyproj import Transformer
from shapely.ops import transform

from subdivision.plan_files import (
    BadAttribute,
    CrsMissing,
    EmptyPlan,
    Limits,
    RawPlan,
    read_plan,
)
from tests.subdivision import plan_samples as samples

EXPECTED_LOTS = ["1", "2", "3", "4"]


pytestmark = pytest.mark.usefixtures("private_tempdir")


def _read(fmt: str, **kwargs) -> RawPlan:
    filename, build = samples.ALL_FORMATS[fmt]
    if fmt == "dxf":
        kwargs.setdefault("srid", samples.SRID)
    return read_plan(build(), filename=filename, **kwargs)


def _total_area_m2(plan: RawPlan) -> float:
    to_utm = Transformer.from_crs(plan.srid, samples.SRID, always_xy=True)
    return sum(transform(to_utm.transform, f.geom).area for f in plan.features)


@pytest.mark.parametrize("fmt", list(samples.ALL_FORMATS))
def test_reads_sample_plan(fmt):
    plan = _read(fmt)
    assert plan.format == {"kmz": "kml"}.get(fmt, fmt)
    assert plan.srid == (4326 if fmt in ("kml", "kmz") else samples.SRID)
    assert [f.kind for f in plan.features] == ["road", "lot", "lot", "lot", "lot"]
    assert [f.lot_no for f in plan.features if f.kind == "lot"] == EXPECTED_LOTS
    assert [f.index for f in plan.features] == [0, 1, 2, 3, 4]
    assert all(not f.geom.has_z and f.geom.geom_type == "Polygon" for f in plan.features)
    if fmt != "dxf":
        assert [f.stated_area for f in plan.features] == [800.0] + [600.0] * 4
        assert plan.features[1].land_use == "residential"
        assert plan.features[0].land_use is None


def test_same_total_area_from_every_format():
    areas = {fmt: _total_area_m2(_read(fmt)) for fmt in samples.ALL_FORMATS}
    for fmt, area in areas.items():
        assert area == pytest.approx(samples.TOTAL_AREA_M2, abs=0.5), fmt


def test_rfc7946_geojson_is_wgs84():
    plan = read_plan(samples.sample_geojson(4326), filename="plan.geojson")
    assert plan.srid == 4326
    assert _total_area_m2(plan) == pytest.approx(samples.TOTAL_AREA_M2, abs=0.5)


def test_legacy_crs_member_wins_over_srid_argument():
    plan = read_plan(samples.sample_geojson(), filename="plan.json", srid=4326)
    assert plan.srid == samples.SRID


def test_shapefile_without_prj_needs_srid():
    data = samples.sample_shapefile_zip(with_prj=False)
    with pytest.raises(CrsMissing, match="pass srid"):
        read_plan(data, filename="plan.zip")
    plan = read_plan(data, filename="plan.zip", srid=samples.SRID)
    assert plan.srid == samples.SRID and len(plan.features) == 5


def test_dxf_needs_srid():
    with pytest.raises(CrsMissing, match="no coordinate reference system; pass srid"):
        read_plan(samples.sample_dxf(), filename="plan.dxf")


def test_dxf_mtext_labels():
    plan = read_plan(samples.sample_dxf(mtext=True), filename="plan.dxf", srid=samples.SRID)
    assert [f.lot_no for f in plan.features if f.kind == "lot"] == EXPECTED_LOTS


def test_dxf_layer_mapping_is_overridable_and_case_insensitive():
    data = samples.sample_dxf(lot_layer="Parcels", road_layer="streets")
    with pytest.raises(EmptyPlan):  # the default layers find nothing
        read_plan(data, filename="plan.dxf", srid=samples.SRID)
    plan = read_plan(data, filename="plan.dxf", srid=samples.SRID,
                     dxf_layers={"PARCELS": "lot", "Streets": "road"})
    assert [f.kind for f in plan.features] == ["road", "lot", "lot", "lot", "lot"]


def test_dxf_layer_mapping_rejects_unknown_kind():
    with pytest.raises(BadAttribute, match="swimming_pool"):
        read_plan(samples.sample_dxf(), filename="plan.dxf", srid=samples.SRID,
                  dxf_layers={"LOTS": "swimming_pool"})


def test_reads_from_path_and_file_object(tmp_path):
    data = samples.sample_geopackage()
    path = tmp_path / "upload.gpkg"
    path.write_bytes(data)
    assert len(read_plan(path, filename="upload.gpkg").features) == 5
    assert len(read_plan(str(path), filename="upload.gpkg").features) == 5
    assert len(read_plan(io.BytesIO(data), filename="upload.gpkg").features) == 5


def test_geopackage_prefers_layer_named_plan_else_first_polygon_layer():
    plan = read_plan(samples.sample_geopackage(layer="subdivision"), filename="x.gpkg")
    assert len(plan.features) == 5


def test_format_is_detected_by_content_not_name():
    plan = read_plan(samples.sample_geojson(), filename="plan.gpkg")
    assert plan.format == "geojson"
    plan = read_plan(samples.sample_kmz(), filename="plan.zip")
    assert plan.format == "kml"


def _feature_collection(features, crs=None):
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{crs}"}}
    return json.dumps(doc).encode()


def _square(props, z=None, x0=46.65, y0=24.8, d=0.0002):
    ring = [[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]
    if z is not None:
        ring = [c + [z] for c in ring]
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_attribute_aliases_case_insensitive_and_z_dropped():
    data = _feature_collection([
        _square({"LotNo": 12.0, "TYPE": "Open Space", "Area": "1,234.5", "LandUse": " park "}, z=612),
        _square({"Parcel_No": " A-7 ", "KIND": None}),
    ])
    plan = read_plan(data, filename="plan.geojson")
    first, second = plan.features
    assert (first.lot_no, first.kind, first.stated_area, first.land_use) == \
        ("12", "open_space", 1234.5, "park")
    assert not first.geom.has_z and shapely.get_coordinates(first.geom).shape[1] == 2
    assert (second.lot_no, second.kind, second.stated_area) == ("A-7", "lot", None)


def test_unknown_kind_names_value_and_feature():
    data = _feature_collection([_square({"kind": "lot"}), _square({"kind": "swimming pool"})])
    with pytest.raises(BadAttribute, match=r"feature 1 .*'swimming pool'"):
        read_plan(data, filename="plan.geojson")


def test_non_numeric_stated_area_is_refused():
    data = _feature_collection([_square({"stated_area": "about 600"})])
    with pytest.raises(BadAttribute, match="feature 0"):
        read_plan(data, filename="plan.geojson")


def test_lines_pass_through_next_to_polygons():
    line = {"type": "Feature", "properties": {"kind": "utility"},
            "geometry": {"type": "LineString", "coordinates": [[46.65, 24.8], [46.66, 24.8]]}}
    plan = read_plan(_feature_collection([_square({}), line]), filename="plan.geojson")
    assert [f.geom.geom_type for f in plan.features] == ["Polygon", "LineString"]


def test_multipolygons_are_accepted():
    multi = {"type": "Feature", "properties": {"lot_no": "9"},
             "geometry": {"type": "MultiPolygon",
                          "coordinates": [_square({})["geometry"]["coordinates"]]}}
    plan = read_plan(_feature_collection([multi]), filename="plan.geojson")
    assert plan.features[0].geom.geom_type == "MultiPolygon"


def test_limits_default_values():
    limits = Limits()
    assert (limits.max_upload_bytes, limits.max_uncompressed_bytes, limits.max_zip_members,
            limits.max_features, limits.max_compression_ratio) == \
        (50 * 1024 * 1024, 200 * 1024 * 1024, 1000, 100_000, 100)
