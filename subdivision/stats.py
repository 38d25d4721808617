"""Reads for the SLA: a municipality's calendar, the clocks of many plans at once, a municipality's plan statistics.

The clock itself is pure (``subdivision.sla``); this module loads what it needs in a fixed number of
queries, whatever the number of plans.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from gisportal.accounts.roles import PLANNER, SURVEYOR, has_role
from gisportal.errors import NotFound
from parcels.models import Municipality
from subdivision import sla
from subdivision.models import ApprovalCalendar, Holiday, Plan, PlanEvent
from subdivision.selectors import municipality_ids_of_planner, plans_visible_to


class _PlanRow(NamedTuple):
    """The columns of a plan its clock and the statistics read (cheaper than a model instance)."""

    pk: int
    municipality_id: int
    status: str
    submitted_at: datetime | None
    decided_at: datetime | None
    title: str


def _default_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def calendar_for(municipality: Municipality) -> sla.Calendar:
    """Return how MUNICIPALITY counts its target: its ApprovalCalendar and holidays, calendar days without one."""
    return _calendars_for([municipality.pk])[municipality.pk]


def _calendars_for(municipality_ids: Iterable[int]) -> dict[int, sla.Calendar]:
    """Return the calendar of each municipality id, in two queries."""
    ids = set(municipality_ids)
    tz = _default_tz()
    holidays: dict[int, set] = defaultdict(set)
    for municipality_id, day in Holiday.objects.filter(municipality_id__in=ids).values_list("municipality_id",
                                                                                            "date"):
        holidays[municipality_id].add(day)
    calendars = {pk: sla.Calendar(counting=sla.CALENDAR, tz=tz, holidays=frozenset(holidays[pk])) for pk in ids}
    rows = ApprovalCalendar.objects.filter(municipality_id__in=ids).values_list("municipality_id", "counting",
                                                                                 "weekend_days")
    for municipality_id, counting, weekend_days in rows:
        calendars[municipality_id] = sla.Calendar(counting=counting, weekend_days=frozenset(weekend_days or ()),
                                                  holidays=frozenset(holidays[municipality_id]), tz=tz)
    return calendars


def clocks_for(plans: Iterable[Plan], now: datetime | None = None) -> dict[int, sla.Clock]:
    """Return the SLA clock of each plan as of NOW (default: now), by plan id, in four queries for any
    number of plans (targets, calendars, holidays, every plan's history in order).

    A plan needs ``pk`` and ``municipality_id`` (and ``status``, ``submitted_at``, ``decided_at`` only
    when it has no events): Plan instances, even loaded with ``only()``, or lighter rows.
    """
    plans = list(plans)
    if not plans:
        return {}
    now = now or timezone.now()
    municipality_ids = {p.municipality_id for p in plans}
    targets = dict(Municipality.objects.filter(pk__in=municipality_ids).values_list("pk", "approval_target_days"))
    calendars = _calendars_for(municipality_ids)
    history: dict[int, list[sla.Transition]] = defaultdict(list)
    events = (PlanEvent.objects.filter(plan_id__in=[p.pk for p in plans]).order_by("plan_id", "at", "id")
              .values_list("plan_id", "at", "to_status"))
    for plan_id, at, to_status in events:
        history[plan_id].append(sla.Transition(at, to_status))
    return {p.pk: sla.clock(history[p.pk] if p.pk in history else _history_of_fields(p),
                            target_days=targets[p.municipality_id], calendar=calendars[p.municipality_id], now=now)
            for p in plans}


def _history_of_fields(plan: Plan) -> list[sla.Transition]:
    """Return the history a plan without events implies by its columns: submitted, then decided (every plan
    has events since migration 0004, so this only guards rows written around the services)."""
    steps = []
    if plan.submitted_at is not None:
        steps.append(sla.Transition(plan.submitted_at, "submitted"))
    if plan.decided_at is not None and plan.status in sla.STOPPED_STATUSES:
        steps.append(sla.Transition(plan.decided_at, plan.status))
    return steps


def _municipality_visible(user, code: str) -> Municipality:
    """Return the municipality CODE if USER may see its plans' statistics; NotFound otherwise."""
    # One answer for "no such municipality" and "not yours": a planner may not learn which exist.
    hidden = NotFound(f"municipality: no municipality {code!r} whose plans you may see")
    municipality = Municipality.objects.filter(code=code).first()
    if municipality is None:
        raise hidden
    if user.is_superuser or has_role(user, SURVEYOR):
        return municipality  # a surveyor counts their office's plans in any municipality
    if has_role(user, PLANNER) and municipality.pk in municipality_ids_of_planner(user):
        return municipality
    raise hidden


def plan_stats(*, user, municipality_code: str, now: datetime | None = None) -> dict:
    """Return the statistics of the plans of MUNICIPALITY_CODE that USER may see, as of NOW.

    Raises PermissionDenied for callers who see no plans at all (partners), NotFound for a municipality
    that does not exist or whose plans the caller may not see.
    """
    visible = plans_visible_to(user)  # raises PermissionDenied for callers without a plan role
    municipality = _municipality_visible(user, municipality_code)
    now = now or timezone.now()
    plans = [_PlanRow(*row) for row in visible.filter(municipality=municipality).order_by()
             .values_list("pk", "municipality_id", "status", "submitted_at", "decided_at", "title")]
    clocks = clocks_for(plans, now)
    summary = sla.summarise(clocks)
    by_id = {p.pk: p for p in plans}
    calendar = calendar_for(municipality)
    return {
        "municipality": municipality.code,
        "as_of": now,
        "target_days": municipality.approval_target_days,
        "counting": calendar.counting,
        "plans_total": summary.plans_total,
        "counts_by_status": summary.counts_by_status,
        "open": summary.open_count,
        "overdue": summary.overdue_count,
        "decided": summary.decided_count,
        "late": summary.late_count,
        "median_days_to_decision": summary.median_days_to_decision,
        "p90_days_to_decision": summary.p90_days_to_decision,
        "decided_within_target_share": summary.decided_within_target_share,
        "oldest_open": [{
            "id": entry.plan_id, "title": by_id[entry.plan_id].title, "status": entry.clock.status,
            "submitted_at": entry.clock.started_at, "days_used": entry.clock.days_used,
            "days_left": entry.clock.days_left, "running": entry.clock.running, "overdue": entry.clock.overdue,
        } for entry in summary.oldest_open],
    }
