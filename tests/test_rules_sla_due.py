"""Met-by moments decide exactly what the business-time outcome rule decides."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch_tui.rules.holidays import HolidayRule
from dispatch_tui.rules.sla import BusinessCalendar, SlaPolicy
from dispatch_tui.rules.sla_due import (
    UNTRIAGED,
    DueTimeline,
    judge,
    met_by,
    policy_stamp,
    sla_due,
    timeline_for,
)
from dispatch_tui.rules.sla_outcome import BusinessTimeline, Outcome, outcome

CHICAGO = ZoneInfo("America/Chicago")
CAL = BusinessCalendar.from_names(
    CHICAGO,
    holidays=[
        date(2026, 2, 16),
        HolidayRule("Christmas", rrule="FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25"),
    ],
)
START = datetime(2026, 1, 1, tzinfo=UTC)


def _reference(created, done, minutes, now, clock) -> Outcome:
    """``outcome`` in float minutes, except exactly on target, where its rounding may
    say missed (2400.000000000001 > 2400): within target is met."""
    if done is not None and abs(clock.between(created, done) - minutes) < 1e-10:
        return Outcome.MET
    return outcome(created, done, minutes, now, clock)


def test_a_target_that_runs_out_at_closing_is_met_until_the_next_opening() -> None:
    friday_4pm = datetime(2026, 2, 6, 16, tzinfo=CHICAGO)
    monday_8am = datetime(2026, 2, 9, 8, tzinfo=CHICAGO)
    assert met_by(friday_4pm, 60, CAL) == monday_8am
    assert met_by(friday_4pm, 30, CAL) == datetime(2026, 2, 6, 16, 30, tzinfo=CHICAGO)
    # The holiday Monday 16 February is skipped.
    assert met_by(datetime(2026, 2, 13, 16, tzinfo=CHICAGO), 61, CAL) == datetime(
        2026, 2, 17, 8, 1, tzinfo=CHICAGO
    )


@pytest.mark.parametrize("minutes", [1, 60, 240, 540, 1440, 2400])
def test_timeline_and_walk_agree_with_the_outcome_rule(minutes: int) -> None:
    rng = random.Random(minutes)
    span_end = START + timedelta(days=400)
    timeline = DueTimeline(CAL, START, START + timedelta(days=200))
    clock = BusinessTimeline(CAL, START, span_end)
    for n in range(1500):
        created = START + timedelta(seconds=rng.randrange(0, 250 * 86400))
        if n % 3:
            created = created.replace(second=0)  # whole minutes, as the demo has them
        if n % 7 == 0:
            created += timedelta(microseconds=rng.randrange(1, 10**6))
        due = timeline.met_by(created, minutes)
        assert due == met_by(created, minutes, CAL)
        for done in (
            due,
            due - timedelta(microseconds=1),
            due + timedelta(microseconds=1),
            created + timedelta(minutes=rng.randrange(0, 6 * minutes)),
        ):
            assert judge(done, due, span_end) == _reference(
                created, done, minutes, span_end, clock
            ), (created, done)
        now = created + timedelta(minutes=rng.randrange(0, 8 * minutes))
        assert judge(None, due, now) == outcome(created, None, minutes, now, clock)


def test_a_timeline_longer_than_the_walk_horizon_covers_all_of_it() -> None:
    # windows_from looks ahead at most HORIZON_DAYS per call; a 13-year history (the
    # 100k demo's) must still be laid out whole, or its later tickets all walk.
    from dispatch_tui.rules.sla import HORIZON_DAYS

    end = START + timedelta(days=HORIZON_DAYS * 2 + 300)
    timeline = DueTimeline(CAL, START, end)
    assert timeline._starts[-1] > _us_of(end - timedelta(days=7))
    rng = random.Random(3)
    for _ in range(200):
        created = START + timedelta(minutes=rng.randrange(0, (end - START).days * 1440 - 20000))
        assert timeline.met_by(created, 2400) == met_by(created, 2400, CAL)


def _us_of(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def test_a_ticket_gets_the_moments_of_its_priority() -> None:
    sla = SlaPolicy()
    stamp = policy_stamp(sla, CAL)
    created = datetime(2026, 2, 2, 9, tzinfo=CHICAGO)
    timeline = timeline_for(CAL, created, created)
    new = sla_due(created, None, sla, stamp, timeline)
    assert (new.basis, new.engage_by, new.resolve_by) == (UNTRIAGED, None, None)
    assert new.respond_by == datetime(2026, 2, 2, 10, tzinfo=CHICAGO)
    critical = sla_due(created, "critical", sla, stamp, timeline)
    assert critical.resolve_by == datetime(2026, 2, 2, 13, tzinfo=CHICAGO)
    odd = sla_due(created, "renamed", sla, stamp, timeline)
    assert odd.resolve_by == sla_due(created, "medium", sla, stamp, timeline).resolve_by


def test_the_policy_stamp_changes_with_what_moves_a_deadline() -> None:
    base = policy_stamp(SlaPolicy(), CAL)
    assert base == policy_stamp(SlaPolicy(), CAL)
    moved = BusinessCalendar.from_names(CHICAGO, holidays=[date(2026, 2, 17)])
    assert policy_stamp(SlaPolicy(), moved) != base
    assert policy_stamp(SlaPolicy(), BusinessCalendar.from_names("UTC")) != base


@pytest.mark.parametrize("minutes", [1, 60, 240, 540, 1440, 2400])
def test_timeline_due_is_the_calendar_walk(minutes: int) -> None:
    # The health check's stopped resolution clocks compare DueTimeline.due with the
    # moment the ticket started waiting: it must be add_business_minutes exactly,
    # closing-time targets included (due at closing, not at the next opening).
    from dispatch_tui.rules.sla import add_business_minutes

    rng = random.Random(minutes)
    timeline = DueTimeline(CAL, START, START + timedelta(days=200))
    for n in range(1500):
        created = START + timedelta(seconds=rng.randrange(-5 * 86400, 250 * 86400))
        if n % 3:
            created = created.replace(second=0)
        if n % 7 == 0:
            created += timedelta(microseconds=rng.randrange(1, 10**6))
        assert timeline.due(created, minutes) == add_business_minutes(created, minutes, CAL)
    friday_4pm = datetime(2026, 2, 6, 16, tzinfo=CHICAGO)
    assert timeline.due(friday_4pm, 60) == datetime(2026, 2, 6, 17, tzinfo=CHICAGO)
    assert timeline.due(friday_4pm, 0) == friday_4pm
