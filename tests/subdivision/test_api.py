"""The plan API end to end: upload in every format, permissions, hostile files, located findings."""

import json
import tempfile

import pytest
import shapely
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from gisportal.accounts.roles import SURVEYOR
from subdivision.models import Plan, PlanFeature
from tests.parcels.factories import make_parcel, riyadh
from tests.subdivision import plan_samples as samples

pytestmark = pytest.mark.django_db

X0, Y0 = samples._ORIGIN
PARENT = shapely.box(X0, Y0, X0 + 80, Y0 + 40)

FORMATS = {
    "plan.geojson": lambda: samples.sample_geojson(),
    "plan.zip": lambda: samples.sample_shapefile_zip(),
    "plan.gpkg": lambda: samples.sample_geopackage(),
    "plan.kml": lambda: samples.sample_kml(),
    "plan.dxf": lambda: samples.sample_dxf(),
}


@pytest.fixture
def city(db):
    municipality = riyadh()
    make_parcel(municipality, "90-0-1", PARENT, plan_no="90", block_no="0", parcel_no="1")
    return municipality


@pytest.fixture
def as_surveyor(api_client, surveyor):
    api_client.force_authenticate(surveyor)
    return api_client


def upload(client, name, content, url="/api/plans/", **fields):
    data = {"municipality": "RUH", "parents": "90-0-1", "title": "Test plan",
            "file": SimpleUploadedFile(name, content), **fields}
    if name.endswith(".dxf") and "srid" not in fields:
        data["srid"] = "32638"
    return client.post(url, data, format="multipart")


def codes(report):
    return sorted({f["code"] for f in report["findings"]})


@pytest.mark.parametrize("name", FORMATS)
def test_each_format_is_stored_with_its_report(as_surveyor, city, name):
    response = upload(as_surveyor, name, FORMATS[name]())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    report = body["report"]
    assert report["summary"]["parent_area_m2"] == pytest.approx(3200, abs=0.5)
    assert report["summary"]["lots_count"] == 4
    # The sample's road is 10 m wide (under 12 m) and its public share 25 % (under 33.33 %).
    assert codes(report) == ["PUBLIC_SHARE_MIN", "ROAD_WIDTH_MIN"]
    assert report["valid"] is False
    assert PlanFeature.objects.filter(plan_id=body["id"]).count() == 5


@pytest.mark.slow
def test_all_five_formats_give_the_same_summary_within_half_a_square_metre(as_surveyor, city):
    summaries = {name: upload(as_surveyor, name, make()).json()["report"]["summary"] for name, make in FORMATS.items()}
    reference = summaries["plan.geojson"]
    for name, summary in summaries.items():
        assert summary["lots_count"] == reference["lots_count"], name
        for key, value in summary.items():
            if key.endswith("_m2"):
                assert value == pytest.approx(reference[key], abs=0.5), (name, key)


def test_findings_are_located_in_wgs84_with_values_and_both_languages(as_surveyor, city):
    report = upload(as_surveyor, "plan.geojson", samples.sample_geojson()).json()["report"]
    road, = [f for f in report["findings"] if f["code"] == "ROAD_WIDTH_MIN"]
    assert road["severity"] == "error"
    assert road["value"] == pytest.approx(10, abs=0.05) and road["limit"] == 12
    assert road["message_en"] and any("\u0600" <= ch <= "\u06ff" for ch in road["message_ar"])
    location = shapely.geometry.shape(road["location"])
    lon, lat = location.centroid.x, location.centroid.y
    assert 46.6 < lon < 46.7 and 24.7 < lat < 24.9
    share, = [f for f in report["findings"] if f["code"] == "PUBLIC_SHARE_MIN"]
    assert share["value"] == pytest.approx(25, abs=0.01) and share["limit"] == pytest.approx(33.33)


def test_validate_answers_the_report_and_stores_nothing(as_surveyor, city):
    response = upload(as_surveyor, "plan.geojson", samples.sample_geojson(), url="/api/plans/validate/")
    assert response.status_code == 200
    assert codes(response.json()) == ["PUBLIC_SHARE_MIN", "ROAD_WIDTH_MIN"]
    assert Plan.objects.count() == 0 and PlanFeature.objects.count() == 0


