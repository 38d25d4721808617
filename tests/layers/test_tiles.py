"""Vector tiles over a live server on loopback, read by real clients, counted against PostGIS.

A small city (400 parcels on a 30 m grid in north Riyadh, named streets, zoning, a district) is
imported once for the module and committed, so the gunicorn server sees it; it is deleted at the end.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import mapbox_vector_tile
import pytest
import requests
import shapely
from django.db import connection

from gisportal import crs
from layers.tiles import cache as tile_cache
from tests.parcels.factories import RIYADH_ORIGIN, rect, riyadh
from tests.support import live_server

GRID = 20  # parcels per side
PLOT_M, STEP_M = 28.0, 30.0
MARGIN = 256 / 4096
CODE = "TLS"


def _lonlat(x: float, y: float) -> tuple[float, float]:
    import math

    r = 6378137.0
    return math.degrees(x / r), math.degrees(2 * math.atan(math.exp(y / r)) - math.pi / 2)


def _tile_of(point_3857, z: int) -> tuple[int, int]:
    from layers.tiles.grid import HALF_WORLD_M, tile_size_m

    x, y = point_3857
    return int((x + HALF_WORLD_M) // tile_size_m(z)), int((HALF_WORLD_M - y) // tile_size_m(z))


def _geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(crs.transform(geom, 32638, 4326))}
        for geom, props in features]}))
    return str(path)


def _streets(name_suffix: str = ""):
    ox, oy = RIYADH_ORIGIN
    return [(shapely.transform(line, lambda xy: xy + (ox, oy)), props) for line, props in [
        (shapely.LineString([(-20, -10), (GRID * STEP_M + 20, -10)]),
         {"name_en": "King Fahd Road" + name_suffix, "name_ar": "طريق الملك فهد", "width_m": 40}),
        (shapely.LineString([(-10, -20), (-10, GRID * STEP_M + 20)]),
         {"name_en": "Olaya Street", "name_ar": "شارع العليا", "width_m": 20}),
    ]]


def _remove(code: str) -> None:
    from parcels.models import Municipality, Parcel, Record

    Parcel.objects.filter(municipality__code=code).delete()
    Record.objects.filter(municipality__code=code).delete()
    Municipality.objects.filter(code=code).delete()


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker, tmp_path_factory):
    """The committed test city; yields the municipality."""
    from parcels.importing import import_parcels
    from parcels.layer_import import import_layer

    folder = tmp_path_factory.mktemp("tiles-city")
    parcels = [(rect(i * STEP_M, j * STEP_M, PLOT_M, PLOT_M),
                {"parcel_code": f"P-{i}-{j}", "plan_no": "7", "block_no": str(i // 5), "parcel_no": f"{i}-{j}",
                 "land_use": "residential" if (i + j) % 3 else "commercial"})
               for i in range(GRID) for j in range(GRID)]
    with django_db_blocker.unblock():
        _remove(CODE)  # left by an interrupted run (the test database may be kept)
        municipality = riyadh(CODE)
        import_parcels(path=_geojson(folder / "parcels.geojson", parcels), municipality=municipality,
                       code_field="parcel_code")
        import_layer(kind="streets", path=_geojson(folder / "streets.geojson", _streets()), municipality=municipality)
        import_layer(kind="zoning", path=_geojson(folder / "zoning.geojson", [
            (rect(0, 0, 300, 600), {"zone_code": "R1", "name_en": "Residential", "name_ar": "سكني"}),
            (rect(300, 0, 300, 600), {"zone_code": "C2", "name_en": "Commercial", "name_ar": "تجاري"}),
            (shapely.Point(RIYADH_ORIGIN[0] + 900, RIYADH_ORIGIN[1] + 300).buffer(100, quad_segs=256),  # 1,024 vertices
             {"zone_code": "P1", "name_en": "Park", "name_ar": "حديقة"})]),
            municipality=municipality)
        import_layer(kind="districts", path=_geojson(folder / "districts.geojson", [
            (rect(-50, -50, 700, 700), {"code": "D1", "name_en": "Al Olaya", "name_ar": "العليا"})]),
            municipality=municipality)
        yield municipality
        _remove(CODE)


@pytest.fixture(scope="module")
def server(city):
    """The project under gunicorn on loopback, reading the test database (the cache prefix is the run's)."""
    with live_server(env={"GISPORTAL_DB_NAME": connection.settings_dict["NAME"]}) as base:
        yield base


@pytest.fixture
def sql(django_db_blocker):
    def run(query: str, params=()):
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    return run


@pytest.fixture
def fresh_cache(server):
    tile_cache.clear()
    yield
    tile_cache.clear()


def _centre(sql, code: str):
    return sql("SELECT ST_X(ST_Centroid(p.geom)), ST_Y(ST_Centroid(p.geom)) FROM parcels_parcel p "
               "JOIN parcels_municipality m ON m.id = p.municipality_id WHERE m.code = %s AND parcel_code = %s",
               [CODE, code])[0]


def _crossing(sql):
    """The point where the two streets cross (south-west of the parcel grid)."""
    return sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Intersection(a.centreline, b.centreline) AS p "
               "FROM parcels_street a, parcels_street b, parcels_municipality m WHERE a.name_en LIKE 'King Fahd Road%%' "
               "AND b.name_en = 'Olaya Street' AND a.municipality_id = m.id AND b.municipality_id = m.id "
               "AND m.code = %s) s", [CODE])[0]


