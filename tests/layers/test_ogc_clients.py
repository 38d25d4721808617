"""Real OGC API Features clients against a live server on loopback: OWSLib and GDAL's OAPIF driver.

Each reads exactly the features PostGIS holds for the same query, with the same attributes.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from owslib import ogcapi as owslib_ogcapi
from owslib.ogcapi.features import Features

from layers.registry import LAYERS
from tests.layers import ogc_city
from tests.layers.ogc_city import CODE, HOSTILE_PLAN

city, server, sql = ogc_city.city, ogc_city.server, ogc_city.sql  # the shared fixtures


def _active(sql, where="TRUE", params=()):
    return {row[0]: row[1:] for row in sql(
        f"SELECT p.id, p.parcel_code, p.plan_no, p.land_use, m.code FROM parcels_parcel p JOIN parcels_municipality m "
        f"ON m.id = p.municipality_id WHERE p.status = 'active' AND {where}", params)}


def test_owslib_reads_collections_queryables_and_items(server, sql):
    api = Features(server)
    ids = [c["id"] for c in api.collections()["collections"]]
    assert "parcels" in ids and "parcel_history" not in ids and "plans" not in ids
    assert api.collection("parcels")["id"] == "parcels"
    assert set(api.collection_queryables("parcels")["properties"]) >= set(LAYERS["parcels"].field_names())
    expected = _active(sql, "m.code = %s", [CODE])
    items = api.collection_items("parcels", limit=1000, filter=f"municipality = '{CODE}'")
    assert items["numberMatched"] == len(items["features"]) == len(expected)
    got = {f["id"]: (f["properties"]["parcel_code"], f["properties"]["plan_no"], f["properties"]["land_use"],
                     f["properties"]["municipality"]) for f in items["features"]}
    assert got == expected and HOSTILE_PLAN in {row[1] for row in got.values()}


def test_owslib_reads_a_partner_layer_with_a_key(server, city, sql):
    api = Features(server, headers={"Authorization": f"Bearer {city['history']}"})
    try:
        assert "parcel_history" in [c["id"] for c in api.collections()["collections"]]
        items = api.collection_items("parcel_history", limit=100, filter=f"municipality = '{CODE}'")
    finally:
        # OWSLib 0.35 adds the headers to its module-wide REQUEST_HEADERS: every later client would send them.
        owslib_ogcapi.REQUEST_HEADERS.pop("Authorization", None)
    retired = sql("SELECT count(*) FROM parcels_parcel p JOIN parcels_municipality m ON m.id = p.municipality_id "
                  "WHERE m.code = %s AND p.status = 'retired'", [CODE])[0][0]
    assert items["numberMatched"] == len(items["features"]) == retired == 12


def _ogr(*args: str) -> str:
    result = subprocess.run(args, check=False, capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "CPL_DEBUG": "OFF", "GDAL_HTTP_TIMEOUT": "120"})
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_gdal_oapif_copies_every_parcel_with_its_attributes(server, sql, tmp_path):
    out = tmp_path / "parcels.geojson"
    _ogr("ogr2ogr", "-oo", "PAGE_SIZE=1000", "-f", "GeoJSON", str(out), f"OAPIF:{server}", "parcels")
    features = json.loads(out.read_text())["features"]
    expected = sorted(_active(sql).values())
    assert len(features) == len(expected)
    got = sorted((f["properties"]["parcel_code"], f["properties"]["plan_no"], f["properties"]["land_use"],
                  f["properties"]["municipality"]) for f in features)
    assert got == expected
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)


@pytest.mark.slow
def test_gdal_oapif_feature_count_bbox_and_where(server, sql):
    info = _ogr("ogrinfo", "-ro", "-so", f"OAPIF:{server}", "parcels")
    assert f"Feature Count: {len(_active(sql))}" in info
    minx, miny, maxx, maxy = sql("SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT ST_Transform("
                                 "ST_Envelope(ST_Collect(geom)), 4326) b FROM parcels_parcel p JOIN "
                                 "parcels_municipality m ON m.id = p.municipality_id WHERE m.code = %s AND "
                                 "parcel_code IN ('P-2-1', 'P-4-3')) s", [CODE])[0]
    expected = sql("SELECT count(*) FROM parcels_parcel WHERE status = 'active' AND ST_Intersects(geom, "
                   "ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 4326), 3857))", [minx, miny, maxx, maxy])[0][0]
    spat = _ogr("ogrinfo", "-ro", "-al", "-q", "-spat", *map(str, (minx, miny, maxx, maxy)), f"OAPIF:{server}",
                "parcels")
    assert spat.count("OGRFeature(parcels)") == expected
    where = _ogr("ogrinfo", "-ro", "-al", "-q", "-where", f"land_use = 'commercial' AND municipality = '{CODE}'",
                 f"OAPIF:{server}", "parcels")
    commercial = len(_active(sql, "p.land_use = 'commercial' AND m.code = %s", [CODE]))
    assert where.count("OGRFeature(parcels)") == commercial > 0