def test_features_and_findings_endpoints(as_surveyor, city):
    plan_id = upload(as_surveyor, "plan.geojson", samples.sample_geojson()).json()["id"]
    features = as_surveyor.get(f"/api/plans/{plan_id}/features/").json()
    assert features["type"] == "FeatureCollection" and features["count"] == 5
    kinds = sorted(f["properties"]["kind"] for f in features["features"])
    assert kinds == ["lot", "lot", "lot", "lot", "road"]
    road, = [f for f in features["features"] if f["properties"]["kind"] == "road"]
    assert "ROAD_WIDTH_MIN" in road["properties"]["findings"]
    assert road["properties"]["area_m2"] == pytest.approx(800, abs=0.01)
    findings = as_surveyor.get(f"/api/plans/{plan_id}/findings/").json()
    assert sorted(f["properties"]["code"] for f in findings["features"]) == ["PUBLIC_SHARE_MIN", "ROAD_WIDTH_MIN"]
    detail = as_surveyor.get(f"/api/plans/{plan_id}/").json()
    assert detail["parents"] == ["90-0-1"] and detail["report"]["valid"] is False


def test_who_may_do_what(api_client, as_surveyor, city, planner):
    plan_id = upload(as_surveyor, "plan.geojson", samples.sample_geojson()).json()["id"]
    User = get_user_model()
    other = User.objects.create_user("surveyor2", password="x")
    other.groups.add(__import__("django.contrib.auth.models", fromlist=["Group"]).Group.objects.get(name=SURVEYOR))
    partner = User.objects.get(username="partner")

    def refused(response, status, code):
        return response.status_code == status and response.json()["code"] == code

    anonymous = type(api_client)()
    assert refused(anonymous.get("/api/plans/"), 401, "NotAuthenticated")
    assert refused(upload(anonymous, "plan.geojson", samples.sample_geojson()), 401, "NotAuthenticated")

    api_client.force_authenticate(other)
    assert api_client.get("/api/plans/").json()["count"] == 0
    for url in (f"/api/plans/{plan_id}/", f"/api/plans/{plan_id}/features/", f"/api/plans/{plan_id}/findings/"):
        assert refused(api_client.get(url), 404, "NotFound"), url

    api_client.force_authenticate(partner)
    assert refused(api_client.get("/api/plans/"), 403, "PermissionDenied")

    api_client.force_authenticate(planner)
    assert api_client.get("/api/plans/").json()["count"] == 1
    assert api_client.get(f"/api/plans/{plan_id}/findings/").status_code == 200
    response = upload(api_client, "plan.geojson", samples.sample_geojson())
    assert refused(response, 403, "PermissionDenied") and "surveyors" in response.json()["detail"]


@pytest.mark.parametrize("fields, status, code, fragment", [
    ({"parents": ""}, 400, "InvalidParameter", "parents: give one or more parent parcel codes"),
    ({"municipality": ""}, 400, "InvalidParameter", "municipality: give the code"),
    ({"file": ""}, 400, "InvalidParameter", "file: attach the plan file as multipart field 'file'"),
    ({"parents": "nope-1"}, 404, "NotFound", "'nope-1'"),
    ({"municipality": "XXX"}, 400, "InvalidParameter", "municipality:"),
    ({"land_use": "castle"}, 400, "InvalidParameter", "land_use:"),
    ({"srid": "abc"}, 400, "InvalidParameter", "srid: expected an EPSG code, got 'abc'"),
    ({"title": "  "}, 400, "InvalidParameter", "title:"),
])
def test_bad_fields_are_named(as_surveyor, city, fields, status, code, fragment):
    response = upload(as_surveyor, "plan.geojson", samples.sample_geojson(), **fields)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert fragment in response.json()["detail"]
    assert Plan.objects.count() == 0


def _geojson(coords_transform):
    frame = samples.sample_frame().to_crs(4326)
    data = json.loads(frame.to_json())
    for feature in data["features"]:
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"][0] = [coords_transform(x, y) for x, y in ring]
    return json.dumps(data).encode()


def test_swapped_latitude_and_longitude_are_reported_as_such(as_surveyor, city):
    response = upload(as_surveyor, "plan.geojson", _geojson(lambda x, y: [y, x]))
    assert response.status_code == 422
    assert response.json()["code"] == "PlanOutOfArea"
    assert "latitude and longitude look swapped" in response.json()["detail"]


