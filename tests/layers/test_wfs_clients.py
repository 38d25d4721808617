"""WFS 2.0 through real clients against a live gunicorn on loopback: OWSLib and GDAL's WFS driver
(ogrinfo, ogr2ogr) read exactly what PostGIS holds, with the same attributes, per caller.

The city (tests/layers/test_wfs.py: build_city) is committed once for the module so the server,
a separate process, sees it; it is removed afterwards.
"""

from __future__ import annotations

import json
import re
import subprocess
from xml.etree import ElementTree

import pytest
import requests
from django.db import connection
from owslib.wfs import WebFeatureService

from layers.models import PartnerKey
from layers.services import partner_key_create
from tests.layers.test_wfs import (
    GRID,
    KNOWN_LAT,
    KNOWN_LON,
    NS,
    PUBLIC_LAYERS,
    build_city,
    remove_city,
)
from tests.support import live_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db]  # one gunicorn for the module, GDAL subprocesses

GEOJSON = "application/json; subtype=geojson; charset=utf-8"


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """A live server over the committed city, with a parcels-only key and a parcel_history key."""
    with django_db_blocker.unblock():
        municipality = build_city()
        keys = {"parcels_only": partner_key_create(organisation="WFS Water", layers=["parcels"]),
                "history": partner_key_create(organisation="WFS Registry", layers=["parcels", "parcel_history"])}
        database = connection.settings_dict["NAME"]
    try:
        # --preload: the port opens only once the app is loaded, so the helper's first /healthz
        # does not time out while a worker boots on a busy machine. Request logs off: the
        # helper keeps the server's stderr in a pipe that nobody drains.
        env = {"GISPORTAL_DB_NAME": database, "GUNICORN_CMD_ARGS": "--preload", "GISPORTAL_LOG_LEVEL": "WARNING"}
        with live_server(env=env, workers=2) as base:
            yield {"url": f"{base}/wfs", "keys": keys}
    finally:
        with django_db_blocker.unblock():
            PartnerKey.objects.filter(organisation__in=["WFS Water", "WFS Registry"]).delete()
            remove_city(municipality)


