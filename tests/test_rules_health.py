"""Desk health checks on hand-built rows: no database, exact boundaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch_tui.rules import health
from dispatch_tui.rules.health import (
    HealthContext,
    HealthThresholds,
    PendingTime,
    TechWeek,
    TicketFacts,
)
from dispatch_tui.rules.sla import BusinessCalendar, business_minutes_between
from dispatch_tui.rules.sla_outcome import BusinessTimeline, Outcome, Tally, outcome

CHICAGO = ZoneInfo("America/Chicago")
CAL = BusinessCalendar.from_names(CHICAGO)  # Mon-Fri 08:00-17:00
CTX = HealthContext(calendar=CAL)
# Monday 9 February 2026 is a holiday in this calendar.
HOLIDAY_CAL = BusinessCalendar.from_names(CHICAGO, holidays=[date(2026, 2, 9)])


def chi(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A time in February 2026, Chicago; the 2nd is a Monday."""
    return datetime(2026, 2, day, hour, minute, tzinfo=CHICAGO)


def facts(status: str = "waiting_client", at: datetime | None = None, **kw) -> TicketFacts:
    at = at or chi(2, 10)
    return TicketFacts(id=kw.pop("id", 1), status=status, created_at=at, updated_at=at, **kw)


def ids(result: health.CheckResult) -> list[int]:
    return list(result.ticket_ids)


# -- yardstick -------------------------------------------------------------------------


def test_a_business_day_is_the_usual_window() -> None:
    assert health.business_day_minutes(CAL) == 9 * 60
    half_saturday = BusinessCalendar.from_names(
        CHICAGO,
        {
            **{d: ("08:00", "17:00") for d in ("mon", "tue", "wed", "thu", "fri")},
            "sat": ("09:00", "13:00"),
        },
    )
    assert health.business_day_minutes(half_saturday) == 9 * 60


def test_thresholds_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="waiting_business_days"):
        HealthThresholds(waiting_business_days=0)
    assert HealthThresholds().large_estimate_hours == 4


def test_check_ids_are_stable_and_complete() -> None:
    assert health.CHECK_IDS == (
        "untriaged_past_first_response",
        "waiting_no_activity",
        "booked_no_future_call",
        "on_hold_no_future_due",
        "large_not_booked",
        "past_resolution_target",
        "escalated_untouched",
        "resolved_without_resolution_note",
        "no_notes_after_a_day",
        "time_entries_pending_approval",
        "technician_utilization",
    )
    assert set(health.TICKET_CHECKS) | {
        "time_entries_pending_approval",
        "technician_utilization",
    } == set(health.CHECK_IDS)


# -- untriaged -------------------------------------------------------------------------


def test_untriaged_flags_only_strictly_past_the_first_response_target() -> None:
    row = facts("new", chi(2, 10))
    check = health.untriaged_past_first_response
    assert check([row], chi(2, 11), CTX).count == 0  # exactly 60 business minutes
    assert ids(check([row], chi(2, 11, 1), CTX)) == [1]
    assert check([replace(row, status="triaged")], chi(3, 10), CTX).count == 0


def test_untriaged_counts_business_time_over_the_weekend() -> None:
    row = facts("new", chi(6, 16, 30))  # Friday
    assert health.untriaged_past_first_response([row], chi(9, 8, 29), CTX).count == 0
    assert health.untriaged_past_first_response([row], chi(9, 8, 31), CTX).count == 1


# -- waiting and escalated: activity -----------------------------------------------------


def test_waiting_exactly_two_business_days_counts() -> None:
    row = facts("waiting_vendor", chi(2, 10))  # Monday 10:00
    assert health.waiting_no_activity([row], chi(4, 9, 59), CTX).count == 0
    result = health.waiting_no_activity([row], chi(4, 10), CTX)  # Wednesday 10:00
    assert ids(result) == [1] and "2 business days" in result.detail


def test_a_holiday_in_between_does_not_count() -> None:
    row = facts("waiting_client", chi(6, 10))  # Friday; Monday the 9th is a holiday
    ctx = HealthContext(calendar=HOLIDAY_CAL)
    assert health.waiting_no_activity([row], chi(10, 10), CTX).count == 1
    assert health.waiting_no_activity([row], chi(10, 10), ctx).count == 0
    assert health.waiting_no_activity([row], chi(11, 10), ctx).count == 1


def test_a_note_or_time_entry_is_activity() -> None:
    row = facts("waiting_client", chi(2, 10))
    now = chi(5, 10)
    assert health.waiting_no_activity([row], now, CTX).count == 1
    assert health.waiting_no_activity([replace(row, last_note_at=chi(4, 9))], now, CTX).count == 0
    touched = replace(row, last_time_entry_at=chi(4, 9))
    assert health.waiting_no_activity([touched], now, CTX).count == 0
    assert health.waiting_no_activity([replace(row, status="in_progress")], now, CTX).count == 0


