"""Who may see and move a plan: every role x action x (own / other office, own / other municipality).

404 where the caller may not know the plan exists, 403 where they may see it but not act, 401 for the
anonymous, and the allowed move succeeds from a status that permits it.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from gisportal.accounts.roles import PARTNER
from subdivision import transitions
from subdivision.models import Plan, SurveyingOffice
from subdivision.services import plan_create
from tests.parcels.factories import make_parcel, rect, riyadh
from tests.subdivision.valid_plans import PLANNER, SURVEYOR, plan_geojson, user

pytestmark = pytest.mark.django_db

READS = ("", "features/", "findings/", "history/", "versions/", "versions/1/")
MOVES = ("submit", "assign", "return", "approve", "reject", "withdraw", "resubmit")
# The status each move is tried from, and how a plan gets there (moves by its own surveyor and planner).
START = {"submit": [], "withdraw": [], "assign": ["submit"], "return": ["submit", "assign"],
         "approve": ["submit", "assign"], "reject": ["submit", "assign"], "resubmit": ["submit", "assign", "return"]}
SURVEYOR_MOVES = {"submit", "withdraw", "resubmit"}


@pytest.fixture
def world(db):
    ruh, jed = riyadh("RUH"), riyadh("JED")
    own, other = SurveyingOffice.objects.create(code="A", name_en="A"), SurveyingOffice.objects.create(code="B",
                                                                                                          name_en="B")
    partner = get_user_model().objects.create_user("partner1", password="x")
    partner.groups.add(__import__("django.contrib.auth.models", fromlist=["Group"]).Group.objects.get_or_create(
        name=PARTNER)[0])
    people = {
        "surveyor_own_office": user("s_own", SURVEYOR, office=own),
        "surveyor_other_office": user("s_other", SURVEYOR, office=other),
        "planner_own_municipality": user("p_own", PLANNER, municipalities=[ruh]),
        "planner_other_municipality": user("p_other", PLANNER, municipalities=[jed]),
        "partner": partner,
        "admin": get_user_model().objects.create_superuser("root", password="x"),
    }
    return {"ruh": ruh, "people": people, "parents": iter(range(100))}


def new_plan(world, moves=()) -> Plan:
    """Upload a valid plan on a parent of its own and move it by its own surveyor and planner."""
    n = next(world["parents"])
    make_parcel(world["ruh"], f"PARENT-{n}", rect(200 * n, 0, 88, 40))
    people = world["people"]
    plan = plan_create(user=people["surveyor_own_office"], title=f"plan {n}", upload=plan_geojson(200 * n, 0),
                       filename="p.geojson", municipality="RUH", parents=f"PARENT-{n}")
    for move in moves:
        actor = people["surveyor_own_office" if move in SURVEYOR_MOVES else "planner_own_municipality"]
        transitions.plan_act(user=actor, plan_id=plan.pk, action=move, comment="because")
    return plan


def move(client: APIClient, plan_id: int, action: str, world):
    if action == "resubmit":
        n = int(Plan.objects.get(pk=plan_id).title.split()[-1])
        return client.post(f"/api/plans/{plan_id}/resubmit/",
                           {"file": SimpleUploadedFile("p.geojson", plan_geojson(200 * n, 0))}, format="multipart")
    return client.post(f"/api/plans/{plan_id}/{action}/", {"comment": "because"}, format="json")


EXPECTED = {
    # who: (reads, moves of the surveying side, moves of the municipality side)
    "anonymous": (401, 401, 401),
    "partner": (403, 403, 403),
    "surveyor_other_office": (404, 404, 404),
    "planner_other_municipality": (404, 404, 404),
    "surveyor_own_office": (200, 200, 403),
    "planner_own_municipality": (200, 403, 200),
    "admin": (200, 200, 200),
}


@pytest.mark.parametrize("who", EXPECTED)
def test_the_role_matrix(world, who):
    reads, surveyor_moves, planner_moves = EXPECTED[who]
    client = APIClient()
    if who != "anonymous":
        client.force_authenticate(world["people"][who])
    seen = new_plan(world)
    for path in READS:
        response = client.get(f"/api/plans/{seen.pk}/{path}")
        assert response.status_code == reads, (who, path, response.content)
    for action in MOVES:
        plan = new_plan(world, START[action])
        status_before = Plan.objects.get(pk=plan.pk).status
        expected = surveyor_moves if action in SURVEYOR_MOVES else planner_moves
        response = move(client, plan.pk, action, world)
        assert response.status_code == expected, (who, action, response.content)
        after = Plan.objects.get(pk=plan.pk)
        if expected == 200:
            assert after.status != status_before, (who, action)
        else:
            assert after.status == status_before and after.version == plan.version, (who, action)
            if expected == 404 and action != "resubmit":
                # The same answer as for a plan that does not exist: nothing leaks.
                missing = move(client, 10**9, action, world)
                assert missing.status_code == 404
                assert missing.json()["detail"].replace(str(10**9), "N") == response.json()["detail"].replace(
                    str(plan.pk), "N")


@pytest.mark.parametrize("who, count", [("surveyor_own_office", 1), ("surveyor_other_office", 0),
                                        ("planner_own_municipality", 1), ("planner_other_municipality", 0),
                                        ("admin", 1)])
def test_lists_show_only_what_the_caller_may_see(world, who, count):
    new_plan(world)
    client = APIClient()
    client.force_authenticate(world["people"][who])
    assert client.get("/api/plans/").json()["count"] == count


def test_illegal_transitions_are_409_and_change_nothing(world):
    plan = new_plan(world)
    client = APIClient()
    client.force_authenticate(world["people"]["planner_own_municipality"])
    for action in ("approve", "reject", "return", "assign"):
        response = client.post(f"/api/plans/{plan.pk}/{action}/", {"comment": "x"}, format="json")
        assert response.status_code == 409 and "draft" in response.json()["detail"], action
    after = Plan.objects.get(pk=plan.pk)
    assert after.status == "draft" and after.events.count() == 1


def test_submit_revalidates_against_the_parcels_as_they_are_now(world):
    """A plan valid when uploaded, then a parcel registered over its lot 1: submitting answers 409 with the
    fresh report naming the conflict, and the plan stays a draft."""
    plan = new_plan(world)
    n = int(plan.title.split()[-1])
    make_parcel(world["ruh"], "SQUATTER", rect(200 * n + 2, 16, 10, 10))  # over lot 1 (and its parent)
    client = APIClient()
    client.force_authenticate(world["people"]["surveyor_own_office"])
    response = client.post(f"/api/plans/{plan.pk}/submit/")
    assert response.status_code == 409 and response.json()["code"] == "PlanInvalid"
    report = response.json()["report"]
    assert report["valid"] is False and "EXISTING_PARCEL_CONFLICT" in report["finding_counts"]
    assert Plan.objects.get(pk=plan.pk).status == "draft"


def test_a_plan_with_errors_cannot_be_submitted(world):
    from tests.subdivision import plan_samples as samples

    n = next(world["parents"])
    x0, y0 = samples._ORIGIN
    import shapely

    make_parcel(world["ruh"], "SAMPLE-PARENT", shapely.box(x0, y0, x0 + 80, y0 + 40))
    plan = plan_create(user=world["people"]["surveyor_own_office"], title=f"plan {n}",
                       upload=samples.sample_geojson(), filename="p.geojson", municipality="RUH",
                       parents="SAMPLE-PARENT")
    assert plan.valid is False
    client = APIClient()
    client.force_authenticate(world["people"]["surveyor_own_office"])
    response = client.post(f"/api/plans/{plan.pk}/submit/")
    assert response.status_code == 409
    assert sorted(response.json()["report"]["finding_counts"]) == ["PUBLIC_SHARE_MIN", "ROAD_WIDTH_MIN"]
    assert Plan.objects.get(pk=plan.pk).status == "draft"
