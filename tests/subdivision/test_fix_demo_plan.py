"""Regression (issue 12): /fix/ on the web tests' demo plan (the sample plan of the demo city's parcel 90-0-1, a
0.3 m and a 3.2 m gap between lots, its street corners uncut) closed the near gap but added SLIVER, GEOM_INVALID,
ROAD_WIDTH_MIN and STATED_AREA_MISMATCH findings. A fix must never add a finding."""

from __future__ import annotations

import re
from collections import Counter
from unittest.mock import patch

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from subdivision.models import PlanEvent, SurveyingOffice
from tests.subdivision.gap_plans import PARENT
from tests.subdivision.gap_plans import gap_plan_geojson as demo_gap_plan
from tests.subdivision.valid_plans import SURVEYOR, user

pytestmark = [pytest.mark.slow, pytest.mark.django_db]



@pytest.fixture(scope="module")
def demo_city(django_db_setup, django_db_blocker, tmp_path_factory):
    """Load the demo city into the test database for this module (committed; flushed at the end)."""
    from django.core.management import call_command

    from parcels.demo import load_demo_city

    with django_db_blocker.unblock():
        try:
            with patch("parcels.demo.demo_city_path", return_value=tmp_path_factory.mktemp("demo") / "demo.gpkg"):
                load_demo_city()
            yield
        finally:
            call_command("flush", interactive=False, verbosity=0)


def gap_plan_geojson() -> bytes:
    """Return the demo plan with its two gaps (tests/subdivision/gap_plans.py), its street corners uncut."""
    return demo_gap_plan()[0]


@pytest.fixture
def client(demo_city, api_client):
    office = SurveyingOffice.objects.create(code="OFF-DEMO-FIX", name_en="Office")
    api_client.force_authenticate(user("fixer", SURVEYOR, office=office))
    return api_client


def _upload(client, url: str):
    response = client.post(url, {"municipality": "RUH", "parents": PARENT, "file": SimpleUploadedFile(
        "gaps.geojson", gap_plan_geojson())}, format="multipart")
    assert response.status_code in (200, 201), response.content
    return response.json()


def _keys(findings: list[dict]) -> Counter:
    return Counter((f["code"], tuple(f["features"])) for f in findings)


def assert_no_worse(before: list[dict], after: list[dict], applied: int) -> None:
    """Assert that AFTER has no finding BEFORE had not, and that the corrections applied closed theirs."""
    counts = Counter(f["code"] for f in before)
    assert counts["GAP"] == 2 and counts["CORNER_TRUNCATION"] > 0, counts
    # every finding after the fix was there before it (same code, same features): nothing new
    assert not (_keys(after) - _keys(before)), _keys(after) - _keys(before)
    assert {"SLIVER", "GEOM_INVALID", "ROAD_WIDTH_MIN", "STATED_AREA_MISMATCH"}.isdisjoint(
        {f["code"] for f in after}), after
    # the near gap is closed, the far one (no correction) is left
    gaps = [f for f in after if f["code"] == "GAP"]
    assert len(gaps) == 1 and gaps[0]["correction"] is None
    # each corner truncation applied is gone: one finding fewer per correction applied (the gap's is one)
    assert applied >= 2
    left = sum(f["code"] == "CORNER_TRUNCATION" for f in after)
    assert left == counts["CORNER_TRUNCATION"] - (applied - 1)


def _fixed_version(client) -> tuple[list[dict], list[dict], int]:
    """Store the demo plan, fix it; return its findings before and after, and how many corrections applied."""
    plan_id = _upload(client, "/api/plans/")["id"]
    before = client.get(f"/api/plans/{plan_id}/").json()["report"]["findings"]
    response = client.post(f"/api/plans/{plan_id}/fix/", {}, format="json")
    assert response.status_code == 200, response.content
    comment = PlanEvent.objects.filter(plan_id=plan_id, action="fix").get().comment
    applied = int(re.match(r"(\d+) suggested correction", comment).group(1))
    return before, response.json()["report"]["findings"], applied


def test_fix_stores_a_version_with_no_new_finding(client):
    assert_no_worse(*_fixed_version(client))


def test_fix_snap_answers_a_corrected_file_with_no_new_finding(client):
    body = _upload(client, "/api/plans/validate/?fix=snap")
    assert_no_worse(body["findings"], body["corrected_report"]["findings"], body["corrections_applied"])


def test_the_fix_applies_every_correction(client):
    _, after, _ = _fixed_version(client)
    body = _upload(client, "/api/plans/validate/?fix=snap")
    for findings in (after, body["corrected_report"]["findings"]):
        assert [f for f in findings if f.get("correction")] == []
