import time

import pytest
import requests
from django.db import connection

from tests.support import ThrowawayCluster, live_server


@pytest.mark.django_db
def test_healthz_reports_postgis_version(client):
    with connection.cursor() as cursor:
        cursor.execute("SELECT postgis_lib_version()")
        (expected,) = cursor.fetchone()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "postgis": expected}


def _wait_for(base: str, status: int, seconds: float = 20.0) -> requests.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = requests.get(base + "/healthz", timeout=10)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.3)


@pytest.mark.slow  # starts a throwaway PostgreSQL cluster and gunicorn
def test_healthz_503_while_database_is_down_then_recovers_by_itself():
    cluster = ThrowawayCluster()
    try:
        cluster.start()
        with live_server(env={"DATABASE_URL": cluster.url}) as base:
            first = requests.get(base + "/healthz", timeout=10)
            assert first.status_code == 200, first.text
            assert first.json()["database"] == "ok"

            cluster.stop()
            down = requests.get(base + "/healthz", timeout=10)
            assert down.status_code == 503
            body = down.json()
            assert body["status"] == "unavailable"
            assert body["database"] == "unreachable"
            assert body["reason"]

            cluster.start()
            back = _wait_for(base, 200)
            assert back.status_code == 200, back.text
            assert back.json()["status"] == "ok"
    finally:
        cluster.remove()
