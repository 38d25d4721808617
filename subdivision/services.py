"""Writes for subdivision plans: check an upload, and store it with its report in one transaction."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from django.db import transaction

from gisportal import crs
from gisportal.accounts.roles import SURVEYOR, has_role
from gisportal.copy import copy_rows, ewkb_hex, json_text
from gisportal.errors import Forbidden, InvalidParameter, PlatformError
from parcels.models import LandUse, Municipality, Parcel
from subdivision.engine import (
    Budget,
    BudgetExceeded,
    Finding,
    PlanContext,
    Report,
    TooComplex,
    validate,
)
from subdivision.models import (
    Plan,
    PlanEvent,
    PlanFeature,
    PlanFinding,
    PlanStatus,
    PlanVersion,
    SurveyingOffice,
)
from subdivision.plan_context import (
    build_context,
    municipality_get,
    parents_get,
    parse_parent_codes,
)
from subdivision.plan_files import Limits, RawFeature, RawPlan, read_plan

LOCATION_PRECISION = 7
# A report answer lists at most this many findings of each code; all of them page through /findings/.
FINDINGS_PER_CODE = 50
MAX_TITLE_CHARS = Plan._meta.get_field("title").max_length
FINDING_COLUMNS = ("plan", "version", "seq", "code", "severity", "message_en", "message_ar", "features", "features_total",
                   "value", "limit", "location", "correction", "correction_note", "correction_note_ar")
FEATURE_COLUMNS = ("plan", "version", "index", "kind", "lot_no", "stated_area_m2", "area_m2", "land_use", "finding_codes",
                   "geom")


class PlanTooComplex(PlatformError):
    http_status = 422
    code = "PlanTooComplex"


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
               land_use: str = LandUse.RESIDENTIAL, budget: Budget | None = None,
               dxf_layers: dict | None = None, label_layers: list | None = None, units: str | None = None) -> PlanCheck:
    """Read the uploaded plan, load what it touches from the registry and validate it, within the time budget.

    DXF only: `dxf_layers` (layer -> kind) replaces the GISPORTAL_DXF_LAYERS setting for this upload,
    `label_layers` names the layers whose texts are lot numbers and `units` overrides $INSUNITS."""
    if land_use not in LandUse.values:
        raise InvalidParameter(f"land_use: {land_use!r} is not one of {', '.join(LandUse.values)}")
    budget = budget or Budget(settings.PLAN_VALIDATION_BUDGET_S)
    place = municipality_get(municipality)
    parent_parcels = parents_get(place, parse_parent_codes(parents))
    raw = read_plan(upload, filename=filename, srid=srid, limits=upload_limits(),
                    dxf_layers=dxf_layers or settings.PLAN_DXF_LAYERS or None, label_layers=label_layers, units=units)
    return check_raw(raw, municipality=place, parents=parent_parcels, land_use=land_use, budget=budget)


def check_raw(raw: RawPlan, *, municipality: Municipality, parents: list[Parcel], land_use: str,
              budget: Budget) -> PlanCheck:
    """Place a plan read from a file (or from storage) among the registry's parcels and validate it."""
    try:
        budget.check("reading the file")
        context = build_context(raw=raw, municipality=municipality, parents=parents, land_use=land_use)
        budget.check("loading the parcels and streets around the plan")
        report = validate(context, budget=budget)
    except BudgetExceeded as exc:
        raise PlanTooComplex(
            f"file: {exc} (GISPORTAL_PLAN_VALIDATION_BUDGET_S); split the plan into smaller ones or fix what "
            "makes it slow (features stacked on each other, huge polygons)") from None
    except TooComplex as exc:
        raise PlanTooComplex(f"file: {exc}") from None
    return PlanCheck(municipality, parents, raw, context, report, land_use)


def locations_geojson(geoms: list, metric_srid: int) -> list[str | None]:
    """Return each finding location as GeoJSON geometry text in EPSG:4326 (None where there is none).

    Coordinates are rounded one by one to LOCATION_PRECISION decimals (about 1 cm) in the same pass
    as the transform, never snapped as a whole: snap rounding breaks on slivers (a 4 cm-wide road
    piece, valid in metres, self-intersects in degrees and GEOS raises), and one awkward location
    must not lose the report. A location that cannot be placed (non-finite) is left out.
    """
    arr = _array(geoms)
    out: list[str | None] = [None] * len(arr)
    idx = np.flatnonzero(~shapely.is_missing(arr) & ~shapely.is_empty(arr))
    if not len(idx):
        return out
    to_wgs84 = crs.transformer(metric_srid, crs.WGS84)
    rounded = shapely.transform(arr[idx], lambda xy: np.round(
        np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1])), LOCATION_PRECISION))
    finite = np.isfinite(shapely.bounds(rounded)).all(axis=1)
    for i, text, ok in zip(idx, shapely.to_geojson(rounded), finite):
        if ok:
            out[i] = text
    return out


