"""The site report and the footprint check through the HTTP API, on real PostGIS data."""

import json

import pytest
import shapely
from django.contrib.auth import get_user_model

from gisportal import crs
from parcels.models import Parcel
from parcels.services import parcels_retire, record_create
from subdivision.models import PlanningRuleSet
from tests.subdivision.permits.city import X0, Y0, build_block, lonlat_box, lonlat_ring

pytestmark = pytest.mark.django_db
REPORT = "/api/parcels/RUH/{}/site-report/"
CHECK = "/api/parcels/RUH/{}/footprint-check/"


@pytest.fixture
def block(planner):
    return build_block()


@pytest.fixture
def partner(db):
    from gisportal.accounts.services import demo_accounts_ensure

    demo_accounts_ensure()
    return get_user_model().objects.get(username="partner")


@pytest.fixture
def nobody(db):
    return get_user_model().objects.create_user("nobody", password="x-password-1")


def post(client, code, body, **params):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    url = CHECK.format(code) + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
    return client.post(url, data=data, content_type="application/json")


def test_the_site_report_has_what_a_permit_needs(api_client, planner, block):
    api_client.force_authenticate(planner)
    response = api_client.get(REPORT.format("82-1-1"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["parcel_code"] == "82-1-1" and (body["plan_no"], body["block_no"], body["parcel_no"]) == ("82", "1", "1")
    assert body["municipality"] == {"code": "RUH", "name_en": "Riyadh test", "name_ar": "الرياض"}
    assert body["district"]["name_ar"] == "الملقا"
    assert body["crs"] == "EPSG:32638"
    assert body["area_m2"] == pytest.approx(600, abs=0.01) and body["perimeter_m"] == pytest.approx(100, abs=0.01)
    # Corners clockwise from the north-west one, in UTM 38N, to the millimetre (the storage round trip
    # through Web Mercator moves them by well under that).
    assert [(c["number"], c["x"] - X0, c["y"] - Y0) for c in body["corners"]] == [
        (1, pytest.approx(0, abs=0.002), pytest.approx(30, abs=0.002)),
        (2, pytest.approx(20, abs=0.002), pytest.approx(30, abs=0.002)),
        (3, pytest.approx(20, abs=0.002), pytest.approx(0, abs=0.002)),
        (4, pytest.approx(0, abs=0.002), pytest.approx(0, abs=0.002))]
    edges = body["edges"]
    assert [(e["from_corner"], e["to_corner"], e["kind"], e["fronts_street"]) for e in edges] == [
        (1, 2, "rear", False), (2, 3, "side", False), (3, 4, "front", True), (4, 1, "side", False)]
    assert [e["length_m"] for e in edges] == pytest.approx([20, 30, 20, 30], abs=0.01)
    assert [e["bearing_deg"] for e in edges] == pytest.approx([90, 180, 270, 0], abs=0.01)
    assert edges[2]["street_name_en"] == "King Fahd Road"
    assert body["frontages"] == [{"street_name_en": "King Fahd Road", "street_name_ar": "طريق الملك فهد",
                                  "row_width_m": 20.0, "frontage_m": pytest.approx(20, abs=0.01),
                                  "front_setback_m": 4.0}]
    assert body["land_use"] == {"code": "residential", "name_en": "Residential", "name_ar": "سكني"}
    assert [z["zone_code"] for z in body["zoning"]] == ["R1"] and body["zoning"][0]["name_ar"] == "فلل سكنية"
    assert body["setbacks"] == {"front_m": 4.0, "front_ratio": 0.2, "front_max_m": 6.0, "side_m": 2.0, "rear_m": 2.0}
    assert body["coverage"] == {"max_pct": 60.0, "max_m2": pytest.approx(360, abs=0.01)}
    assert body["buildable_area_m2"] == pytest.approx(16 * 24, abs=0.05)
    assert body["rules"]["source"] == "default" and "DOMAIN.md" in body["rules"]["description"]
    assert body["neighbours"] == ["82-1-2"]


def test_the_corner_lot_fronts_both_streets_and_a_stored_rule_set_is_used(api_client, surveyor, block):
    PlanningRuleSet.objects.create(municipality=block, land_use="residential", front_setback_ratio=0.25,
                                   front_setback_max_m=5, side_setback_m=1.5, rear_setback_m=3, max_coverage_pct=55)
    api_client.force_authenticate(surveyor)
    body = api_client.get(REPORT.format("82-1-3")).json()
    assert [(f["street_name_en"], f["frontage_m"], f["front_setback_m"]) for f in body["frontages"]] == [
        ("Olaya Street", pytest.approx(30, abs=0.01), 3.75), ("King Fahd Road", pytest.approx(20, abs=0.01), 5.0)]
    assert body["rules"] == {"source": "rule_set", "description": "planning rule set of RUH for residential"}
    assert body["setbacks"]["front_m"] == 3.75 and body["setbacks"]["rear_m"] == 3
    assert body["coverage"]["max_pct"] == 55
    # front 5 m on the south, 3.75 m on the east; the rear (3 m) is the west side, opposite the longest frontage.
    assert body["buildable_area_m2"] == pytest.approx((20 - 3.75 - 3) * (30 - 5 - 1.5), abs=0.05)


def test_who_may_read_the_site_report(api_client, block, partner, nobody, planner):
    assert api_client.get(REPORT.format("82-1-1")).status_code == 401
    api_client.force_authenticate(nobody)
    refused = api_client.get(REPORT.format("82-1-1"))
    assert refused.status_code == 403 and refused.json()["code"] == "PermissionDenied"
    nobody.is_staff = True
    nobody.save()
    assert api_client.get(REPORT.format("82-1-1")).status_code == 200
    api_client.force_authenticate(partner)
    assert api_client.get(REPORT.format("82-1-1")).status_code == 200


def test_unknown_and_retired_parcels(api_client, planner, block):
    api_client.force_authenticate(planner)
    missing = api_client.get(REPORT.format("82-9-9"))
    assert missing.status_code == 404 and missing.json()["code"] == "NotFound"
    record = record_create(municipality=block, reference="Plan 1447/12")
    parcels_retire(parcels=[Parcel.objects.get(parcel_code="82-1-2")], retired_by_record=record)
    for url in (REPORT.format("82-1-2"), "/api/parcels/RUH/82-1-2/site-report.pdf"):
        retired = api_client.get(url)
        assert retired.status_code == 409, url
        assert retired.json()["code"] == "Conflict"
        assert "retired on" in retired.json()["detail"] and "Plan 1447/12" in retired.json()["detail"]
    conflict = post(api_client, "82-1-2", lonlat_box(3, 5, 17, 20))
    assert conflict.status_code == 409
    # A client asking for the PDF still gets its error as JSON.
    asked = api_client.get("/api/parcels/RUH/82-1-2/site-report.pdf", HTTP_ACCEPT="application/pdf")
    assert asked.status_code == 409 and asked["Content-Type"] == "application/json"
    assert json.loads(asked.content)["code"] == "Conflict"
    # The retired neighbour is no longer a neighbour.
    assert api_client.get(REPORT.format("82-1-1")).json()["neighbours"] == []


# ---- the footprint check ------------------------------------------------------------------------------

def to_metric(geojson: dict):
    return crs.transform(shapely.geometry.shape(geojson), 4326, 32638)


def test_a_footprint_inside_the_building_line_passes(api_client, surveyor, block):
    api_client.force_authenticate(surveyor)
    response = post(api_client, "82-1-1", lonlat_box(3, 5, 17, 20))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True and body["findings"] == []
    assert body["coverage_pct"] == pytest.approx(35, abs=0.01) and body["coverage_limit_pct"] == 60
    buildable = to_metric(body["buildable_area"])
    assert buildable.bounds == pytest.approx((X0 + 2, Y0 + 4, X0 + 18, Y0 + 28), abs=0.01)
    # The same footprint as a Feature in UTM, named by its crs member.
    feature = {"type": "Feature", "properties": {}, "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:EPSG::32638"}}, "geometry": shapely.geometry.mapping(
            shapely.box(X0 + 3, Y0 + 5, X0 + 17, Y0 + 20))}
    feature["geometry"] = json.loads(json.dumps(feature["geometry"]))
    again = post(api_client, "82-1-1", feature)
    assert again.status_code == 200, again.content
    assert again.json()["coverage_pct"] == pytest.approx(35, abs=0.01)
    # Or with ?srid=, and as a MultiPolygon of two wings.
    utm = post(api_client, "82-1-1", feature["geometry"], srid=32638)
    assert utm.status_code == 200 and utm.json()["ok"] is True
    wings = {"type": "MultiPolygon", "coordinates": [lonlat_box(3, 5, 8, 20)["coordinates"],
                                                     lonlat_box(12, 5, 17, 20)["coordinates"]]}
    two = post(api_client, "82-1-1", wings).json()
    assert two["ok"] is True and two["footprint_area_m2"] == pytest.approx(150, abs=0.01)
    assert post(api_client, "82-9-9", lonlat_box(3, 5, 17, 20)).status_code == 404


