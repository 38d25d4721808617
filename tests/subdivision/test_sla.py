"""The SLA clock (subdivision.sla): pure, so every case is a few transitions on known dates.

2026-11-22 and 2026-11-29 are Sundays (the first working day of a Saudi week); 27-28 November
are a Friday and a Saturday.
"""

import random
from datetime import UTC as UTC_TZ
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from subdivision.sla import Calendar, Clock, Transition, clock, summarise

RIYADH = ZoneInfo("Asia/Riyadh")
UTC = ZoneInfo("UTC")
CALENDAR_DAYS = Calendar(counting="calendar", tz=RIYADH)
WORKING_DAYS = Calendar(counting="working", tz=RIYADH)


def at(day: int, hour: int = 10, month: int = 11, tz=RIYADH) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=tz)


def run(steps, *, now, calendar=CALENDAR_DAYS, target_days=60) -> Clock:
    return clock([Transition(when, status) for when, status in steps], target_days=target_days,
                 calendar=calendar, now=now)


# ---- when the clock runs -------------------------------------------------------------------------

@pytest.mark.parametrize("steps", [[], [(at(22), "draft")]])
def test_a_plan_never_submitted_has_used_no_days(steps):
    c = run(steps, now=at(20, month=12))
    assert (c.days_used, c.days_left, c.running, c.decided, c.overdue) == (0, 60, False, False, False)
    assert c.started_at is None and c.decided_at is None and c.status == "draft"


def test_the_day_of_submission_is_day_0_and_each_local_date_after_it_counts():
    submitted = at(29, 10)
    assert run([(submitted, "submitted")], now=at(29, 23)).days_used == 0
    c = run([(submitted, "submitted")], now=at(1, 9, month=12))
    assert (c.days_used, c.days_left, c.running, c.started_at) == (2, 58, True, submitted)


def test_under_review_keeps_the_clock_running_without_a_restart():
    c = run([(at(22), "submitted"), (at(23), "under_review")], now=at(29))
    assert (c.days_used, c.running, c.status, c.started_at) == (7, True, "under_review", at(22))


def test_the_decision_day_counts_and_a_same_day_decision_took_0_days():
    same_day = run([(at(29, 9), "submitted"), (at(29, 15), "approved")], now=at(10, month=12))
    assert (same_day.days_used, same_day.decided, same_day.running, same_day.decided_at) == (0, True, False,
                                                                                              at(29, 15))
    next_day = run([(at(29, 9), "submitted"), (at(30, 8), "rejected")], now=at(10, month=12))
    assert (next_day.days_used, next_day.decided, next_day.status) == (1, True, "rejected")


def test_a_return_and_resubmission_on_the_same_day_counts_that_day_once():
    steps = [(at(29, 9), "submitted"), (at(1, 10, 12), "returned"), (at(1, 15, 12), "resubmitted")]
    c = run(steps, now=at(3, 12, month=12))
    uninterrupted = run([(at(29, 9), "submitted")], now=at(3, 12, month=12))
    assert c.days_used == uninterrupted.days_used == 4  # 30 Nov, 1, 2, 3 Dec
    assert c.running and c.status == "resubmitted"


def test_the_clock_pauses_while_the_plan_is_returned():
    steps = [(at(22), "submitted"), (at(25), "returned"), (at(29), "resubmitted")]
    # running 23, 24, 25 (returned on the 25th); paused 26 to 29; running 30 Nov, 1 Dec
    assert run(steps, now=at(1, month=12)).days_used == 5
    assert run([(at(22), "submitted")], now=at(1, month=12)).days_used == 9
    # while returned the count stands still
    paused = [run(steps[:2], now=at(day)) for day in (25, 26, 28)]
    assert [c.days_used for c in paused] == [3, 3, 3] and not any(c.running for c in paused)