CORRECTABLE_CODES = frozenset({"GAP", "OVERLAP", "SLIVER", "OUTSIDE_PARENT", "CORNER_TRUNCATION"})


def _corrections_json(findings: list[Finding], metric_srid: int) -> list[dict | None]:
    """Return each finding's correction as JSON (geometries GeoJSON in EPSG:4326), None where it has none."""
    corrected = [(k, cf) for k, f in enumerate(findings) if f.correction is not None for cf in f.correction.features]
    texts = locations_geojson([cf.geom for _, cf in corrected], metric_srid)
    out: list[dict | None] = [None] * len(findings)
    for (k, cf), text in zip(corrected, texts):
        if out[k] is None:
            out[k] = {"features": [], "max_displacement_m": round(float(findings[k].correction.max_displacement_m), 3)}
        out[k]["features"].append({"label": cf.label, "geometry": None if text is None else json.loads(text)})
    return out


def finding_rows(findings: list[Finding], metric_srid: int) -> list[dict]:
    """Return every finding as a row to store or answer, its location GeoJSON text in EPSG:4326; findings a
    correction could close carry ``correction`` (or None and ``correction_note`` saying why)."""
    locations = locations_geojson([f.location for f in findings], metric_srid)
    corrections = _corrections_json(findings, metric_srid)
    return [{
        "code": f.code, "severity": f.severity,
        "message_en": f.message_en, "message_ar": f.message_ar,
        "features": list(f.features), **({"features_total": f.features_total} if f.features_total else {}),
        "location": location,
        "value": None if f.value is None or not math.isfinite(f.value) else round(float(f.value), 3),
        "limit": None if f.limit is None else float(f.limit),
        **({"correction": correction,
            **({"correction_note": f.correction_note} if f.correction_note else {}),
            **({"correction_note_ar": f.correction_note_ar} if f.correction_note_ar else {})}
           if f.code in CORRECTABLE_CODES else {}),
    } for f, location, correction in zip(findings, locations, corrections)]


def finding_json(row: dict) -> dict:
    """Return a finding row as the API answers it (its location parsed)."""
    return {**row, "location": None if row["location"] is None else json.loads(row["location"])}


def report_json(check: PlanCheck, findings: list[dict], *, findings_url: str | None = None) -> dict:
    """Return the report answer: summary, counts by code, and at most FINDINGS_PER_CODE findings of each."""
    metric = check.municipality.metric_srid
    counts = Counter(f["code"] for f in findings)
    seen: Counter = Counter()
    shown = []
    for f in findings:
        seen[f["code"]] += 1
        if seen[f["code"]] <= FINDINGS_PER_CODE:
            shown.append(finding_json(f))
    return {
        "valid": check.report.valid,
        "summary": check.report.summary,
        "crs": {"measurements": f"EPSG:{metric}", "source": f"EPSG:{check.raw.srid}", "locations": "EPSG:4326"},
        "finding_counts": dict(counts),
        "findings_total": len(findings),
        "findings_per_code_shown": FINDINGS_PER_CODE,
        "findings_url": findings_url,
        "findings": shown,
        **({"skipped": dict(check.raw.skipped)} if getattr(check.raw, "skipped", None) else {}),
    }


def _require_surveyor(user) -> None:
    if not has_role(user, SURVEYOR):
        raise Forbidden("only surveyors may submit subdivision plans")


def plan_validate(*, user, **upload) -> dict:
    """Return the report of an uploaded plan without storing anything."""
    _require_surveyor(user)
    check = plan_check(**upload)
    return report_json(check, finding_rows(check.report.findings, check.municipality.metric_srid))


def clean_title(raw: str | None) -> str:
    title = (raw or "").strip()
    if not title:
        raise InvalidParameter("title: a plan needs a title")
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidParameter(f"title: {len(title):,} characters, at most {MAX_TITLE_CHARS} are allowed")
    return title


def _array(geoms: list) -> np.ndarray:
    out = np.empty(len(geoms), dtype=object)
    out[:] = geoms
    return out


def _feature_codes(findings: list[dict]) -> dict[str, list[str]]:
    """Return, for each feature label, the sorted codes of the findings that name it."""
    by_label: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        for label in f["features"]:
            by_label[label].add(f["code"])
    return {label: sorted(codes) for label, codes in by_label.items()}


