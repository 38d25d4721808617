"""The approval workflow end to end over HTTP (a live server on loopback, API tokens, the requests library):
upload, submit, assign, return, resubmit with its diff, approve, and the new parcels in the parcels API."""

import pytest
import requests
from django.core import mail

from gisportal.accounts.services import api_token_create
from parcels.models import Parcel, ParcelStatus
from subdivision.models import PlanEvent, SurveyingOffice
from tests.parcels.factories import make_parcel, rect, riyadh
from tests.subdivision.valid_plans import PLANNER, SURVEYOR, plan_geojson, user

pytestmark = pytest.mark.django_db(transaction=True)


class Api:
    """A caller of the live server with an API token."""

    def __init__(self, base: str, person):
        self.base, self.session = base, requests.Session()
        self.session.headers["Authorization"] = f"Token {api_token_create(user=person)}"

    def get(self, path, **kw):
        return self.session.get(self.base + path, timeout=60, **kw)

    def post(self, path, **kw):
        return self.session.post(self.base + path, timeout=60, **kw)


@pytest.fixture
def people(db):
    municipality = riyadh()
    make_parcel(municipality, "P-1", rect(0, 0, 88, 40), plan_no="P", parcel_no="1", zone_code="R1")
    office = SurveyingOffice.objects.create(code="OFF-A", name_en="Office A")
    return {
        "municipality": municipality,
        "surveyor": user("sam", SURVEYOR, office=office),
        "planner": user("pat", PLANNER, municipalities=[municipality]),
    }


def upload(api: Api, content: bytes, path="/api/plans/", **fields):
    data = {"municipality": "RUH", "parents": "P-1", "title": "Al-Malqa subdivision", **fields}
    return api.post(path, data=data, files={"file": ("plan.geojson", content, "application/geo+json")})


