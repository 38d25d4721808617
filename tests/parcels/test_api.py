import pytest

from parcels.models import Street
from tests.parcels.factories import make_parcel, rect, riyadh

pytestmark = pytest.mark.django_db


@pytest.fixture
def block(planner):
    import shapely
    from django.conf import settings
    from django.contrib.gis.geos import LineString, MultiLineString

    from gisportal import crs

    municipality = riyadh()
    for i in range(3):
        make_parcel(municipality, f"82-1-{i + 1}", rect(i * 20, 0, 20, 30), plan_no="82", block_no="1",
                    parcel_no=str(i + 1))
    # A 20 m street whose right-of-way edge is the lots' south side (centreline 10 m south of it).
    line = crs.transform(shapely.LineString([(670000 - 50, 2745000 - 10), (670000 + 110, 2745000 - 10)]),
                         32638, settings.STORAGE_SRID)
    Street.objects.create(municipality=municipality, name_en="Street 1", row_width_m=20,
                          centreline=MultiLineString(LineString(list(line.coords)), srid=settings.STORAGE_SRID))
    return municipality


def test_anonymous_callers_are_refused(api_client, block):
    for url in ("/api/parcels/", "/api/parcels/RUH/82-1-1/", "/api/parcels/RUH/82-1-1/history/"):
        response = api_client.get(url)
        assert response.status_code == 401, url
        assert response.json()["code"] == "NotAuthenticated"
        assert response["WWW-Authenticate"] == "Token"


def test_list_is_a_feature_collection_with_count_and_links(api_client, planner, block):
    api_client.force_authenticate(planner)
    body = api_client.get("/api/parcels/", {"municipality": "RUH", "page_size": 2}).json()
    assert body["type"] == "FeatureCollection"
    assert body["count"] == 3
    assert len(body["features"]) == 2
    assert "page=2" in body["next"] and body["previous"] is None
    page2 = api_client.get(body["next"]).json()
    assert [f["properties"]["parcel_code"] for f in page2["features"]] == ["82-1-3"]
    assert "page=1" in page2["previous"] and page2["next"] is None


def test_geometry_is_lon_lat_by_default_and_metric_on_request(api_client, planner, block):
    api_client.force_authenticate(planner)
    wgs84 = api_client.get("/api/parcels/RUH/82-1-1/").json()
    lon, lat = wgs84["geometry"]["coordinates"][0][0][0]
    assert 46 < lon < 47.5 and 24 < lat < 25.5
    utm = api_client.get("/api/parcels/RUH/82-1-1/", {"srid": 32638}).json()
    xs = sorted({round(x, 2) for x, _ in utm["geometry"]["coordinates"][0][0]})
    assert xs == [670000.0, 670020.0]


def test_detail_has_measurements_neighbours_and_lineage(api_client, planner, block):
    api_client.force_authenticate(planner)
    props = api_client.get("/api/parcels/RUH/82-1-2/").json()["properties"]
    m = props["measurements"]
    assert m["area_m2"] == pytest.approx(600, abs=0.01)
    assert m["perimeter_m"] == pytest.approx(100, abs=0.01)
    assert m["frontage_m"] == pytest.approx(20, abs=0.01)
    assert m["depth_m"] == pytest.approx(30, abs=0.01)
    assert m["crs"] == "EPSG:32638"
    assert len(m["edges"]) == 4
    assert sorted(round(e["length_m"], 2) for e in m["edges"]) == [20, 20, 30, 30]
    assert [e["on_street"] for e in m["edges"]].count(True) == 1
    assert props["neighbours"] == ["82-1-1", "82-1-3"]
    assert props["lineage"] == {"created_by_plan": None, "retired_by_plan": None, "parents": [], "children": []}


def test_unknown_parcel_is_a_404_naming_it(api_client, planner, block):
    api_client.force_authenticate(planner)
    response = api_client.get("/api/parcels/RUH/99-9-9/")
    assert response.status_code == 404
    assert "99-9-9" in response.json()["detail"]


@pytest.mark.parametrize("params, name", [
    ({"bbox": "1,2,3"}, "bbox"), ({"as_of": "2024-02-30"}, "as_of"), ({"land_use": "x"}, "land_use"),
    ({"srid": "123456789"}, "srid"), ({"page_size": "0"}, "page_size"),
])
def test_bad_parameters_are_400_naming_the_parameter(api_client, planner, block, params, name):
    api_client.force_authenticate(planner)
    response = api_client.get("/api/parcels/", params)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{name}:")


def test_bbox_filters_by_intersection(api_client, planner, block):
    import shapely

    from gisportal import crs

    # A box around the first lot only (a 5 m margin inside lot 1).
    box = crs.transform(shapely.box(670002, 2745002, 670015, 2745025), 32638, 4326)
    api_client.force_authenticate(planner)
    body = api_client.get("/api/parcels/", {"bbox": ",".join(f"{v:.7f}" for v in box.bounds)}).json()
    assert [f["properties"]["parcel_code"] for f in body["features"]] == ["82-1-1"]


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/parcels/" in schema.content.decode()
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    # Served offline, from this server, with DEBUG off.
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs.content
    assert b"cdn." not in docs.content


def test_openapi_schema_is_valid_without_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/parcels/{municipality}/{parcel_code}/history/", "/api/plans/validate/"):
        assert path in text
    assert "tokenAuth" in text
