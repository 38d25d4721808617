"""OGC API Features at /ogc over a live server on loopback, every count compared with PostGIS.

Parts 1 (core, GeoJSON, HTML), 2 (crs, bbox-crs) and 3 (CQL2 text and JSON filters, queryables),
access (401/403/404), paging links and hostile input in every parameter.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import shapely

from gisportal import crs as gcrs
from layers.registry import LAYERS, Access
from tests.layers import ogc_city
from tests.layers.ogc_city import CODE, HOSTILE_PLAN, MARKUP_PLAN
from tests.parcels.factories import RIYADH_ORIGIN

city, server, sql = ogc_city.city, ogc_city.server, ogc_city.sql  # the shared fixtures

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
PUBLIC = [layer_id for layer_id, layer in LAYERS.items() if layer.access is Access.PUBLIC]
X0, Y0 = RIYADH_ORIGIN


def _get(url, params=None, **kwargs):
    kwargs.setdefault("timeout", 60)
    return requests.get(url, params=params, **kwargs)


def _items(server, collection="parcels", **params):
    response = _get(f"{server}/collections/{collection}/items", params)
    assert response.status_code == 200, response.text
    return response


def _utm_box_lonlat(x1, y1, x2, y2) -> tuple[float, float, float, float]:
    """Return the CRS84 bounds of a box given in metres from the city's origin (EPSG:32638)."""
    return gcrs.transform_bounds((X0 + x1, Y0 + y1, X0 + x2, Y0 + y2), 32638, 4326)


def _active_count(sql, where="TRUE", params=()):
    return sql(f"SELECT count(*) FROM parcels_parcel WHERE status = 'active' AND {where}", params)[0][0]


def _ogc_error(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "description"} and body["description"]
    return body


# ---- landing page, conformance, collections ----------------------------------------------------

def test_landing_page_links_conformance_and_collections(server):
    body = _get(server).json()
    rels = {link["rel"] for link in body["links"]}
    assert {"self", "alternate", "conformance", "data"} <= rels
    for link in body["links"]:
        assert _get(link["href"]).status_code == 200


def test_conformance_declares_what_is_implemented(server):
    conforms = _get(f"{server}/conformance").json()["conformsTo"]
    for suffix in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                   "ogcapi-features-1/1.0/conf/html", "ogcapi-features-2/1.0/conf/crs",
                   "ogcapi-features-3/1.0/conf/filter", "ogcapi-features-3/1.0/conf/features-filter",
                   "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/cql2-json", "cql2/1.0/conf/basic-cql2"):
        assert f"http://www.opengis.net/spec/{suffix}" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30" in conforms
    assert not any("temporal-functions" in uri or "arithmetic" in uri for uri in conforms)  # not implemented


