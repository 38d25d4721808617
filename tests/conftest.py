from pathlib import Path

import pytest

CAMBRIDGE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "cambridge" / "cambridge.gpkg"
CAMBRIDGE_IMPORT = dict(layer="parcels", code_field="id", field_map={"plan_no": "MAP", "parcel_no": "LOT"})


def pytest_collection_modifyitems(config, items):
    """Mark the tests on the real Cambridge data slow too: each loads 13,116 parcels."""
    for item in items:
        if item.get_closest_marker("cambridge") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def _redis_test_prefix():
    """Give this test run cache keys of its own, so it never reads the dev server's cached tiles
    (nor another run's); live servers started by tests inherit the prefix through the environment."""
    import copy
    import os
    import uuid

    from django.conf import settings
    from django.test import override_settings

    prefix = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = prefix
    previous = os.environ.get("GISPORTAL_CACHE_PREFIX")
    os.environ["GISPORTAL_CACHE_PREFIX"] = prefix
    with override_settings(CACHES=caches):
        yield prefix
        from django.core.cache import cache

        cache.clear()  # this prefix only (gisportal.cache.FailSoftRedisCache.clear)
    if previous is None:
        os.environ.pop("GISPORTAL_CACHE_PREFIX", None)
    else:
        os.environ["GISPORTAL_CACHE_PREFIX"] = previous


@pytest.fixture
def redis_cache(settings, monkeypatch):
    """The Redis cache under a key prefix of this test's own, empty at the start, flushed (that prefix
    only) at the end. Yields the prefix; live servers started in the test inherit it through the
    environment (GISPORTAL_CACHE_PREFIX). Starts the project-local Redis when it is not running."""
    import copy
    import uuid

    from django.core.cache import cache

    from tests.support import ensure_local_redis

    ensure_local_redis()
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = prefix
    settings.CACHES = caches
    monkeypatch.setenv("GISPORTAL_CACHE_PREFIX", prefix)
    cache.clear()
    yield prefix
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hash test passwords cheaply: the default PBKDF2 costs about a second per demo account."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def cambridge_gpkg() -> Path:
    if not CAMBRIDGE.exists():
        pytest.skip(f"real Cambridge data absent: {CAMBRIDGE} (it lies in ../shared/data beside the project)")
    return CAMBRIDGE


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def planner(db):
    from django.contrib.auth import get_user_model

    from gisportal.accounts.services import demo_accounts_ensure
    from subdivision.demo import demo_workflow_ensure

    demo_accounts_ensure()
    demo_workflow_ensure()  # a planner of every municipality there is when the fixture runs
    return get_user_model().objects.get(username="planner")


@pytest.fixture
def surveyor(db):
    from django.contrib.auth import get_user_model

    from gisportal.accounts.services import demo_accounts_ensure
    from subdivision.demo import demo_workflow_ensure

    demo_accounts_ensure()
    demo_workflow_ensure()  # in the demo surveying office
    return get_user_model().objects.get(username="surveyor")