def test_a_wrong_crs_is_reported(as_surveyor, city):
    # The UTM 38N coordinates declared as UTM 37N land about 600 km west, in the Red Sea region.
    response = upload(as_surveyor, "plan.dxf", samples.sample_dxf(), srid="32637")
    assert response.status_code == 422
    assert response.json()["code"] == "PlanOutOfArea"
    assert "is its CRS" in response.json()["detail"]


@pytest.fixture
def clean_tmp(tmp_path, settings, monkeypatch):
    folder = tmp_path / "uploads"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes through a temporary file
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == []


def _zip(members: dict[str, bytes], compression=None) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression or zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


HOSTILE = {
    "truncated gpkg": ("plan.gpkg", lambda: samples.sample_geopackage()[:5000], 400, "PlanFileCorrupt"),
    "truncated zip": ("plan.zip", lambda: samples.sample_shapefile_zip()[:300], 400, "PlanFileCorrupt"),
    "empty file": ("plan.geojson", lambda: b"", 400, "PlanFileEmpty"),
    "png named geojson": ("plan.geojson", lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 415, "PlanFileUnsupportedFormat"),
    "unknown format": ("plan.docx", lambda: _zip({"word/document.xml": b"<w/>"}), 415, "PlanFileUnsupportedFormat"),
    "no polygons": ("plan.geojson", lambda: b'{"type":"FeatureCollection","features":[]}', 400, "PlanFileEmpty"),
    "nan coordinates": ("plan.geojson", lambda: _geojson(lambda x, y: [float("nan"), y]).replace(b"NaN", b"1e999"),
                        400, "PlanFileBadCoordinates"),
    "path traversal": ("plan.zip", lambda: _zip({"../evil.shp": b"x", "plan.shx": b"x", "plan.dbf": b"x"}),
                       400, "PlanFileUnsafe"),
    "zip bomb": ("plan.zip", lambda: _zip({"plan.shp": b"\0" * (300 * 1024 * 1024)}), 400, "PlanFileUnsafe"),
    "xml entities": ("plan.kml", lambda: b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                     b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name></Placemark></kml>',
                     400, "PlanFileUnsafe"),
}


@pytest.mark.parametrize("case", [pytest.param(case, marks=pytest.mark.slow) if case == "zip bomb" else case
                                  for case in HOSTILE])  # the bomb writes 300 MB
def test_hostile_uploads_get_a_4xx_store_nothing_and_leave_no_files(as_surveyor, city, clean_tmp, case):
    name, make, status, code = HOSTILE[case]
    response = upload(as_surveyor, name, make())
    assert 400 <= response.status_code < 500, response.content
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"]
    assert body["code"] == code
    assert Plan.objects.count() == 0 and PlanFeature.objects.count() == 0


def test_an_upload_over_the_size_limit_is_413(as_surveyor, city, clean_tmp, settings):
    settings.PLAN_UPLOAD_MAX_BYTES = 10_000
    response = upload(as_surveyor, "plan.gpkg", samples.sample_geopackage())
    assert response.status_code == 413
    assert response.json()["code"] == "PlanFileTooLarge"
    assert "limit" in response.json()["detail"]
    assert Plan.objects.count() == 0


def test_a_plan_may_merge_and_resubdivide_several_parents(as_surveyor, db):
    from subdivision.sample_plan import sample_plan

    municipality = riyadh()
    west = shapely.box(X0, Y0, X0 + 120, Y0 + 240)
    east = shapely.box(X0 + 120, Y0, X0 + 240, Y0 + 240)
    make_parcel(municipality, "90-0-7", west)
    make_parcel(municipality, "90-0-8", east)
    features = sample_plan(shapely.union_all([west, east]))
    body = json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:EPSG::32638"}}, "features": [
        {"type": "Feature", "geometry": shapely.geometry.mapping(f["geometry"]),
         "properties": {k: v for k, v in f.items() if k != "geometry"}} for f in features]}).encode()
    response = upload(as_surveyor, "merge.geojson", body, parents="90-0-7,90-0-8")
    assert response.status_code == 201, response.content
    report = response.json()["report"]
    assert report["findings"] == [] and report["valid"] is True
    assert report["summary"]["parent_area_m2"] == pytest.approx(240 * 240, abs=0.5)
    assert Plan.objects.get().parents.count() == 2
