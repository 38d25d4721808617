"""Moves of a plan through the approval workflow (subdivision.workflow), each one transaction.

Every move locks the plan row, checks who may take it (404 when the caller may not see the plan,
403 when they may see it but not act), checks the move is legal from the current status (409 and
nothing changed when not), does the move's work, appends the history event and, once committed,
sends the e-mail.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from gisportal.errors import Conflict, Forbidden, InvalidParameter, NotFound
from subdivision import approval, notifications, selectors, workflow
from subdivision.models import MunicipalityPlanner, Plan, PlanEvent
from subdivision.plan_context import parents_get, parse_parent_codes
from subdivision.services import clean_title, plan_check, revalidate, version_store

MAX_COMMENT_CHARS = 4000
SIDE_NAMES = {workflow.SURVEYOR_SIDE: "the plan's surveying office",
              workflow.MUNICIPALITY_SIDE: "the planners of the plan's municipality"}


def _locked_plan(user, plan_id: int) -> Plan:
    """Return the plan USER may see, locked for this transaction, or raise NotFound."""
    visible = selectors.plans_visible_to(user).filter(pk=plan_id).values_list("pk", flat=True)
    plan = (Plan.objects.select_for_update(of=("self",)).select_related("municipality", "submitted_by")
            .filter(pk__in=visible).first())
    if plan is None:
        raise NotFound(f"no plan {plan_id} that you may see")
    return plan


def _check_may(user, plan: Plan, action: str) -> workflow.Action:
    step = workflow.ACTIONS[action]
    if step.side not in selectors.sides_of(user, plan):
        raise Forbidden(f"only {SIDE_NAMES[step.side]} may {action} plan {plan.pk}")
    try:
        workflow.target_of(action, plan.status)
    except workflow.IllegalTransition as exc:
        raise Conflict(f"plan {plan.pk}: {exc}") from None
    return step


def _comment(step: workflow.Action, raw: str | None) -> str:
    comment = (raw or "").strip()
    if step.comment_required and not comment:
        raise InvalidParameter(f"comment: say why the plan is {'returned' if step.name == 'return' else 'rejected'}")
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidParameter(f"comment: {len(comment):,} characters, at most {MAX_COMMENT_CHARS:,} are allowed")
    return comment


def _assignee(plan: Plan, user, username: str | None):
    if not username:
        return user
    assignee = get_user_model().objects.filter(username=username, is_active=True).first()
    if assignee is None or not MunicipalityPlanner.objects.filter(user=assignee, municipality=plan.municipality_id
                                                                   ).exists():
        raise InvalidParameter(f"assignee: {username!r} is not a planner of {plan.municipality.code}")
    return assignee


def _record(plan: Plan, step: workflow.Action, *, user, at, comment: str) -> None:
    PlanEvent.objects.create(plan=plan, at=at, actor=user, action=step.name, from_status=plan.status,
                             to_status=step.target, version=plan.version, comment=comment)
    plan.status = step.target
    if step.target in workflow.DECIDED:
        plan.decided_at = at
    plan.save()
    notifications.notify_on_commit(plan, step.name, comment)


@transaction.atomic
def plan_act(*, user, plan_id: int, action: str, comment: str | None = None, assignee: str | None = None) -> Plan:
    """Take ACTION (submit, assign, return, approve, reject, withdraw) on a plan."""
    if action not in workflow.ACTIONS or workflow.ACTIONS[action].needs_file:
        raise InvalidParameter(f"action: {action!r} is not one of submit, assign, return, approve, reject, withdraw")
    plan = _locked_plan(user, plan_id)
    step = _check_may(user, plan, action)
    comment = _comment(step, comment)
    at = timezone.now()
    if action == "submit":
        approval.refuse_if_invalid(plan, revalidate(plan, list(plan.parents.order_by("pk"))))
        plan.submitted_at = plan.submitted_at or at
    elif action == "assign":
        plan.assigned_to = _assignee(plan, user, assignee)
    elif action == "approve":
        approval.approve(plan=plan, by=user, at=at)
    _record(plan, step, user=user, at=at, comment=comment)
    return plan


@transaction.atomic
def plan_resubmit(*, user, plan_id: int, comment: str | None = None, title: str | None = None,
                  parents: str | None = None, **upload) -> Plan:
    """Upload a new version of a returned plan; it is validated like a first upload and, with no
    errors, goes back to the municipality (resubmitted). Every earlier version stays."""
    plan = _locked_plan(user, plan_id)
    step = _check_may(user, plan, "resubmit")
    comment = _comment(step, comment)
    parent_codes = parents or ",".join(plan.parents.order_by("pk").values_list("parcel_code", flat=True))
    check = plan_check(municipality=plan.municipality.code, parents=parent_codes, land_use=plan.land_use, **upload)
    approval.refuse_if_invalid(plan, check)
    if title:
        plan.title = clean_title(title)
    if parents:
        plan.parents.set(parents_get(plan.municipality, parse_parent_codes(parents)))
    version_store(plan=plan, number=plan.version + 1, check=check, user=user, filename=upload["filename"])
    _record(plan, step, user=user, at=timezone.now(), comment=comment)
    return plan