def sql_rows(query: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def active_parcels(where: str = "TRUE", params=()) -> dict[str, tuple]:
    """parcel_code -> (land_use, area_m2, plan_no) of the active parcels, read with plain SQL."""
    rows = sql_rows("SELECT parcel_code, land_use, area_m2, plan_no FROM parcels_parcel "
                    f"WHERE status = 'active' AND {where}", params)
    return {code: tuple(rest) for code, *rest in rows}


def gdal(*args: str, config: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    options = [item for name, value in (config or {}).items() for item in ("--config", name, value)]
    return subprocess.run([args[0], *options, *args[1:]], capture_output=True, text=True, timeout=120, check=False)


def feature_count(completed: subprocess.CompletedProcess) -> int:
    assert completed.returncode == 0, completed.stderr
    return int(re.search(r"^Feature Count: (\d+)$", completed.stdout, re.MULTILINE).group(1))


def ogr2ogr_geojson(tmp_path, source: str, layer: str, *extra: str, config=None) -> tuple[dict, str]:
    target = tmp_path / f"out{len(list(tmp_path.iterdir()))}.geojson"
    completed = gdal("ogr2ogr", "-f", "GeoJSON", str(target), f"WFS:{source}", layer, *extra, config=config)
    assert completed.returncode == 0, completed.stderr
    return json.loads(target.read_text()), completed.stderr


# ---- OWSLib -----------------------------------------------------------------------------------

def test_owslib_reads_the_capabilities_of_each_caller(site):
    anonymous = WebFeatureService(site["url"], version="2.0.0")
    assert list(anonymous.contents) == [f"gisportal:{layer}" for layer in PUBLIC_LAYERS]
    parcels = anonymous.contents["gisportal:parcels"]
    assert [str(crs) for crs in parcels.crsOptions][:3] == ["urn:ogc:def:crs:EPSG::4326",
                                                            "urn:ogc:def:crs:OGC::CRS84",
                                                            "urn:ogc:def:crs:EPSG::3857"]
    with_key = WebFeatureService(f"{site['url']}?key={site['keys']['history']}", version="2.0.0")
    assert "gisportal:parcel_history" in with_key.contents
    assert {op.name for op in with_key.operations} >= {
        "GetCapabilities", "DescribeFeatureType", "GetFeature", "GetPropertyValue", "ListStoredQueries",
        "DescribeStoredQueries"}


def test_owslib_get_feature_returns_every_active_parcel(site):
    wfs = WebFeatureService(site["url"], version="2.0.0")
    expected = active_parcels()
    body = json.load(wfs.getfeature(typename=["gisportal:parcels"], outputFormat=GEOJSON))
    got = {f["properties"]["parcel_code"]: (f["properties"]["land_use"], f["properties"]["area_m2"],
                                            f["properties"]["plan_no"]) for f in body["features"]}
    assert got == expected and len(body["features"]) == len(expected) == GRID * GRID + 1
    gml = ElementTree.fromstring(wfs.getfeature(typename=["gisportal:parcels"], maxfeatures=5, startindex=5).read())
    assert gml.get("numberReturned") == "5" and gml.get("numberMatched") == str(len(expected))


def test_owslib_follows_the_advertised_urls_with_the_key(site):
    # OWSLib sends GetFeature to the URL the capabilities advertise: the key must be in it.
    wfs = WebFeatureService(f"{site['url']}?key={site['keys']['history']}", version="2.0.0")
    body = json.load(wfs.getfeature(typename=["gisportal:parcel_history"], outputFormat=GEOJSON))
    retired = sql_rows("SELECT parcel_code FROM parcels_parcel WHERE status = 'retired'")
    assert [f["properties"]["parcel_code"] for f in body["features"]] == [code for (code,) in retired] == ["R-1"]


# ---- GDAL ------------------------------------------------------------------------------------------

def test_ogrinfo_lists_the_layers_and_counts_what_postgis_holds(site):
    listing = gdal("ogrinfo", "-ro", f"WFS:{site['url']}")
    assert listing.returncode == 0, listing.stderr
    assert re.findall(r"^\d+: (gisportal:\w+)", listing.stdout, re.MULTILINE) == [f"gisportal:{l}" for l in PUBLIC_LAYERS]
    count = feature_count(gdal("ogrinfo", "-ro", "-so", f"WFS:{site['url']}", "gisportal:parcels"))
    assert count == len(active_parcels())


def test_ogr2ogr_reads_every_feature_with_the_same_attributes_longitude_first(site, tmp_path):
    body, _ = ogr2ogr_geojson(tmp_path, site["url"], "gisportal:parcels")
    expected = active_parcels()
    got = {f["properties"]["parcel_code"]: (f["properties"]["land_use"], f["properties"]["area_m2"],
                                            f["properties"]["plan_no"]) for f in body["features"]}
    assert got == expected
    (known,) = [f for f in body["features"] if f["properties"]["parcel_code"] == "K-1"]
    ring = known["geometry"]["coordinates"][0][0]
    assert [KNOWN_LON, KNOWN_LAT] in [[round(x, 6), round(y, 6)] for x, y in ring]


def test_ogr2ogr_pages_through_the_layer_in_a_stable_order(site, tmp_path):
    config = {"OGR_WFS_PAGING_ALLOWED": "ON", "OGR_WFS_PAGE_SIZE": "7", "CPL_DEBUG": "ON"}
    body, log = ogr2ogr_geojson(tmp_path, site["url"], "gisportal:parcels", config=config)
    pages = set(re.findall(r"STARTINDEX=(\d+)", log, re.IGNORECASE))
    assert {"0", "7", "14", "35"} <= pages
    codes = [f["properties"]["parcel_code"] for f in body["features"]]
    assert sorted(codes) == sorted(active_parcels()) and len(set(codes)) == len(codes)


def test_gdal_sends_attribute_and_spatial_filters_to_the_server(site, tmp_path):
    config = {"CPL_DEBUG": "ON"}
    body, log = ogr2ogr_geojson(tmp_path, site["url"], "gisportal:parcels", "-where", "land_use = 'commercial'",
                                config=config)
    assert "PropertyIsEqualTo" in log  # translated to an FES filter, not filtered on the client
    assert sorted(f["properties"]["parcel_code"] for f in body["features"]) == sorted(
        active_parcels("land_use = 'commercial'"))
    lon1, lat1, lon2, lat2 = KNOWN_LON - 0.0005, KNOWN_LAT - 0.0005, KNOWN_LON + 0.0005, KNOWN_LAT + 0.0005
    body, _ = ogr2ogr_geojson(tmp_path, site["url"], "gisportal:parcels",
                              "-spat", str(lon1), str(lat1), str(lon2), str(lat2))
    assert [f["properties"]["parcel_code"] for f in body["features"]] == list(active_parcels(
        "ST_Intersects(geom, ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 4326), 3857))",
        (lon1, lat1, lon2, lat2))) == ["K-1"]


def test_gdal_reads_a_partner_layer_with_the_key_in_the_url(site):
    url = f"{site['url']}?key={site['keys']['history']}"
    assert feature_count(gdal("ogrinfo", "-ro", "-so", f"WFS:{url}", "gisportal:parcel_history")) == 1
    without = gdal("ogrinfo", "-ro", "-so", f"WFS:{site['url']}", "gisportal:parcel_history")
    assert without.returncode != 0


# ---- 401 / 403 over HTTP -----------------------------------------------------------------------

def test_partner_layer_is_401_then_403_then_200_over_http(site):
    params = {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "gisportal:parcel_history"}
    anonymous = requests.get(site["url"], params=params, timeout=30)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert ElementTree.fromstring(anonymous.content).find("ows:Exception", NS).get("exceptionCode") == "NotAuthenticated"
    not_granted = requests.get(site["url"], params=params, timeout=30,
                               headers={"Authorization": f"Bearer {site['keys']['parcels_only']}"})
    assert not_granted.status_code == 403
    assert ElementTree.fromstring(not_granted.content).find("ows:Exception", NS).get("exceptionCode") == "PermissionDenied"
    granted = requests.get(site["url"], params={**params, "key": site["keys"]["history"]}, timeout=30)
    assert granted.status_code == 200 and ElementTree.fromstring(granted.content).get("numberMatched") == "1"
