"""Reads of subdivision plans, limited to what the caller may see."""

from __future__ import annotations

from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.db.models import F, Q, QuerySet

from gisportal.accounts.roles import PLANNER, SURVEYOR, has_role
from gisportal.errors import Forbidden, NotFound
from gisportal.pagination import Page
from subdivision import workflow
from subdivision.models import (
    MunicipalityPlanner,
    OfficeMember,
    Plan,
    PlanEvent,
    PlanFeature,
    PlanVersion,
)

# What a plan list reads: never the report.
LIST_FIELDS = ("id", "title", "status", "valid", "version", "plan_number", "land_use", "municipality__code",
               "municipality__name_ar", "municipality__approval_target_days", "office__code",
               "submitted_by__username", "assigned_to__username", "source_name", "source_format", "source_srid",
               "created_at", "submitted_at", "decided_at", "summary", "finding_counts", "findings_total")


def office_id_of(user) -> int | None:
    """Return the id of USER's surveying office, or None."""
    return OfficeMember.objects.filter(user=user).values_list("office_id", flat=True).first()


def municipality_ids_of_planner(user) -> list[int]:
    return list(MunicipalityPlanner.objects.filter(user=user).values_list("municipality_id", flat=True))


def plans_visible_to(user) -> QuerySet:
    """Return the plans USER may see: a planner those of their municipalities, a surveyor those of their
    office (and the ones they uploaded before offices existed), an admin every plan."""
    plans = (Plan.objects.select_related("municipality", "submitted_by", "office", "assigned_to")
             .prefetch_related("parents"))
    if user is not None and user.is_active and user.is_superuser:
        return plans
    seen = Q(pk__in=[])
    known = False
    if has_role(user, PLANNER):
        known = True
        seen |= Q(municipality_id__in=municipality_ids_of_planner(user))
    if has_role(user, SURVEYOR):
        known = True
        office_id = office_id_of(user)
        seen |= Q(office_id=office_id) if office_id else Q(submitted_by=user, office__isnull=True)
    if not known:
        raise Forbidden("only planners and surveyors may see subdivision plans")
    return plans.filter(seen)


def sides_of(user, plan: Plan) -> frozenset[str]:
    """Return which side of the workflow USER acts for on PLAN: its surveying office, its municipality, both."""
    if user.is_active and user.is_superuser:
        return frozenset({workflow.SURVEYOR_SIDE, workflow.MUNICIPALITY_SIDE})
    sides = set()
    if has_role(user, SURVEYOR) and (
            (plan.office_id is not None and plan.office_id == office_id_of(user))
            or (plan.office_id is None and plan.submitted_by_id == user.pk)):
        sides.add(workflow.SURVEYOR_SIDE)
    if has_role(user, PLANNER) and plan.municipality_id in municipality_ids_of_planner(user):
        sides.add(workflow.MUNICIPALITY_SIDE)
    return frozenset(sides)


def actions_for(user, plan: Plan) -> list[str]:
    """Return the workflow actions USER may take on PLAN now."""
    return workflow.available(plan.status, sides_of(user, plan))


def plan_events(plan: Plan) -> QuerySet:
    return PlanEvent.objects.filter(plan=plan).select_related("actor").order_by("at", "id")


def plan_versions(plan: Plan) -> QuerySet:
    return PlanVersion.objects.filter(plan=plan).select_related("uploaded_by").order_by("number")


def plan_version_get(plan: Plan, number: int) -> PlanVersion:
    version = plan_versions(plan).filter(number=number).first()
    if version is None:
        raise NotFound(f"plan {plan.pk} has no version {number} (it has {plan.version})")
    return version


def plan_list(user, *, status: str | None = None, municipality: str | None = None, overdue: str | None = None,
              now=None) -> QuerySet:
    """Return the plans USER may see with only the columns a list shows, filtered by status, municipality
    code and overdue ("true": open plans past their target; "false": the others)."""
    plans = plans_visible_to(user).only(*LIST_FIELDS)
    if status:
        plans = plans.filter(status=status)
    if municipality:
        plans = plans.filter(municipality__code=municipality)
    if overdue is not None:
        from subdivision.stats import (
            clocks_for,  # stats reads plans through this module
        )

        open_plans = list(plans.filter(status__in=workflow.OPEN - {workflow.DRAFT}))
        late = [pk for pk, clock in clocks_for(open_plans, now).items() if clock.overdue]
        plans = plans.filter(pk__in=late) if overdue == "true" else plans.exclude(pk__in=late)
    return plans


def plan_get(*, user, plan_id: int) -> Plan:
    plan = plans_visible_to(user).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(f"no plan {plan_id} that you may see")
    return plan


def plan_features_page(plan: Plan, page: Page, *, version: int | None = None) -> tuple[int, list[dict]]:
    """Return (feature count, one page of the feature rows of the plan's current version (or VERSION), their
    geometry GeoJSON text in EPSG:4326)."""
    features = plan.features.filter(version=version or plan.version)
    rows = features.annotate(geometry_json=AsGeoJSON(Transform("geom", 4326), precision=7)).values(
        "index", "kind", "lot_no", "stated_area_m2", "area_m2", "land_use", "finding_codes",
        "geometry_json")[page.start:page.stop]
    return features.count(), list(rows)


def plan_findings_page(plan: Plan, page: Page, *, code: str | None = None,
                       version: int | None = None) -> tuple[int, list[dict]]:
    """Return (finding count, one page of finding rows of the current version (or VERSION) in report order)."""
    findings = plan.findings.filter(version=version or plan.version)
    if code:
        findings = findings.filter(code=code)
    rows = findings.values("seq", "code", "severity", "message_en", "message_ar", "features", "features_total",
                           "value", "limit", "location")[page.start:page.stop]
    return findings.count(), list(rows)


# Plans not decided yet: the internal "plans" map layer (layers.registry) reads them through this.
UNDECIDED = tuple(sorted(workflow.OPEN))


def layer_undecided_plan_features() -> QuerySet:
    """The current version's features of every plan not decided yet."""
    return (PlanFeature.objects.filter(plan__status__in=UNDECIDED, version=F("plan__version"))
            .select_related("plan", "plan__municipality").order_by("id"))
