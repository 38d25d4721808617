"""The version diff read (subdivision.versions) against real PostGIS: rows of two versions in, JSON out."""

import json

import pytest
import shapely
from django.contrib.auth import get_user_model

from gisportal import crs
from gisportal.errors import InvalidParameter, NotFound
from parcels.services import municipality_create
from subdivision.models import Plan, PlanFeature, PlanFinding, PlanVersion
from subdivision.versions import version_diff
from tests.parcels.factories import metric_to_storage, rect
from tests.subdivision import plan_samples as samples

pytestmark = pytest.mark.django_db
UTM38N = 32638


def add_version(plan, number, features, findings=()):
    """Store version NUMBER: FEATURES [(kind, lot_no, metric geometry)], FINDINGS [(code, features, location)]."""
    PlanVersion.objects.create(plan=plan, number=number, uploaded_by=plan.submitted_by, source_name="plan.geojson",
                               source_format="GeoJSON", source_srid=4326)
    for index, (kind, lot_no, geom) in enumerate(features):
        PlanFeature.objects.create(plan=plan, version=number, index=index, kind=kind, lot_no=lot_no,
                                   area_m2=geom.area, geom=metric_to_storage(geom))
    for seq, (code, labels, location) in enumerate(findings):
        PlanFinding.objects.create(plan=plan, version=number, seq=seq, code=code, severity="error",
                                   message_en=f"{code} en", message_ar=f"{code} ar", features=list(labels),
                                   location=location)


def lonlat(geom_metric) -> dict:
    return json.loads(shapely.to_geojson(crs.transform(geom_metric, UTM38N, 4326)))


def metric_area(geojson: dict) -> float:
    return crs.transform(shapely.from_geojson(json.dumps(geojson)), 4326, UTM38N).area


@pytest.fixture
def plan(surveyor):
    ruh = municipality_create(code="RUH", name_en="Riyadh", metric_srid=UTM38N)
    return Plan.objects.create(municipality=ruh, title="plan", submitted_by=surveyor, source_name="plan.geojson",
                               source_format="GeoJSON", source_srid=4326, version=2)


GAP = rect(100, 100, 1, 1)


@pytest.fixture
def two_versions(plan):
    road = ("road", "", rect(0, 30, 60, 16))
    add_version(plan, 1, [("lot", "1", rect(0, 0, 20, 30)), ("lot", "2", rect(20, 0, 20, 30)),
                          ("lot", "3", rect(40, 0, 20, 30)), road],
                [("MIN_AREA", ["3"], lonlat(rect(40, 0, 20, 30))), ("GAP", [], lonlat(GAP)),
                 ("OVERLAP", ["2", "1"], None)])
    # version 2: lot 1 one metre wider, lot 3 gone, lot 4 new, the road first in the file, a park added
    add_version(plan, 2, [road, ("lot", "1", rect(0, 0, 21, 30)), ("lot", "2", rect(21, 0, 19, 30)),
                          ("lot", "4", rect(40, 0, 25, 30)), ("open_space", "", rect(-30, 0, 30, 30))],
                [("OVERLAP", ["1", "2"], None), ("GAP", [], json.dumps(lonlat(shapely.affinity.translate(GAP, 0.1)))),
                 ("MIN_FRONTAGE", ["4"], lonlat(rect(40, 0, 25, 1)))])
    return plan


