"""Reads of subdivision plans, limited to what the caller may see."""

from __future__ import annotations

import json

from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.db.models import QuerySet

from gisportal.accounts.roles import PLANNER, SURVEYOR, has_role
from gisportal.errors import Forbidden, NotFound
from subdivision.models import Plan


def plans_visible_to(user) -> QuerySet:
    """Return the plans USER may see: planners all of them, surveyors their own."""
    plans = Plan.objects.select_related("municipality", "submitted_by").prefetch_related("parents")
    if has_role(user, PLANNER):
        return plans
    if has_role(user, SURVEYOR):
        return plans.filter(submitted_by=user)
    raise Forbidden("only planners and surveyors may see subdivision plans")


def plan_get(*, user, plan_id: int) -> Plan:
    plan = plans_visible_to(user).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(f"no plan {plan_id} that you may see")
    return plan


def plan_json(plan: Plan, *, with_report: bool = True) -> dict:
    body = {
        "id": plan.pk, "title": plan.title, "status": plan.status, "valid": plan.valid,
        "municipality": plan.municipality.code, "land_use": plan.land_use,
        "parents": sorted(p.parcel_code for p in plan.parents.all()),
        "submitted_by": plan.submitted_by.username, "source": {"name": plan.source_name,
                                                                "format": plan.source_format,
                                                                "srid": plan.source_srid},
        "created_at": plan.created_at.isoformat(), "summary": plan.report.get("summary", {}),
    }
    if with_report:
        body["report"] = plan.report
    return body


def plan_features_geojson(plan: Plan) -> dict:
    """Return the plan's lots, roads and open spaces (EPSG:4326) with the codes of their findings."""
    findings_by_label: dict[str, list[str]] = {}
    for finding in plan.report.get("findings", []):
        for label in finding["features"]:
            findings_by_label.setdefault(label, []).append(finding["code"])
    rows = plan.features.annotate(geometry_json=AsGeoJSON(Transform("geom", 4326), precision=7)).values(
        "index", "kind", "lot_no", "stated_area_m2", "area_m2", "land_use", "geometry_json")
    features = []
    for row in rows:
        label = row["lot_no"] or f"{row['kind']}#{row['index']}"
        features.append({
            "type": "Feature", "id": row["index"], "geometry": json.loads(row.pop("geometry_json")),
            "properties": {**row, "findings": sorted(set(findings_by_label.get(label, [])))},
        })
    return {"type": "FeatureCollection", "count": len(features), "features": features}


def plan_findings_geojson(plan: Plan) -> dict:
    """Return one GeoJSON feature per finding, at its location (EPSG:4326)."""
    features = [
        {"type": "Feature", "id": i, "geometry": f["location"],
         "properties": {k: v for k, v in f.items() if k != "location"}}
        for i, f in enumerate(plan.report.get("findings", []))
    ]
    return {"type": "FeatureCollection", "count": len(features), "features": features}
