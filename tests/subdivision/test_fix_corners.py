"""fix=snap and /fix/ on plans with uncut street corners (CORNER_TRUNCATION, on by default): the corners are cut
from the lots as they are after snapping, each road takes all its triangles, the cut lots' stated areas follow,
and a correction that would add a finding is left out, so a fix never makes a plan worse."""

from __future__ import annotations

import base64
import json
from collections import Counter

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile

from gisportal import crs
from subdivision.models import PlanFinding
from subdivision.plan_files import RawFeature, RawPlan, read_plan
from subdivision.plan_files.writers import write_plan
from tests.parcels.factories import make_parcel, rect, riyadh
from tests.subdivision.valid_plans import SURVEYOR, user

pytestmark = pytest.mark.django_db

UTM = 32638
PARENT = "P-C"
WIDE_ROAD_M = 30.0  # R1: corner legs of 1/5 of 30 m = 6 m where a lot meets it
NARROW_ROAD_M = 15.0  # R2, R3, R4: legs of 3 m (the minimum) where only these meet
LOT_DEPTH_M = 30.0


def box(x0: float, y0: float, x1: float, y1: float):
    return rect(x0, y0, x1 - x0, y1 - y0)


def block_features(split_x: float = 37.5) -> list[dict]:
    """A 75 x 75 m parent: R1 (30 m) along the south, R4 (15 m) along the north, R2 and R3 (15 m) west and
    east between them, and two lots 30 m deep in the middle split at SPLIT_X. Each lot has two uncut street
    corners: four corners, two triangles for R1 and two for R4 (or R2/R3)."""
    y0, y1 = WIDE_ROAD_M, WIDE_ROAD_M + LOT_DEPTH_M
    lots = [box(15, y0, split_x, y1), box(split_x, y0, 60, y1)]
    return [
        {"kind": "road", "lot_no": None, "geom": box(0, 0, 75, y0)},
        {"kind": "road", "lot_no": None, "geom": box(0, y0, 15, y1)},
        {"kind": "road", "lot_no": None, "geom": box(60, y0, 75, y1)},
        {"kind": "road", "lot_no": None, "geom": box(0, y1, 75, y1 + NARROW_ROAD_M)},
        *({"kind": "lot", "lot_no": str(n), "geom": g, "stated_area": round(g.area, 2)}
          for n, g in enumerate(lots, start=1)),
    ]


@pytest.fixture
def client(api_client):
    from subdivision.models import SurveyingOffice

    municipality = riyadh()
    make_parcel(municipality, PARENT, box(0, 0, 75, WIDE_ROAD_M + LOT_DEPTH_M + NARROW_ROAD_M), plan_no="C",
                parcel_no="1")
    office = SurveyingOffice.objects.create(code="OFF-C", name_en="Office C")
    api_client.force_authenticate(user("cora", SURVEYOR, office=office))
    return api_client


def plan_file(features: list[dict], fmt: str) -> tuple[str, bytes]:
    srid = 4326 if fmt in ("geojson", "kml") else UTM
    raw = RawPlan(format=fmt, srid=srid, features=tuple(
        RawFeature(kind=f["kind"], lot_no=f["lot_no"], geom=crs.transform(f["geom"], UTM, srid),
                   stated_area=f.get("stated_area"), land_use=None, index=i) for i, f in enumerate(features)))
    written = write_plan(raw, stem="corners")
    return written.name, written.content


def geojson(features: list[dict]) -> bytes:
    return plan_file(features, "geojson")[1]


def post(client, content: bytes, url: str = "/api/plans/validate/?fix=snap", name: str = "corners.geojson"):
    return client.post(url, {"municipality": "RUH", "parents": PARENT,
                             "file": SimpleUploadedFile(name, content)}, format="multipart")


def corrected_file(body: dict) -> list:
    file = body["file"]
    back = read_plan(base64.b64decode(file["base64"]), filename=file["name"], srid=file["srid"])
    return [(f, crs.transform(f.geom, back.srid, UTM)) for f in back.features]


def codes(report: dict) -> Counter:
    return Counter(f["code"] for f in report["findings"])


def test_the_block_as_drawn_has_four_uncut_corners_and_nothing_else(client):
    body = post(client, geojson(block_features()), url="/api/plans/validate/").json()
    assert codes(body) == {"CORNER_TRUNCATION": 4}, body["findings"]
    assert all(f["correction"] is not None for f in body["findings"])


def test_fix_cuts_every_corner_and_each_road_takes_all_its_triangles(client):
    features = block_features()
    body = post(client, geojson(features)).json()
    assert codes(body) == {"CORNER_TRUNCATION": 4}
    assert body["corrections_applied"] == 4
    assert body["corrected_report"]["findings"] == []  # none left, none new
    assert body["corrected_report"]["valid"] is True

    back = corrected_file(body)
    # each lot lost one 6 m triangle at R1 (18 m²) and one 3 m triangle at R4 (4.5 m²): 22.5 m²
    lots = {f.lot_no: (f, g) for f, g in back if f.kind == "lot"}
    for no in ("1", "2"):
        feature, geom = lots[no]
        assert geom.area == pytest.approx(675 - 22.5, abs=0.01)
        # the stated area follows the cut (the writer writes it, the reader reads it back)
        assert feature.stated_area == pytest.approx(675 - 22.5, abs=0.01)
    # the roads are whole, valid polygons: 4 triangles given, 45 m² in all, nothing lost or left over
    roads = [g for f, g in back if f.kind == "road"]
    assert all(g.geom_type == "Polygon" and g.is_valid for g in roads), [g.wkt for g in roads]
    drawn = sum(f["geom"].area for f in features if f["kind"] == "road")
    assert sum(g.area for g in roads) == pytest.approx(drawn + 45, abs=0.01)
    # the lots and roads still cover the parent, with no overlap
    everything = [g for _, g in back]
    assert shapely.union_all(everything).area == pytest.approx(sum(g.area for g in everything), abs=0.01)
    assert shapely.union_all(everything).area == pytest.approx(75 * 75, abs=0.01)


