"""The SLA clock of a subdivision plan, and a municipality's statistics over its plans' clocks.

Pure Python (no Django import): ``subdivision.stats`` loads the plans' histories and calendars and
calls ``clock`` and ``summarise``.

When the clock runs
    A plan's history is a list of transitions (when, to which status). Before the first one the
    plan is a draft. The clock **runs** while the plan is with the municipality (``submitted``,
    ``under_review``, ``resubmitted``), **pauses** while it is with the surveyor (``draft``,
    ``returned``) and **stops for good** at ``approved``, ``rejected`` or ``withdrawn``: what
    follows a stop is ignored, as is anything after ``now``.

How days are counted
    Days are whole days on local dates in the calendar's time zone. Each running interval
    [start, end) (end is the next pause or stop, or ``now``) counts the dates d with
    ``start.date() < d <= end.date()``: the day of submission is day 0, the day the plan leaves
    the municipality (returned, decided) counts. So a decision on the day of submission took 0
    days, the next day 1. Intervals never count a date twice: a plan returned and resubmitted on
    the same day counts that day once (it closes the first interval, and the second starts after
    it). ``counting="working"`` counts only the dates that are neither a weekend day (Python
    weekdays, Monday 0; Friday and Saturday by default) nor a holiday (a holiday on a weekend day
    takes nothing more off); ``"calendar"`` counts every date and ignores the holiday list. A
    status this module does not know pauses the clock.

What the clock says
    ``days_used`` are the days counted so far; ``days_left = target_days - days_used`` (negative
    past the target). ``running``: the plan is with the municipality now. ``decided``: approved or
    rejected (a withdrawal stops the clock but is no decision). ``started_at``: the first
    submission (None for a plan never submitted: 0 days used, not running). ``decided_at``: the
    approval or rejection. A plan is **open** until it is decided or withdrawn; an open plan past
    its target (``days_used > target_days``) is **overdue**; a decided plan past its target is
    **late**. ``overdue`` is for open plans only, so a late decision is never "overdue".
    ``status`` is the status after the last transition counted, ``counting`` the calendar's.

Statistics (``summarise``)
    Days to decision are the ``days_used`` of decided plans. The median is ``statistics.median``;
    the 90th percentile is numpy's ``percentile(..., method="linear")`` (the default: linear
    interpolation between the closest ranks, i.e. ``(n - 1) * 0.9`` positions into the sorted
    values). The share decided within the target is of decided plans, ``days_used <= target_days``.
    The oldest open plans are the open plans submitted at least once (a draft never submitted has
    no age), most days used first, ties by earlier first submission.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np

CALENDAR = "calendar"
WORKING = "working"
COUNTINGS = (CALENDAR, WORKING)

DRAFT = "draft"
RUNNING_STATUSES = frozenset({"submitted", "under_review", "resubmitted"})
PAUSED_STATUSES = frozenset({"draft", "returned"})
DECIDED_STATUSES = frozenset({"approved", "rejected"})
STOPPED_STATUSES = DECIDED_STATUSES | {"withdrawn"}
# Every status a plan may have, in the order of the workflow (statistics list them all).
STATUSES = ("draft", "submitted", "under_review", "returned", "resubmitted", "approved", "rejected", "withdrawn")

FRIDAY_SATURDAY = frozenset({4, 5})
OLDEST_OPEN = 10
PERCENTILE = 90


@dataclass(frozen=True, kw_only=True)
class Calendar:
    """How a municipality counts days: every date, or working dates only, on local dates of TZ."""

    counting: str
    weekend_days: frozenset[int] = FRIDAY_SATURDAY
    holidays: frozenset[date] = frozenset()
    tz: ZoneInfo

    def __post_init__(self):
        object.__setattr__(self, "weekend_days", frozenset(self.weekend_days))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        if self.counting not in COUNTINGS:
            raise ValueError(f"counting must be one of {COUNTINGS}, got {self.counting!r}")
        if not set(self.weekend_days) <= set(range(7)):
            raise ValueError(f"weekend_days are Python weekdays 0 (Monday) to 6, got {sorted(self.weekend_days)}")
        if self.counting == WORKING and len(set(self.weekend_days)) == 7:
            raise ValueError("a working-day calendar needs at least one working weekday")

    def days_between(self, start: date, end: date) -> int:
        """Return how many counted dates d satisfy START < d <= END (0 when END <= START)."""
        days = (end - start).days
        if days <= 0:
            return 0
        if self.counting == CALENDAR:
            return days
        # Any 7 consecutive dates hold every weekday once: count whole weeks, then the last few dates.
        weeks, rest = divmod(days, 7)
        working = weeks * (7 - len(self.weekend_days))
        last_weekday = end.weekday()
        working += sum(1 for back in range(rest) if (last_weekday - back) % 7 not in self.weekend_days)
        holidays = self._working_holidays
        return working - (bisect_right(holidays, end) - bisect_right(holidays, start))

    @cached_property
    def _working_holidays(self) -> tuple[date, ...]:
        """The holidays that fall on working weekdays (a holiday on a weekend day takes no day off), sorted."""
        return tuple(sorted(d for d in self.holidays if d.weekday() not in self.weekend_days))


@dataclass(frozen=True)
class Transition:
    """A plan entering TO_STATUS at AT (an aware datetime)."""

    at: datetime
    to_status: str


@dataclass(frozen=True)
class Clock:
    """Where a plan stands against its target; see the module docstring for the meaning of each field."""

    days_used: int
    days_left: int
    target_days: int
    overdue: bool
    running: bool
    decided: bool
    started_at: datetime | None
    decided_at: datetime | None
    status: str = DRAFT  # the status after the last transition counted
    counting: str = CALENDAR  # the calendar's counting, so an answer can say which days these are

    @property
    def open(self) -> bool:
        """True until the plan is decided or withdrawn."""
        return self.status not in STOPPED_STATUSES

    @property
    def late(self) -> bool:
        """True for a decided plan decided after its target."""
        return self.decided and self.days_used > self.target_days


def clock(transitions: Iterable[Transition], *, target_days: int, calendar: Calendar, now: datetime) -> Clock:
    """Return the clock of a plan with TRANSITIONS (in the order they happened) as of NOW."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    transitions = list(transitions)
    for t in transitions:
        if t.at.tzinfo is None:
            raise ValueError(f"transition to {t.to_status!r} has a naive time {t.at!r}")
    # A stable sort: transitions at the same instant keep the order they were given in.
    ordered = sorted(transitions, key=lambda t: t.at)
    status = DRAFT
    running_since: datetime | None = None
    started_at = decided_at = None
    days_used = 0

    def counted(start: datetime, end: datetime) -> int:
        return calendar.days_between(start.astimezone(calendar.tz).date(), end.astimezone(calendar.tz).date())

    for t in ordered:
        if t.at > now or status in STOPPED_STATUSES:
            break
        runs = t.to_status in RUNNING_STATUSES
        if runs and running_since is None:
            running_since = t.at
            started_at = started_at or t.at
        elif not runs and running_since is not None:
            days_used += counted(running_since, t.at)
            running_since = None
        if t.to_status in DECIDED_STATUSES:
            decided_at = t.at
        status = t.to_status
    if running_since is not None:
        days_used += counted(running_since, now)
    decided = status in DECIDED_STATUSES
    is_open = status not in STOPPED_STATUSES
    return Clock(days_used=days_used, days_left=target_days - days_used, target_days=target_days,
                 overdue=is_open and days_used > target_days, running=running_since is not None,
                 decided=decided, started_at=started_at, decided_at=decided_at, status=status,
                 counting=calendar.counting)


