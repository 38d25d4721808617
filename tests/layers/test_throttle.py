"""Per-caller throttling in Redis: counted once for all workers, 429 with Retry-After past the rate."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection
from django.test import RequestFactory

from gisportal import cache as shared_cache
from gisportal.cache import cache_key, redis_client
from gisportal.errors import Throttled
from layers import throttle
from layers.access import Caller
from layers.services import partner_key_create
from tests.support import live_server

PARTNER = Caller(kind="partner", identity="key:1", organisation="Water Utility")
OTHER_PARTNER = Caller(kind="partner", identity="key:2", organisation="Power Utility")
USER = Caller(kind="user", identity="user:7")
ANONYMOUS = Caller(kind="anonymous", identity="anonymous")


def _from(address: str):
    return RequestFactory().get("/tiles/parcels/14/1/2.mvt", REMOTE_ADDR=address)


@pytest.fixture
def rates(settings, redis_cache):
    settings.THROTTLE_PARTNER_PER_MIN = 5
    settings.THROTTLE_USER_PER_MIN = 3
    settings.THROTTLE_ANON_PER_MIN = 2
    return settings


# ---- against Redis directly -------------------------------------------------------------------

def test_a_partner_gets_its_rate_then_429_with_the_seconds_to_wait(rates):
    counts = [throttle.check(PARTNER).count for _ in range(5)]
    assert counts == [1, 2, 3, 4, 5]
    with pytest.raises(Throttled) as raised:
        throttle.check(PARTNER)
    assert raised.value.http_status == 429
    assert 1 <= raised.value.retry_after_s <= 60
    assert raised.value.headers == {"Retry-After": str(raised.value.retry_after_s)}
    assert "more than 5 requests a minute for this key" in raised.value.message
    # The counter lives in Redis under the cache's prefix, and expires with its window.
    key = cache_key("throttle:key:1")
    assert int(redis_client().get(key)) == 6
    assert 0 < redis_client().pttl(key) <= 60_000


def test_each_caller_has_its_own_counter(rates):
    for _ in range(5):
        throttle.check(PARTNER)
    with pytest.raises(Throttled):
        throttle.check(PARTNER)
    assert throttle.check(OTHER_PARTNER).count == 1
    assert [throttle.check(USER).count for _ in range(3)] == [1, 2, 3]
    with pytest.raises(Throttled, match="this user"):
        throttle.check(USER)


def test_anonymous_callers_are_counted_by_client_address(rates):
    assert [throttle.check(ANONYMOUS, _from("192.0.2.1")).count for _ in range(2)] == [1, 2]
    with pytest.raises(Throttled, match="this address"):
        throttle.check(ANONYMOUS, _from("192.0.2.1"))
    assert throttle.check(ANONYMOUS, _from("2001:db8::1")).count == 1
    assert redis_client().exists(cache_key("throttle:anon:192.0.2.1")) == 1


def test_the_counter_starts_again_after_its_window(rates):
    rates.THROTTLE_WINDOW_S = 1  # a rate of 5 a minute allows 1 request a second
    assert throttle.check(PARTNER).count == 1
    with pytest.raises(Throttled) as raised:
        throttle.check(PARTNER)
    assert raised.value.retry_after_s == 1
    time.sleep(1.1)
    assert throttle.check(PARTNER).count == 1


def test_a_rate_of_zero_means_no_limit(rates):
    rates.THROTTLE_PARTNER_PER_MIN = 0
    assert all(throttle.check(PARTNER) is None for _ in range(20))
    assert redis_client().exists(cache_key("throttle:key:1")) == 0


def test_redis_unreachable_lets_requests_through_and_logs(rates, tmp_path, monkeypatch, caplog):
    rates.CACHES = {"default": {**rates.CACHES["default"], "LOCATION": f"unix://{tmp_path}/none.sock"}}
    monkeypatch.setattr(shared_cache, "_last_warned_at", -1e9)
    with caplog.at_level(logging.WARNING, logger="gisportal.cache"):
        assert all(throttle.check(PARTNER) is None for _ in range(10))  # twice the rate, none refused
    assert "throttle check (request let through)" in caplog.text


# ---- through HTTP: the answer is 429 Throttled with Retry-After -------------------------------

def test_the_answer_past_the_rate_is_429_json_with_retry_after(rates, client):
    rates.ROOT_URLCONF = "tests.layers.throttle_site"
    first = client.get("/api/throttle-probe/", REMOTE_ADDR="198.51.100.7")
    assert first.status_code == 200, first.content
    assert first.json() == {"caller": "anonymous", "count": 1}
    assert client.get("/api/throttle-probe/", REMOTE_ADDR="198.51.100.7").status_code == 200
    refused = client.get("/api/throttle-probe/", REMOTE_ADDR="198.51.100.7")
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "Throttled"
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= 60
    assert body["detail"] == f"more than 2 requests a minute for this address; retry in {wait} s"
    assert client.get("/api/throttle-probe/", REMOTE_ADDR="198.51.100.8").status_code == 200


# ---- a real multi-worker gunicorn: the workers share one counter -------------------------------

@pytest.mark.slow  # starts gunicorn with two workers
@pytest.mark.django_db(transaction=True)
def test_two_gunicorn_workers_share_the_counters(redis_cache):
    key = partner_key_create(organisation="Water Utility", layers=["parcels"])
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.layers.throttle_site",
        "GISPORTAL_DB_NAME": connection.settings_dict["NAME"],  # the test database, where the key is
        "GISPORTAL_PARTNER_RATE": "7",
        "GISPORTAL_ANON_RATE": "4",
        "GISPORTAL_CACHE_PREFIX": redis_cache,
    }
    with live_server(env=env, workers=2) as base:
        def get(params):
            return requests.get(base + "/api/throttle-probe/", params=params, timeout=30)

        def hold(_):
            return requests.get(base + "/api/worker-hold/", timeout=30).headers["X-Worker-Pid"]

        with ThreadPoolExecutor(max_workers=6) as pool:
            deadline = time.monotonic() + 30  # until both workers have booted and answered
            while len(set(pool.map(hold, range(4)))) < 2:
                assert time.monotonic() < deadline, "the second worker never answered"
            partner = list(pool.map(get, [{"key": key}] * 30))
            anonymous = list(pool.map(get, [{}] * 20))

    assert sorted(r.status_code for r in partner) == [200] * 7 + [429] * 23
    assert sorted(r.status_code for r in anonymous) == [200] * 4 + [429] * 16
    served_by = {r.headers["X-Worker-Pid"] for r in partner + anonymous}
    assert len(served_by) == 2, "both workers answered, and together they allowed the rate once"
    assert sorted(r.json()["count"] for r in partner if r.status_code == 200) == list(range(1, 8))
    for refused in [r for r in partner + anonymous if r.status_code == 429]:
        assert refused.json()["code"] == "Throttled"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