def test_a_footprint_crossing_the_front_setback_is_located_where_it_crosses(api_client, planner, block):
    api_client.force_authenticate(planner)
    body = post(api_client, "82-1-1", lonlat_box(3, 2, 17, 20)).json()
    assert body["ok"] is False
    assert [f["code"] for f in body["findings"]] == ["SETBACK_FRONT"]
    finding = body["findings"][0]
    assert finding["severity"] == "error"
    assert finding["value"] == pytest.approx(2, abs=0.01) and finding["limit"] == 4
    assert "King Fahd Road" in finding["message_en"] and "طريق الملك فهد" in finding["message_ar"]
    where = to_metric(finding["location"])
    assert where.bounds == pytest.approx((X0 + 3, Y0 + 2, X0 + 17, Y0 + 3.99), abs=0.01)


def test_a_footprint_too_big_exceeds_the_coverage(api_client, planner, block):
    api_client.force_authenticate(planner)
    body = post(api_client, "82-1-1", lonlat_box(2.01, 4.01, 17.99, 27.99)).json()
    assert [f["code"] for f in body["findings"]] == ["COVERAGE_EXCEEDED"]
    assert body["findings"][0]["value"] == pytest.approx(15.98 * 23.98 / 6, abs=0.01) and body["findings"][0]["limit"] == 60
    assert to_metric(body["findings"][0]["location"]).area == pytest.approx(15.98 * 23.98, abs=0.05)


