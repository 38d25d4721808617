"""Tiles of the real Cambridge parcels (13,116 in the file): the densest z13 tile whole, the index used."""

import re

import mapbox_vector_tile
import pytest
from django.db import connection

from layers.registry import LAYERS
from layers.tiles import mvt
from tests.conftest import CAMBRIDGE_IMPORT

pytestmark = [pytest.mark.cambridge, pytest.mark.django_db]
DENSEST_Z13 = (13, 2477, 3029)  # 7,153 parcels inside the tile, more with its buffer


@pytest.fixture
def cambridge(cambridge_gpkg):
    from parcels.importing import import_parcels
    from parcels.services import municipality_create

    municipality = municipality_create(code="CAM", name_en="Cambridge", centroid_lonlat=(-71.11, 42.38))
    import_parcels(path=str(cambridge_gpkg), municipality=municipality, **CAMBRIDGE_IMPORT)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE parcels_parcel")
    return municipality


def _one(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_densest_z13_tile_is_served_whole_under_the_feature_cap(cambridge):
    z, x, y = DENSEST_Z13
    served = mapbox_vector_tile.decode(mvt.tile_render([LAYERS["parcels"]], z, x, y))["parcels"]["features"]
    inside = _one("SELECT count(*) FROM parcels_parcel WHERE status = 'active' "
                  "AND ST_Intersects(geom, ST_TileEnvelope(%s, %s, %s))", [z, x, y])[0][0]
    buffered = {code for (code,) in _one(
        "SELECT parcel_code FROM parcels_parcel WHERE status = 'active' "
        "AND ST_Intersects(geom, ST_TileEnvelope(%s, %s, %s, margin => 0.0625))", [z, x, y])}
    codes = [f["properties"]["parcel_code"] for f in served]
    # The issue counts 7,153 in the tile (6 of the file's parcels are rejected at import, a few repaired).
    assert 7100 <= inside <= len(codes)
    assert len(codes) == len(set(codes)) and set(codes) <= buffered
    # Only parcels that merely touch the buffered edge (nothing left after clipping) are not served.
    assert len(buffered) - 5 <= len(codes) <= mvt.MAX_FEATURES


def test_the_gist_index_answers_tiles_at_full_size(cambridge):
    statement, params = mvt.statement([LAYERS["parcels"]], 16, 19820, 24240)
    plan = "\n".join(row[0] for row in _one("EXPLAIN " + statement, params))
    assert "Seq Scan on parcels_parcel" not in plan
    assert re.search(r"Index Scan using parcels_parcel_geom\w* on parcels_parcel|Bitmap Index Scan on "
                     r"parcels_parcel_geom\w*", plan), plan