def test_a_plan_goes_from_upload_to_parcels(live_server, people):
    surveyor, planner = Api(live_server.url, people["surveyor"]), Api(live_server.url, people["planner"])

    created = upload(surveyor, plan_geojson())
    assert created.status_code == 201, created.text
    plan_id = created.json()["id"]
    detail = surveyor.get(f"/api/plans/{plan_id}/").json()
    assert detail["status"] == "draft" and detail["office"] == "OFF-A" and detail["version"] == 1
    assert detail["actions"] == ["submit", "withdraw"]
    assert detail["sla"]["days_used"] == 0 and detail["sla"]["running"] is False

    # The surveyor cannot approve; the planner cannot submit the office's plan.
    assert surveyor.post(f"/api/plans/{plan_id}/approve/").status_code == 403
    assert planner.post(f"/api/plans/{plan_id}/submit/").status_code == 403

    submitted = surveyor.post(f"/api/plans/{plan_id}/submit/")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted" and submitted.json()["sla"]["running"] is True
    assert [m.to for m in mail.outbox] == [["pat@example.org"]]
    assert "Plan" in mail.outbox[0].body and "المخطط" in mail.outbox[0].body

    assigned = planner.post(f"/api/plans/{plan_id}/assign/", json={})
    assert assigned.json()["status"] == "under_review" and assigned.json()["assigned_to"] == "pat"
    assert set(assigned.json()["actions"]) == {"assign", "return", "approve", "reject"}

    no_reason = planner.post(f"/api/plans/{plan_id}/return/", json={})
    assert no_reason.status_code == 400 and no_reason.json()["detail"].startswith("comment:")
    returned = planner.post(f"/api/plans/{plan_id}/return/", json={"comment": "Widen lot 1 to 24 m"})
    assert returned.json()["status"] == "returned" and returned.json()["sla"]["running"] is False
    assert mail.outbox[-1].to == ["sam@example.org"] and "Widen lot 1" in mail.outbox[-1].body

    # A returned plan cannot be approved: 409 and nothing changes.
    illegal = planner.post(f"/api/plans/{plan_id}/approve/")
    assert illegal.status_code == 409 and illegal.json()["code"] == "Conflict"
    assert surveyor.get(f"/api/plans/{plan_id}/").json()["status"] == "returned"

    resubmitted = upload(surveyor, plan_geojson(widths=(24, 20.5, 21.5, 22)), path=f"/api/plans/{plan_id}/resubmit/",
                         comment="Lot 1 widened")
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["status"] == "resubmitted" and resubmitted.json()["version"] == 2
    versions = planner.get(f"/api/plans/{plan_id}/versions/").json()
    assert [v["number"] for v in versions] == [1, 2]

    diff = planner.get(f"/api/plans/{plan_id}/versions/2/diff/")
    assert diff.status_code == 200, diff.text
    reshaped = {lot["lot_no"]: lot for lot in diff.json()["lots"]["reshaped"]}
    assert sorted(reshaped) == ["1", "2", "3"]
    assert reshaped["1"]["area_before_m2"] == pytest.approx(22 * 26, abs=0.05)
    assert reshaped["1"]["area_after_m2"] == pytest.approx(24 * 26, abs=0.05)
    assert diff.json()["lots"]["added"] == [] and diff.json()["lots"]["removed"] == []
    # Version 1 is still readable, with its own features.
    v1 = planner.get(f"/api/plans/{plan_id}/features/?version=1").json()
    lot1 = next(f for f in v1["features"] if f["properties"]["lot_no"] == "1")
    assert lot1["properties"]["area_m2"] == pytest.approx(572, abs=0.05)

    approved = planner.post(f"/api/plans/{plan_id}/approve/", json={"comment": "Conforms"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved" and body["plan_number"].startswith("RUH-") and body["actions"] == []
    number = body["plan_number"]

    # The new parcels are in the parcels API at once; the parent is retired, with lineage both ways.
    lot1 = planner.get(f"/api/parcels/RUH/{number}-1/").json()
    assert lot1["properties"]["area_m2"] == pytest.approx(24 * 26, abs=0.05)
    assert lot1["properties"]["lineage"]["parents"] == ["P-1"]
    assert lot1["properties"]["lineage"]["created_by_plan"] == plan_id
    assert lot1["properties"]["zone_code"] == ""  # no zoning layer in this municipality
    parent = planner.get("/api/parcels/RUH/P-1/").json()
    assert parent["properties"]["status"] == "retired"
    assert sorted(parent["properties"]["lineage"]["children"]) == sorted(
        [f"{number}-{n}" for n in "1234"] + [f"{number}-R1"])
    road = Parcel.objects.get(parcel_code=f"{number}-R1")
    assert road.land_use == "road" and road.plan_no == number
    assert Parcel.objects.filter(status=ParcelStatus.ACTIVE).count() == 5
    history = planner.get("/api/parcels/RUH/P-1/history/")
    assert history.status_code == 200 and len(history.json()["features"]) >= 2

    actions = [e["action"] for e in planner.get(f"/api/plans/{plan_id}/history/").json()]
    assert actions == ["create", "submit", "assign", "return", "resubmit", "approve"]
    assert mail.outbox[-1].to == ["sam@example.org"] and number in mail.outbox[-1].body


def test_history_is_append_only_in_the_database(people):
    from django.db import DatabaseError, transaction

    from subdivision.models import Plan

    plan = Plan.objects.create(municipality=people["municipality"], title="t", submitted_by=people["surveyor"],
                               source_name="x", source_format="geojson", source_srid=4326)
    event = PlanEvent.objects.create(plan=plan, at=plan.created_at, actor=people["surveyor"], action="create",
                                     to_status="draft", version=1)
    for change in (lambda: PlanEvent.objects.filter(pk=event.pk).update(comment="rewritten"),
                   lambda: PlanEvent.objects.filter(pk=event.pk).delete()):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()
    assert PlanEvent.objects.get(pk=event.pk).comment == ""