# ---- a municipality's statistics ---------------------------------------------------------------


@dataclass(frozen=True)
class OpenPlan:
    """One of the oldest open plans: its id and clock."""

    plan_id: Hashable
    clock: Clock


@dataclass(frozen=True)
class PlanSummary:
    """The statistics of a set of plans' clocks; None where there is nothing to measure."""

    plans_total: int
    counts_by_status: dict[str, int]
    open_count: int
    overdue_count: int
    decided_count: int
    late_count: int
    median_days_to_decision: float | None
    p90_days_to_decision: float | None
    decided_within_target_share: float | None
    oldest_open: list[OpenPlan] = field(default_factory=list)


def summarise(clocks: Mapping[Hashable, Clock], *, oldest: int = OLDEST_OPEN) -> PlanSummary:
    """Return counts by status, median and 90th-percentile days to decision, the share decided within
    the target, and the OLDEST open plans (most days used first) of CLOCKS (plan id -> clock).

    >>> from datetime import timezone
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> cal = Calendar(counting=CALENDAR, tz=ZoneInfo("UTC"))
    >>> c = clock([Transition(t0, "submitted")], target_days=60, calendar=cal, now=t0.replace(month=3))
    >>> summarise({1: c}).oldest_open[0].clock.days_used
    59
    """
    counts = Counter(c.status for c in clocks.values())
    by_status = {status: counts.get(status, 0) for status in STATUSES}
    by_status.update((status, n) for status, n in counts.items() if status not in by_status)
    decided = [c for c in clocks.values() if c.decided]
    days = [c.days_used for c in decided]
    # Open plans that reached the municipality at least once: a draft never submitted has no age.
    open_plans = [OpenPlan(plan_id, c) for plan_id, c in clocks.items() if c.open and c.started_at is not None]
    open_plans.sort(key=lambda p: (-p.clock.days_used, p.clock.started_at, str(p.plan_id)))
    return PlanSummary(
        plans_total=len(clocks),
        counts_by_status=by_status,
        open_count=sum(1 for c in clocks.values() if c.open),
        overdue_count=sum(1 for c in clocks.values() if c.overdue),
        decided_count=len(decided),
        late_count=sum(1 for c in decided if c.late),
        median_days_to_decision=float(statistics.median(days)) if days else None,
        p90_days_to_decision=float(np.percentile(days, PERCENTILE, method="linear")) if days else None,
        decided_within_target_share=(sum(1 for c in decided if not c.late) / len(decided)) if decided else None,
        oldest_open=open_plans[:oldest],
    )
