from pathlib import Path

import pytest

CAMBRIDGE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "cambridge" / "cambridge.gpkg"
CAMBRIDGE_IMPORT = dict(layer="parcels", code_field="id", field_map={"plan_no": "MAP", "parcel_no": "LOT"})


def pytest_collection_modifyitems(config, items):
    """Mark the tests on the real Cambridge data slow too: each loads 13,116 parcels."""
    for item in items:
        if item.get_closest_marker("cambridge") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


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

    demo_accounts_ensure()
    return get_user_model().objects.get(username="planner")


@pytest.fixture
def surveyor(db):
    from django.contrib.auth import get_user_model

    from gisportal.accounts.services import demo_accounts_ensure

    demo_accounts_ensure()
    return get_user_model().objects.get(username="surveyor")
