import time

import pytest
import requests
from django.db import connection

from tests.support import ThrowawayCluster, ThrowawayRedis, live_server


@pytest.mark.django_db
def test_healthz_reports_postgis_version(client, redis_cache):
    with connection.cursor() as cursor:
        cursor.execute("SELECT postgis_lib_version()")
        (expected,) = cursor.fetchone()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "postgis": expected, "redis": "ok"}


@pytest.mark.django_db
def test_healthz_is_a_degraded_200_without_redis(client, settings, tmp_path):
    """The cache then misses and throttling lets requests through: the server still serves."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"unix://{tmp_path}/none.sock"}}
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["redis"].startswith("Error") and "none.sock" in body["redis"]


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


@pytest.mark.slow  # starts a throwaway redis-server and gunicorn
def test_healthz_degraded_while_redis_is_down_then_recovers_by_itself():
    server = ThrowawayRedis()
    try:
        server.start()
        with live_server(env={"REDIS_URL": server.url}) as base:
            first = requests.get(base + "/healthz", timeout=10)
            assert first.status_code == 200, first.text
            assert first.json()["status"] == "ok"
            assert first.json()["redis"] == "ok"

            server.stop()
            down = requests.get(base + "/healthz", timeout=10)
            assert down.status_code == 200
            body = down.json()
            assert body["status"] == "degraded"
            assert body["database"] == "ok"
            assert body["redis"] != "ok" and str(server.sock) in body["redis"]

            server.start()
            deadline = time.monotonic() + 20
            while True:
                back = requests.get(base + "/healthz", timeout=10)
                if back.json().get("redis") == "ok" or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            assert back.status_code == 200
            assert back.json()["status"] == "ok", back.text
    finally:
        server.remove()
