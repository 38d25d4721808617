"""End to end on the demo city: a surveyor's plan for an undeveloped parcel, uploaded and validated."""

import json

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from parcels.demo import load_demo_city
from subdivision.models import Plan

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # loads the whole demo city


@pytest.fixture
def demo_city(db):
    load_demo_city()


def _post(client, collection, url="/api/plans/"):
    body = json.dumps(collection).encode()
    return client.post(url, {"file": SimpleUploadedFile("plan.geojson", body), "municipality": "RUH",
                             "parents": "90-0-1", "title": "Sample"}, format="multipart")


def test_the_sample_plan_of_an_undeveloped_demo_parcel_is_valid(demo_city, api_client, surveyor, tmp_path):
    out = tmp_path / "plan.geojson"
    call_command("sample_plan", "RUH", "90-0-1", str(out))
    api_client.force_authenticate(surveyor)
    response = _post(api_client, json.loads(out.read_text()))
    assert response.status_code == 201, response.content
    report = response.json()["report"]
    assert report["findings"] == [] and report["valid"] is True
    summary = report["summary"]
    assert summary["lots_count"] >= 40
    assert summary["public_share_pct"] >= 33.33
    assert summary["uncovered_area_m2"] == pytest.approx(0, abs=0.5)
    assert Plan.objects.get(pk=response.json()["id"]).valid is True


def test_a_missing_lot_and_a_repeated_number_are_found_where_they_are(demo_city, api_client, surveyor, tmp_path):
    out = tmp_path / "plan.geojson"
    call_command("sample_plan", "RUH", "90-0-1", str(out))
    collection = json.loads(out.read_text())
    lots = [f for f in collection["features"] if f["properties"]["kind"] == "lot"]
    removed = lots[5]
    collection["features"].remove(removed)
    lots[7]["properties"]["lot_no"] = lots[6]["properties"]["lot_no"]
    api_client.force_authenticate(surveyor)
    report = _post(api_client, collection, url="/api/plans/validate/").json()
    codes = {f["code"] for f in report["findings"]}
    assert {"GAP", "DUPLICATE_LOT_NO"} <= codes
    gap, = [f for f in report["findings"] if f["code"] == "GAP"]
    hole = shapely.geometry.shape(gap["location"])
    assert hole.symmetric_difference(shapely.geometry.shape(removed["geometry"])).area < 1e-9
    duplicate, = [f for f in report["findings"] if f["code"] == "DUPLICATE_LOT_NO"]
    assert duplicate["features"] == [lots[6]["properties"]["lot_no"]]
    assert report["valid"] is False
