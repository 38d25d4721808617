"""A small committed city for the OGC API Features tests, and a live server on loopback reading it.

144 parcels on a 30 m grid in north Riyadh, created on 2020-01-01; the 12 of the first column
retired on 2024-06-01 (they form the partner layer parcel_history). Some plan numbers carry
quotes and SQL so that every answer shows they are only data.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import shapely
from django.db import connection

from gisportal import crs
from tests.parcels.factories import rect, riyadh
from tests.support import live_server

CODE = "OGC"
GRID, PLOT_M, STEP_M = 12, 28.0, 30.0
CREATED_AT = datetime(2020, 1, 1, tzinfo=UTC)
RETIRED_AT = datetime(2024, 6, 1, tzinfo=UTC)
HOSTILE_PLAN = "7'; DROP TABLE x;--"
MARKUP_PLAN = "<script>alert(1)</script>"


def plan_no(i: int, j: int) -> str:
    return {(5, 5): HOSTILE_PLAN, (6, 6): MARKUP_PLAN}.get((i, j), str(7 + (j % 3)))


def _remove(code: str) -> None:
    from layers.models import PartnerKey
    from parcels.models import Municipality, Parcel, Record

    Parcel.objects.filter(municipality__code=code).delete()
    Record.objects.filter(municipality__code=code).delete()
    Municipality.objects.filter(code=code).delete()
    PartnerKey.objects.filter(organisation__startswith="ogc-test").delete()


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker, tmp_path_factory):
    """Yield the committed city's keys: {'parcels': key granting parcels, 'history': key granting parcel_history}."""
    from layers.services import partner_key_create
    from parcels.importing import import_parcels
    from parcels.models import Parcel
    from parcels.services import parcels_retire

    path = tmp_path_factory.mktemp("ogc-city") / "parcels.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature",
         "properties": {"parcel_code": f"P-{i}-{j}", "plan_no": plan_no(i, j), "block_no": str(i // 4),
                        "parcel_no": f"{i}-{j}", "land_use": "residential" if (i + j) % 3 else "commercial"},
         "geometry": shapely.geometry.mapping(crs.transform(rect(i * STEP_M, j * STEP_M, PLOT_M, PLOT_M), 32638, 4326))}
        for i in range(GRID) for j in range(GRID)]}))
    with django_db_blocker.unblock():
        _remove(CODE)  # left by an interrupted run (the test database may be kept)
        municipality = riyadh(CODE)
        import_parcels(path=str(path), municipality=municipality, code_field="parcel_code", at=CREATED_AT)
        parcels_retire(parcels=list(Parcel.objects.filter(municipality=municipality, parcel_code__startswith="P-0-")),
                       at=RETIRED_AT)
        keys = {"parcels": partner_key_create(organisation="ogc-test-a", layers=["parcels"]),
                "history": partner_key_create(organisation="ogc-test-b", layers=["parcel_history"])}
        yield keys
        _remove(CODE)


@pytest.fixture(scope="module")
def server(city):
    """The project under gunicorn on loopback, reading the test database; yields the /ogc base URL."""
    with live_server(env={"GISPORTAL_DB_NAME": connection.settings_dict["NAME"]}) as base:
        yield base + "/ogc"


@pytest.fixture
def sql(django_db_blocker):
    def run(query: str, params=()):
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()

    return run