def test_who_may_check_a_footprint(api_client, block, partner, nobody):
    assert post(api_client, "82-1-1", lonlat_box(3, 5, 17, 20)).status_code == 401
    for user in (partner, nobody):
        api_client.force_authenticate(user)
        response = post(api_client, "82-1-1", lonlat_box(3, 5, 17, 20))
        assert response.status_code == 403 and response.json()["code"] == "PermissionDenied"


HOSTILE = [
    (b"{not json", {}, "body: not valid JSON"),
    (b"", {}, "body: empty"),
    (b"[1, 2]", {}, "body: expected a GeoJSON object"),
    (b'{"type": "Polygon", "coordinates": [[[NaN, 1], [1, 1], [1, 2], [NaN, 1]]]}', {}, "body: NaN"),
    (b" " * 1_100_000, {}, "body: 1,100,000 bytes, over"),
    (b'{"a":' * 20_000 + b"1" + b"}" * 20_000, {}, "body: nested too deeply"),
    ({"type": "Point", "coordinates": [46.7, 24.8]}, {}, "geometry: a footprint is a Polygon or MultiPolygon"),
    ({"type": "FeatureCollection", "features": []}, {}, "geometry: send one footprint"),
    ({"type": "Feature", "geometry": None}, {}, "geometry: the Feature has no geometry"),
    ({"type": "Polygon", "coordinates": [[[46.7, 24.8], [46.71, 24.8], [46.71, 24.81]]]}, {},
     "has 3 points; a ring needs at least 4"),
    ({"type": "Polygon", "coordinates": [[[46.7, 24.8], [46.71, 24.8], [46.71, 24.81], [46.7, 24.81]]]}, {},
     "is not closed"),
    ({"type": "Polygon", "coordinates": [[[46.7, "24.8"], [46.71, 24.8], [46.71, 24.81], [46.7, 24.8]]]}, {},
     "not a number"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, {},
     "not a valid polygon (Self-intersection"),
    ({"type": "Polygon", "coordinates": [[[670003, 2745005], [670017, 2745005], [670017, 2745020],
                                          [670003, 2745005]]]}, {}, "outside longitude ±180"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}, {"srid": "999999"},
     "srid: EPSG:999999 is not a known CRS"),
    ({"type": "Polygon", "crs": "EPSG:32638", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
     {"srid": "4326"}, "crs: the CRS is given more than once and disagrees"),
    ({"type": "Polygon", "crs": "EPSG:nonsense", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}, {},
     "crs: 'EPSG:nonsense' is not a CRS name"),
]


@pytest.mark.parametrize("body, params, detail", HOSTILE, ids=[detail for _, _, detail in HOSTILE])
def test_hostile_footprints_are_refused_naming_the_problem(api_client, planner, block, body, params, detail):
    api_client.force_authenticate(planner)
    response = post(api_client, "82-1-1", body, **params)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "InvalidParameter"
    assert detail in response.json()["detail"], response.json()["detail"]


def test_too_many_vertices_and_swapped_axes_are_refused(api_client, planner, block):
    api_client.force_authenticate(planner)
    ring = lonlat_ring([(3 + 14 * i / 10_001, 5) for i in range(10_001)] + [(17, 20), (3, 20)])
    many = post(api_client, "82-1-1", {"type": "Polygon", "coordinates": [ring]})
    assert many.status_code == 400 and "more than 10,000 vertices" in many.json()["detail"]
    swapped = lonlat_box(3, 5, 17, 20)
    swapped["coordinates"] = [[[lat, lon] for lon, lat in swapped["coordinates"][0]]]
    far = post(api_client, "82-1-1", swapped)
    assert far.status_code == 400 and "longitude and latitude swapped" in far.json()["detail"]


def test_the_answers_fit_their_openapi_schemas(api_client, planner, block):
    from drf_spectacular.generators import SchemaGenerator

    from tests.gisportal.test_openapi import assert_fits, response_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    api_client.force_authenticate(planner)
    path = "/api/parcels/{municipality}/{parcel_code}/"
    assert_fits(schema, response_schema(schema, path + "site-report/", "get"),
                api_client.get(REPORT.format("82-1-3")).json())
    checked = post(api_client, "82-1-1", lonlat_box(3, 2, 40, 20)).json()
    assert {f["code"] for f in checked["findings"]} == {"SETBACK_FRONT", "SETBACK_SIDE", "FOOTPRINT_OUTSIDE_PARCEL",
                                                     "COVERAGE_EXCEEDED"}
    assert_fits(schema, response_schema(schema, path + "footprint-check/", "post"), checked)
    assert_fits(schema, response_schema(schema, path + "site-report/", "get", 409),
                {"code": "Conflict", "detail": "x"})
    pdf = schema["paths"][path + "site-report.pdf"]["get"]["responses"]["200"]["content"]
    assert "application/pdf" in pdf
