"""The plans pages and the dashboard (thin views): who may open each page, and the page's frame.

The pages' JavaScript (static web/plans/) reads and moves plans through the JSON API with the session
cookie and the CSRF token, so what a page shows is exactly what the API lets the user see and do. The
views only refuse the wrong role (403), send the signed-out to the log-in page and hand the scripts
their translated words in a JSON block (the Content-Security-Policy allows no inline script).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gisportal.accounts.roles import PLANNER, SURVEYOR, has_role
from gisportal.errors import Forbidden, NotFound
from parcels.models import Municipality
from subdivision import selectors, workflow
from subdivision.fixes import FIXABLE_STATUSES
from subdivision.models import PlanStatus

LOGIN = "web:login"


def _require(user, *roles: str) -> None:
    """Raise PermissionDenied (403) unless USER has one of ROLES (superusers have every role)."""
    if not any(has_role(user, role) for role in roles):
        raise PermissionDenied


def status_labels() -> dict[str, str]:
    """Return the name of each plan status in the request's language."""
    return {
        PlanStatus.DRAFT: _("Draft"), PlanStatus.SUBMITTED: _("Submitted"),
        PlanStatus.UNDER_REVIEW: _("Under review"), PlanStatus.RETURNED: _("Returned"),
        PlanStatus.RESUBMITTED: _("Resubmitted"), PlanStatus.APPROVED: _("Approved"),
        PlanStatus.REJECTED: _("Rejected"), PlanStatus.WITHDRAWN: _("Withdrawn"),
    }


def _common_strings() -> dict:
    """Return the words every plans page's script shows, in the request's language."""
    return {
        "status": status_labels(),
        "kind": {"lot": _("Lot"), "road": _("Road"), "open_space": _("Open space"), "utility": _("Utility site")},
        "severity": {"error": _("Error"), "warning": _("Warning")},
        "network_error": _("The server could not be reached. Try again."),
        "loading": _("Loading…"),
        "no_findings": _("No findings: the plan meets every rule."),
        "features": _("Features"),
        "days_left": _("%(n)s days left"),
        "day_left": _("1 day left"),
        "overdue_by": _("Overdue by %(n)s days"),
        "overdue_by_one": _("Overdue by 1 day"),
        "due_today": _("Due today"),
        "paused": _("paused"),
        "not_started": _("not started"),
        "decided": _("Decision taken"),
        "sq_m": pgettext("unit", "m²"),
        # Suggested corrections (README "Suggested corrections"): the finding's line and why there is none.
        "correction_suggested": _("Correction suggested: no vertex moves more than %(m)s m."),
        "correction_none": _("No correction suggested."),
        "correction_none_because": _("No correction suggested: %(why)s."),
        "note_vertex_too_far": _("a vertex would move %(m)s m, over the %(tolerance)s m tolerance"),
        "note_left_over": _("snapping to the parent's boundary and the neighbouring features leaves %(area)s m² of it"),
        "note_no_location": _("it has no location to snap to"),
        "note_registry_corner": _("the corner faces streets of the registry, not a road of the plan: cut it and "
                                  "give the triangle to the right-of-way"),
        "map_locale": {"NavigationControl.ZoomIn": _("Zoom in"), "NavigationControl.ZoomOut": _("Zoom out"),
                       "NavigationControl.ResetBearing": _("Reset bearing to north"),
                       "Map.Title": _("Map")},
    }


def _municipalities() -> list[dict]:
    """Return every municipality's code, name in the page's language and extent (EPSG:4326) for the map."""
    return [{"code": m.code, "name": m.name_ar if _is_arabic() and m.name_ar else m.name_en,
             "bounds": list(m.boundary.transform(4326, clone=True).extent) if m.boundary else None}
            for m in Municipality.objects.order_by("code")]


def _is_arabic() -> bool:
    return (get_language() or "").startswith("ar")


@require_GET
@login_required(login_url=LOGIN)
def plan_new(request):
    """Return the page where a surveyor uploads a plan, sees its report at once, saves and submits it."""
    _require(request.user, SURVEYOR)
    strings = {
        **_common_strings(),
        "validating": _("Checking the plan…"),
        "checked": _("Checked: %(n)s findings."),
        "valid": _("The plan is valid: it can be saved and submitted."),
        "invalid": _("The plan has errors: fix them in the file and choose it again."),
        "warnings_only": _("The plan is valid, with warnings."),
        "choose_file": _("Choose a plan file."),
        "choose_parents": _("Choose the parent parcels on the map or type their codes."),
        "file_not_drawn": _("This file format is drawn on the map once the draft is saved; its findings are shown now."),
        "saved": _("Draft saved as plan %(id)s."),
        "saving": _("Saving…"),
        "submitting": _("Submitting…"),
        "parent_added": _("Parent parcel %(code)s chosen."),
        "parent_removed": _("Parent parcel %(code)s removed."),
        "remove_parent": _("Remove parent parcel %(code)s"),
        "no_parents": _("No parent parcel chosen yet."),
        "open_plan": _("Open the plan"),
        "findings_cut": _("%(shown)s of %(total)s findings are listed; the saved plan lists them all."),
        "summary_lots": _("Lots"),
        "summary_parent_area": _("Parent area"),
        "summary_lots_area": _("Lots area"),
        "summary_roads_area": _("Roads area"),
        "summary_open_space_area": _("Open space area"),
        "summary_public_share": _("Public share"),
        "summary_overlap": _("Overlapping area"),
        "summary_uncovered": _("Uncovered area"),
        "correcting": _("Applying the suggested corrections…"),
        "corrected_downloaded": _("%(name)s downloaded: %(n)s corrections applied; the corrected plan has "
                                  "%(left)s findings."),
    }
    context = {"municipalities": _municipalities(), "strings": strings}
    return render(request, "web/plans/new.html", context)