def _postgis_codes(sql, z, x, y, *, status="active"):
    rows = sql("SELECT parcel_code FROM parcels_parcel WHERE status = %s "
               "AND ST_Intersects(geom, ST_TileEnvelope(%s, %s, %s, margin => %s))", [status, z, x, y, MARGIN])
    return sorted(code for (code,) in rows)


def _decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body)


# ---- what a tile holds ---------------------------------------------------------------------------

@pytest.mark.parametrize("z, corner", [(15, "P-0-0"), (16, "P-10-10"), (17, "P-10-10"), (18, "P-3-17")])
def test_tile_holds_exactly_the_parcels_postgis_has_there_with_their_attributes(server, sql, fresh_cache, z, corner):
    x, y = _tile_of(_centre(sql, corner), z)
    response = requests.get(f"{server}/tiles/parcels/{z}/{x}/{y}.mvt", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
    features = _decode(response.content)["parcels"]["features"]
    expected = _postgis_codes(sql, z, x, y)
    assert 0 < len(expected) < GRID * GRID or z == 15
    assert sorted(f["properties"]["parcel_code"] for f in features) == expected
    row = sql("SELECT p.id, m.code, plan_no, block_no, parcel_no, land_use, zone_code, area_m2, "
              "to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
              "FROM parcels_parcel p JOIN parcels_municipality m ON m.id = p.municipality_id "
              "WHERE m.code = %s AND parcel_code = %s", [CODE, corner])[0]
    served = next(f for f in features if f["properties"]["parcel_code"] == corner
                  and f["properties"]["municipality"] == CODE)
    assert served["id"] == row[0]
    names = ("municipality", "plan_no", "block_no", "parcel_no", "land_use", "zone_code", "area_m2", "valid_from")
    expected_properties = {name: value for name, value in zip(names, row[1:]) if value is not None}
    assert served["properties"] == {**expected_properties, "parcel_code": corner,
                                    "area_m2": pytest.approx(row[7])}


def test_gdal_mvt_driver_reads_the_same_number_of_features(server, sql, fresh_cache, tmp_path):
    z = 17
    x, y = _tile_of(_centre(sql, "P-10-10"), z)
    # GDAL reads z/x/y from the path of a downloaded tile (…/z/x/y.pbf).
    tile = tmp_path / str(z) / str(x) / f"{y}.pbf"
    tile.parent.mkdir(parents=True)
    tile.write_bytes(requests.get(f"{server}/tiles/parcels/{z}/{x}/{y}.mvt", timeout=30).content)
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(tile)], capture_output=True, text=True, check=True).stdout
    counts = [int(line.split(":")[1]) for line in out.splitlines() if line.startswith("Feature Count:")]
    assert counts == [len(_postgis_codes(sql, z, x, y))]
    assert "parcel_code: String" in out and "area_m2: Real" in out
    # And straight from the live URL.
    live = subprocess.run(["ogrinfo", "-ro", "-al", "-so", "-oo", f"Z={z}", "-oo", f"X={x}", "-oo", f"Y={y}",
                           f"/vsicurl/{server}/tiles/parcels/{z}/{x}/{y}.mvt"],
                          capture_output=True, text=True, check=True, env={**os.environ, "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".mvt"})
    assert [int(line.split(":")[1]) for line in live.stdout.splitlines()
            if line.startswith("Feature Count:")] == counts


def test_streets_carry_arabic_and_english_names_and_widths(server, sql, fresh_cache):
    x, y = _tile_of(_crossing(sql), 16)
    streets = _decode(requests.get(f"{server}/tiles/streets/16/{x}/{y}.mvt", timeout=30).content)["streets"]
    names = {f["properties"]["name_en"]: f["properties"] for f in streets["features"]}
    assert names["King Fahd Road"]["name_ar"] == "طريق الملك فهد" and names["King Fahd Road"]["width_m"] == 40.0
    assert names["Olaya Street"]["name_ar"] == "شارع العليا"


def test_public_tile_holds_every_public_layer_of_its_zoom_in_one_tile(server, sql, fresh_cache):
    x, y = _tile_of(_crossing(sql), 14)
    layers = _decode(requests.get(f"{server}/tiles/14/{x}/{y}.mvt", timeout=30).content)
    assert set(layers) == {"municipalities", "districts", "streets", "zoning", "parcels"}  # no blocks here
    assert len(layers["parcels"]["features"]) == len(_postgis_codes(sql, 14, x, y))
    x, y = _tile_of(_crossing(sql), 16)
    high = _decode(requests.get(f"{server}/tiles/16/{x}/{y}.mvt", timeout=30).content)
    assert "municipalities" not in high and {"streets", "parcels"} <= set(high)  # municipalities end at 14
    x11, y11 = _tile_of(_centre(sql, "P-10-10"), 11)
    low = _decode(requests.get(f"{server}/tiles/11/{x11}/{y11}.mvt", timeout=30).content)
    assert "parcels" not in low and "streets" in low  # parcels start at zoom 13


def test_explain_shows_the_spatial_index_answers_the_tile_query(city, sql):
    from layers.registry import LAYERS
    from layers.tiles import mvt

    statement, params = mvt.statement([LAYERS["parcels"]], 17, 1, 1)
    # Fresh statistics: every test parcel is active in one municipality, so the (municipality, status)
    # index selects nothing; without them the planner may guess otherwise on a just-filled table.
    sql("ANALYZE parcels_parcel")
    sql("SET enable_seqscan = off")  # the test city is small: show the index CAN answer, as it will at scale
    try:
        plan = "\n".join(row[0] for row in sql("EXPLAIN " + statement, params))
    finally:
        sql("RESET enable_seqscan")
    assert "Seq Scan on parcels_parcel" not in plan
    # The GiST index of the 3857 column answers `geom && envelope` (the envelope folded to a constant).
    assert re.search(r"Index Scan using parcels_parcel_geom\w* on parcels_parcel", plan), plan
    assert re.search(r"Index Cond: \((parcels_parcel\.)?geom && '[0-9A-F]+'::geometry\)", plan), plan


def test_low_zooms_are_simplified_and_high_zooms_are_not(city, sql):
    from layers.tiles import mvt

    def park_vertices(z, *, simplified):
        centre = sql("SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM parcels_zoningdistrict "
                     "WHERE zone_code = 'P1'")[0]
        x, y = _tile_of(centre, z)
        compiled = mvt.layer_sql("zoning", simplified)
        body = bytes(sql(compiled.sql, compiled.params(z, x, y))[0][0])
        park = next(f for f in _decode(body)["zoning"]["features"] if f["properties"]["zone_code"] == "P1")
        return len(park["geometry"]["coordinates"][0])

    assert mvt.SIMPLIFY_BELOW_ZOOM == 13
    assert park_vertices(12, simplified=True) < park_vertices(12, simplified=False) / 4
    assert park_vertices(12, simplified=True) >= 8  # still a closed ring, not a sliver
    assert park_vertices(17, simplified=False) > 500  # at high zoom every vertex is kept (snapped to the grid)


# ---- HTTP: empty tiles, validators, caching headers, bad input, access ---------------------------

def test_empty_tile_is_204_and_etag_revalidates_with_304(server, sql, fresh_cache):
    assert requests.get(f"{server}/tiles/parcels/16/0/0.mvt", timeout=30).status_code == 204
    x, y = _tile_of(_centre(sql, "P-5-5"), 16)
    first = requests.get(f"{server}/tiles/parcels/16/{x}/{y}.mvt", timeout=30)
    assert first.headers["X-Cache"] == "miss" and first.headers["Cache-Control"] == "public, max-age=60"
    import hashlib

    assert first.headers["ETag"] == f'"{hashlib.blake2b(first.content, digest_size=16).hexdigest()}"'
    again = requests.get(f"{server}/tiles/parcels/16/{x}/{y}.mvt", headers={"If-None-Match": first.headers["ETag"]},
                         timeout=30)
    assert again.status_code == 304 and again.content == b"" and again.headers["X-Cache"] == "hit"
    other = requests.get(f"{server}/tiles/parcels/16/{x}/{y}.mvt", headers={"If-None-Match": '"nope"'}, timeout=30)
    assert other.status_code == 200 and other.content == first.content


@pytest.mark.parametrize("path, status, code, detail", [
    ("/tiles/parcels/99/0/0.mvt", 400, "InvalidParameter", "z: must be between 0 and 30"),
    ("/tiles/parcels/14/16384/0.mvt", 400, "InvalidParameter", "x: must be between 0 and 16383"),
    ("/tiles/parcels/14/0/-1.mvt", 400, "InvalidParameter", "y: must be a whole number"),
    ("/tiles/parcels/a/0/0.mvt", 400, "InvalidParameter", "z: must be a whole number"),
    ("/tiles/1/0/99.mvt", 400, "InvalidParameter", "y: must be between 0 and 1"),
    ("/tiles/nosuch/14/0/0.mvt", 404, "NotFound", "layer 'nosuch' does not exist"),
    ("/tiles/parcels/5/0/0.mvt", 404, "NotFound", "served from zoom 13 to 22"),
    ("/tiles/parcel_history/14/0/0.mvt", 401, "NotAuthenticated", ""),
    ("/tiles/plans/14/0/0.mvt", 401, "NotAuthenticated", ""),
    ("/tiles/parcels';DROP TABLE parcels_parcel;--/14/0/0.mvt", 404, "NotFound", ""),
    ("/tiles/nosuch.json", 404, "NotFound", ""),
])
def test_bad_requests_are_json_errors(server, path, status, code, detail):
    response = requests.get(server + path, timeout=30)
    assert response.status_code == status
    assert response.json()["code"] == code and detail in response.json()["detail"]


def test_post_is_405_json(server):
    response = requests.post(f"{server}/tiles/parcels/14/0/0.mvt", timeout=30)
    assert response.status_code == 405 and response.json()["code"] == "MethodNotAllowed"
    assert response.headers["Allow"] == "GET, HEAD"
    head = requests.head(f"{server}/tiles/parcels/14/0/0.mvt", timeout=30)
    assert head.status_code == 204 and "ETag" in head.headers


def test_partner_layers_need_a_key_that_grants_them_and_are_private(server, city, sql, fresh_cache, django_db_blocker):
    from layers.models import PartnerKey
    from layers.services import partner_key_create
    from parcels.models import Parcel
    from parcels.services import parcels_retire

    with django_db_blocker.unblock():
        granted = partner_key_create(organisation="TilesWater", layers=["parcels", "parcel_history"])
        other = partner_key_create(organisation="TilesPower", layers=["parcels"])
        parcels_retire(parcels=[Parcel.objects.get(municipality__code=CODE, parcel_code="P-19-19")], source="test")
    try:
        x, y = _tile_of(_centre(sql, "P-19-19"), 17)
        url = f"{server}/tiles/parcel_history/17/{x}/{y}.mvt"
        assert requests.get(url, params={"key": other}, timeout=30).status_code == 403
        assert requests.get(url, params={"key": "gpk_wrong"}, timeout=30).status_code == 401
        ok = requests.get(url, headers={"Authorization": f"Bearer {granted}"}, timeout=30)
        assert ok.status_code == 200 and ok.headers["Cache-Control"].startswith("private")
        history = _decode(ok.content)["parcel_history"]["features"]
        assert [f["properties"]["parcel_code"] for f in history] == _postgis_codes(sql, 17, x, y, status="retired")
        assert history[0]["properties"]["valid_to"].endswith("Z")
        by_query = requests.get(url, params={"key": granted}, timeout=30)
        assert by_query.status_code == 200 and by_query.content == ok.content
        doc = requests.get(f"{server}/tiles/parcel_history.json", params={"key": granted}, timeout=30)
        assert doc.headers["Cache-Control"].startswith("private")
        assert doc.json()["tiles"] == [f"{server}/tiles/parcel_history/{{z}}/{{x}}/{{y}}.mvt?key={granted}"]
        assert requests.get(f"{server}/tiles/parcel_history.json", params={"key": other}, timeout=30).status_code == 403
    finally:
        with django_db_blocker.unblock():
            PartnerKey.objects.filter(organisation__in=["TilesWater", "TilesPower"]).delete()


# ---- TileJSON --------------------------------------------------------------------------------------

def test_tilejson_describes_the_layer_with_bounds_from_the_data(server, sql):
    doc = requests.get(f"{server}/tiles/parcels.json", timeout=30).json()
    assert doc["tilejson"] == "3.0.0" and doc["tiles"] == [f"{server}/tiles/parcels/{{z}}/{{x}}/{{y}}.mvt"]
    assert (doc["minzoom"], doc["maxzoom"]) == (13, 22)
    (minx, miny, maxx, maxy), = sql("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                    "(SELECT ST_Extent(ST_Transform(geom, 4326)) AS e FROM parcels_parcel "
                                    "WHERE status = 'active') s")
    assert doc["bounds"] == pytest.approx([minx, miny, maxx, maxy], abs=1e-6)
    layer, = doc["vector_layers"]
    assert layer["id"] == "parcels" and layer["fields"]["parcel_code"] == "String"
    assert layer["fields"]["area_m2"] == "Number"
    public = requests.get(f"{server}/tiles/public.json", timeout=30).json()
    assert public["tiles"] == [f"{server}/tiles/{{z}}/{{x}}/{{y}}.mvt"]
    assert [v["id"] for v in public["vector_layers"]] == [
        "municipalities", "districts", "streets", "zoning", "blocks", "parcels"]
    assert requests.get(f"{server}/tiles/plans.json", timeout=30).status_code == 401


# ---- the cache and its exact invalidation -------------------------------------------------------

def _get(server, path):
    response = requests.get(server + path, timeout=30)
    assert response.status_code in (200, 204), response.text
    return response


def test_changing_one_parcel_refreshes_its_tiles_at_every_zoom_and_no_others(server, sql, fresh_cache,
                                                                             django_db_blocker):
    from parcels.models import Parcel
    from parcels.services import parcel_update

    near = [(z, *_tile_of(_centre(sql, "P-2-2"), z)) for z in (13, 15, 17, 19)]
    far_z = 19
    far = (far_z, *_tile_of(_centre(sql, "P-17-17"), far_z))
    paths = ([f"/tiles/parcels/{z}/{x}/{y}.mvt" for z, x, y in near] + [f"/tiles/{z}/{x}/{y}.mvt" for z, x, y in near]
             + [f"/tiles/parcels/{far[0]}/{far[1]}/{far[2]}.mvt", f"/tiles/{far[0]}/{far[1]}/{far[2]}.mvt",
                f"/tiles/streets/{far[0]}/{far[1]}/{far[2]}.mvt"])
    for path in paths:
        assert _get(server, path).headers["X-Cache"] == "miss"
    assert all(_get(server, path).headers["X-Cache"] == "hit" for path in paths)

    with django_db_blocker.unblock():  # committed: parcels_changed is sent after the commit
        parcel_update(parcel=Parcel.objects.get(municipality__code=CODE, parcel_code="P-2-2"), land_use="public_facility", source="test")

    for path in paths[:2 * len(near)]:
        response = _get(server, path)
        assert response.headers["X-Cache"] == "miss", path
        served = next(f for f in _decode(response.content)["parcels"]["features"]
                      if f["properties"]["parcel_code"] == "P-2-2" and f["properties"]["municipality"] == CODE)
        assert served["properties"]["land_use"] == "public_facility"
    for path in paths[2 * len(near):]:
        assert _get(server, path).headers["X-Cache"] == "hit", path


def test_reimporting_streets_refreshes_street_tiles_only(server, sql, fresh_cache, django_db_blocker, tmp_path, city):
    from parcels.layer_import import import_layer

    x, y = _tile_of(_crossing(sql), 16)
    streets, parcels = f"/tiles/streets/16/{x}/{y}.mvt", f"/tiles/parcels/16/{x}/{y}.mvt"
    for path in (streets, parcels, streets, parcels):
        _get(server, path)
    with django_db_blocker.unblock():
        import_layer(kind="streets", path=_geojson(tmp_path / "streets.geojson", _streets(" (renamed)")),
                     municipality=city)
    fresh = _get(server, streets)
    assert fresh.headers["X-Cache"] == "miss"
    assert "King Fahd Road (renamed)" in {f["properties"]["name_en"] for f in _decode(fresh.content)["streets"]["features"]}
    assert _get(server, parcels).headers["X-Cache"] == "hit"