def test_a_pause_across_the_weekend_in_working_days():
    # Returned on Thursday 26th, resubmitted on Sunday 29th: the Friday and Saturday are not working
    # days anyway, and the day of resubmission is day 0 of the resumed interval.
    steps = [(at(22), "submitted"), (at(26, 17), "returned"), (at(29, 8), "resubmitted")]
    c = run(steps, now=at(1, 12, month=12), calendar=WORKING_DAYS)
    assert c.days_used == 4 + 2  # Mon 23 to Thu 26, then Mon 30 and Tue 1
    assert run([(at(22), "submitted")], now=at(1, 12, month=12), calendar=WORKING_DAYS).days_used == 7
    assert run(steps, now=at(1, 12, month=12), calendar=CALENDAR_DAYS).days_used == 4 + 2


def test_working_days_skip_the_weekend_and_a_holiday_inside_the_running_interval():
    steps = [(at(22), "submitted")]
    assert run(steps, now=at(29), calendar=WORKING_DAYS).days_used == 5  # 23-26 and Sunday 29
    with_holiday = Calendar(counting="working", tz=RIYADH, holidays={date(2026, 11, 24), date(2026, 11, 10)})
    assert run(steps, now=at(29), calendar=with_holiday).days_used == 4
    # calendar counting ignores the holiday list
    assert run(steps, now=at(29), calendar=Calendar(counting="calendar", tz=RIYADH,
                                                   holidays={date(2026, 11, 24)})).days_used == 7


def test_another_weekend():
    saturday_sunday = Calendar(counting="working", tz=RIYADH, weekend_days={5, 6})
    assert run([(at(22), "submitted")], now=at(29), calendar=saturday_sunday).days_used == 5  # Mon-Fri


def test_local_dates_of_the_calendar_time_zone():
    # 22:30 UTC on the 29th is 01:30 on the 30th in Riyadh (UTC+3 all year, no DST)
    submitted = datetime(2026, 11, 29, 22, 30, tzinfo=UTC_TZ)
    now = datetime(2026, 11, 30, 20, 0, tzinfo=UTC_TZ)  # 23:00 on the 30th in Riyadh
    assert run([(submitted, "submitted")], now=now, calendar=CALENDAR_DAYS).days_used == 0
    assert run([(submitted, "submitted")], now=now, calendar=Calendar(counting="calendar", tz=UTC)).days_used == 1
    # the same instants written in another offset give the same answer
    shifted = [(submitted.astimezone(ZoneInfo("America/New_York")), "submitted")]
    assert run(shifted, now=now.astimezone(ZoneInfo("Asia/Tokyo"))).days_used == 0


def test_overdue_is_for_open_plans_and_late_for_decided_ones():
    open_plan = run([(at(22), "submitted")], now=at(26), target_days=3)
    assert (open_plan.days_used, open_plan.days_left, open_plan.overdue, open_plan.late) == (4, -1, True, False)
    on_time = run([(at(22), "submitted")], now=at(25), target_days=3)
    assert (on_time.days_left, on_time.overdue) == (0, False)
    late = run([(at(22), "submitted"), (at(26), "approved")], now=at(1, month=12), target_days=3)
    assert (late.days_used, late.overdue, late.late, late.decided) == (4, False, True, True)
    returned = run([(at(22), "submitted"), (at(27), "returned")], now=at(1, month=12), target_days=3)
    assert returned.overdue and not returned.running and returned.open


def test_a_withdrawal_stops_the_clock_for_good_without_a_decision():
    steps = [(at(22), "submitted"), (at(24), "withdrawn"), (at(25), "resubmitted")]
    c = run(steps, now=at(20, month=12), target_days=1)
    assert (c.days_used, c.running, c.decided, c.decided_at, c.status) == (2, False, False, None, "withdrawn")
    assert not c.open and not c.overdue and not c.late