@pytest.mark.parametrize("fmt", ["geopackage", "shapefile", "kml"])
def test_the_cut_lots_stated_areas_follow_in_each_format_that_carries_them(client, fmt):
    name, content = plan_file(block_features(), fmt)
    body = post(client, content, name=name).json()
    assert body["corrections_applied"] == 4
    assert body["corrected_report"]["findings"] == []
    stated = {f.lot_no: f.stated_area for f, _ in corrected_file(body) if f.kind == "lot"}
    assert stated == {"1": pytest.approx(652.5, abs=0.01), "2": pytest.approx(652.5, abs=0.01)}


def test_fix_snaps_a_gap_at_a_corner_then_cuts_the_corner_where_it_now_is(client):
    features = block_features()
    # lot 2 drawn 0.3 m short of R3: a 0.3 x 30 m gap, and its two east corners 0.3 m off the road
    lot2 = next(f for f in features if f["lot_no"] == "2")
    lot2["geom"], lot2["stated_area"] = box(37.5, WIDE_ROAD_M, 59.7, WIDE_ROAD_M + LOT_DEPTH_M), None
    body = post(client, geojson(features)).json()
    assert codes(body) == {"CORNER_TRUNCATION": 4, "GAP": 1}, body["findings"]
    assert all(f["correction"] is not None for f in body["findings"])
    assert body["corrections_applied"] == 5
    assert body["corrected_report"]["findings"] == []

    back = corrected_file(body)
    lot = next(g for f, g in back if f.lot_no == "2")
    east_road = next(g for f, g in back if f.kind == "road" and g.bounds[1] - lot.bounds[1] < 1 and
                     g.bounds[0] > lot.bounds[0])  # R3, beside lot 2
    # the gap is closed (lot 2 and R3 now share their edge) and both corners are cut where that edge now is:
    # the shared edge is the lot's 30 m side less the 6 m and 3 m legs, and the lot has 6 vertices
    assert shapely.intersection(lot, east_road).length == pytest.approx(30 - 6 - 3, abs=0.1)  # R3 is 15.3 m now
    assert lot.geom_type == "Polygon" and len(lot.exterior.coords) == 7
    everything = [g for _, g in back]
    assert shapely.union_all(everything).area == pytest.approx(sum(g.area for g in everything), abs=0.01)
    assert shapely.union_all(everything).area == pytest.approx(75 * 75, abs=0.01)


def test_a_cut_that_would_make_a_lot_too_small_is_left_out(client):
    # lot 1 just over the minimum area (400 m²): cutting its two corners (22.5 m²) would take it under
    features = block_features(split_x=15 + 408 / LOT_DEPTH_M)  # lot 1: 13.6 x 30 = 408 m²
    lot1 = next(f for f in features if f["lot_no"] == "1")
    before = post(client, geojson(features), url="/api/plans/validate/").json()
    assert lot1["geom"].area == pytest.approx(408, abs=0.01)
    assert "LOT_AREA_MIN" not in codes(before), before["findings"]
    body = post(client, geojson(features)).json()
    after = codes(body["corrected_report"])
    assert "LOT_AREA_MIN" not in after, body["corrected_report"]["findings"]
    # lot 2's corners are cut, lot 1's are left as drawn (and still reported)
    left = [f for f in body["corrected_report"]["findings"] if f["code"] == "CORNER_TRUNCATION"]
    assert {tuple(f["features"]) for f in left} == {("1",)}
    assert len(left) == 2
    assert body["corrections_applied"] == 2
    for code, n in after.items():
        assert n <= codes(before)[code], (code, body["corrected_report"]["findings"])
    lots = {f.lot_no: g for f, g in corrected_file(body) if f.kind == "lot"}
    assert lots["1"].area == pytest.approx(408, abs=0.01)


def test_fix_stores_the_cut_plan_as_a_new_version(client):
    created = post(client, geojson(block_features()), url="/api/plans/")
    assert created.status_code == 201, created.content
    plan_id = created.json()["id"]
    assert PlanFinding.objects.filter(plan_id=plan_id, version=1, code="CORNER_TRUNCATION").count() == 4
    response = client.post(f"/api/plans/{plan_id}/fix/", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2
    assert body["report"]["findings"] == [] and body["report"]["valid"] is True
    assert not PlanFinding.objects.filter(plan_id=plan_id, version=2).exists()
    features = client.get(f"/api/plans/{plan_id}/features/?version=2").json()
    stated = {f["properties"]["lot_no"]: f["properties"].get("stated_area_m2", f["properties"].get("stated_area"))
              for f in features["features"] if f["properties"]["kind"] == "lot"}
    assert stated == {"1": pytest.approx(652.5, abs=0.01), "2": pytest.approx(652.5, abs=0.01)}, json.dumps(features)
    # nothing left to correct
    assert client.post(f"/api/plans/{plan_id}/fix/", {}, format="json").status_code == 409
