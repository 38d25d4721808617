"""Who may enter the admin and do what there; log-in throttling."""

import pytest
from django.contrib.auth.models import Group
from django.forms.models import model_to_dict
from django.test import Client

from gisportal.accounts.roles import PARTNER, PLANNER, ROLE_PERMISSIONS, SURVEYOR
from gisportal.accounts.services import DEMO_PASSWORD, demo_accounts_ensure
from subdivision.models import PlanningRuleSet
from tests.parcels.factories import make_parcel, rect, riyadh

pytestmark = pytest.mark.django_db


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _log_in(client, username: str, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


# ---- role permissions ------------------------------------------------------------------------

def test_migrate_gives_the_role_groups_their_permissions():
    """Set by migrate itself (post_migrate), before any command or demo account runs."""
    planners = Group.objects.get(name=PLANNER)
    held = {f"{p.content_type.app_label}.{p.codename}" for p in planners.permissions.select_related("content_type")}
    assert held >= set(ROLE_PERMISSIONS[PLANNER])
    assert "subdivision.change_planningruleset" in held
    for role in (SURVEYOR, PARTNER):
        assert not Group.objects.get(name=role).permissions.exists()


def test_planner_edits_rule_sets_in_the_admin(planner):
    rule_set, _ = PlanningRuleSet.objects.get_or_create(municipality=riyadh(), land_use="residential")
    client = Client()
    _log_in(client, "planner", DEMO_PASSWORD)
    assert _logged_in(client)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/subdivision/planningruleset/").status_code == 200
    assert client.get("/admin/subdivision/planningruleset/add/").status_code == 200
    url = f"/admin/subdivision/planningruleset/{rule_set.pk}/change/"
    assert client.get(url).status_code == 200
    form = {k: v for k, v in model_to_dict(rule_set).items() if k != "id"}
    response = client.post(url, {**form, "min_lot_area_m2": 625})
    assert response.status_code == 302, response.content.decode()[:2000]
    rule_set.refresh_from_db()
    assert rule_set.min_lot_area_m2 == 625


def test_planner_reads_parcels_but_cannot_delete_them_or_manage_users(planner):
    parcel = make_parcel(riyadh(), "82-1-1", rect(0, 0, 20, 30))
    client = Client()
    client.force_login(planner)
    assert client.get("/admin/parcels/parcel/").status_code == 200
    assert client.get(f"/admin/parcels/parcel/{parcel.pk}/change/").status_code == 200  # read-only view
    assert client.post(f"/admin/parcels/parcel/{parcel.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/auth/user/add/").status_code == 403
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/accounts/apitoken/").status_code == 403
    assert not planner.has_perm("subdivision.delete_planningruleset")
    assert parcel.__class__.objects.filter(pk=parcel.pk).exists()


@pytest.mark.parametrize("username", ["surveyor", "partner"])
def test_surveyors_and_partners_get_no_admin(username):
    demo_accounts_ensure()
    client = Client()
    response = _log_in(client, username, DEMO_PASSWORD)
    assert not _logged_in(client)
    assert response.status_code == 200  # the log-in form again, with its error
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/subdivision/planningruleset/").status_code == 302


# ---- log-in throttling -------------------------------------------------------------------------

@pytest.mark.slow
def test_thirty_wrong_passwords_lock_the_account_even_against_the_right_one():
    demo_accounts_ensure()
    client = Client()
    statuses = [_log_in(client, "admin", f"wrong-{i}").status_code for i in range(30)]
    assert statuses[0] == 200  # the form again
    assert 429 in statuses and statuses[-1] == 429
    response = _log_in(client, "admin", DEMO_PASSWORD)
    assert response.status_code == 429
    assert not _logged_in(client)
    assert client.get("/admin/").status_code == 302


@pytest.mark.slow
def test_lock_out_is_per_username_and_a_success_resets_the_count(settings):
    demo_accounts_ensure()
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _log_in(client, "planner", f"wrong-{i}").status_code == 200
    assert _log_in(client, "planner", DEMO_PASSWORD).status_code == 302  # one short of the limit
    client.logout()
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(client, "planner", f"wrong-{i}")
    assert _log_in(client, "planner", DEMO_PASSWORD).status_code == 302  # the count started again
    client.logout()
    for i in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, "admin", f"wrong-{i}")
    assert _log_in(client, "admin", DEMO_PASSWORD).status_code == 429
    assert _log_in(client, "planner", DEMO_PASSWORD).status_code == 302  # another user from the same address


def test_api_tokens_and_test_logins_are_not_throttled(capsys):
    from django.core.management import call_command

    demo_accounts_ensure()
    client = Client()
    for i in range(10):
        _log_in(client, "surveyor", f"wrong-{i}")
    call_command("api_token", "surveyor")
    token = capsys.readouterr().out.strip()
    assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    assert Client().login(username="planner", password=DEMO_PASSWORD)
