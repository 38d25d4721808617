"""Apply a plan's suggested corrections: answer the corrected file (?fix=snap), or store it as a new version.

The corrections themselves are computed by the engine (engine.corrections, rules.corners) with every
validation; here they are applied to the plan's features: the snapped ones first, then the corner cuts on the
lots as they are after snapping (``corners.cut_corners``), a cut lot's stated area following its cut. The
corrected plan is validated again, and a correction that adds a finding is left out (the others kept), so a fix
never makes a plan worse. The corrected plan is written in the format it came in (plan_files.writers), read back
and validated again, so the answer shows what the surveyor will get.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from pathlib import PurePath

import numpy as np
import shapely
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gisportal import crs
from gisportal.errors import Conflict, Forbidden
from subdivision import selectors, workflow
from subdivision.engine import Budget
from subdivision.engine.corrections import apply_corrections
from subdivision.engine.findings import Finding
from subdivision.models import PlanEvent, PlanStatus
from subdivision.plan_files import RawPlan, read_plan
from subdivision.plan_files.dxf import DEFAULT_LAYERS
from subdivision.plan_files.writers import LOT_NO_LAYER, write_plan
from subdivision.services import (
    PlanCheck,
    _require_surveyor,
    check_raw,
    finding_rows,
    plan_check,
    report_json,
    revalidate,
    upload_limits,
    version_store,
)
from subdivision.transitions import _locked_plan

FIXABLE_STATUSES = (PlanStatus.DRAFT, PlanStatus.RETURNED)
NEAR_M = 1.0  # a finding after the fix within this of one of the same code and features before is that one


@dataclass(frozen=True)
class CorrectedPlan:
    raw: RawPlan  # the plan with the corrections kept applied, in its own CRS
    applied: int  # how many findings' corrections were kept
    corrected_check: PlanCheck  # the corrected plan validated against the registry


def _finding_key(finding: Finding) -> tuple[str, frozenset]:
    return finding.code, frozenset(finding.features)


def added_findings(before: list[Finding], after: list[Finding]) -> list[Finding]:
    """Return the findings of AFTER that BEFORE has not: none of the same code about the same features lies
    within NEAR_M of it."""
    by_key: dict[tuple, list] = {}
    for f in before:
        by_key.setdefault(_finding_key(f), []).append(f.location)
    out = []
    for f in after:
        places = by_key.get(_finding_key(f), [])
        if f.location is None or f.location.is_empty:
            known = bool(places)
        else:
            known = any(g is None or g.is_empty or shapely.dwithin(g, f.location, NEAR_M) for g in places)
        if not known:
            out.append(f)
    return out


def _causes(added: Finding, findings: list[Finding], applied: list[int], labels: np.ndarray) -> set[int]:
    """Return the applied corrections (positions in FINDINGS) that may have caused the finding ADDED: those
    whose finding lies within NEAR_M of it, else those that changed a feature it names."""
    if added.location is not None and not added.location.is_empty:
        near = {k for k in applied if findings[k].location is not None
                and shapely.dwithin(findings[k].location, added.location, NEAR_M)}
        if near:
            return near
    named = set(added.features)
    return {k for k in applied if named & {labels[cf.index] for cf in findings[k].correction.features}}


def _apply(check: PlanCheck, chosen: list[int]) -> tuple[RawPlan, list[int]]:
    """Return the raw plan with the corrections of the CHOSEN findings applied, and those actually applied.

    The snapped corrections (GAP, OVERLAP, SLIVER, OUTSIDE_PARENT) replace the features they name, as the one
    snapping pass made them; the corner truncations are then cut from the lots as they are after it. A cut
    lot's stated area follows the cut (it loses the triangle's area, so a difference it had stays as it was)."""
    features = check.context.features
    findings = check.report.findings
    metric = np.empty(len(features), dtype=object)
    metric[:] = [f.geom for f in features]
    kinds = np.array([f.kind for f in features], dtype=object)
    result = apply_corrections(check.context, metric, kinds, [findings[k] for k in chosen])
    fixed, lost_m2 = result.geoms, result.lost_m2
    changed = np.array([a is not b for a, b in zip(fixed, metric)], dtype=bool)
    raw = check.raw
    geoms = [f.geom for f in raw.features]
    if changed.any():
        back = crs.transform(fixed[changed], check.municipality.metric_srid, raw.srid)
        for i, geom in zip(np.flatnonzero(changed), back):
            geoms[i] = geom
    out = []
    for i, (f, g) in enumerate(zip(raw.features, geoms)):
        stated = f.stated_area
        if stated is not None and i in lost_m2:
            stated = round(stated - lost_m2[i], 2)
        out.append(replace(f, geom=g, stated_area=stated))
    return RawPlan(format=raw.format, srid=raw.srid, features=tuple(out)), [chosen[k] for k in result.applied]


def corrected_plan(check: PlanCheck) -> CorrectedPlan:
    """Return the checked plan with its suggested corrections applied, keeping only those that add no finding.

    The corrected plan is validated again; a correction whose features a new finding names (or that changed
    something next to one) is dropped and the rest applied again, until the plan has no finding it did not
    have before: a fix never makes a plan worse."""
    findings = check.report.findings
    labels = np.array([f.label for f in check.context.features], dtype=object)
    chosen = [k for k, f in enumerate(findings) if f.correction is not None]
    while True:
        fixed, applied = _apply(check, chosen)
        corrected = check_raw(fixed, municipality=check.municipality, parents=check.parents,
                              land_use=check.land_use, budget=Budget(settings.PLAN_VALIDATION_BUDGET_S))
        added = added_findings(findings, corrected.report.findings)
        if not added or not applied:
            return CorrectedPlan(fixed, len(applied), corrected)
        causes = set().union(*(_causes(f, findings, applied, labels) for f in added))
        # a new finding no correction explains: keep none rather than risk it
        chosen = [k for k in applied if k not in causes] if causes else []


def _dxf_mapping(plan: RawPlan, layers: dict | None) -> dict[str, str]:
    """Return the layer -> kind mapping the corrected DXF is written with: the upload's, plus a layer for any
    kind it does not map (e.g. BUILDING), so every feature reads back."""
    mapping = dict(layers or DEFAULT_LAYERS)
    for kind in sorted({f.kind for f in plan.features} - set(mapping.values())):
        mapping[kind.upper()] = kind
    return mapping


def _report(check: PlanCheck, findings_url: str | None = None) -> dict:
    return report_json(check, finding_rows(check.report.findings, check.municipality.metric_srid),
                       findings_url=findings_url)


def plan_validate_fixed(*, user, **upload) -> dict:
    """Return an uploaded plan's report with its corrected file (same format, base64) and that file's report."""
    _require_surveyor(user)
    check = plan_check(**upload)
    result = corrected_plan(check)
    fixed, applied = result.raw, result.applied
    stem = f"{PurePath(upload['filename']).stem or 'plan'}-snapped"
    layers = _dxf_mapping(fixed, upload.get("dxf_layers") or settings.PLAN_DXF_LAYERS or None)
    written = write_plan(fixed, stem=stem, dxf_layers=layers)
    # The answer's report is that of the file as written and read back, exactly what the surveyor gets.
    dxf = fixed.format == "dxf"
    reread = read_plan(written.content, filename=written.name, srid=fixed.srid, limits=upload_limits(),
                       dxf_layers=layers if dxf else None, label_layers=[LOT_NO_LAYER] if dxf else None,
                       units="m" if dxf else None)
    corrected = check_raw(reread, municipality=check.municipality, parents=check.parents, land_use=check.land_use,
                          budget=Budget(settings.PLAN_VALIDATION_BUDGET_S))
    return {
        **_report(check),
        "corrections_applied": applied,
        "corrected_report": _report(corrected),
        "file": {"name": written.name, "media_type": written.media_type, "srid": fixed.srid,
                 "base64": base64.b64encode(written.content).decode("ascii")},
    }


@transaction.atomic
def plan_fix(*, user, plan_id: int, comment: str = "") -> None:
    """Store the current version of a draft or returned plan with its corrections applied as version n+1."""
    plan = _locked_plan(user, plan_id)
    if workflow.SURVEYOR_SIDE not in selectors.sides_of(user, plan):
        raise Forbidden(f"only the plan's surveying office may fix plan {plan.pk}")
    if plan.status not in FIXABLE_STATUSES:
        raise Conflict(f"plan {plan.pk}: a {plan.status} plan cannot take a new version; only a draft or a "
                       "returned one can")
    check = revalidate(plan, list(plan.parents.order_by("pk")))
    if not any(f.correction is not None for f in check.report.findings):
        raise Conflict(f"plan {plan.pk}: no finding of version {plan.version} has a correction within the "
                       "snap tolerance")
    # the new version keeps the format of the file first uploaded (the stored plan reads back as "stored")
    stored = check.raw
    check = replace(check, raw=RawPlan(format=plan.source_format, srid=stored.srid, features=stored.features))
    result = corrected_plan(check)
    if not result.applied:
        raise Conflict(f"plan {plan.pk}: every suggested correction of version {plan.version} would add a "
                       "finding to the plan; none was applied")
    corrected, applied = result.corrected_check, result.applied
    number = plan.version + 1
    name = f"{PurePath(plan.source_name).stem}-snapped{PurePath(plan.source_name).suffix}"
    version_store(plan=plan, number=number, check=corrected, user=user, filename=name)
    PlanEvent.objects.create(plan=plan, at=timezone.now(), actor=user, action="fix", from_status=plan.status,
                             to_status=plan.status, version=number,
                             comment=comment or f"{applied} suggested correction(s) applied")


__all__ = ["FIXABLE_STATUSES", "CorrectedPlan", "added_findings", "corrected_plan", "plan_fix", "plan_validate_fixed"]
