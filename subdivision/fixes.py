"""Apply a plan's suggested corrections: answer the corrected file (?fix=snap), or store it as a new version.

The corrections themselves are computed by the engine (engine.corrections) with every validation; here they
are applied to the plan's features, the corrected plan written in the format it came in
(plan_files.writers), read back and validated again, so the answer shows what the surveyor will get.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import PurePath

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gisportal import crs
from gisportal.errors import Conflict, Forbidden
from subdivision import selectors, workflow
from subdivision.engine import Budget
from subdivision.engine.corrections import corrected_geometries
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


def corrected_plan(check: PlanCheck) -> tuple[RawPlan, int]:
    """Return the checked plan with every correction of its report applied (in its own CRS), and how many."""
    features = check.context.features
    metric = np.empty(len(features), dtype=object)
    metric[:] = [f.geom for f in features]
    kinds = np.array([f.kind for f in features], dtype=object)
    fixed, applied = corrected_geometries(metric, kinds, check.report.findings)
    changed = np.array([a is not b for a, b in zip(fixed, metric)], dtype=bool)
    raw = check.raw
    geoms = [f.geom for f in raw.features]
    if changed.any():
        back = crs.transform(fixed[changed], check.municipality.metric_srid, raw.srid)
        for i, geom in zip(np.flatnonzero(changed), back):
            geoms[i] = geom
    out = tuple(replace(f, geom=g) for f, g in zip(raw.features, geoms))
    return RawPlan(format=raw.format, srid=raw.srid, features=out), applied


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
    fixed, applied = corrected_plan(check)
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
    fixed, applied = corrected_plan(check)
    if not applied:
        raise Conflict(f"plan {plan.pk}: no finding of version {plan.version} has a correction within the "
                       "snap tolerance")
    fixed = RawPlan(format=plan.source_format, srid=fixed.srid, features=fixed.features)
    corrected = check_raw(fixed, municipality=plan.municipality, parents=check.parents, land_use=plan.land_use,
                          budget=Budget(settings.PLAN_VALIDATION_BUDGET_S))
    number = plan.version + 1
    name = f"{PurePath(plan.source_name).stem}-snapped{PurePath(plan.source_name).suffix}"
    version_store(plan=plan, number=number, check=corrected, user=user, filename=name)
    PlanEvent.objects.create(plan=plan, at=timezone.now(), actor=user, action="fix", from_status=plan.status,
                             to_status=plan.status, version=number,
                             comment=comment or f"{applied} suggested correction(s) applied")


__all__ = ["FIXABLE_STATUSES", "corrected_plan", "plan_fix", "plan_validate_fixed"]