def test_escalated_untouched_for_one_business_day() -> None:
    row = facts("in_progress", chi(2, 10), escalated=True)
    assert health.escalated_untouched([row], chi(3, 9, 59), CTX).count == 0
    assert health.escalated_untouched([row], chi(3, 10), CTX).count == 1
    assert health.escalated_untouched([replace(row, escalated=False)], chi(5), CTX).count == 0
    assert health.escalated_untouched([replace(row, status="closed")], chi(5), CTX).count == 0


# -- booking and due dates ----------------------------------------------------------------


def test_booked_without_a_future_call() -> None:
    now = chi(4, 12)
    check = health.booked_no_future_call
    past = facts("assigned", service_calls=2, last_call_end=now)  # ended exactly now
    assert ids(check([past], now, CTX)) == [1]
    assert check([replace(past, last_call_end=now + timedelta(minutes=1))], now, CTX).count == 0
    assert check([replace(past, service_calls=0, last_call_end=None)], now, CTX).count == 0
    assert check([replace(past, status="resolved")], now, CTX).count == 0


def test_on_hold_due_date_exactly_now_is_not_future() -> None:
    now = chi(4, 12)
    check = health.on_hold_no_future_due
    assert check([facts("on_hold", due_at=None)], now, CTX).count == 1
    assert check([facts("on_hold", due_at=now)], now, CTX).count == 1
    assert check([facts("on_hold", due_at=now + timedelta(seconds=1))], now, CTX).count == 0
    assert check([facts("in_progress", due_at=None)], now, CTX).count == 0


def test_large_means_more_than_four_hours_and_no_call() -> None:
    check = health.large_not_booked
    now = chi(4)
    assert check([facts("triaged", estimate_hours=4.0)], now, CTX).count == 0
    assert check([facts("triaged", estimate_hours=4.25)], now, CTX).count == 1
    assert check([facts("triaged", estimate_hours=6, service_calls=1)], now, CTX).count == 0
    assert check([facts("triaged", estimate_hours=None)], now, CTX).count == 0


# -- resolution ------------------------------------------------------------------------------


def test_past_resolution_target_is_strict() -> None:
    row = facts("in_progress", chi(2, 8), priority="high")  # 8 business hours
    check = health.past_resolution_target
    assert check([row], chi(2, 16), CTX).count == 0  # exactly 480 minutes
    assert check([row], chi(2, 16, 1), CTX).count == 1
    assert check([replace(row, priority=None)], chi(5), CTX).count == 0
    assert check([replace(row, status="resolved")], chi(5), CTX).count == 0


def test_waiting_on_the_client_stops_the_resolution_clock() -> None:
    row = facts("waiting_client", chi(2, 8), priority="high")
    row = replace(row, updated_at=chi(2, 12))  # moved to waiting after 4 hours
    assert health.past_resolution_target([row], chi(6, 12), CTX).count == 0
    vendor = replace(row, status="waiting_vendor")
    assert health.past_resolution_target([vendor], chi(6, 12), CTX).count == 1


# -- notes -----------------------------------------------------------------------------------


def test_resolved_without_resolution_note() -> None:
    check = health.resolved_without_resolution_note
    assert check([facts("resolved", has_resolution_note=False)], chi(4), CTX).count == 1
    assert check([facts("resolved", has_resolution_note=True)], chi(4), CTX).count == 0
    assert check([facts("closed", has_resolution_note=False)], chi(4), CTX).count == 0


def test_no_note_after_a_business_day_of_work() -> None:
    row = facts("in_progress", chi(2, 8), engaged_at=chi(2, 10))
    check = health.no_notes_after_a_day
    assert check([row], chi(3, 9, 59), CTX).count == 0
    assert check([row], chi(3, 10), CTX).count == 1
    assert check([replace(row, notes_since_engaged=1)], chi(3, 10), CTX).count == 0
    assert check([replace(row, engaged_at=None)], chi(5), CTX).count == 0


# -- time and people ---------------------------------------------------------------------------


def test_pending_time_counts_tickets_and_says_entries() -> None:
    rows = [PendingTime(7, 2, 3.5), PendingTime(9, 1, 1.0), PendingTime(11, 0, 0.0)]
    result = health.time_entries_pending_approval(rows, CTX)
    assert (result.count, ids(result)) == (2, [7, 9])
    assert result.detail == "3 entries, 4.5 hours to approve"