def test_openapi_document_is_valid_openapi_3_and_caps_limit(server, city):
    from drf_spectacular.validation import validate_schema

    landing = _get(server).json()
    href = next(link["href"] for link in landing["links"] if link["rel"] == "service-desc")
    response = _get(href)
    assert response.headers["Content-Type"].startswith("application/vnd.oai.openapi+json")
    document = response.json()
    validate_schema(document)  # raises on an invalid OpenAPI 3.0 document
    items = document["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    assert next(p for p in items if p["name"] == "limit")["schema"]["maximum"] == 10_000
    collections = next(p for p in items if p["name"] == "collectionId")["schema"]["enum"]
    assert collections == PUBLIC  # only what the caller may read
    partner = _get(href, {"key": city["history"]}).json()["paths"]["/collections/{collectionId}/items"]
    assert "parcel_history" in next(p for p in partner["get"]["parameters"] if p["name"] == "collectionId")[
        "schema"]["enum"]


def test_collections_list_only_what_the_caller_may_read(server, city):
    anonymous = [c["id"] for c in _get(f"{server}/collections").json()["collections"]]
    assert anonymous == PUBLIC
    partner = [c["id"] for c in _get(f"{server}/collections", {"key": city["history"]}).json()["collections"]]
    assert partner == PUBLIC[:PUBLIC.index("parcels") + 1] + ["parcel_history"]
    assert "plans" not in partner


def test_collection_offers_crs84_4326_3857_and_the_metric_crs(server, sql):
    body = _get(f"{server}/collections/parcels").json()
    assert body["crs"][0] == CRS84
    assert {EPSG + "4326", EPSG + "3857", EPSG + "32638"} <= set(body["crs"])
    assert body["storageCrs"] == EPSG + "3857"
    minx, miny, maxx, maxy = sql("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
                                 "ST_Transform(ST_SetSRID(ST_Extent(geom), 3857), 4326) e FROM parcels_parcel "
                                 "WHERE status = 'active') s")[0]
    assert body["extent"]["spatial"]["bbox"][0] == pytest.approx([minx, miny, maxx, maxy], abs=1e-6)
    assert body["extent"]["temporal"]["interval"][0][1] is None  # active parcels are still valid
    assert {"items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= {link["rel"] for link in body["links"]}


def test_queryables_are_the_served_fields_and_the_geometry(server):
    response = _get(f"{server}/collections/parcels/queryables")
    assert response.headers["Content-Type"].startswith("application/schema+json")
    body = response.json()
    assert set(body["properties"]) == {*LAYERS["parcels"].field_names(), "geometry"}
    assert body["properties"]["area_m2"]["type"] == "number"
    assert body["properties"]["valid_from"]["format"] == "date-time"


# ---- items: counts, paging, limits -------------------------------------------------------------

def test_items_match_postgis_with_the_same_attributes(server, sql):
    body = _items(server, limit=10_000).json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == _active_count(sql) == body["numberReturned"]
    rows = {pk: (code, plan, land_use) for pk, code, plan, land_use in
            sql("SELECT id, parcel_code, plan_no, land_use FROM parcels_parcel WHERE status = 'active'")}
    got = {f["id"]: (f["properties"]["parcel_code"], f["properties"]["plan_no"], f["properties"]["land_use"])
           for f in body["features"]}
    assert got == rows
    assert HOSTILE_PLAN in {plan for _, plan, _ in got.values()}
    assert set(body["features"][0]["properties"]) == set(LAYERS["parcels"].field_names())


def test_next_links_walk_every_feature_once_keeping_every_other_parameter(server, sql):
    url, params, seen, pages = f"{server}/collections/parcels/items", {
        "limit": 25, "filter": f"municipality = '{CODE}'", "properties": "parcel_code"}, [], 0
    while url:
        response = _get(url, params)
        body = response.json()
        seen += [f["id"] for f in body["features"]]
        assert all(set(f["properties"]) == {"parcel_code"} for f in body["features"])
        links = {link["rel"]: link["href"] for link in body["links"]}
        if pages:
            assert "prev" in links
            query = parse_qs(urlsplit(links["prev"]).query)
            assert query["filter"] == [f"municipality = '{CODE}'"] and query["properties"] == ["parcel_code"]
        url, params, pages = links.get("next"), None, pages + 1
    expected = [pk for (pk,) in sql("SELECT p.id FROM parcels_parcel p JOIN parcels_municipality m ON "
                                    "m.id = p.municipality_id WHERE m.code = %s AND status = 'active' ORDER BY p.id",
                                    [CODE])]
    assert seen == expected and pages == -(-len(expected) // 25)


def test_offset_pages_follow_the_stable_order(server, sql):
    ids = [pk for (pk,) in sql("SELECT id FROM parcels_parcel WHERE status = 'active' ORDER BY id")]
    body = _items(server, limit=7, offset=20).json()
    assert [f["id"] for f in body["features"]] == ids[20:27]


def test_limit_above_the_maximum_is_capped_and_says_so(server, sql):
    response = _items(server, limit=50_000)
    body = response.json()
    assert response.headers["OGC-Limit-Capped"] == "requested=50000; applied=10000"
    assert body["limitCapped"] == {"requested": 50_000, "applied": 10_000, "maximum": 10_000}
    assert body["numberReturned"] == min(_active_count(sql), 10_000)
    assert "OGC-Limit-Capped" not in _items(server, limit=10_000).headers


@pytest.mark.parametrize("params, name", [
    ({"limit": "0"}, "limit"), ({"limit": "ten"}, "limit"), ({"limit": "9" * 100}, "limit"),
    ({"offset": "-1"}, "offset"), ({"bbox": "1,2,3"}, "bbox"), ({"bbox": "1,2,3,nan"}, "bbox"),
    ({"bbox": "10,50,20,40"}, "bbox"), ({"bbox": "1,2,3,4", "bbox-crs": "EPSG:9999"}, "bbox-crs"),
    ({"crs": "http://www.opengis.net/def/crs/EPSG/0/2039"}, "crs"), ({"datetime": "yesterday"}, "datetime"),
    ({"datetime": "2024-01-01/2020-01-01"}, "datetime"), ({"datetime": "../.."}, "datetime"),
    ({"properties": "parcel_code,password"}, "properties"), ({"f": "xml"}, "f"), ({"bbx": "1,2,3,4"}, "bbx"),
    ({"filter": "land_use = "}, "filter"), ({"filter": "secret = 1"}, "filter"),
    ({"filter": "land_use = 'x'", "filter-lang": "sql"}, "filter-lang"),
    ({"filter": "{not json", "filter-lang": "cql2-json"}, "filter"),
    ({"filter": json.dumps({"op": "=", "args": [{"property": "owner"}, 1]}), "filter-lang": "cql2-json"}, "filter"),
    ({"filter": "area_m2 > 'big'"}, "filter"), ({"filter": "T_INTERSECTS(valid_from, valid_from)"}, "filter"),
    ({"filter-crs": EPSG + "4326"}, "filter"),
])
def test_bad_parameters_are_400_in_the_ogc_exception_format(server, params, name):
    body = _ogc_error(_get(f"{server}/collections/parcels/items", params), 400)
    assert body["code"] == "InvalidParameter" and body["description"].startswith(name)


# ---- bbox and crs (Part 2) ---------------------------------------------------------------------

def test_bbox_in_crs84_and_in_4326_latitude_first_give_what_postgis_gives(server, sql):
    minx, miny, maxx, maxy = _utm_box_lonlat(59, 29, 149, 119)
    expected = {pk for (pk,) in sql("SELECT id FROM parcels_parcel WHERE status = 'active' AND ST_Intersects(geom, "
                                    "ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 4326), 3857))",
                                    [minx, miny, maxx, maxy])}
    assert len(expected) >= 9
    crs84 = _items(server, bbox=f"{minx},{miny},{maxx},{maxy}", limit=1000).json()
    lat_first = _items(server, bbox=f"{miny},{minx},{maxy},{maxx}", **{"bbox-crs": EPSG + "4326"}, limit=1000).json()
    assert {f["id"] for f in crs84["features"]} == expected == {f["id"] for f in lat_first["features"]}
    assert crs84["numberMatched"] == len(expected)


def test_bbox_in_the_metric_crs(server, sql):
    box = (X0 + 59, Y0 + 29, X0 + 149, Y0 + 119)  # the gaps between parcels: exactly columns 2-4, rows 1-3
    expected = {pk for (pk,) in sql("SELECT id FROM parcels_parcel WHERE status = 'active' AND ST_Intersects(geom, "
                                    "ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 32638), 3857))", box)}
    body = _items(server, bbox=",".join(map(str, box)), **{"bbox-crs": EPSG + "32638"}).json()
    assert {f["id"] for f in body["features"]} == expected and len(expected) == 9


@pytest.mark.parametrize("srid, flip", [(4326, True), (3857, False), (32638, False)])
def test_crs_writes_coordinates_in_that_crs_and_its_axis_order(server, sql, srid, flip):
    pk, x, y = sql("SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointN(ST_ExteriorRing(ST_GeometryN("
                   "ST_Transform(geom, %s), 1)), 1) p FROM parcels_parcel WHERE status = 'active' ORDER BY id "
                   "LIMIT 1) s", [srid])[0]
    response = _items(server, crs=EPSG + str(srid), limit=1)
    assert response.headers["Content-Crs"] == f"<{EPSG}{srid}>"
    first = response.json()["features"][0]
    assert first["id"] == pk
    expected = (y, x) if flip else (x, y)
    assert first["geometry"]["coordinates"][0][0][0] == pytest.approx(expected, abs=1e-6 if srid == 4326 else 1e-3)
    default = _items(server, limit=1)
    assert default.headers["Content-Crs"] == f"<{CRS84}>"


# ---- datetime against the validity dates -------------------------------------------------------

@pytest.mark.parametrize("collection, when, expected", [
    ("parcels", "2019-06-01", 0), ("parcels", "2021-01-01T00:00:00Z", 132), ("parcels", "../2019-12-31", 0),
    ("parcels", "2019-01-01/..", 132),
    ("parcel_history", "2023-01-01", 12), ("parcel_history", "2025-01-01T00:00:00Z", 0),
    ("parcel_history", "2023-01-01/2025-01-01", 12), ("parcel_history", "2024-06-02/..", 0),
    ("parcel_history", "../2019-12-31", 0),
])
def test_datetime_selects_the_features_valid_then(server, city, collection, when, expected):
    body = _items(server, collection, datetime=when, key=city["history"],
                  filter=f"municipality = '{CODE}'").json() if collection == "parcel_history" else \
        _items(server, collection, datetime=when, filter=f"municipality = '{CODE}'").json()
    assert body["numberMatched"] == expected


def test_datetime_on_a_collection_without_validity_dates_is_400(server):
    body = _ogc_error(_get(f"{server}/collections/streets/items", {"datetime": "2020-01-01"}), 400)
    assert body["description"].startswith("datetime")


# ---- CQL2 filters (Part 3) compared with the ORM -------------------------------------------------

def _box_wkt(x1, y1, x2, y2):
    minx, miny, maxx, maxy = _utm_box_lonlat(x1, y1, x2, y2)
    return minx, miny, maxx, maxy, shapely.box(minx, miny, maxx, maxy).wkt


@pytest.mark.parametrize("text, cql_json, orm", [
    ("land_use = 'commercial'", {"op": "=", "args": [{"property": "land_use"}, "commercial"]},
     {"land_use": "commercial"}),
    ("plan_no IN ('7', '9') AND NOT land_use = 'residential'",
     {"op": "and", "args": [{"op": "in", "args": [{"property": "plan_no"}, ["7", "9"]]},
                            {"op": "not", "args": [{"op": "=", "args": [{"property": "land_use"}, "residential"]}]}]},
     {"plan_no__in": ["7", "9"], "land_use": "commercial"}),
    ("parcel_no LIKE '1%'", {"op": "like", "args": [{"property": "parcel_no"}, "1%"]}, {"parcel_no__startswith": "1"}),
    ("block_no BETWEEN '1' AND '2'", {"op": "between", "args": [{"property": "block_no"}, "1", "2"]},
     {"block_no__range": ("1", "2")}),
    ("valid_from < TIMESTAMP('2021-01-01T00:00:00Z')",
     {"op": "<", "args": [{"property": "valid_from"}, {"timestamp": "2021-01-01T00:00:00Z"}]},
     {"valid_from__lt": "2021-01-01T00:00:00Z"}),
    ("plan_no LIKE '%DROP TABLE x;--'",
     {"op": "=", "args": [{"property": "plan_no"}, HOSTILE_PLAN]}, {"plan_no": HOSTILE_PLAN}),
    ("area_m2 > 700 OR parcel_code = 'none'",
     {"op": "or", "args": [{"op": ">", "args": [{"property": "area_m2"}, 700]},
                           {"op": "=", "args": [{"property": "parcel_code"}, "none"]}]}, {"area_m2__gt": 700}),
])
def test_cql2_text_and_json_filters_count_what_the_orm_counts(server, django_db_blocker, text, cql_json, orm):
    with django_db_blocker.unblock():
        expected = LAYERS["parcels"].queryset().filter(municipality__code=CODE, **orm).count()
    scoped = f"municipality = '{CODE}' AND ({text})"
    as_text = _items(server, filter=scoped, limit=1000).json()
    as_json = _items(server, filter=json.dumps({"op": "and", "args": [
        {"op": "=", "args": [{"property": "municipality"}, CODE]}, cql_json]}), **{"filter-lang": "cql2-json"},
        limit=1000).json()
    assert as_text["numberMatched"] == as_json["numberMatched"] == len(as_text["features"]) == expected
    assert {f["id"] for f in as_text["features"]} == {f["id"] for f in as_json["features"]}
    assert expected > 0


def test_spatial_filters_in_crs84_and_in_4326_latitude_first_match_postgis(server, sql):
    minx, miny, maxx, maxy, wkt = _box_wkt(59, 29, 149, 119)
    expected = {pk for (pk,) in sql("SELECT id FROM parcels_parcel WHERE status = 'active' AND ST_Intersects(geom, "
                                    "ST_Transform(ST_GeomFromText(%s, 4326), 3857))", [wkt])}
    within = {pk for (pk,) in sql("SELECT id FROM parcels_parcel WHERE status = 'active' AND ST_Within(geom, "
                                  "ST_Transform(ST_GeomFromText(%s, 4326), 3857))", [wkt])}
    flipped = shapely.transform(shapely.from_wkt(wkt), lambda xy: xy[:, ::-1]).wkt
    answers = {
        "text bbox": _items(server, filter=f"S_INTERSECTS(geometry, BBOX({minx},{miny},{maxx},{maxy}))"),
        "text polygon": _items(server, filter=f"S_INTERSECTS(geometry, {wkt})"),
        "json bbox": _items(server, filter=json.dumps({"op": "s_intersects", "args": [
            {"property": "geometry"}, {"bbox": [minx, miny, maxx, maxy]}]}), **{"filter-lang": "cql2-json"}),
        "4326 polygon": _items(server, filter=f"S_INTERSECTS(geometry, {flipped})", **{"filter-crs": EPSG + "4326"}),
    }
    for name, response in answers.items():
        assert response.json()["numberMatched"] == len(expected), name
    assert _items(server, filter=f"S_WITHIN(geometry, {wkt})").json()["numberMatched"] == len(within) == 9
    assert len(expected) > len(within)


# ---- hostile input -------------------------------------------------------------------------------

HOSTILE = ["'; DROP TABLE parcels_parcel; --", "1 OR 1=1", "\" OR \"\"=\"", "../../etc/passwd", "%00", "<script>",
           "1;SELECT pg_sleep(5)", "${jndi:ldap://x}", "' UNION SELECT password FROM auth_user --"]


@pytest.mark.parametrize("name", ["bbox", "bbox-crs", "crs", "limit", "offset", "datetime", "properties", "filter",
                                  "filter-lang", "filter-crs", "f", "key"])
def test_injection_attempts_in_every_parameter_are_harmless(server, sql, name):
    before = _active_count(sql)
    for value in HOSTILE:
        params = {name: value}
        if name in ("filter-lang", "filter-crs"):
            params["filter"] = "land_use = 'x'"
        response = _get(f"{server}/collections/parcels/items", params, timeout=20)
        assert response.status_code in (400, 401), (name, value, response.status_code)
        assert set(response.json()) == {"code", "description"}
    assert _active_count(sql) == before
    assert sql("SELECT count(*) FROM auth_user")[0][0] >= 0


def test_a_filter_value_with_quotes_is_only_data(server, sql):
    # CQL2 text writes a quote inside a string as '', which pygeofilter 0.3.3 does not read (a 400);
    # CQL2 JSON carries any string.
    body = _items(server, filter=json.dumps({"op": "=", "args": [{"property": "plan_no"}, HOSTILE_PLAN]}),
                  **{"filter-lang": "cql2-json"}).json()
    assert [f["properties"]["plan_no"] for f in body["features"]] == [HOSTILE_PLAN]
    response = _get(f"{server}/collections/parcels/items", {"filter": "plan_no = '7''; DROP TABLE x;--'"})
    assert response.status_code == 400 and _active_count(sql) > 0


def test_hostile_paths_are_404(server):
    for path in ["/collections/parcels'--/items", "/collections/%3Cscript%3E", "/collections/parcels/items/1%20OR%201=1",
                 "/collections/parcels/items/99999999999999999999999", "/nothing/here"]:
        _ogc_error(_get(server + path), 404)


# ---- access --------------------------------------------------------------------------------------

def test_partner_layer_is_401_without_credentials_403_with_other_ones_and_200_with_a_granting_key(server, city):
    url = f"{server}/collections/parcel_history/items"
    response = _get(url)
    assert _ogc_error(response, 401)["code"] == "NotAuthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _ogc_error(_get(url, {"key": city["parcels"]}), 403)["code"] == "PermissionDenied"
    assert _ogc_error(_get(f"{server}/collections/parcel_history", {"key": city["parcels"]}), 403)
    assert _ogc_error(_get(f"{server}/collections/plans/items", {"key": city["history"]}), 403)
    assert _ogc_error(_get(f"{server}/collections/plans/items"), 401)
    assert _ogc_error(_get(url, {"key": "gpk_wrong"}), 401)["code"] == "AuthenticationFailed"
    by_query = _get(url, {"key": city["history"], "limit": 100}).json()
    by_header = _get(url, {"limit": 100}, headers={"Authorization": f"Bearer {city['history']}"}).json()
    assert by_query["numberMatched"] == by_header["numberMatched"] >= 12
    assert all(f["properties"]["valid_to"] for f in by_query["features"])
    assert all("key=" in link["href"] for link in by_query["links"])  # clients that follow links keep access


def test_unknown_collection_is_404(server):
    assert _ogc_error(_get(f"{server}/collections/owners/items"), 404)["code"] == "NotFound"


def test_post_is_405(server):
    response = requests.post(f"{server}/collections/parcels/items", timeout=10)
    assert _ogc_error(response, 405)["code"] == "MethodNotAllowed" and response.headers["Allow"] == "GET, HEAD"


# ---- one feature -------------------------------------------------------------------------------

def test_item_by_id_and_404_for_an_unknown_one(server, sql):
    pk, code = sql("SELECT id, parcel_code FROM parcels_parcel WHERE status = 'active' ORDER BY id LIMIT 1")[0]
    response = _get(f"{server}/collections/parcels/items/{pk}")
    assert response.headers["Content-Type"] == "application/geo+json"
    feature = response.json()
    assert feature["id"] == pk and feature["properties"]["parcel_code"] == code
    assert feature["geometry"]["type"] == "MultiPolygon"
    retired = sql("SELECT id FROM parcels_parcel WHERE status = 'retired' LIMIT 1")[0][0]
    _ogc_error(_get(f"{server}/collections/parcels/items/{retired}"), 404)  # not an active parcel
    _ogc_error(_get(f"{server}/collections/parcels/items/not-a-number"), 404)


# ---- HTML ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["", "/api", "/conformance", "/collections", "/collections/parcels",
                                  "/collections/parcels/queryables",
                                  f"/collections/parcels/items?limit=200&filter=municipality%3D'{CODE}'"])
def test_html_pages_are_escaped_and_run_no_script(server, path):
    response = _get(server + path, headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script" not in response.text.lower()
    if "items" in path:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_f_parameter_wins_over_accept(server):
    response = _get(f"{server}/collections", {"f": "json"}, headers={"Accept": "text/html"})
    assert response.headers["Content-Type"] == "application/json"
    assert _get(f"{server}/collections", {"f": "html"}).headers["Content-Type"].startswith("text/html")
    assert MARKUP_PLAN  # used by the HTML test above
