"""Reads of subdivision plans, limited to what the caller may see."""

from __future__ import annotations

from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.db.models import QuerySet

from gisportal.accounts.roles import PLANNER, SURVEYOR, has_role
from gisportal.errors import Forbidden, NotFound
from gisportal.pagination import Page
from subdivision.models import Plan, PlanFeature, PlanStatus

# What a plan list reads: never the report.
LIST_FIELDS = ("id", "title", "status", "valid", "land_use", "municipality__code", "submitted_by__username",
               "source_name", "source_format", "source_srid", "created_at", "summary", "finding_counts",
               "findings_total")


def plans_visible_to(user) -> QuerySet:
    """Return the plans USER may see: planners all of them, surveyors their own."""
    plans = Plan.objects.select_related("municipality", "submitted_by").prefetch_related("parents")
    if has_role(user, PLANNER):
        return plans
    if has_role(user, SURVEYOR):
        return plans.filter(submitted_by=user)
    raise Forbidden("only planners and surveyors may see subdivision plans")


def plan_list(user) -> QuerySet:
    """Return the plans USER may see with only the columns a list shows."""
    return plans_visible_to(user).only(*LIST_FIELDS)


def plan_get(*, user, plan_id: int) -> Plan:
    plan = plans_visible_to(user).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(f"no plan {plan_id} that you may see")
    return plan


def plan_features_page(plan: Plan, page: Page) -> tuple[int, list[dict]]:
    """Return (feature count, one page of the plan's feature rows, their geometry GeoJSON text in EPSG:4326)."""
    features = plan.features.all()
    rows = features.annotate(geometry_json=AsGeoJSON(Transform("geom", 4326), precision=7)).values(
        "index", "kind", "lot_no", "stated_area_m2", "area_m2", "land_use", "finding_codes",
        "geometry_json")[page.start:page.stop]
    return features.count(), list(rows)


def plan_findings_page(plan: Plan, page: Page, *, code: str | None = None) -> tuple[int, list[dict]]:
    """Return (finding count, one page of finding rows in report order, their location GeoJSON)."""
    findings = plan.findings.all()
    if code:
        findings = findings.filter(code=code)
    rows = findings.values("seq", "code", "severity", "message_en", "message_ar", "features", "features_total",
                           "value", "limit", "location")[page.start:page.stop]
    return findings.count(), list(rows)


# Plans not decided yet: the internal "plans" map layer (layers.registry) reads them through this.
UNDECIDED = (PlanStatus.DRAFT, PlanStatus.SUBMITTED, PlanStatus.RETURNED)


def layer_undecided_plan_features() -> QuerySet:
    return (PlanFeature.objects.filter(plan__status__in=UNDECIDED)
            .select_related("plan", "plan__municipality").order_by("id"))
