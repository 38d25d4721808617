"""Every change to a parcel is kept, and the parcels of any past date can be asked for."""

from datetime import datetime, timezone

import pytest

from parcels.models import ParcelStatus, ParcelVersion
from parcels.services import parcel_update, parcels_retire, record_create
from tests.parcels.factories import make_parcel, metric_to_storage, rect, riyadh

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 1, 10, 9, 0, tzinfo=timezone.utc)
T1 = datetime(2025, 6, 1, 9, 0, tzinfo=timezone.utc)
T2 = datetime(2025, 9, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def city(planner):
    municipality = riyadh()
    a = make_parcel(municipality, "82-1-1", rect(0, 0, 20, 30), plan_no="82", block_no="1", parcel_no="1", at=T0)
    b = make_parcel(municipality, "82-1-2", rect(20, 0, 20, 30), plan_no="82", block_no="1", parcel_no="2", at=T0)
    # On T1, parcel 1 grows by 5 m into a new shape and becomes commercial; on T2 parcel 2 is retired.
    parcel_update(parcel=a, at=T1, geom=metric_to_storage(rect(0, 0, 25, 30)), land_use="commercial",
                  source="boundary correction")
    parcels_retire(parcels=[b], at=T2, source="test")
    return municipality


def _get(api_client, planner, **params):
    api_client.force_authenticate(planner)
    response = api_client.get("/api/parcels/", {"municipality": "RUH", **params} if "municipality" not in params
                              else params)
    assert response.status_code == 200, response.content
    return {f["properties"]["parcel_code"]: f["properties"] for f in response.json()["features"]}


def test_as_of_returns_parcels_as_they_were_before_a_change(city, api_client, planner):
    before = _get(api_client, planner, as_of="2025-05-31")
    assert set(before) == {"82-1-1", "82-1-2"}
    assert before["82-1-1"]["land_use"] == "residential"
    assert before["82-1-1"]["area_m2"] == pytest.approx(600, abs=0.01)
    assert before["82-1-1"]["version"] == 1

    after_change = _get(api_client, planner, as_of="2025-06-02")
    assert after_change["82-1-1"]["land_use"] == "commercial"
    assert after_change["82-1-1"]["area_m2"] == pytest.approx(750, abs=0.01)
    assert set(after_change) == {"82-1-1", "82-1-2"}

    after_retirement = _get(api_client, planner, as_of="2025-09-02")
    assert set(after_retirement) == {"82-1-1"}
    assert set(_get(api_client, planner)) == {"82-1-1"}
    assert set(_get(api_client, planner, status="retired")) == {"82-1-2"}


def test_before_the_parcels_existed_there_are_none(city, api_client, planner):
    assert _get(api_client, planner, as_of="2023-12-31") == {}


def test_history_lists_every_version_newest_first(city, api_client, planner):
    api_client.force_authenticate(planner)
    body = api_client.get("/api/parcels/RUH/82-1-2/history/").json()
    versions = [(f["properties"]["version"], f["properties"]["change"], f["properties"]["status"])
                for f in body["features"]]
    assert versions == [(2, "retired", "retired"), (1, "created", "active")]
    first, = [f for f in body["features"] if f["properties"]["version"] == 1]
    assert first["properties"]["valid_to"].startswith("2025-09-01")


def test_states_follow_each_other_without_gap_or_overlap(city):
    from parcels.models import Parcel

    for parcel in Parcel.objects.all():
        versions = list(ParcelVersion.objects.filter(parcel=parcel).order_by("version"))
        assert [v.version for v in versions] == list(range(1, parcel.version))
        for older, newer in zip(versions, versions[1:]):
            assert older.valid_to == newer.valid_from
        assert versions[-1].valid_to == parcel.updated_at


def test_a_retired_parcel_cannot_be_changed(city):
    from gisportal.errors import Conflict
    from parcels.models import Parcel

    retired = Parcel.objects.get(parcel_code="82-1-2")
    assert retired.status == ParcelStatus.RETIRED
    with pytest.raises(Conflict, match="retired"):
        parcel_update(parcel=retired, land_use="commercial")


def test_lineage_walks_from_parents_to_children_and_back(api_client, planner, surveyor):
    from subdivision.models import Plan

    municipality = riyadh("RUX")
    parent_a = make_parcel(municipality, "90-0-1", rect(0, 0, 40, 30), at=T0)
    parent_b = make_parcel(municipality, "90-0-2", rect(40, 0, 40, 30), at=T0)
    plan = Plan.objects.create(municipality=municipality, title="merge and resubdivide", submitted_by=surveyor,
                               source_name="plan.geojson", source_format="geojson", source_srid=32638)
    plan.record = record_create(municipality=municipality, reference=f"plan {plan.pk}", at=T1)
    plan.save(update_fields=["record"])
    parcels_retire(parcels=[parent_a, parent_b], at=T1, retired_by_record=plan.record, source="plan")
    for i in range(4):
        make_parcel(municipality, f"91-1-{i + 1}", rect(i * 20, 0, 20, 30), at=T1, created_by_record=plan.record)

    api_client.force_authenticate(planner)
    child = api_client.get("/api/parcels/RUX/91-1-3/").json()["properties"]["lineage"]
    assert child["parents"] == ["90-0-1", "90-0-2"] and child["created_by_plan"] == plan.pk
    parent = api_client.get("/api/parcels/RUX/90-0-2/").json()["properties"]
    assert parent["status"] == "retired"
    assert parent["lineage"]["children"] == ["91-1-1", "91-1-2", "91-1-3", "91-1-4"]
    assert parent["lifetime"]["to"].startswith("2025-06-01")
    # Before the plan the parents were the parcels there; after it, the children.
    before = _get(api_client, planner, municipality="RUX", as_of="2025-05-31")
    after = _get(api_client, planner, municipality="RUX", as_of="2025-06-02")
    assert set(before) == {"90-0-1", "90-0-2"}
    assert set(after) == {"91-1-1", "91-1-2", "91-1-3", "91-1-4"}
