"""Partner keys in the Django admin: listed, searched, revoked; the key and its digest never shown."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from layers.models import PartnerKey
from layers.services import partner_key_create, partner_key_lookup

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    user = get_user_model().objects.create_superuser("root", "root@example.org", "x-password-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def keys():
    water = partner_key_create(organisation="Water Utility", layers=["parcels", "parcel_history"])
    power = partner_key_create(organisation="Power Utility", layers=["streets"])
    return {"water": water, "power": power}


def test_the_list_shows_organisation_prefix_layers_and_dates_never_the_key_or_digest(admin_client, keys):
    page = admin_client.get("/admin/layers/partnerkey/").content.decode()
    water = PartnerKey.objects.get(organisation="Water Utility")
    assert "Water Utility" in page and "Power Utility" in page
    assert f"{water.prefix}…" in page
    assert "parcels, parcel_history" in page
    for header in ("Created at", "Last used at", "Revoked at"):
        assert header in page
    assert "manage.py partner_key create" in page
    for key in keys.values():
        assert key not in page
    assert water.digest not in page


def test_search_finds_by_organisation(admin_client, keys):
    page = admin_client.get("/admin/layers/partnerkey/", {"q": "water"}).content.decode()
    assert "Water Utility" in page
    assert "Power Utility" not in page


def test_the_revoke_action_stops_the_selected_keys_at_once(admin_client, keys):
    water = PartnerKey.objects.get(organisation="Water Utility")
    assert partner_key_lookup(keys["water"]) is not None
    response = admin_client.post("/admin/layers/partnerkey/", {
        "action": "revoke", "_selected_action": [water.pk], "index": 0}, follow=True)
    assert response.status_code == 200
    assert "1 key(s) revoked" in response.content.decode()
    water.refresh_from_db()
    assert water.revoked_at is not None
    assert partner_key_lookup(keys["water"]) is None
    assert partner_key_lookup(keys["power"]) is not None  # the other key still works


def test_keys_cannot_be_added_edited_or_deleted_here(admin_client, keys):
    water = PartnerKey.objects.get(organisation="Water Utility")
    assert admin_client.get("/admin/layers/partnerkey/add/").status_code == 403
    change_url = f"/admin/layers/partnerkey/{water.pk}/change/"
    page = admin_client.get(change_url).content.decode()
    assert water.digest not in page and 'name="digest"' not in page
    admin_client.post(change_url, {"organisation": "Someone Else", "layers": "plans", "digest": "0" * 64})
    water.refresh_from_db()
    assert (water.organisation, water.layers) == ("Water Utility", ["parcels", "parcel_history"])
    assert admin_client.post(f"/admin/layers/partnerkey/{water.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PartnerKey.objects.filter(pk=water.pk).exists()


def test_planners_do_not_see_partner_keys(planner):
    client = Client()
    client.force_login(planner)
    assert client.get("/admin/layers/partnerkey/").status_code == 403