def test_transitions_after_a_decision_or_after_now_are_ignored():
    decided = run([(at(22), "submitted"), (at(23), "approved"), (at(24), "resubmitted")], now=at(29))
    assert (decided.days_used, decided.status, decided.running) == (1, "approved", False)
    future = run([(at(22), "submitted"), (at(28), "returned")], now=at(25))
    assert (future.days_used, future.running, future.status) == (3, True, "submitted")


def test_transitions_at_the_same_instant_keep_their_order_and_input_order_does_not_matter():
    same = at(22)
    c = run([(same, "submitted"), (same, "under_review")], now=at(23))
    assert (c.status, c.days_used) == ("under_review", 1)
    shuffled = run([(at(29), "resubmitted"), (at(22), "submitted"), (at(25), "returned")], now=at(1, month=12))
    assert shuffled.days_used == 5


def test_naive_times_and_bad_calendars_are_refused():
    with pytest.raises(ValueError, match="aware"):
        run([], now=datetime(2026, 11, 22))
    with pytest.raises(ValueError, match="naive"):
        run([(datetime(2026, 11, 22), "submitted")], now=at(23))
    with pytest.raises(ValueError, match="counting"):
        Calendar(counting="lunar", tz=RIYADH)
    with pytest.raises(ValueError, match="weekdays"):
        Calendar(counting="working", tz=RIYADH, weekend_days={7})
    with pytest.raises(ValueError, match="working weekday"):
        Calendar(counting="working", tz=RIYADH, weekend_days=set(range(7)))


def _reference_days(steps, now, calendar: Calendar) -> int:
    """Count day by day: the set of local dates d with start < d <= end over the running intervals."""
    running = {"submitted", "under_review", "resubmitted"}
    stopped = {"approved", "rejected", "withdrawn"}
    counted: set[date] = set()
    since = None
    for when, status in sorted(steps, key=lambda s: s[0]):
        if when > now:
            break
        if status in running and since is None:
            since = when
        elif status not in running and since is not None:
            counted |= _dates_after(since, when, calendar)
            since = None
        if status in stopped:
            break
    if since is not None:
        counted |= _dates_after(since, now, calendar)
    return len(counted)


def _dates_after(start, end, calendar):
    first, last = start.astimezone(calendar.tz).date(), end.astimezone(calendar.tz).date()
    days = {first + timedelta(days=i) for i in range(1, (last - first).days + 1)}
    if calendar.counting == "working":
        days = {d for d in days if d.weekday() not in calendar.weekend_days and d not in calendar.holidays}
    return days


def test_random_histories_agree_with_a_day_by_day_count():
    rng = random.Random(20261201)
    holidays = {date(2026, 1, 1) + timedelta(days=rng.randrange(365)) for _ in range(20)}
    calendars = [CALENDAR_DAYS, Calendar(counting="working", tz=RIYADH, holidays=holidays),
                 Calendar(counting="working", tz=UTC, weekend_days={5, 6})]
    statuses = ["submitted", "under_review", "returned", "resubmitted", "approved", "withdrawn", "draft"]
    for _ in range(300):
        when = datetime(2026, 1, 1, tzinfo=UTC_TZ) + timedelta(hours=rng.randrange(24 * 200))
        steps = []
        for _ in range(rng.randrange(1, 8)):
            when += timedelta(hours=rng.choice([0, 1, 5, 20, 30, 24 * 3, 24 * 9]))
            steps.append((when, rng.choice(statuses)))
        now = when + timedelta(hours=rng.randrange(24 * 40))
        for calendar in calendars:
            assert run(steps, now=now, calendar=calendar).days_used == _reference_days(steps, now, calendar), steps


# ---- statistics ------------------------------------------------------------------------------------

def _clock(days_used, status, *, target_days=5, started=None):
    started = started or at(1)
    decided = status in ("approved", "rejected")
    is_open = status not in ("approved", "rejected", "withdrawn")
    return Clock(days_used=days_used, days_left=target_days - days_used, target_days=target_days,
                 overdue=is_open and days_used > target_days, running=status in ("submitted", "resubmitted"),
                 decided=decided, started_at=None if status == "draft" else started,
                 decided_at=at(20) if decided else None, status=status)


