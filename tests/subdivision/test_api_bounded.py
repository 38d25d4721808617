"""Hostile and careless plans over the API: bounded time and answers, findings paged, nothing half-stored."""

import json

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from subdivision import services
from subdivision.models import Plan, PlanFeature, PlanFinding
from tests.parcels.factories import make_parcel, riyadh
from tests.subdivision import plan_samples as samples

pytestmark = pytest.mark.django_db

X0, Y0 = samples._ORIGIN
PARENT = shapely.box(X0, Y0, X0 + 400, Y0 + 400)


@pytest.fixture
def city(db):
    municipality = riyadh()
    make_parcel(municipality, "90-0-1", PARENT, plan_no="90", block_no="0", parcel_no="1")
    return municipality


@pytest.fixture
def as_surveyor(api_client, surveyor):
    api_client.force_authenticate(surveyor)
    return api_client


def geojson(features: list[tuple[dict, shapely.Geometry]]) -> bytes:
    return json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32638"}},
        "features": [{"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
                     for props, geom in features],
    }).encode()


def lot(x: float, y: float, w: float = 20, h: float = 30):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def upload(client, content: bytes, url="/api/plans/", **fields):
    data = {"municipality": "RUH", "parents": "90-0-1", "title": "Test plan",
            "file": SimpleUploadedFile("plan.geojson", content), **fields}
    return client.post(url, data, format="multipart")


def test_a_lot_repeated_a_thousand_times_is_one_overlap_finding_of_a_bounded_answer(as_surveyor, city):
    content = geojson([({"kind": "lot", "lot_no": str(i)}, lot(10, 10)) for i in range(1000)])
    response = upload(as_surveyor, content)
    assert response.status_code == 201, response.content[:500]
    assert len(response.content) < 300_000  # was 202 MB with one finding per pair
    report = response.json()["report"]
    overlaps = [f for f in report["findings"] if f["code"] == "OVERLAP"]
    assert len(overlaps) == 1 and report["finding_counts"]["OVERLAP"] == 1
    assert overlaps[0]["value"] == pytest.approx(600, abs=0.01)
    assert overlaps[0]["features_total"] == 1000 and len(overlaps[0]["features"]) == 100
    assert "1,000 features overlap over 600 m²" in overlaps[0]["message_en"]
    assert report["summary"]["overlap_area_m2"] == pytest.approx(600, abs=0.01)
    # Every per-lot finding is counted in full, listed up to the cap, and stored for paging.
    assert report["finding_counts"]["NO_STREET_ACCESS"] == 1000
    assert sum(f["code"] == "NO_STREET_ACCESS" for f in report["findings"]) == services.FINDINGS_PER_CODE
    plan_id = response.json()["id"]
    assert PlanFinding.objects.filter(plan_id=plan_id).count() == report["findings_total"]


@pytest.mark.slow
def test_stacked_different_lots_stop_with_a_422_and_store_nothing(as_surveyor, city):
    # 1,000 lots each shifted by 1 cm: ~500,000 overlapping pairs, none identical.
    content = geojson([({"kind": "lot", "lot_no": str(i)}, lot(10 + i * 0.01, 10)) for i in range(1000)])
    response = upload(as_surveyor, content)
    assert response.status_code == 422, response.content[:500]
    body = response.json()
    assert body["code"] == "PlanTooComplex"
    assert "stacked" in body["detail"] and body["detail"].startswith("file:")
    assert not Plan.objects.exists() and not PlanFeature.objects.exists()


def test_validation_past_its_budget_is_a_422_naming_the_budget(as_surveyor, city, settings):
    settings.PLAN_VALIDATION_BUDGET_S = 0
    content = geojson([({"kind": "lot", "lot_no": "1"}, lot(10, 10))])
    response = upload(as_surveyor, content)
    assert response.status_code == 422
    assert response.json()["code"] == "PlanTooComplex"
    assert "GISPORTAL_PLAN_VALIDATION_BUDGET_S" in response.json()["detail"]
    assert not Plan.objects.exists()