def test_the_diff_of_two_versions(two_versions):
    d = version_diff(two_versions, 2)
    assert (d["plan"], d["from_version"], d["to_version"], d["metric_srid"]) == (two_versions.pk, 1, 2, UTM38N)
    assert d["counts"] == {"lots_added": 1, "lots_removed": 1, "lots_reshaped": 2, "lots_unchanged": 0,
                           "other_added": 1, "other_removed": 0, "other_changed": 0, "other_unchanged": 1,
                           "findings_resolved": 1, "findings_new": 1, "findings_still": 2}
    lot1, lot2 = d["lots"]["reshaped"]
    assert (lot1["lot_no"], lot1["area_before_m2"], lot1["area_after_m2"], lot1["changed_area_m2"]) == (
        "1", 600.0, 630.0, 30.0)
    assert (lot2["lot_no"], lot2["index_before"], lot2["index_after"]) == ("2", 1, 2)
    # the changed area as geometry, in lon/lat: the 1 m strip of 30 m² between x = 20 and 21
    strip = shapely.from_geojson(json.dumps(lot1["changed_geometry"]))
    assert strip.geom_type in ("Polygon", "MultiPolygon") and shapely.get_num_geometries(strip) == 1
    # 7 decimals of a degree are about 1 cm: the strip's area from its rounded corners is within 0.1 m²
    assert metric_area(lot1["changed_geometry"]) == pytest.approx(30.0, abs=0.1)
    [added], [removed] = d["lots"]["added"], d["lots"]["removed"]
    assert (added["lot_no"], added["area_m2"], removed["lot_no"], removed["area_m2"]) == ("4", 750.0, "3", 600.0)
    assert metric_area(added["geometry"]) == pytest.approx(750.0, abs=0.2)
    [park] = d["other_features"]["added"]
    assert (park["kind"], park["lot_no"], park["index"]) == ("open_space", None, 4)
    assert [(f["code"], f["features"]) for f in d["findings"]["resolved"]] == [("MIN_AREA", ["3"])]
    [new] = d["findings"]["new"]
    assert (new["code"], new["message_ar"], new["location"]) == ("MIN_FRONTAGE", "MIN_FRONTAGE ar",
                                                                 lonlat(rect(40, 0, 25, 1)))
    assert json.loads(json.dumps(d)) == d  # JSON-ready as it is


def test_coordinates_have_7_decimals_and_lie_in_riyadh(two_versions):
    d = version_diff(two_versions, 2)
    coords = shapely.get_coordinates(shapely.from_geojson(json.dumps(d["lots"]["reshaped"][0]["changed_geometry"])))
    assert all(46 < lon < 47.5 and 24 < lat < 25.5 for lon, lat in coords)
    assert all(round(v, 7) == v for v in coords.ravel())
    assert any(round(v, 6) != v for v in coords.ravel())  # not rounded coarser than asked


def test_areas_are_rounded_to_a_hundredth(plan):
    add_version(plan, 1, [("lot", "1", rect(0, 0, 20.0033, 30))])
    add_version(plan, 2, [("lot", "1", rect(0, 0, 20.5011, 30))])
    [lot] = version_diff(plan, 2)["lots"]["reshaped"]
    assert (lot["area_before_m2"], lot["area_after_m2"], lot["changed_area_m2"]) == (600.1, 615.03, 14.93)


def test_a_version_is_compared_with_the_one_before_it_only(two_versions):
    add_version(two_versions, 3, [("lot", "1", rect(0, 0, 21, 30))])
    d = version_diff(two_versions, 3)
    assert (d["from_version"], d["counts"]["lots_unchanged"], d["counts"]["lots_removed"]) == (2, 1, 2)
    assert d["counts"]["other_removed"] == 2 and d["counts"]["findings_resolved"] == 3


def test_identical_versions_have_an_empty_diff(plan):
    lots = [("lot", str(i), rect(i * 20, 0, 20, 30)) for i in range(1, 6)]
    add_version(plan, 1, lots, [("GAP", [], lonlat(GAP))])
    add_version(plan, 2, lots, [("GAP", [], lonlat(GAP))])
    d = version_diff(plan, 2)
    assert d["counts"]["lots_unchanged"] == 5 and d["counts"]["findings_still"] == 1
    assert d["lots"]["reshaped"] == d["lots"]["added"] == d["findings"]["new"] == []


def test_a_missing_version_is_not_found_and_version_1_has_nothing_to_compare(two_versions):
    with pytest.raises(NotFound, match="no version 3"):
        version_diff(two_versions, 3)
    with pytest.raises(NotFound):
        version_diff(two_versions, 0)
    with pytest.raises(InvalidParameter, match="^version:"):
        version_diff(two_versions, 1)


