"""The SLA clock through the API: it runs while the plan is with the municipality, pauses while returned,
counts working days (Friday-Saturday weekend, holidays) where the municipality says so; ?overdue=true.

The expected day counts come from numpy's business-day counter, an independent reckoning of the same rule:
a running interval [start, end) counts the (working) local dates d with start < d <= end.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from subdivision.models import (
    ApprovalCalendar,
    Holiday,
    Plan,
    PlanEvent,
    SlaCounting,
    SurveyingOffice,
)
from tests.parcels.factories import riyadh
from tests.subdivision.valid_plans import PLANNER, SURVEYOR, user

pytestmark = pytest.mark.django_db

WEEKMASK = "1111001"  # Monday .. Sunday: Friday and Saturday off


def local_date(moment):
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def working_days(start, end, holidays=()) -> int:
    """Working dates d with start < d <= end (local dates)."""
    one = timedelta(days=1)
    return int(np.busday_count(local_date(start) + one, local_date(end) + one, weekmask=WEEKMASK,
                               holidays=list(holidays)))


def calendar_days(start, end) -> int:
    return (local_date(end) - local_date(start)).days


@pytest.fixture
def world(db):
    now = timezone.now()
    office = SurveyingOffice.objects.create(code="OFF", name_en="Office")
    surveyor = user("sam", SURVEYOR, office=office)
    working, calendar = riyadh("WRK"), riyadh("CAL")
    ApprovalCalendar.objects.create(municipality=working, counting=SlaCounting.WORKING)
    holiday = local_date(now - timedelta(days=3))
    Holiday.objects.create(municipality=working, date=holiday, name_en="A holiday")
    planner = user("pat", PLANNER, municipalities=[working, calendar])
    # Submitted 20 days ago, returned 14 days ago, resubmitted 7 days ago: the 7 days between are paused.
    steps = [(20, "submit", "submitted"), (14, "return", "returned"), (7, "resubmit", "resubmitted")]
    plans = {}
    for municipality in (working, calendar):
        plan = Plan.objects.create(municipality=municipality, title=municipality.code, submitted_by=surveyor,
                                   office=office, source_name="p", source_format="geojson", source_srid=4326,
                                   status="resubmitted", submitted_at=now - timedelta(days=20))
        PlanEvent.objects.create(plan=plan, at=now - timedelta(days=21), actor=surveyor, action="create",
                                 to_status="draft", version=1)
        for days_ago, action, status in steps:
            PlanEvent.objects.create(plan=plan, at=now - timedelta(days=days_ago), actor=surveyor, action=action,
                                     to_status=status, version=1)
        plans[municipality.code] = plan
    client = APIClient()
    client.force_authenticate(planner)
    return {"now": now, "plans": plans, "client": client, "holiday": holiday, "municipalities": (working, calendar)}


def test_the_clock_pauses_while_returned_and_counts_working_days(world):
    now = world["now"]
    submitted, returned, resubmitted = (now - timedelta(days=d) for d in (20, 14, 7))
    sla = world["client"].get("/api/plans/", {"municipality": "WRK"}).json()["results"][0]["sla"]
    expected = working_days(submitted, returned, [world["holiday"]]) + working_days(resubmitted, now,
                                                                                     [world["holiday"]])
    assert sla["counting"] == "working" and sla["running"] is True
    assert sla["days_used"] == expected
    assert sla["days_left"] == 60 - expected
    # The paused week is not counted: with it, the count would be larger.
    assert expected < working_days(submitted, now, [world["holiday"]])


def test_calendar_days_where_the_municipality_counts_them(world):
    now = world["now"]
    sla = world["client"].get("/api/plans/", {"municipality": "CAL"}).json()["results"][0]["sla"]
    assert sla["counting"] == "calendar"
    assert sla["days_used"] == calendar_days(now - timedelta(days=20), now - timedelta(days=14)) + calendar_days(
        now - timedelta(days=7), now) == 13


def test_overdue_lists_only_open_plans_past_their_target(world):
    working, calendar = world["municipalities"]
    calendar.approval_target_days = 10  # 13 calendar days used: overdue
    calendar.save()
    client = world["client"]
    overdue = client.get("/api/plans/", {"overdue": "true"}).json()
    assert [p["municipality"] for p in overdue["results"]] == ["CAL"]
    assert overdue["results"][0]["sla"]["overdue"] is True and overdue["results"][0]["sla"]["days_left"] == -3
    on_time = client.get("/api/plans/", {"overdue": "false"}).json()
    assert [p["municipality"] for p in on_time["results"]] == ["WRK"]
    refused = client.get("/api/plans/", {"overdue": "maybe"})
    assert refused.status_code == 400 and refused.json()["detail"].startswith("overdue:")