@require_GET
@login_required(login_url=LOGIN)
def plan_queue(request):
    """Return the queue of the plans the user may see (the list comes from /api/plans/ with the page's filters)."""
    _require(request.user, PLANNER, SURVEYOR)
    strings = {**_common_strings(), "empty": _("No plan matches these filters."),
               "page_of": _("Page %(page)s of %(pages)s (%(count)s plans)")}
    context = {"statuses": status_labels().items(), "municipalities": _municipalities(), "strings": strings,
               "filters": {"status": request.GET.get("status", ""), "overdue": request.GET.get("overdue") == "true",
                           "municipality": request.GET.get("municipality", "")}}
    return render(request, "web/plans/queue.html", context)


@require_GET
@login_required(login_url=LOGIN)
def plan_page(request, plan_id: str):
    """Return a plan's page: 404 when the user may not see the plan, exactly as the API answers."""
    plan_id = int(plan_id)
    try:
        plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    except NotFound:
        raise Http404(f"no plan {plan_id} that you may see") from None
    except Forbidden:
        raise PermissionDenied from None
    strings = {
        **_common_strings(),
        "action": {"submit": _("Submit"), "assign": _("Assign to me"), "return": _("Return to the surveyor"),
                   "approve": _("Approve"), "reject": _("Reject"), "withdraw": _("Withdraw"),
                   "resubmit": _("Resubmit a new version"),
                   "fix": _("Apply the suggested corrections as a new version")},
        "event": {"create": _("Created"), "submit": _("Submitted"), "assign": _("Assigned"),
                  "return": _("Returned"), "resubmit": _("Resubmitted"), "approve": _("Approved"),
                  "reject": _("Rejected"), "withdraw": _("Withdrawn"), "fix": _("Corrections applied")},
        "fixed": _("Suggested corrections applied: version %(n)s stored."),
        "comment_required": _("Write a comment: it is required to return or reject a plan."),
        "file_required": _("Choose the new version's file."),
        "done": _("Done: the plan is now %(status)s."),
        "by": _("by %(user)s"),
        "version_n": _("Version %(n)s"),
        "show_diff": _("Show changes from version %(from)s"),
        "hide_diff": _("Hide the changes"),
        "diff_title": _("Changes from version %(from)s to %(to)s"),
        "added": _("Lots added"),
        "removed": _("Lots removed"),
        "reshaped": _("Lots reshaped"),
        "other_changed": _("Roads and open spaces changed"),
        "none": _("none"),
        "findings_resolved": _("Findings resolved"),
        "findings_new": _("New findings"),
        "lot_n": _("Lot %(n)s"),
        "area_change": _("%(before)s → %(after)s m²"),
        "valid": _("valid"),
        "invalid": _("with errors"),
        "findings_count": _("%(n)s findings"),
        "plan_number": _("Plan number"),
        "assigned_to": _("Assigned to"),
        "nobody": _("nobody"),
        "status_label": _("Status"),
        "sla_label": _("Days left against the target"),
        "municipality_label": _("Municipality"),
        "office_label": _("Office"),
        "version_label": _("Version"),
        "parents_label": _("Parent parcels"),
    }
    # POST /api/plans/{id}/fix/ is the plan's surveying office's, on a draft or returned plan (subdivision.fixes):
    # the page offers it only to those who act for the office, in those statuses.
    acts_for_office = workflow.SURVEYOR_SIDE in selectors.sides_of(request.user, plan)
    permissions = {"fix_statuses": [str(status) for status in FIXABLE_STATUSES] if acts_for_office else []}
    context = {"plan_id": plan.pk, "plan_title": plan.title, "strings": strings, "permissions": permissions}
    return render(request, "web/plans/detail.html", context)


@require_GET
@login_required(login_url=LOGIN)
def dashboard(request):
    """Return the SLA dashboard of the municipalities the planner plans (every one for an admin)."""
    _require(request.user, PLANNER)
    municipalities = _municipalities()
    if not request.user.is_superuser:
        mine = set(Municipality.objects.filter(pk__in=selectors.municipality_ids_of_planner(request.user))
                   .values_list("code", flat=True))
        municipalities = [m for m in municipalities if m["code"] in mine]
    strings = {
        **_common_strings(),
        "median": _("Median"), "p90": _("90th percentile"), "target": _("Target: %(n)s days"),
        "days": _("days"), "no_decisions": _("No plan has been decided yet."),
        "within": _("Within the target"), "late": _("Late"),
        "days_used": _("Days used"), "counting": {"calendar": _("calendar days"), "working": _("working days")},
        "target_label": _("Target"), "plans_total": _("Plans in all"), "open_label": _("Open"),
        "overdue_label": _("Overdue"), "decided_label": _("Decided"), "late_label": _("Decided late"),
        "no_open": _("No open plan."), "as_of": _("Figures as of %(when)s."),
    }
    context = {"municipalities": municipalities, "strings": strings}
    return render(request, "web/dashboard.html", context)