def test_the_diff_through_the_api(two_versions, api_client):
    api_client.force_authenticate(get_user_model().objects.get(username="admin"))
    response = api_client.get(f"/api/plans/{two_versions.pk}/versions/2/diff/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["counts"]["lots_reshaped"] == 2 and body["lots"]["reshaped"][0]["changed_area_m2"] == 30.0
    assert api_client.get(f"/api/plans/{two_versions.pk}/versions/1/diff/").json()["code"] == "InvalidParameter"
    assert api_client.get(f"/api/plans/{two_versions.pk}/versions/9/diff/").status_code == 404
    huge = api_client.get(f"/api/plans/{two_versions.pk}/versions/{10**30}/diff/")
    assert huge.status_code == 404 and huge.json()["code"] == "NotFound"


def test_the_diff_answer_fits_its_schema(two_versions, api_client):
    from drf_spectacular.generators import SchemaGenerator

    from tests.gisportal.test_openapi import assert_fits, response_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    api_client.force_authenticate(get_user_model().objects.get(username="admin"))
    body = api_client.get(f"/api/plans/{two_versions.pk}/versions/2/diff/").json()
    path = "/api/plans/{plan_id}/versions/{number}/diff/"
    assert_fits(schema, response_schema(schema, path, "get"), body)
    node = response_schema(schema, path, "get")
    assert {"lots", "other_features", "findings", "counts"} <= set(node["properties"])


def _geojson(rows) -> bytes:
    import tempfile
    from pathlib import Path

    import geopandas as gpd
    import pyogrio

    with tempfile.TemporaryDirectory(prefix="plan-diff-") as tmp:
        path = Path(tmp) / "plan.geojson"
        pyogrio.write_dataframe(gpd.GeoDataFrame(rows, geometry="geometry", crs=samples.SRID), path, driver="GeoJSON")
        return path.read_bytes()


def test_the_diff_of_versions_stored_by_the_upload_path(surveyor):
    """Two versions written as uploads write them (COPY of features and findings), then compared."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from subdivision import services
    from tests.parcels.factories import make_parcel, riyadh

    x0, y0 = samples._ORIGIN
    municipality = riyadh()
    make_parcel(municipality, "90-0-1", shapely.box(x0, y0, x0 + 80, y0 + 40), plan_no="90", block_no="0",
                parcel_no="1")
    upload = {"municipality": "RUH", "parents": "90-0-1"}
    plan = services.plan_create(user=surveyor, title="Plan", filename="v1.geojson",
                                upload=SimpleUploadedFile("v1.geojson", samples.sample_geojson()), **upload)
    rows = [r for r in samples.sample_rows() if r["lot_no"] != "4"]
    [lot3] = [r for r in rows if r["lot_no"] == "3"]
    lot3["geometry"] = shapely.box(x0 + 40, y0 + 10, x0 + 80, y0 + 40)  # takes lot 4's land; still stated 600 m²
    check = services.plan_check(upload=SimpleUploadedFile("v2.geojson", _geojson(rows)), filename="v2.geojson",
                                **upload)
    services.version_store(plan=plan, number=2, check=check, user=surveyor, filename="v2.geojson")

    d = version_diff(plan, 2)
    assert [f["lot_no"] for f in d["lots"]["removed"]] == ["4"] and d["lots"]["added"] == []
    [reshaped] = d["lots"]["reshaped"]
    assert (reshaped["lot_no"], reshaped["area_before_m2"], reshaped["area_after_m2"],
            reshaped["changed_area_m2"]) == ("3", 600.0, 1200.0, 600.0)
    assert metric_area(reshaped["changed_geometry"]) == pytest.approx(600.0, abs=0.2)
    assert d["lots"]["unchanged"] == 2 and d["other_features"]["unchanged"] == 1
    assert d["counts"]["other_changed"] == 0
    # the engine's own finding on the stated area of lot 3 is new in version 2
    assert [(f["code"], f["features"]) for f in d["findings"]["new"]] == [("STATED_AREA_MISMATCH", ["3"])]
    assert d["findings"]["resolved"] == [] and d["findings"]["still"] == d["counts"]["findings_still"]
