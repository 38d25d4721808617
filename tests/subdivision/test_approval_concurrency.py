"""Two approvals over the same parent at the same moment, on two real database connections: exactly one
succeeds, the other gets 409 (Conflict), and the parcels stay consistent."""

import threading

import pytest
from django.db import connection, connections

from gisportal.errors import Conflict
from parcels.models import Parcel, ParcelStatus, ParcelVersion
from subdivision import approval, transitions
from subdivision.models import Plan, SurveyingOffice
from subdivision.services import plan_create
from tests.parcels.factories import make_parcel, rect, riyadh
from tests.subdivision.valid_plans import PLANNER, SURVEYOR, plan_geojson, user

pytestmark = pytest.mark.django_db(transaction=True)


def _under_review(surveyor, planner, title: str) -> Plan:
    plan = plan_create(user=surveyor, title=title, upload=plan_geojson(), filename="p.geojson", municipality="RUH",
                       parents="P-1")
    transitions.plan_act(user=surveyor, plan_id=plan.pk, action="submit")
    transitions.plan_act(user=planner, plan_id=plan.pk, action="assign")
    return plan


def _backend_waits_for_a_lock(pid: int, timeout_s: float = 20.0) -> bool:
    """Return True once backend PID waits on a lock (pg_stat_activity), False after TIMEOUT_S."""
    import time

    deadline = time.monotonic() + timeout_s
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
            if row and row[0] == "Lock":
                return True
            time.sleep(0.02)
    return False


def test_two_approvals_over_one_parent_one_wins_the_other_is_409(monkeypatch):
    municipality = riyadh()
    make_parcel(municipality, "P-1", rect(0, 0, 88, 40))
    office = SurveyingOffice.objects.create(code="OFF", name_en="Office")
    surveyor, planner = user("sam", SURVEYOR, office=office), user("pat", PLANNER, municipalities=[municipality])
    first, second = (_under_review(surveyor, planner, t) for t in ("first", "second"))

    # The first approval stops after writing its parcels, before committing, until told to go on; the
    # second starts meanwhile on its own connection and must wait for the first's locks.
    written, go_on = threading.Event(), threading.Event()
    original = approval.record_apply

    def record_apply_then_hold(**kwargs):
        children = original(**kwargs)
        if threading.current_thread().name == "first":
            written.set()
            assert go_on.wait(30)
        return children

    monkeypatch.setattr(approval, "record_apply", record_apply_then_hold)
    outcome, pids = {}, {}

    def approve(plan: Plan, name: str):
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids[name] = cursor.fetchone()[0]
            transitions.plan_act(user=planner, plan_id=plan.pk, action="approve")
            outcome[name] = "approved"
        except Conflict as exc:
            outcome[name] = exc
        finally:
            connections.close_all()

    a = threading.Thread(target=approve, args=(first, "first"), name="first")
    a.start()
    assert written.wait(30)
    b = threading.Thread(target=approve, args=(second, "second"), name="second")
    b.start()
    while "second" not in pids:
        threading.Event().wait(0.01)
    assert _backend_waits_for_a_lock(pids["second"]), "the second approval did not wait for the first's locks"
    go_on.set()
    a.join(60)
    b.join(60)

    assert outcome["first"] == "approved"
    assert isinstance(outcome["second"], Conflict) and outcome["second"].http_status == 409
    assert "P-1" in str(outcome["second"].extra["report"]["findings"]) or "retired" in outcome["second"].message
    # Consistent: one plan approved, its five parcels active, the parent retired once, the other plan untouched.
    assert Plan.objects.get(pk=first.pk).status == "approved"
    loser = Plan.objects.get(pk=second.pk)
    assert loser.status == "under_review" and loser.plan_number is None and loser.record_id is None
    assert loser.events.count() == 3
    parent = Parcel.objects.get(parcel_code="P-1")
    assert parent.status == ParcelStatus.RETIRED and parent.version == 2
    assert ParcelVersion.objects.filter(parcel=parent).count() == 1
    number = Plan.objects.get(pk=first.pk).plan_number
    active = set(Parcel.objects.filter(status=ParcelStatus.ACTIVE).values_list("parcel_code", flat=True))
    assert active == {f"{number}-{n}" for n in ("1", "2", "3", "4", "R1")}