def _office_of_uploader(user) -> SurveyingOffice:
    office = SurveyingOffice.objects.filter(members__user=user).first()
    if office is None and not user.is_superuser:
        raise Forbidden("you belong to no surveying office: an administrator must add you to one before you "
                        "upload plans")
    return office


@transaction.atomic
def plan_create(*, user, title: str, **upload) -> Plan:
    """Store an uploaded plan as a draft of the uploader's office: version 1, with its features, every
    finding and a capped report, and the first event of its history."""
    _require_surveyor(user)
    title = clean_title(title)
    office = _office_of_uploader(user)
    check = plan_check(**upload)
    plan = Plan.objects.create(
        municipality=check.municipality, title=title, land_use=check.land_use, submitted_by=user, office=office,
        source_name=upload["filename"][:255], source_format=check.raw.format, source_srid=check.raw.srid,
        status=PlanStatus.DRAFT, version=1,
    )
    plan.parents.set(check.parents)
    version_store(plan=plan, number=1, check=check, user=user, filename=upload["filename"])
    PlanEvent.objects.create(plan=plan, at=plan.created_at, actor=user, action="create", from_status="",
                             to_status=PlanStatus.DRAFT, version=1)
    return plan


def version_store(*, plan: Plan, number: int, check: PlanCheck, user, filename: str) -> PlanVersion:
    """Store version NUMBER of PLAN: its features, every finding, its report; the plan shows it as current."""
    findings = finding_rows(check.report.findings, check.municipality.metric_srid)
    report = report_json(check, findings, findings_url=f"/api/plans/{plan.pk}/findings/")
    listed = {"valid": check.report.valid, "summary": report["summary"], "finding_counts": report["finding_counts"],
              "findings_total": report["findings_total"], "report": report}
    version = PlanVersion.objects.create(
        plan=plan, number=number, uploaded_by=user, source_name=filename[:255], source_format=check.raw.format,
        source_srid=check.raw.srid, **listed)
    for name, value in {**listed, "version": number, "source_name": filename[:255],
                        "source_format": check.raw.format, "source_srid": check.raw.srid}.items():
        setattr(plan, name, value)
    plan.save()
    copy_rows(PlanFinding, FINDING_COLUMNS, (
        (plan.pk, number, i, f["code"], f["severity"], f["message_en"], f["message_ar"], json_text(f["features"]),
         f.get("features_total"), f["value"], f["limit"], f["location"],
         None if f.get("correction") is None else json_text(f["correction"]), f.get("correction_note") or "",
         f.get("correction_note_ar") or "")
        for i, f in enumerate(findings)), text_columns=("message_en", "message_ar", "correction_note",
                                                          "correction_note_ar"))
    codes = _feature_codes(findings)
    storage = settings.STORAGE_SRID
    stored = shapely.to_wkb(crs.transform(_array([f.geom for f in check.raw.features]), check.raw.srid, storage),
                            output_dimension=2)
    metric_areas = shapely.area(_array([f.geom for f in check.context.features]))
    codes_text = {label: json_text(found) for label, found in codes.items()}
    copy_rows(PlanFeature, FEATURE_COLUMNS, (
        (plan.pk, number, f.index, f.kind, f.lot_no or "", f.stated_area, round(float(area), 2), f.land_use or "",
         codes_text.get(c.label, "[]"), ewkb_hex(wkb, storage))
        for f, c, wkb, area in zip(check.raw.features, check.context.features, stored, metric_areas)
    ), text_columns=("kind", "lot_no", "land_use"))
    return version


def stored_plan(plan: Plan) -> RawPlan:
    """Return the current version of PLAN as the readers would give it, from its stored features."""
    rows = plan.features.filter(version=plan.version).order_by("index").values_list(
        "kind", "lot_no", "geom", "stated_area_m2", "land_use", "index")
    features = tuple(
        RawFeature(kind=kind, lot_no=lot_no or None, geom=shapely.from_wkb(bytes(geom.wkb)), stated_area=stated,
                   land_use=land_use or None, index=index)
        for kind, lot_no, geom, stated, land_use, index in rows)
    return RawPlan(format="stored", srid=settings.STORAGE_SRID, features=features)


def revalidate(plan: Plan, parents: list[Parcel]) -> PlanCheck:
    """Validate the plan's current version again, against the registry as it is now."""
    return check_raw(stored_plan(plan), municipality=plan.municipality, parents=parents, land_use=plan.land_use,
                     budget=Budget(settings.PLAN_VALIDATION_BUDGET_S))