def test_summarise_counts_and_days_to_decision():
    clocks = {1: _clock(1, "approved"), 2: _clock(2, "rejected"), 3: _clock(3, "approved"),
              4: _clock(4, "approved"), 5: _clock(10, "approved"), 6: _clock(0, "draft"),
              7: _clock(7, "submitted"), 8: _clock(2, "returned"), 9: _clock(3, "withdrawn")}
    s = summarise(clocks)
    assert s.plans_total == 9
    assert s.counts_by_status == {"draft": 1, "submitted": 1, "under_review": 0, "returned": 1, "resubmitted": 0,
                                  "approved": 4, "rejected": 1, "withdrawn": 1}
    assert (s.decided_count, s.late_count, s.open_count, s.overdue_count) == (5, 1, 3, 1)
    assert s.median_days_to_decision == 3.0
    # numpy's linear method: position (5 - 1) × 0.9 = 3.6 between 4 and 10
    assert s.p90_days_to_decision == pytest.approx(4 + 0.6 * (10 - 4))
    assert s.decided_within_target_share == pytest.approx(4 / 5)
    # open plans that reached the municipality, most days first; the draft never submitted is not listed
    assert [(p.plan_id, p.clock.days_used) for p in s.oldest_open] == [(7, 7), (8, 2)]


def test_summarise_lists_the_ten_oldest_open_plans_ties_by_start():
    clocks = {i: _clock(i % 7, "submitted", started=at(1 + i)) for i in range(1, 16)}
    oldest = summarise(clocks).oldest_open
    assert len(oldest) == 10
    assert [p.clock.days_used for p in oldest] == [6, 6, 5, 5, 4, 4, 3, 3, 2, 2]
    assert [p.plan_id for p in oldest[:2]] == [6, 13]  # same days: the earlier submission first
    assert len(summarise(clocks, oldest=3).oldest_open) == 3


def test_summarise_with_nothing_decided_measures_nothing():
    s = summarise({1: _clock(2, "submitted")})
    assert (s.median_days_to_decision, s.p90_days_to_decision, s.decided_within_target_share) == (None, None, None)
    empty = summarise({})
    assert empty.plans_total == 0 and empty.oldest_open == [] and sum(empty.counts_by_status.values()) == 0


def test_summarise_even_count_median_and_single_value_percentile():
    s = summarise({1: _clock(2, "approved"), 2: _clock(5, "approved")})
    assert s.median_days_to_decision == 3.5 and s.p90_days_to_decision == pytest.approx(2 + 0.9 * 3)
    one = summarise({1: _clock(8, "rejected")})
    assert (one.median_days_to_decision, one.p90_days_to_decision, one.decided_within_target_share) == (8, 8, 0.0)


def test_working_days_between_any_two_dates_match_a_day_by_day_count():
    holidays = {date(2026, 3, 1) + timedelta(days=k * 5) for k in range(40)}  # some on weekends
    calendars = [Calendar(counting="working", tz=RIYADH, holidays=holidays),
                 Calendar(counting="working", tz=RIYADH, weekend_days={6}),
                 Calendar(counting="working", tz=RIYADH, weekend_days=set(), holidays=holidays)]
    start = date(2026, 2, 20)
    for calendar in calendars:
        for offset in range(8):
            first = start + timedelta(days=offset)
            for length in (0, 1, 2, 6, 7, 8, 13, 14, 15, 100, 400):
                last = first + timedelta(days=length)
                expected = sum(1 for i in range(1, length + 1)
                               if (d := first + timedelta(days=i)).weekday() not in calendar.weekend_days
                               and d not in calendar.holidays)
                assert calendar.days_between(first, last) == expected, (calendar, first, length)
    assert calendars[0].days_between(date(2026, 5, 1), date(2026, 4, 1)) == 0
