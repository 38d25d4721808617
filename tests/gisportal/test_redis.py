"""The shared cache: the project-local Redis (scripts/redis.sh), Django's cache on it, and its helpers."""

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import redis
from django.core.cache import cache

from gisportal import cache as shared_cache
from gisportal.cache import (
    cache_key,
    delete_prefixed,
    redis_client,
    redis_ping,
    scan_keys,
)
from tests.support import ROOT

# ---- the project-local server -------------------------------------------------------------------

def test_local_redis_listens_on_the_unix_socket_only_and_keeps_nothing(redis_cache):
    if os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL names another Redis; the local one is not used")
    client = redis.Redis(unix_socket_path=str(ROOT / "var" / "run" / "redis.sock"))
    assert client.ping()
    assert client.config_get("port") == {"port": "0"}
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("appendonly") == {"appendonly": "no"}
    assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    assert int(client.config_get("maxmemory")["maxmemory"]) == 256 * 1024 * 1024
    assert Path(client.config_get("dir")["dir"]).resolve() == (ROOT / "var" / "redis").resolve()


@pytest.mark.slow  # starts and stops a redis-server of a copied checkout
def test_redis_sh_starts_reports_and_stops_a_server_of_its_own_checkout():
    checkout = Path(tempfile.mkdtemp(prefix="gisportal-redis-sh-", dir="/tmp"))
    try:
        (checkout / "scripts").mkdir()
        shutil.copy(ROOT / "scripts" / "redis.sh", checkout / "scripts" / "redis.sh")
        script = str(checkout / "scripts" / "redis.sh")
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}

        def run(action):
            return subprocess.run([script, action], env=env, capture_output=True, text=True, timeout=30, check=False)

        assert run("status").returncode == 3
        started = run("start")
        assert started.returncode == 0, started.stderr
        sock = checkout / "var" / "run" / "redis.sock"
        assert sock.is_socket()
        assert redis.Redis(unix_socket_path=str(sock)).ping()
        assert "running" in run("status").stdout
        assert run("start").returncode == 0  # a second start leaves the running server alone
        pid = int((checkout / "var" / "redis" / "redis.pid").read_text())

        assert run("stop").returncode == 0
        assert run("status").returncode == 3
        assert not sock.exists()
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)

        with_url = subprocess.run([script, "start"], env={**env, "REDIS_URL": "redis://example.invalid:6379/0"},
                                  capture_output=True, text=True, timeout=30, check=False)
        assert with_url.returncode == 0 and "REDIS_URL is set" in with_url.stdout
        assert not sock.exists()
    finally:
        subprocess.run([str(checkout / "scripts" / "redis.sh"), "stop"], capture_output=True, timeout=30, check=False)
        shutil.rmtree(checkout, ignore_errors=True)


# ---- Django's cache and the raw client ----------------------------------------------------------

def test_django_cache_and_raw_client_share_one_redis_under_the_test_prefix(redis_cache):
    cache.set("tile:parcels:14/1/2", b"\x1a\x02", timeout=60)
    assert cache.get("tile:parcels:14/1/2") == b"\x1a\x02"
    key = cache_key("tile:parcels:14/1/2")
    assert key.startswith(redis_cache + ":")
    client = redis_client()
    assert client.exists(key) == 1
    assert 0 < client.ttl(key) <= 60
    client.sadd(cache_key("index:parcels"), key)
    assert sorted(scan_keys("*")) == sorted([key, cache_key("index:parcels")])


def test_clear_and_delete_prefixed_drop_only_their_own_prefix(redis_cache):
    client = redis_client()
    foreign = "someone-else:1:tile"
    client.set(foreign, "kept", ex=60)
    try:
        for n in range(1200):  # more than one UNLINK batch
            client.set(cache_key(f"tile:{n}"), n, ex=60)
        cache.set("other", 1)
        assert delete_prefixed("tile:*") == 1200
        assert cache.get("other") == 1
        cache.clear()
        assert cache.get("other") is None
        assert client.get(foreign) == b"kept"
    finally:
        client.delete(foreign)


def test_two_prefixes_do_not_see_each_others_keys(redis_cache, settings):
    cache.set("shared-name", "first run")
    caches = {**settings.CACHES, "default": {**settings.CACHES["default"], "KEY_PREFIX": redis_cache + "-other"}}
    settings.CACHES = caches
    try:
        assert cache.get("shared-name") is None
        cache.set("shared-name", "second run")
        assert cache.get("shared-name") == "second run"
        cache.clear()
    finally:
        settings.CACHES = {**caches, "default": {**caches["default"], "KEY_PREFIX": redis_cache}}
    assert cache.get("shared-name") == "first run"


def test_redis_ping_is_ok(redis_cache):
    assert redis_ping() == "ok"


# ---- Redis unreachable: misses and lost writes, logged, never an error --------------------------

@pytest.fixture
def unreachable_redis(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(shared_cache, "_last_warned_at", -1e9)
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"unix://{tmp_path}/none.sock"}}


def test_unreachable_redis_is_a_cache_miss_and_is_logged(unreachable_redis, caplog):
    with caplog.at_level(logging.WARNING, logger="gisportal.cache"):
        assert cache.get("tile", "miss") == "miss"
        cache.set("tile", b"x")  # lost, no exception
        assert cache.add("tile", b"x") is False
        assert cache.get_many(["a", "b"]) == {}
        assert cache.delete("tile") is False
        cache.clear()
    assert "redis unreachable during cache get" in caplog.text
    # One warning per 10 s per process, not one per call.
    assert caplog.text.count("redis unreachable") == 1
    assert redis_ping().startswith("Error")


def test_unreachable_redis_raises_on_the_raw_client(unreachable_redis):
    """The raw client does not hide the outage: its users decide (the throttle lets requests through)."""
    with pytest.raises(redis.ConnectionError):
        redis_client().get("x")


# ---- settings ---------------------------------------------------------------------------------

@pytest.mark.slow  # a Python subprocess per case
@pytest.mark.parametrize("url, ok", [
    ("redis://127.0.0.1:6399/2", True),
    ("unix:///tmp/some.sock?db=3", True),
    ("http://127.0.0.1:6379", False),
])
def test_redis_url_is_checked_at_start_up(url, ok):
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.CACHES['default']['LOCATION'])")
    env = {**os.environ, "REDIS_URL": url, "DJANGO_SETTINGS_MODULE": "gisportal.settings"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT,
                            timeout=60, check=False)
    if ok:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == url
    else:
        assert result.returncode != 0
        assert "ImproperlyConfigured: REDIS_URL must start with" in result.stderr