@pytest.fixture
def many_findings_plan(as_surveyor, city):
    """A plan of 120 small lots (under 400 m², no street): 120 LOT_AREA_MIN and 120 NO_STREET_ACCESS."""
    content = geojson([({"kind": "lot", "lot_no": str(i + 1)}, lot((i % 12) * 30, (i // 12) * 30, 15, 15))
                       for i in range(120)])
    response = upload(as_surveyor, content)
    assert response.status_code == 201, response.content[:500]
    return response.json()


def test_findings_page_through_all_of_them_in_report_order(as_surveyor, many_findings_plan):
    plan_id, report = many_findings_plan["id"], many_findings_plan["report"]
    assert report["finding_counts"]["LOT_AREA_MIN"] == 120
    assert sum(f["code"] == "LOT_AREA_MIN" for f in report["findings"]) == 50
    seen = []
    url = f"/api/plans/{plan_id}/findings/?code=LOT_AREA_MIN&page_size=50"
    while url:
        body = as_surveyor.get(url).json()
        assert body["count"] == 120
        seen += [f["properties"]["features"][0] for f in body["features"]]
        url = body["next"]
        if url:
            assert "code=LOT_AREA_MIN" in url and "page_size=50" in url  # the filter survives paging
    assert seen == [str(i + 1) for i in range(120)]
    everything = as_surveyor.get(f"/api/plans/{plan_id}/findings/?page_size=1000").json()
    assert everything["count"] == report["findings_total"]
    assert [f["id"] for f in everything["features"]] == list(range(report["findings_total"]))


def test_features_are_paged_and_carry_their_finding_codes(as_surveyor, many_findings_plan):
    plan_id = many_findings_plan["id"]
    first = as_surveyor.get(f"/api/plans/{plan_id}/features/?page_size=100").json()
    assert first["count"] == 120 and len(first["features"]) == 100 and first["next"]
    second = as_surveyor.get(first["next"]).json()
    assert len(second["features"]) == 20 and second["next"] is None
    assert "LOT_AREA_MIN" in second["features"][0]["properties"]["findings"]
    response = as_surveyor.get(f"/api/plans/{plan_id}/features/?page_size=5001")
    assert response.status_code == 400 and response.json()["detail"].startswith("page_size:")


def test_the_plan_list_reads_summaries_never_reports(api_client, many_findings_plan, planner):
    api_client.force_authenticate(planner)
    with CaptureQueriesContext(connection) as queries:
        body = api_client.get("/api/plans/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["summary"]["lots_count"] == 120 and row["finding_counts"]["LOT_AREA_MIN"] == 120
    assert "report" not in row
    assert not any('"report"' in q["sql"] for q in queries.captured_queries)


def test_detail_answers_the_capped_report(as_surveyor, many_findings_plan):
    body = as_surveyor.get(f"/api/plans/{many_findings_plan['id']}/").json()
    assert body["findings_total"] == many_findings_plan["report"]["findings_total"]
    assert sum(f["code"] == "NO_STREET_ACCESS" for f in body["report"]["findings"]) == 50
    assert body["report"]["findings_url"] == f"/api/plans/{many_findings_plan['id']}/findings/"


def test_a_megabyte_title_is_refused_not_cut(as_surveyor, city):
    response = upload(as_surveyor, samples.sample_geojson(), title="x" * 1_000_000)
    assert response.status_code == 400
    assert response.json()["detail"] == "title: 1,000,000 characters, at most 200 are allowed"
    assert not Plan.objects.exists()


def test_missing_parents_are_listed_up_to_ten(as_surveyor, city):
    codes = ",".join(f"X-{i}" for i in range(300))
    response = upload(as_surveyor, samples.sample_geojson(), parents=codes)
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "'X-9' and 290 more" in detail and "X-10'" not in detail and len(detail) < 300


def test_too_many_parents_are_refused(as_surveyor, city):
    codes = ",".join(f"X-{i}" for i in range(100_000))
    response = upload(as_surveyor, samples.sample_geojson(), parents=codes)
    assert response.status_code == 400
    assert response.json()["detail"] == "parents: 100,000 parcel codes given, at most 500 are allowed"


def test_a_lot_number_too_long_to_store_is_refused_by_validation_and_storage_alike(as_surveyor, city):
    content = geojson([({"kind": "lot", "lot_no": "L" * 33}, lot(10, 10))])
    for url in ("/api/plans/validate/", "/api/plans/"):
        response = upload(as_surveyor, content, url=url)
        assert response.status_code == 400, (url, response.content[:300])
        assert response.json()["code"] == "PlanFileBadAttribute"
        assert "33" in response.json()["detail"] and "32" in response.json()["detail"]
    assert not Plan.objects.exists()


def test_an_unclosed_ring_is_a_400_naming_the_feature(as_surveyor, city):
    document = json.loads(geojson([({"kind": "lot", "lot_no": "7"}, lot(10, 10))]))
    document["features"][0]["geometry"]["coordinates"][0].pop()  # drop the closing point
    response = upload(as_surveyor, json.dumps(document).encode())
    assert response.status_code == 400
    assert response.json()["code"] == "PlanFileBadCoordinates"
    assert "lot 7" in response.json()["detail"] and "not closed" in response.json()["detail"]


def test_an_unknown_crs_is_refused_not_read_as_wgs84(as_surveyor, city):
    document = json.loads(geojson([({"kind": "lot", "lot_no": "7"}, lot(10, 10))]))
    document["crs"]["properties"]["name"] = "urn:ogc:def:crs:EPSG::999999"
    response = upload(as_surveyor, json.dumps(document).encode(), url="/api/plans/validate/")
    assert response.status_code == 400
    assert response.json()["code"] == "PlanFileCrsUnknown" and "999999" in response.json()["detail"]


def test_a_dxf_without_plan_layers_answers_the_layers_it_has(as_surveyor, city):
    import io

    import ezdxf

    drawing = ezdxf.new()
    space = drawing.modelspace()
    for i in range(3):
        x = X0 + 10 + i * 20
        space.add_lwpolyline([(x, Y0 + 10), (x + 20, Y0 + 10), (x + 20, Y0 + 40), (x, Y0 + 40)], close=True,
                             dxfattribs={"layer": "PARCEL_BOUNDARY"})
        space.add_text(str(i + 1), dxfattribs={"layer": "LOT_NUMBERS", "insert": (x + 10, Y0 + 25)})
    text = io.StringIO()
    drawing.write(text)
    data = {"municipality": "RUH", "parents": "90-0-1", "srid": "32638",
            "file": SimpleUploadedFile("site.dxf", text.getvalue().encode())}
    response = as_surveyor.post("/api/plans/validate/", data, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "PlanFileDxfLayersUnmapped"
    layers = {layer["name"]: layer for layer in body["layers"]}
    assert layers["PARCEL_BOUNDARY"]["closed_shapes"] == 3 and layers["LOT_NUMBERS"]["texts"] == 3
    assert "GISPORTAL_DXF_LAYERS" in body["detail"]
