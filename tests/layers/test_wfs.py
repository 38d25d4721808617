"""WFS 2.0 at /wfs, through Django's test client: operations, CRSs and axis order, paging, filters,
access per caller, errors as OGC exception reports, hostile parameters.

Real clients (OWSLib, GDAL) against a live server are in test_wfs_clients.py. Counts are compared
with plain SQL on the tables, not with the registry's querysets the service itself reads.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connection

from gisportal.errors import Throttled
from layers.services import partner_key_create
from layers.wfs.views import ows_error_response
from parcels.services import parcel_create, parcels_retire
from tests.parcels.factories import make_parcel, rect, riyadh

pytestmark = pytest.mark.django_db

NS = {
    "wfs": "http://www.opengis.net/wfs/2.0",
    "ows": "http://www.opengis.net/ows/1.1",
    "gml": "http://www.opengis.net/gml/3.2",
    "gp": "urn:gisportal:layers",
}
WFS = {"SERVICE": "WFS", "VERSION": "2.0.0"}
PUBLIC_LAYERS = ["municipalities", "districts", "streets", "zoning", "blocks", "parcels"]
GRID = 6  # GRID x GRID active parcels, 20 m x 30 m each
# The south-west corner of parcel K-1, a 0.001° square: the known point for axis-order checks.
KNOWN_LON, KNOWN_LAT = 46.65, 24.80
GET_FEATURE_BY_ID = "urn:ogc:def:query:OGC-WFS::GetFeatureById"


def build_city():
    """Create a small city: GRID² active parcels, the known-point parcel K-1, a retired parcel R-1."""
    municipality = riyadh()
    for row in range(GRID):
        for col in range(GRID):
            make_parcel(municipality, f"1-{row}-{col}", rect(col * 20, row * 30, 20, 30), plan_no="1",
                        block_no=str(row), parcel_no=str(col),
                        land_use="commercial" if (row + col) % 3 == 0 else "residential")
    square = Polygon.from_bbox((KNOWN_LON, KNOWN_LAT, KNOWN_LON + 0.001, KNOWN_LAT + 0.001))
    square.srid = 4326
    parcel_create(municipality=municipality, parcel_code="K-1", land_use="open_space", plan_no="K",
                  geom=MultiPolygon(square, srid=4326).transform(settings.STORAGE_SRID, clone=True))
    retired = make_parcel(municipality, "R-1", rect(-100, -100, 20, 20), land_use="industrial", plan_no="R")
    parcels_retire(parcels=[retired])
    return municipality


def sql_one(query: str, params=()):
    """Run QUERY on the tables themselves (not through the layer registry) and return the first value."""
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()[0]


def active_parcels_sql(where: str = "TRUE", params=()) -> int:
    return sql_one(f"SELECT count(*) FROM parcels_parcel WHERE status = 'active' AND {where}", params)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def wfs(client, **params):
    headers = {name: params.pop(name) for name in list(params) if name.startswith("HTTP_")}
    return client.get("/wfs", {**WFS, **params}, **headers)


def geojson(client, **params) -> dict:
    response = wfs(client, REQUEST="GetFeature", OUTPUTFORMAT="geojson", **params)
    assert response.status_code == 200, body_of(response)[:500]
    return json.loads(body_of(response))


def xml(response) -> ElementTree.Element:
    return ElementTree.fromstring(body_of(response))


def exception_of(response, status: int) -> tuple[str, str | None]:
    """Assert RESPONSE is an ows:ExceptionReport with STATUS; return its code and locator."""
    assert response.status_code == status, body_of(response)[:500]
    assert response["Content-Type"].startswith("text/xml")
    root = xml(response)
    assert root.tag == f"{{{NS['ows']}}}ExceptionReport"
    exception = root.find("ows:Exception", NS)
    return exception.get("exceptionCode"), exception.get("locator")


def remove_city(municipality) -> None:
    from parcels.models import Parcel

    Parcel.objects.filter(municipality=municipality).delete()
    municipality.delete()


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    """The city, committed once for the module (each test's own writes are rolled back) and removed after."""
    with django_db_blocker.unblock():
        municipality = build_city()
    yield municipality
    with django_db_blocker.unblock():
        remove_city(municipality)


@pytest.fixture
def partner_key(city):
    """A key that grants parcels only (not parcel_history)."""
    return partner_key_create(organisation="Water Utility", layers=["parcels"])


@pytest.fixture
def history_key(city):
    return partner_key_create(organisation="Land Registry", layers=["parcels", "parcel_history"])


def advertised_layers(response) -> list[str]:
    return [name.text for name in xml(response).iterfind("wfs:FeatureTypeList/wfs:FeatureType/wfs:Name", NS)]


# ---- capabilities: only what the caller may read ----------------------------------------------

def test_capabilities_list_the_public_layers_to_anonymous_callers(client, city):
    response = wfs(client, REQUEST="GetCapabilities")
    assert response.status_code == 200
    assert advertised_layers(response) == [f"gisportal:{layer}" for layer in PUBLIC_LAYERS]
    assert response["Cache-Control"] == "no-store"


def test_capabilities_add_the_layers_a_key_grants_and_a_planner_sees_all(client, city, history_key, planner):
    with_key = advertised_layers(wfs(client, REQUEST="GetCapabilities", key=history_key))
    assert with_key == [f"gisportal:{layer}" for layer in [*PUBLIC_LAYERS, "parcel_history"]]
    client.force_login(planner)
    assert advertised_layers(wfs(client, REQUEST="GetCapabilities"))[-2:] == ["gisportal:parcel_history",
                                                                               "gisportal:plans"]


def test_capabilities_offer_4326_by_default_and_3857_crs84_and_the_metric_crs(client, city):
    root = xml(wfs(client, REQUEST="GetCapabilities"))
    parcels = next(ft for ft in root.iterfind("wfs:FeatureTypeList/wfs:FeatureType", NS)
                   if ft.findtext("wfs:Name", namespaces=NS) == "gisportal:parcels")
    assert parcels.findtext("wfs:DefaultCRS", namespaces=NS) == "urn:ogc:def:crs:EPSG::4326"
    assert [crs.text for crs in parcels.iterfind("wfs:OtherCRS", NS)] == [
        "urn:ogc:def:crs:OGC::CRS84", "urn:ogc:def:crs:EPSG::3857", "urn:ogc:def:crs:EPSG::32638"]
    lower = [float(v) for v in parcels.findtext("ows:WGS84BoundingBox/ows:LowerCorner", namespaces=NS).split()]
    assert 46 < lower[0] < 47 and 24 < lower[1] < 25  # longitude first, as WGS84BoundingBox always is


def test_a_new_municipality_adds_its_metric_crs_without_a_restart(client, city):
    from parcels.services import municipality_create

    municipality_create(code="CAM", name_en="Cambridge", metric_srid=32619)
    root = xml(wfs(client, REQUEST="GetCapabilities"))
    other = [crs.text for crs in root.find("wfs:FeatureTypeList/wfs:FeatureType", NS).iterfind("wfs:OtherCRS", NS)]
    assert other[-2:] == ["urn:ogc:def:crs:EPSG::32619", "urn:ogc:def:crs:EPSG::32638"]
    body = geojson(client, TYPENAMES="parcels", COUNT=1, SRSNAME="urn:ogc:def:crs:EPSG::32619")
    assert body["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32619"


def test_advertised_urls_carry_the_key_only_when_it_came_in_the_query(client, city, partner_key):
    def get_urls(response):
        return {element.get("{http://www.w3.org/1999/xlink}href")
                for element in xml(response).iterfind(".//ows:Get", NS)}

    (in_query,) = get_urls(wfs(client, REQUEST="GetCapabilities", key=partner_key))
    assert parse_qs(urlsplit(in_query).query) == {"key": [partner_key]}
    (from_header,) = get_urls(wfs(client, REQUEST="GetCapabilities", HTTP_AUTHORIZATION=f"Bearer {partner_key}"))
    assert from_header == "http://testserver/wfs"


# ---- access: 401 / 403 per layer in the OGC format --------------------------------------------

@pytest.mark.parametrize("request_params", [
    {"REQUEST": "GetFeature", "TYPENAMES": "parcel_history"},
    {"REQUEST": "GetFeature", "TYPENAMES": "gisportal:parcel_history", "RESULTTYPE": "hits"},
    {"REQUEST": "DescribeFeatureType", "TYPENAMES": "parcel_history"},
    {"REQUEST": "GetPropertyValue", "TYPENAMES": "parcel_history", "VALUEREFERENCE": "parcel_code"},
    {"REQUEST": "GetFeature", "STOREDQUERY_ID": GET_FEATURE_BY_ID, "ID": "parcel_history.1"},
    {"REQUEST": "GetFeature", "RESOURCEID": "plans.1"},
])
def test_a_hidden_layer_is_401_without_credentials_and_403_with_a_key_that_does_not_grant_it(
        client, partner_key, request_params):
    anonymous = wfs(client, **request_params)
    assert exception_of(anonymous, 401) == ("NotAuthenticated", "typeNames")
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="gisportal"'
    with_key = wfs(client, key=partner_key, **request_params)
    assert exception_of(with_key, 403) == ("PermissionDenied", "typeNames")
    assert not with_key.has_header("WWW-Authenticate")


def test_the_key_works_as_a_bearer_header_and_as_a_query_parameter(client, history_key):
    expected = sql_one("SELECT count(*) FROM parcels_parcel WHERE status = 'retired'")
    assert expected == 1
    for extra in ({"key": history_key}, {"HTTP_AUTHORIZATION": f"Bearer {history_key}"}):
        body = geojson(client, TYPENAMES="parcel_history", **extra)
        assert [f["properties"]["parcel_code"] for f in body["features"]] == ["R-1"]
        assert body["features"][0]["properties"]["valid_to"] is not None


def test_a_wrong_key_is_401_authentication_failed(client, city):
    response = wfs(client, REQUEST="GetCapabilities", key="gpk_not-a-key")
    assert exception_of(response, 401) == ("AuthenticationFailed", "key")
    assert response["WWW-Authenticate"] == 'Bearer realm="gisportal"'


def test_throttled_is_429_in_the_ogc_format_with_retry_after():
    response = ows_error_response(Throttled("more than 2 requests a minute", retry_after_s=17))
    assert exception_of(response, 429) == ("Throttled", None)
    assert response["Retry-After"] == "17"


def test_stored_query_listing_names_only_readable_layers(client, city):
    listing = body_of(wfs(client, REQUEST="ListStoredQueries")).decode()
    assert GET_FEATURE_BY_ID in listing and "gisportal:parcels" in listing
    assert "parcel_history" not in listing and "plans" not in listing
    described = wfs(client, REQUEST="DescribeStoredQueries", STOREDQUERY_ID=GET_FEATURE_BY_ID)
    assert described.status_code == 200 and b"plans" not in body_of(described)


# ---- GetFeature: counts, paging, hits, capping ------------------------------------------------

def test_get_feature_returns_exactly_the_active_parcels(client, city):
    body = geojson(client, TYPENAMES="parcels")
    expected = active_parcels_sql()
    assert expected == GRID * GRID + 1
    assert len(body["features"]) == body["numberReturned"] == body["numberMatched"] == expected
    codes = sql_one("SELECT array_agg(parcel_code ORDER BY id) FROM parcels_parcel WHERE status = 'active'")
    assert [f["properties"]["parcel_code"] for f in body["features"]] == codes
    first = body["features"][0]
    assert set(first["properties"]) == {"municipality", "parcel_code", "plan_no", "block_no", "parcel_no",
                                        "land_use", "zone_code", "area_m2", "valid_from"}
    assert first["properties"]["municipality"] == "RUH"
    assert first["properties"]["area_m2"] == pytest.approx(600, abs=0.01)  # 20 m x 30 m in UTM 38N


def test_paging_is_stable_and_covers_every_feature_once(client, city):
    ids, start, page = [], 0, 7
    while True:
        body = geojson(client, TYPENAMES="parcels", STARTINDEX=start, COUNT=page)
        ids += [f["id"] for f in body["features"]]
        next_links = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not next_links:
            break
        assert parse_qs(urlsplit(next_links[0]).query)["STARTINDEX"] == [str(start + page)]
        start += page
    expected = sql_one("SELECT array_agg('parcels.' || id ORDER BY id) FROM parcels_parcel WHERE status = 'active'")
    assert ids == expected


def test_gml_pages_carry_number_matched_and_a_next_link(client, city):
    response = wfs(client, REQUEST="GetFeature", TYPENAMES="parcels", COUNT=10, STARTINDEX=10)
    root = xml(response)
    assert root.get("numberMatched") == str(active_parcels_sql())
    assert root.get("numberReturned") == "10"
    assert "STARTINDEX=20" in root.get("next") and "STARTINDEX=0" in root.get("previous")
    ids = [member[0].get(f"{{{NS['gml']}}}id") for member in root.iterfind("wfs:member", NS)]
    assert ids == sql_one("SELECT array_agg('parcels.' || id ORDER BY id) FROM (SELECT id FROM parcels_parcel "
                          "WHERE status = 'active' ORDER BY id OFFSET 10 LIMIT 10) page")


def test_result_type_hits_counts_without_features(client, city):
    root = xml(wfs(client, REQUEST="GetFeature", TYPENAMES="parcels", RESULTTYPE="hits"))
    assert root.get("numberMatched") == str(active_parcels_sql())
    assert root.get("numberReturned") == "0" and not root.findall("wfs:member", NS)


def test_count_above_the_maximum_is_capped_and_the_answer_says_so(client, city, settings):
    settings.GISSERVER_DEFAULT_MAX_PAGE_SIZE = 5
    body = geojson(client, TYPENAMES="parcels", COUNT=1000)
    assert len(body["features"]) == body["numberReturned"] == 5
    assert body["numberMatched"] == active_parcels_sql()
    (next_link,) = [link["href"] for link in body["links"] if link["rel"] == "next"]
    assert parse_qs(urlsplit(next_link).query)["COUNT"] == ["5"]
    root = xml(wfs(client, REQUEST="GetFeature", TYPENAMES="parcels", COUNT=1000))
    assert root.get("numberReturned") == "5" and "COUNT=5" in root.get("next")
    capabilities = body_of(wfs(client, REQUEST="GetCapabilities")).decode()
    assert '<ows:Constraint name="DefaultMaxFeatures">' in capabilities and "<ows:Value>5</ows:Value>" in capabilities


# ---- CRSs and axis order ------------------------------------------------------------------------

def known_parcel_gml(client, srsname: str | None) -> list[float]:
    params = {"SRSNAME": srsname} if srsname else {}
    root = xml(wfs(client, REQUEST="GetFeature", TYPENAMES="parcels", SORTBY="parcel_code DESC", COUNT=1, **params))
    feature = root.find("wfs:member/gp:parcels", NS)
    assert feature.findtext("gp:parcel_code", namespaces=NS) == "K-1"
    return [float(v) for v in feature.findtext(".//gml:posList", namespaces=NS).split()]


def test_default_crs_is_epsg_4326_latitude_first_in_gml(client, city):
    coords = known_parcel_gml(client, None)
    pairs = list(zip(coords[::2], coords[1::2]))
    assert (KNOWN_LAT, KNOWN_LON) in [(round(a, 6), round(b, 6)) for a, b in pairs]
    assert all(24 < lat < 25 and 46 < lon < 47 for lat, lon in pairs)
    assert known_parcel_gml(client, "urn:ogc:def:crs:EPSG::4326") == coords
    assert known_parcel_gml(client, "http://www.opengis.net/def/crs/epsg/0/4326") == coords


def test_crs84_and_the_legacy_epsg_4326_are_longitude_first(client, city):
    for srsname in ("urn:ogc:def:crs:OGC::CRS84", "EPSG:4326"):
        coords = known_parcel_gml(client, srsname)
        assert (KNOWN_LON, KNOWN_LAT) in [(round(a, 6), round(b, 6)) for a, b in zip(coords[::2], coords[1::2])]


def test_geojson_is_longitude_first(client, city):
    body = geojson(client, TYPENAMES="parcels", SORTBY="parcel_code DESC", COUNT=1)
    ring = body["features"][0]["geometry"]["coordinates"][0][0]
    assert [KNOWN_LON, KNOWN_LAT] in [[round(x, 6), round(y, 6)] for x, y in ring]
    assert body["crs"]["properties"]["name"] == "urn:ogc:def:crs:OGC::CRS84"


@pytest.mark.parametrize("srid", [3857, 32638])
def test_srsname_reprojects_to_what_postgis_computes(client, city, srid):
    body = geojson(client, TYPENAMES="parcels", SORTBY="parcel_code DESC", COUNT=1,
                   SRSNAME=f"urn:ogc:def:crs:EPSG::{srid}")
    x, y = body["features"][0]["geometry"]["coordinates"][0][0][0]
    expected = json.loads(sql_one(
        "SELECT ST_AsGeoJSON(ST_PointN(ST_ExteriorRing(ST_GeometryN(ST_Transform(geom, %s), 1)), 1)) "
        "FROM parcels_parcel WHERE parcel_code = 'K-1'", [srid]))["coordinates"]
    assert (x, y) == pytest.approx(expected, abs=1e-3)
    assert body["crs"]["properties"]["name"] == f"urn:ogc:def:crs:EPSG::{srid}"


# ---- BBOX and FES filters --------------------------------------------------------------------

def hits(client, **params) -> int:
    response = wfs(client, REQUEST="GetFeature", TYPENAMES="parcels", RESULTTYPE="hits", **params)
    assert response.status_code == 200, body_of(response)[:500]
    return int(xml(response).get("numberMatched"))


def test_bbox_is_read_in_the_default_crs_latitude_first_unless_it_names_one(client, city):
    lon1, lat1, lon2, lat2 = KNOWN_LON - 0.0005, KNOWN_LAT - 0.0005, KNOWN_LON + 0.0005, KNOWN_LAT + 0.0005
    assert active_parcels_sql("ST_Intersects(geom, ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 4326), 3857))",
                              (lon1, lat1, lon2, lat2)) == 1  # K-1 only
    assert hits(client, BBOX=f"{lat1},{lon1},{lat2},{lon2}") == 1
    assert hits(client, BBOX=f"{lon1},{lat1},{lon2},{lat2}") == 0  # the same numbers read as lat/lon
    assert hits(client, BBOX=f"{lon1},{lat1},{lon2},{lat2},urn:ogc:def:crs:OGC::CRS84") == 1
    assert hits(client, BBOX=f"{lat1},{lon1},{lat2},{lon2},urn:ogc:def:crs:EPSG::4326") == 1


def test_bbox_counts_what_postgis_intersects(client, city):
    # A metric box over part of the grid (UTM 38N), given in EPSG:32638 itself.
    box = (670000 + 30, 2745000 + 40, 670000 + 75, 2745000 + 100)
    expected = active_parcels_sql(
        "ST_Intersects(geom, ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 32638), 3857))", box)
    assert 0 < expected < GRID * GRID
    assert hits(client, BBOX=",".join(map(str, box)) + ",urn:ogc:def:crs:EPSG::32638") == expected


def test_a_filter_envelope_without_srsname_is_in_the_default_crs(client, city):
    # As GDAL's WFS driver sends it for ogr2ogr -spat: no srsName, latitude first (EPSG:4326).
    envelope = ('<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2">'
                '<fes:BBOX><fes:ValueReference>geometry</fes:ValueReference><gml:Envelope>'
                '<gml:lowerCorner>{} {}</gml:lowerCorner><gml:upperCorner>{} {}</gml:upperCorner>'
                '</gml:Envelope></fes:BBOX></fes:Filter>')
    lat_first = (KNOWN_LAT - 0.0005, KNOWN_LON - 0.0005, KNOWN_LAT + 0.0005, KNOWN_LON + 0.0005)
    assert hits(client, FILTER=envelope.format(*lat_first)) == 1
    with_srs = envelope.replace("<gml:Envelope>", '<gml:Envelope srsName="urn:ogc:def:crs:OGC::CRS84">')
    lon_first = (KNOWN_LON - 0.0005, KNOWN_LAT - 0.0005, KNOWN_LON + 0.0005, KNOWN_LAT + 0.0005)
    assert hits(client, FILTER=with_srs.format(*lon_first)) == 1


FILTER_EQUAL = ('<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsEqualTo>'
                '<fes:ValueReference>{field}</fes:ValueReference><fes:Literal>{value}</fes:Literal>'
                '</fes:PropertyIsEqualTo></fes:Filter>')


def test_fes_filters_match_the_same_rows_as_sql(client, city):
    commercial = FILTER_EQUAL.format(field="land_use", value="commercial")
    assert hits(client, FILTER=commercial) == active_parcels_sql("land_use = 'commercial'") > 0
    between = ('<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:And>'
               '<fes:PropertyIsEqualTo><fes:ValueReference>municipality</fes:ValueReference>'
               '<fes:Literal>RUH</fes:Literal></fes:PropertyIsEqualTo>'
               '<fes:PropertyIsLike wildCard="*" singleChar="." escapeChar="!">'
               '<fes:ValueReference>parcel_code</fes:ValueReference><fes:Literal>1-2-*</fes:Literal>'
               '</fes:PropertyIsLike></fes:And></fes:Filter>')
    assert hits(client, FILTER=between) == active_parcels_sql("parcel_code LIKE '1-2-%%'") == GRID
    spatial = ('<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2">'
               '<fes:Intersects><fes:ValueReference>geometry</fes:ValueReference>'
               '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>24.8005 46.6505</gml:pos></gml:Point>'
               '</fes:Intersects></fes:Filter>')
    body = geojson(client, TYPENAMES="parcels", FILTER=spatial)
    assert [f["properties"]["parcel_code"] for f in body["features"]] == ["K-1"]


def test_get_property_value_and_get_feature_by_id(client, city):
    known_id = sql_one("SELECT id FROM parcels_parcel WHERE parcel_code = 'K-1'")
    values = xml(wfs(client, REQUEST="GetPropertyValue", TYPENAMES="parcels", VALUEREFERENCE="parcel_code",
                     SORTBY="parcel_code DESC", COUNT=2))
    assert [m.text for m in values.iterfind("wfs:member/gp:parcel_code", NS)] == ["K-1", f"1-{GRID - 1}-{GRID - 1}"]
    single = wfs(client, REQUEST="GetFeature", STOREDQUERY_ID=GET_FEATURE_BY_ID, ID=f"parcels.{known_id}")
    root = xml(single)
    assert root.tag == f"{{{NS['gp']}}}parcels" and root.findtext("gp:parcel_code", namespaces=NS) == "K-1"
    missing = wfs(client, REQUEST="GetFeature", STOREDQUERY_ID=GET_FEATURE_BY_ID, ID="parcels.999999999")
    assert exception_of(missing, 404)[0] == "NotFound"


def test_post_xml_get_feature_is_answered(client, city):
    query = ('<wfs:GetFeature service="WFS" version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0" '
             'xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gisportal="urn:gisportal:layers" '
             'resultType="hits"><wfs:Query typeNames="gisportal:parcels">'
             + FILTER_EQUAL.format(field="land_use", value="commercial") + '</wfs:Query></wfs:GetFeature>')
    response = client.post("/wfs", query, content_type="text/xml")
    assert response.status_code == 200, body_of(response)[:500]
    assert xml(response).get("numberMatched") == str(active_parcels_sql("land_use = 'commercial'"))


def test_describe_feature_type_lists_the_registry_fields(client, city):
    schema = body_of(wfs(client, REQUEST="DescribeFeatureType", TYPENAMES="parcels")).decode()
    for name, xsd_type in [("geometry", "gml:MultiSurfacePropertyType"), ("parcel_code", "string"),
                           ("area_m2", "double"), ("valid_from", "dateTime")]:
        assert f'name="{name}" type="{xsd_type}"' in schema


# ---- bad input: 400 exception reports ---------------------------------------------------------

@pytest.mark.parametrize("params, code, locator", [
    ({"FILTER": FILTER_EQUAL.format(field="land_use", value="x")[:60]}, "OperationParsingFailed", "filter"),
    ({"FILTER": "<fes:Filter>not xml"}, "OperationParsingFailed", "filter"),
    ({"FILTER": "<Filter><PropertyIsEqualTo/></Filter>"}, "OperationParsingFailed", "filter"),
    ({"FILTER": FILTER_EQUAL.format(field="no_such_field", value="x")}, "InvalidParameterValue", "filter"),
    # gisserver names the query ("filter") as the locator of an unknown property anywhere in it.
    ({"PROPERTYNAME": "no_such_field"}, "InvalidParameterValue", "filter"),
    ({"SORTBY": "no_such_field"}, "InvalidParameterValue", "filter"),
    ({"SORTBY": "area_m2 SIDEWAYS"}, "InvalidParameterValue", "sortBy"),
    ({"BBOX": "1,2,3"}, "OperationParsingFailed", "bbox"),
    ({"BBOX": "a,b,c,d"}, "InvalidParameterValue", "bbox"),
    ({"BBOX": "1,2,3,4,EPSG:999999"}, "InvalidParameterValue", "bbox"),
    ({"SRSNAME": "EPSG:2039"}, "InvalidParameterValue", "srsName"),
    ({"SRSNAME": "urn:ogc:def:crs:EPSG::nope"}, "InvalidParameterValue", "srsName"),
    ({"COUNT": "-1"}, "InvalidParameterValue", "count"),
    ({"OUTPUTFORMAT": "shape-zip"}, "InvalidParameterValue", "outputFormat"),
])
def test_bad_parameters_are_400_exception_reports(client, city, params, code, locator):
    response = wfs(client, REQUEST="GetFeature", TYPENAMES="parcels", **params)
    assert exception_of(response, 400)[0] == code
    assert exception_of(response, 400)[1].lower() == locator.lower()


def test_unknown_layers_and_operations_are_400(client, city):
    assert exception_of(wfs(client, REQUEST="GetFeature", TYPENAMES="nope"), 400) == (
        "InvalidParameterValue", "typeNames")
    assert exception_of(wfs(client, REQUEST="Transaction"), 400)[0] == "OperationNotSupported"
    assert exception_of(client.get("/wfs", {"SERVICE": "WMS", "REQUEST": "GetMap"}), 400)[1] == "service"


# ---- hostile parameters ---------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    {"TYPENAMES": "parcels;DROP TABLE parcels_parcel"},
    {"TYPENAMES": "parcels', 'plans"},
    {"TYPENAMES": "parcels", "SORTBY": "id;DROP TABLE parcels_parcel"},
    {"TYPENAMES": "parcels", "SORTBY": "area_m2 DESC, (SELECT 1)"},
    {"RESOURCEID": "parcels.1' OR '1'='1"},
    {"RESOURCEID": "parcels.1;DELETE FROM parcels_parcel"},
    {"TYPENAMES": "parcels", "FILTER": FILTER_EQUAL.format(field="land_use'); DROP TABLE parcels_parcel; --",
                                                           value="x")},
    {"TYPENAMES": "parcels", "FILTER": FILTER_EQUAL.format(field="../../etc/passwd", value="x")},
    {"TYPENAMES": "parcels", "PROPERTYNAME": "parcel_code,(SELECT password FROM auth_user)"},
    {"TYPENAMES": "parcels", "SRSNAME": "EPSG:3857) UNION SELECT 1 --"},
    {"TYPENAMES": "parcels", "FILTER": '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                                       '<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0">'
                                       '<fes:PropertyIsEqualTo><fes:ValueReference>land_use</fes:ValueReference>'
                                       '<fes:Literal>&e;</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>'},
])
def test_injection_attempts_are_refused_and_change_nothing(client, city, params):
    before = active_parcels_sql()
    response = wfs(client, REQUEST="GetFeature", **params)
    assert response.status_code in (400, 404), body_of(response)[:300]
    assert b"ExceptionReport" in body_of(response) and b"root:" not in body_of(response)
    assert active_parcels_sql() == before


def test_sql_in_a_filter_literal_is_only_a_value(client, city):
    sneaky = FILTER_EQUAL.format(field="land_use", value="x' OR '1'='1")
    assert hits(client, FILTER=sneaky) == 0
    like_all = FILTER_EQUAL.format(field="parcel_code", value="%")
    assert hits(client, FILTER=like_all) == 0
