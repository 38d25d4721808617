"""Approval: an approved plan becomes parcels, in one transaction, through the one writer of parcel state.

Plan numbers are MUNICIPALITY-YEAR-NNNN (e.g. RUH-2026-0007), numbered per municipality and calendar
year (local time) in the order of approval. The parcels an approved plan creates are coded
``<plan number>-<lot number>`` for lots (characters a URL cannot carry become "_"), and
``<plan number>-R<n>``, ``-OS<n>``, ``-U<n>`` for its roads, open spaces and utility sites, numbered
from 1 in the order of the plan file.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.utils import timezone

from gisportal.errors import Conflict
from parcels.models import LandUse, Municipality, Parcel, RecordKind
from parcels.services import NewParcel, record_apply, record_create
from subdivision.models import Plan, PlanFeature
from subdivision.services import finding_rows, report_json, revalidate

KIND_LAND_USE = {"road": LandUse.ROAD, "open_space": LandUse.OPEN_SPACE, "utility": LandUse.PUBLIC_FACILITY}
KIND_PREFIX = {"road": "R", "open_space": "OS", "utility": "U"}
_NOT_IN_A_CODE = re.compile(r"[^A-Za-z0-9._-]")


class PlanInvalidNow(Conflict):
    """The plan no longer validates against the registry as it is now (a parent retired meanwhile, a
    neighbour changed); the answer carries the fresh report."""

    code = "PlanInvalid"


def next_plan_number(municipality: Municipality, at: datetime) -> str:
    """Return the next plan number of MUNICIPALITY for AT's year; the caller holds the municipality's lock."""
    prefix = f"{municipality.code}-{timezone.localtime(at).year}-"
    taken = Plan.objects.filter(municipality=municipality, plan_number__startswith=prefix).values_list(
        "plan_number", flat=True)
    last = max((int(n[len(prefix):]) for n in taken if n[len(prefix):].isdigit()), default=0)
    return f"{prefix}{last + 1:04d}"


def lot_parcel_code(plan_number: str, lot_no: str) -> str:
    return f"{plan_number}-{_NOT_IN_A_CODE.sub('_', lot_no)}"


def new_parcels(plan: Plan, plan_number: str) -> list[NewParcel]:
    """Return the parcels the plan's current version creates: its lots, roads, open spaces and utility sites."""
    counters: dict[str, int] = {}
    out = []
    for feature in PlanFeature.objects.filter(plan=plan, version=plan.version).order_by("index"):
        geom = feature.geom if feature.geom.geom_type == "MultiPolygon" else MultiPolygon(
            GEOSGeometry(feature.geom.wkb, srid=feature.geom.srid), srid=feature.geom.srid)
        if feature.kind == "lot":
            code = lot_parcel_code(plan_number, feature.lot_no or str(feature.index + 1))
            land_use = feature.land_use if feature.land_use in LandUse.values else plan.land_use
            parcel_no = feature.lot_no
        else:
            counters[feature.kind] = counters.get(feature.kind, 0) + 1
            code = f"{plan_number}-{KIND_PREFIX[feature.kind]}{counters[feature.kind]}"
            land_use, parcel_no = KIND_LAND_USE[feature.kind], ""
        out.append(NewParcel(parcel_code=code, geom=geom, land_use=land_use, plan_no=plan_number,
                             parcel_no=parcel_no, stated_area_m2=feature.stated_area_m2))
    return out


def approve(*, plan: Plan, by, at: datetime) -> list[Parcel]:
    """Turn PLAN (locked by the caller) into parcels: lock the municipality (plan numbers) and the parents,
    re-validate against the registry as it is now, give the plan its number, apply its record.

    Two approvals over the same parent: the second waits
    for the first's locks, then finds the parent retired and answers PlanInvalidNow (409); nothing of
    it is written.
    """
    # FOR NO KEY UPDATE: serialises plan numbers without blocking parcel inserts that reference the row.
    municipality = Municipality.objects.select_for_update(no_key=True).get(pk=plan.municipality_id)
    parents = list(Parcel.objects.select_for_update().filter(plans=plan).order_by("pk"))
    refuse_if_invalid(plan, revalidate(plan, parents))
    number = next_plan_number(municipality, at)
    record = record_create(municipality=municipality, reference=f"plan {number}", kind=RecordKind.PLAN, at=at)
    children = record_apply(record=record, retire=parents, create=new_parcels(plan, number), at=at,
                            source=f"plan {number}", by=by)
    plan.plan_number, plan.record = number, record
    return children


def refuse_if_invalid(plan: Plan, check) -> None:
    """Raise PlanInvalidNow, with the fresh report, when CHECK (a services.PlanCheck) has errors."""
    if check.report.valid:
        return
    report = report_json(check, finding_rows(check.report.findings, check.municipality.metric_srid))
    errors = sum(1 for f in check.report.findings if f.severity == "error")
    raise PlanInvalidNow(f"plan {plan.pk} does not validate against the parcels as they are now: {errors} "
                         f"error(s); see report", extra={"report": report})
