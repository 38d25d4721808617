"""OGC API Features on the real Cambridge parcels (13,110 imported): pages of 10,000 and GDAL's full copy."""

from __future__ import annotations

import json
import subprocess

import pytest
import requests
from django.db import connection
from owslib.ogcapi.features import Features

from tests.conftest import CAMBRIDGE_IMPORT
from tests.layers import ogc_city
from tests.support import live_server

sql = ogc_city.sql  # the shared fixture

pytestmark = [pytest.mark.cambridge, pytest.mark.slow]
CODE = "OCB"
BBOX = (-71.17, 42.35, -71.06, 42.41)  # every Cambridge parcel


def _remove() -> None:
    from parcels.models import Municipality, Parcel

    Parcel.objects.filter(municipality__code=CODE).delete()
    Municipality.objects.filter(code=CODE).delete()


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, cambridge_gpkg, tmp_path_factory):
    from parcels.importing import import_parcels
    from parcels.services import municipality_create

    with django_db_blocker.unblock():
        _remove()
        municipality = municipality_create(code=CODE, name_en="Cambridge", centroid_lonlat=(-71.11, 42.37))
        import_parcels(path=str(cambridge_gpkg), municipality=municipality,
                       rejects_path=str(tmp_path_factory.mktemp("ocb") / "rejects.csv"), **CAMBRIDGE_IMPORT)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE parcels_parcel")
        with live_server(env={"GISPORTAL_DB_NAME": connection.settings_dict["NAME"]}) as base:
            yield base + "/ogc"
        _remove()


def _expected(sql):
    return sql("SELECT p.id, p.parcel_code, p.plan_no, p.parcel_no FROM parcels_parcel p JOIN parcels_municipality m "
               "ON m.id = p.municipality_id WHERE p.status = 'active' AND m.code = %s AND ST_Intersects(p.geom, "
               "ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 4326), 3857)) ORDER BY p.id", [CODE, *BBOX])


def test_pages_of_ten_thousand_hold_what_postgis_holds(server, sql):
    expected = _expected(sql)
    assert len(expected) == 13110
    api = Features(server)
    query = {"bbox": list(BBOX), "filter": f"municipality = '{CODE}'"}
    first = api.collection_items("parcels", limit=10000, **query)
    second = api.collection_items("parcels", limit=10000, offset=10000, **query)
    assert first["numberMatched"] == len(expected) and first["numberReturned"] == 10000
    got = [(f["id"], f["properties"]["parcel_code"], f["properties"]["plan_no"], f["properties"]["parcel_no"])
           for f in first["features"] + second["features"]]
    assert got == [tuple(row) for row in expected]
    capped = requests.get(f"{server}/collections/parcels/items", {"limit": 20000, "bbox": ",".join(map(str, BBOX))},
                          timeout=120)
    assert capped.json()["numberReturned"] == 10000 and "OGC-Limit-Capped" in capped.headers


def test_gdal_copies_every_cambridge_parcel(server, sql, tmp_path):
    out = tmp_path / "cambridge.geojson"
    run = subprocess.run(["ogr2ogr", "-oo", "PAGE_SIZE=10000", "-where", f"municipality = '{CODE}'", "-f", "GeoJSON",
                          str(out), f"OAPIF:{server}", "parcels"], check=False, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    features = json.loads(out.read_text())["features"]
    assert sorted(f["properties"]["parcel_code"] for f in features) == sorted(code for _, code, _, _ in _expected(sql))
