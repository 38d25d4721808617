"""Writes for subdivision plans: check an upload, and store it with its report in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction

from gisportal.accounts.roles import SURVEYOR, has_role
from gisportal.errors import Forbidden, InvalidParameter
from parcels import crs
from parcels.models import LandUse, Municipality, Parcel
from subdivision.engine import Finding, PlanContext, Report, validate
from subdivision.models import Plan, PlanFeature, PlanStatus
from subdivision.plan_context import (
    build_context,
    municipality_get,
    parents_get,
    parse_parent_codes,
)
from subdivision.plan_files import Limits, RawPlan, read_plan

LOCATION_PRECISION = 7


@dataclass
class PlanCheck:
    """An uploaded plan read, placed and validated, not yet stored."""

    municipality: Municipality
    parents: list[Parcel]
    raw: RawPlan
    context: PlanContext  # the plan's features already in the metric CRS
    report: Report
    land_use: str


def upload_limits() -> Limits:
    return Limits(max_upload_bytes=settings.PLAN_UPLOAD_MAX_BYTES,
                  max_uncompressed_bytes=settings.PLAN_UNCOMPRESSED_MAX_BYTES)


def plan_check(*, upload, filename: str, municipality: str, parents: str, srid: int | None = None,
               land_use: str = LandUse.RESIDENTIAL) -> PlanCheck:
    """Read the uploaded plan, load what it touches from the registry and validate it."""
    if land_use not in LandUse.values:
        raise InvalidParameter(f"land_use: {land_use!r} is not one of {', '.join(LandUse.values)}")
    place = municipality_get(municipality)
    parent_parcels = parents_get(place, parse_parent_codes(parents))
    raw = read_plan(upload, filename=filename, srid=srid, limits=upload_limits(),
                    dxf_layers=settings.PLAN_DXF_LAYERS or None)
    context = build_context(raw=raw, municipality=place, parents=parent_parcels, land_use=land_use)
    return PlanCheck(place, parent_parcels, raw, context, validate(context), land_use)


def finding_json(finding: Finding, metric_srid: int) -> dict:
    location = None
    if finding.location is not None and not finding.location.is_empty:
        location = shapely.geometry.mapping(shapely.set_precision(
            crs.transform(finding.location, metric_srid, crs.WGS84), 10 ** -LOCATION_PRECISION))
    return {
        "code": finding.code, "severity": finding.severity,
        "message_en": finding.message_en, "message_ar": finding.message_ar,
        "features": list(finding.features), "location": location,
        "value": None if finding.value is None else round(float(finding.value), 3),
        "limit": None if finding.limit is None else float(finding.limit),
    }


def report_json(check: PlanCheck) -> dict:
    metric = check.municipality.metric_srid
    return {
        "valid": check.report.valid,
        "summary": check.report.summary,
        "crs": {"measurements": f"EPSG:{metric}", "source": f"EPSG:{check.raw.srid}", "locations": "EPSG:4326"},
        "findings": [finding_json(f, metric) for f in check.report.findings],
    }


def _require_surveyor(user) -> None:
    if not has_role(user, SURVEYOR):
        raise Forbidden("only surveyors may submit subdivision plans")


def plan_validate(*, user, **upload) -> dict:
    """Return the report of an uploaded plan without storing anything."""
    _require_surveyor(user)
    return report_json(plan_check(**upload))


@transaction.atomic
def plan_create(*, user, title: str, **upload) -> Plan:
    """Store an uploaded plan as a draft, with its features and report."""
    _require_surveyor(user)
    title = (title or "").strip()
    if not title:
        raise InvalidParameter("title: a plan needs a title")
    check = plan_check(**upload)
    plan = Plan.objects.create(
        municipality=check.municipality, title=title[:200], land_use=check.land_use, submitted_by=user,
        source_name=upload["filename"][:255], source_format=check.raw.format, source_srid=check.raw.srid,
        valid=check.report.valid, report=report_json(check), status=PlanStatus.DRAFT,
    )
    plan.parents.set(check.parents)
    storage = settings.STORAGE_SRID
    source = np.empty(len(check.raw.features), dtype=object)
    source[:] = [f.geom for f in check.raw.features]
    stored = crs.transform(source, check.raw.srid, storage)
    metric = [f.geom for f in check.context.features]
    PlanFeature.objects.bulk_create([
        PlanFeature(plan=plan, index=f.index, kind=f.kind, lot_no=f.lot_no or "", stated_area_m2=f.stated_area,
                    area_m2=round(float(m.area), 2), land_use=f.land_use or "",
                    geom=GEOSGeometry(memoryview(shapely.to_wkb(g)), srid=storage))
        for f, g, m in zip(check.raw.features, stored, metric)
    ], batch_size=2000)
    return plan
