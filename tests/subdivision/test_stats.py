"""SLA reads (subdivision.stats) and GET /api/stats/plans/ against real PostGIS.

Plans and their histories are written as rows, so each clock is known by hand: calendar days in
Riyadh unless a municipality has an ApprovalCalendar.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from gisportal.errors import NotFound, PermissionDenied
from parcels.services import municipality_create
from subdivision import stats
from subdivision.models import (
    ApprovalCalendar,
    Holiday,
    MunicipalityPlanner,
    OfficeMember,
    Plan,
    PlanEvent,
    SurveyingOffice,
)

pytestmark = pytest.mark.django_db
RIYADH = ZoneInfo("Asia/Riyadh")
NOW = datetime(2026, 12, 1, 12, tzinfo=RIYADH)


def day(month, d, hour=10):
    return datetime(2026, month, d, hour, tzinfo=RIYADH)


def make_plan(municipality, user, office, history, title="plan"):
    """Store a plan whose events are HISTORY [(at, to_status)], its status the last one."""
    status = history[-1][1] if history else "draft"
    submitted = next((at for at, s in history if s == "submitted"), None)
    decided = next((at for at, s in history if s in ("approved", "rejected")), None)
    plan = Plan.objects.create(municipality=municipality, title=title, status=status, office=office,
                               submitted_by=user, source_name="plan.geojson", source_format="GeoJSON",
                               source_srid=4326, submitted_at=submitted, decided_at=decided)
    previous = ""
    for at, to_status in history:
        PlanEvent.objects.create(plan=plan, at=at, actor=user, action=to_status, from_status=previous,
                                 to_status=to_status, version=1)
        previous = to_status
    return plan


@pytest.fixture
def city(planner, surveyor):
    """RUH (60 days, calendar) with seven plans, two offices; JED (working days) with one."""
    ruh = municipality_create(code="RUH", name_en="Riyadh", metric_srid=32638)
    jed = municipality_create(code="JED", name_en="Jeddah", metric_srid=32637, approval_target_days=5)
    ApprovalCalendar.objects.create(municipality=jed, counting="working", weekend_days=[4, 5])
    Holiday.objects.create(municipality=jed, date=date(2026, 11, 24), name_en="a holiday")
    ours = SurveyingOffice.objects.create(code="A", name_en="Office A")
    theirs = SurveyingOffice.objects.create(code="B", name_en="Office B")
    OfficeMember.objects.update_or_create(user=surveyor, defaults={"office": ours})
    plans = {
        "approved_10": make_plan(ruh, surveyor, ours, [(day(8, 25), "draft"), (day(9, 1), "submitted"),
                                                       (day(9, 11), "approved")]),
        "approved_70": make_plan(ruh, surveyor, ours, [(day(8, 1), "submitted"), (day(8, 2), "under_review"),
                                                       (day(10, 10), "approved")]),
        "rejected_9": make_plan(ruh, surveyor, ours, [(day(10, 1), "submitted"), (day(10, 5), "returned"),
                                                      (day(10, 15), "resubmitted"), (day(10, 20), "rejected")]),
        "open_91": make_plan(ruh, surveyor, ours, [(day(9, 1), "submitted")], title="the oldest"),
        "returned_10": make_plan(ruh, surveyor, ours, [(day(11, 1), "submitted"), (day(11, 11), "returned")]),
        "draft": make_plan(ruh, surveyor, ours, [(day(11, 30), "draft")]),
        "other_office_10": make_plan(ruh, surveyor, theirs, [(day(11, 21), "submitted")]),
        "jeddah": make_plan(jed, surveyor, ours, [(day(11, 22), "submitted")]),
    }
    return {"ruh": ruh, "jed": jed, "plans": plans}


def test_calendar_for_reads_the_calendar_and_holidays_or_counts_calendar_days(city, settings):
    jed = stats.calendar_for(city["jed"])
    assert (jed.counting, jed.weekend_days, jed.holidays) == ("working", {4, 5}, {date(2026, 11, 24)})
    assert jed.tz == ZoneInfo(settings.TIME_ZONE) == RIYADH
    ruh = stats.calendar_for(city["ruh"])
    assert ruh.counting == "calendar" and ruh.tz == RIYADH


def test_clocks_for_many_plans_in_a_fixed_number_of_queries(city, django_assert_num_queries):
    plans = list(Plan.objects.all())
    with django_assert_num_queries(4):
        clocks = stats.clocks_for(plans[:1], NOW)
    assert len(clocks) == 1
    for i in range(20):
        make_plan(city["ruh"], plans[0].submitted_by, None, [(day(11, 1 + i), "submitted")])
    plans = list(Plan.objects.all())
    with django_assert_num_queries(4):
        clocks = stats.clocks_for(plans, NOW)
    assert len(clocks) == 28
    with django_assert_num_queries(0):
        assert stats.clocks_for([], NOW) == {}


def test_clocks_for_counts_each_plan_by_its_municipality(city):
    p = city["plans"]
    clocks = stats.clocks_for(Plan.objects.all(), NOW)
    used = {name: clocks[plan.pk].days_used for name, plan in p.items()}
    assert used == {"approved_10": 10, "approved_70": 70, "rejected_9": 9, "open_91": 91, "returned_10": 10,
                    "draft": 0, "other_office_10": 10,
                    # Sunday 22 Nov to Tuesday 1 Dec in working days: 23, 25, 26, 29, 30 Nov, 1 Dec (24th a holiday)
                    "jeddah": 6}
    assert clocks[p["jeddah"].pk].overdue and clocks[p["jeddah"].pk].counting == "working"
    assert clocks[p["open_91"].pk].overdue and clocks[p["open_91"].pk].days_left == -31
    assert not clocks[p["returned_10"].pk].running and clocks[p["returned_10"].pk].days_left == 50
    assert clocks[p["approved_70"].pk].late and not clocks[p["approved_70"].pk].overdue


def test_a_plan_without_events_is_counted_from_its_columns(city):
    plan = Plan.objects.create(municipality=city["ruh"], title="legacy", status="approved",
                               submitted_by=city["plans"]["draft"].submitted_by, source_name="x", source_format="x",
                               source_srid=4326, submitted_at=day(11, 1), decided_at=day(11, 4))
    clock = stats.clocks_for([plan], NOW)[plan.pk]
    assert (clock.days_used, clock.decided, clock.started_at) == (3, True, day(11, 1))


def test_a_planner_gets_the_statistics_of_their_municipality(city, planner):
    MunicipalityPlanner.objects.get_or_create(user=planner, municipality=city["ruh"])
    s = stats.plan_stats(user=planner, municipality_code="RUH", now=NOW)
    p = city["plans"]
    assert (s["municipality"], s["target_days"], s["counting"], s["plans_total"]) == ("RUH", 60, "calendar", 7)
    assert s["counts_by_status"] == {"draft": 1, "submitted": 2, "under_review": 0, "returned": 1,
                                     "resubmitted": 0, "approved": 2, "rejected": 1, "withdrawn": 0}
    assert (s["open"], s["overdue"], s["decided"], s["late"]) == (4, 1, 3, 1)
    assert s["median_days_to_decision"] == 10
    assert s["p90_days_to_decision"] == pytest.approx(10 + 0.8 * (70 - 10))  # position 1.8 in [9, 10, 70]
    assert s["decided_within_target_share"] == pytest.approx(2 / 3)
    oldest = [(o["id"], o["days_used"], o["running"]) for o in s["oldest_open"]]
    assert oldest == [(p["open_91"].pk, 91, True), (p["returned_10"].pk, 10, False),
                      (p["other_office_10"].pk, 10, True)]
    assert s["oldest_open"][0]["title"] == "the oldest" and s["oldest_open"][0]["overdue"]


def test_a_planner_of_another_municipality_and_an_unknown_one_get_not_found(city, planner):
    MunicipalityPlanner.objects.get_or_create(user=planner, municipality=city["jed"])
    MunicipalityPlanner.objects.filter(user=planner, municipality=city["ruh"]).delete()
    with pytest.raises(NotFound) as theirs:
        stats.plan_stats(user=planner, municipality_code="RUH", now=NOW)
    with pytest.raises(NotFound) as unknown:
        stats.plan_stats(user=planner, municipality_code="NOPE", now=NOW)
    # the same answer: whether a municipality exists is not given away
    assert str(theirs.value).replace("RUH", "X") == str(unknown.value).replace("NOPE", "X")
    assert stats.plan_stats(user=planner, municipality_code="JED", now=NOW)["plans_total"] == 1


def test_a_surveyor_counts_only_their_offices_plans(city, surveyor):
    s = stats.plan_stats(user=surveyor, municipality_code="RUH", now=NOW)
    assert s["plans_total"] == 6
    assert city["plans"]["other_office_10"].pk not in [o["id"] for o in s["oldest_open"]]
    assert s["counts_by_status"]["submitted"] == 1


def test_a_partner_may_not_see_plan_statistics(city, planner):
    partner = get_user_model().objects.get(username="partner")
    with pytest.raises(PermissionDenied):
        stats.plan_stats(user=partner, municipality_code="RUH", now=NOW)


def test_an_admin_sees_every_plan(city):
    admin = get_user_model().objects.get(username="admin")
    assert stats.plan_stats(user=admin, municipality_code="RUH", now=NOW)["plans_total"] == 7


def test_a_municipality_without_plans_measures_nothing(planner):
    empty = municipality_create(code="EMPTY", name_en="Empty", metric_srid=32638)
    MunicipalityPlanner.objects.get_or_create(user=planner, municipality=empty)
    s = stats.plan_stats(user=planner, municipality_code="EMPTY", now=NOW)
    assert s["plans_total"] == 0 and s["median_days_to_decision"] is None and s["oldest_open"] == []


# ---- the endpoint ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_endpoint_answers_what_its_schema_says(city, planner, api_client, schema):
    from tests.gisportal.test_openapi import assert_fits, response_schema

    MunicipalityPlanner.objects.get_or_create(user=planner, municipality=city["ruh"])
    api_client.force_authenticate(planner)
    response = api_client.get("/api/stats/plans/", {"municipality": "RUH"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert_fits(schema, response_schema(schema, "/api/stats/plans/", "get"), body)
    assert body["plans_total"] == 7 and body["decided"] == 3
    # the clock runs on the real time here: the oldest open plan was submitted on 1 September
    expected = (timezone.localdate() - date(2026, 9, 1)).days
    assert body["oldest_open"][0]["days_used"] == expected
    assert datetime.fromisoformat(body["oldest_open"][0]["submitted_at"]) == day(9, 1)
    assert abs(datetime.fromisoformat(body["as_of"]) - timezone.now()) < timedelta(minutes=1)
    params = {p["name"]: p for p in schema["paths"]["/api/stats/plans/"]["get"]["parameters"]}
    assert params["municipality"]["required"]


@pytest.mark.parametrize("who, query, status, code", [
    ("planner", {}, 400, "InvalidParameter"),
    ("planner", {"municipality": ""}, 400, "InvalidParameter"),
    ("planner", {"municipality": "NOPE"}, 404, "NotFound"),
    ("planner", {"municipality": "JED"}, 404, "NotFound"),  # plans RUH only
    ("surveyor", {"municipality": "NOPE"}, 404, "NotFound"),
    ("partner", {"municipality": "RUH"}, 403, "PermissionDenied"),
    (None, {"municipality": "RUH"}, 401, "NotAuthenticated"),
])
def test_the_endpoint_refuses_with_the_right_error(city, planner, api_client, schema, who, query, status, code):
    from tests.gisportal.test_openapi import assert_fits, response_schema

    MunicipalityPlanner.objects.get_or_create(user=planner, municipality=city["ruh"])
    MunicipalityPlanner.objects.filter(user=planner, municipality=city["jed"]).delete()
    if who:
        api_client.force_authenticate(get_user_model().objects.get(username=who))
    response = api_client.get("/api/stats/plans/", query)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert_fits(schema, response_schema(schema, "/api/stats/plans/", "get", status), response.json())
    if status == 400:
        assert response.json()["detail"].startswith("municipality:")


def test_a_surveyor_gets_their_offices_numbers_through_the_endpoint(city, surveyor, api_client):
    api_client.force_authenticate(surveyor)
    body = api_client.get("/api/stats/plans/", {"municipality": "RUH"}).json()
    assert body["plans_total"] == 6 and body["counts_by_status"]["draft"] == 1