def test_utilization_flags_high_and_low_once_enough_hours_passed() -> None:
    rows = [
        TechWeek("Ava", 38, 40),  # 95%: at the high level
        TechWeek("Ben", 10, 40),  # 25%: far below
        TechWeek("Cai", 30, 40),  # 75%: on target
        TechWeek("Dee", 0, 4),  # Monday morning: too early to judge
    ]
    result = health.technician_utilization(rows, CTX)
    assert result.technicians == ("Ava", "Ben") and result.count == 2
    assert "Ava 95%" in result.detail


def test_ids_are_capped_but_the_count_is_not() -> None:
    ctx = replace(CTX, thresholds=HealthThresholds(max_ids=2))
    rows = [facts("on_hold", id=i) for i in range(5)]
    result = health.on_hold_no_future_due(rows, chi(4), ctx)
    assert result.count == 5 and ids(result) == [0, 1]
    merged = health.merge([result, result], max_ids=3)
    assert merged.count == 10 and len(merged.ticket_ids) == 3


# -- SLA outcomes for the reports ----------------------------------------------------------------


def test_timeline_agrees_with_the_clock() -> None:
    timeline = BusinessTimeline(HOLIDAY_CAL, chi(1), chi(28))
    moments = [chi(2, 7), chi(2, 9, 15), chi(6, 16, 59), chi(9, 12), chi(10, 8), chi(20, 23)]
    for a in moments:
        for b in moments:
            if a <= b:
                expected = business_minutes_between(a, b, HOLIDAY_CAL)
                assert timeline.between(a, b) == pytest.approx(expected)
    # Outside the laid-out span it falls back to the calendar.
    outside = datetime(2026, 3, 3, 10, tzinfo=CHICAGO)
    assert timeline.between(chi(27, 10), outside) == business_minutes_between(
        chi(27, 10), outside, HOLIDAY_CAL
    )


def test_outcome_met_missed_pending() -> None:
    timeline = BusinessTimeline(CAL, chi(1), chi(28))
    created = chi(2, 16)
    assert outcome(created, chi(2, 17), 60, chi(10), timeline) is Outcome.MET
    # 17:00 to 18:00 is not business time: still within the hour.
    assert outcome(created, chi(2, 18), 60, chi(10), timeline) is Outcome.MET
    assert outcome(created, chi(3, 8, 1), 60, chi(10), timeline) is Outcome.MISSED
    assert outcome(created, None, 60, chi(2, 17), timeline) is Outcome.PENDING
    assert outcome(created, None, 60, chi(3, 8, 1), timeline) is Outcome.MISSED
    tally = Tally()
    for result in (Outcome.MET, Outcome.MISSED, Outcome.PENDING, Outcome.MET):
        tally.add(result)
    assert (tally.met, tally.missed, tally.pending, tally.share) == (2, 1, 1, 0.6667)
    assert Tally().share is None


# -- cutoffs: one instant per threshold, equal to the per-ticket walk --------------------


def _starts(now: datetime, rng) -> list[datetime]:
    """Random starts in the month before now, plus the awkward ones: window edges,
    whole minutes, a microsecond either side of each."""
    base = [now - timedelta(seconds=rng.randrange(0, 40 * 86400)) for _ in range(300)]
    edges = [chi(d, h) for d in range(1, 28) for h in (8, 17)]
    base += edges + [now - timedelta(minutes=m) for m in range(0, 3 * 24 * 60, 7)]
    tiny = timedelta(microseconds=1)
    return [s + d for s in base for d in (-tiny, timedelta(0), tiny)]


@pytest.mark.parametrize("calendar", [CAL, HOLIDAY_CAL], ids=["plain", "holiday"])
@pytest.mark.parametrize("now", [chi(10, 12), chi(10, 17), chi(16, 8), chi(14, 3, 7)])
@pytest.mark.parametrize("minutes", [1, 60, 540, 1080, 4 * 540 + 13])
def test_latest_start_splits_starts_as_the_walk_does(calendar, now, minutes) -> None:
    import random

    from dispatch_tui.rules.sla import add_business_minutes

    cutoff = health.latest_start(now, minutes, calendar)
    for start in _starts(now, random.Random(minutes)):
        reached = add_business_minutes(start, minutes, calendar) <= now
        assert reached == (start <= cutoff), (start, cutoff)
        strictly = add_business_minutes(start, minutes, calendar) < now
        assert strictly == (start <= health.resolution_cutoff(now, minutes, calendar)), start


def test_business_days_cutoff_matches_business_days_passed() -> None:
    now = chi(11, 9, 30)
    cutoff = health.business_days_cutoff(now, 2, HOLIDAY_CAL)
    for start in _starts(now, __import__("random").Random(2)):
        assert health.business_days_passed(start, now, 2, HOLIDAY_CAL) == (start <= cutoff)
