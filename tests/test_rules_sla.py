"""The SLA clock in business time: plain values in, plain values out, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch_tui.rules.holidays import HolidayRule
from dispatch_tui.rules.sla import (
    DEFAULT_TARGETS,
    HORIZON_DAYS,
    WEEKDAYS,
    BusinessCalendar,
    Clock,
    SlaPolicy,
    Targets,
    TicketTimes,
    add_business_minutes,
    business_minutes_between,
    minutes_to_breach,
    minutes_to_breach_many,
    next_breach,
    parse_hhmm,
    running_clocks,
)

CHICAGO = ZoneInfo("America/Chicago")
LONDON = ZoneInfo("Europe/London")
CAL = BusinessCalendar.from_names(CHICAGO)  # Mon-Fri 08:00-17:00
ROUND_THE_CLOCK = {day: ("00:00", "24:00") for day in WEEKDAYS}
ALWAYS = BusinessCalendar.from_names(CHICAGO, ROUND_THE_CLOCK)
LONDON_ALWAYS = BusinessCalendar.from_names(LONDON, ROUND_THE_CLOCK)


def chi(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CHICAGO)


def ldn(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON)


# -- counting ------------------------------------------------------------------------


def test_minutes_within_one_working_day() -> None:
    assert business_minutes_between(chi(2026, 11, 23, 9), chi(2026, 11, 23, 10, 30), CAL) == 90


def test_after_hours_arrival_starts_counting_next_morning() -> None:
    arrived = chi(2026, 11, 23, 18, 5)  # Monday evening
    assert business_minutes_between(arrived, chi(2026, 11, 24, 8, 30), CAL) == 30
    assert add_business_minutes(arrived, 60, CAL) == chi(2026, 11, 24, 9)
    # Before opening counts the same way.
    assert add_business_minutes(chi(2026, 11, 24, 6), 60, CAL) == chi(2026, 11, 24, 9)


def test_weekend_is_skipped() -> None:
    friday = chi(2026, 11, 20, 16)
    assert business_minutes_between(friday, chi(2026, 11, 23, 9), CAL) == 120
    assert add_business_minutes(chi(2026, 11, 20, 16, 30), 60, CAL) == chi(2026, 11, 23, 8, 30)
    # Arriving on Saturday: nothing counts until Monday 08:00.
    assert business_minutes_between(chi(2026, 11, 21, 10), chi(2026, 11, 23, 8), CAL) == 0


def test_target_ending_at_closing_time_is_due_at_closing() -> None:
    assert add_business_minutes(chi(2026, 11, 23, 16), 60, CAL) == chi(2026, 11, 23, 17)


def test_single_date_holiday_is_skipped() -> None:
    cal = BusinessCalendar.from_names(CHICAGO, holidays=[date(2026, 11, 23)])
    assert add_business_minutes(chi(2026, 11, 20, 16, 30), 60, cal) == chi(2026, 11, 24, 8, 30)
    assert business_minutes_between(chi(2026, 11, 23, 8), chi(2026, 11, 23, 17), cal) == 0


def test_recurring_holiday_rule_is_skipped() -> None:
    thanksgiving = HolidayRule("Thanksgiving", rrule="FREQ=YEARLY;BYMONTH=11;BYDAY=+4TH")
    cal = BusinessCalendar.from_names(CHICAGO, holidays=[thanksgiving])
    # Wednesday 16:30 + 1 h -> Friday 08:30: Thursday 26 November 2026 is Thanksgiving.
    assert add_business_minutes(chi(2026, 11, 25, 16, 30), 60, cal) == chi(2026, 11, 27, 8, 30)
    # The rule recurs: Thanksgiving 2027 is 25 November.
    assert cal.is_closed(date(2027, 11, 25)) and not cal.is_closed(date(2027, 11, 26))


def test_multi_day_span_counts_every_working_day() -> None:
    # Monday 08:00 to the next Monday 08:00: five nine-hour days.
    assert business_minutes_between(chi(2026, 11, 16, 8), chi(2026, 11, 23, 8), CAL) == 5 * 9 * 60


def test_custom_hours_and_weekend_work() -> None:
    cal = BusinessCalendar.from_names(
        CHICAGO, {"sat": ("09:00", "12:00"), "mon": ("07:00", "16:00")}
    )
    assert add_business_minutes(chi(2026, 11, 20, 10), 60, cal) == chi(2026, 11, 21, 10)
    assert add_business_minutes(chi(2026, 11, 21, 11, 30), 60, cal) == chi(2026, 11, 23, 7, 30)


# -- pauses --------------------------------------------------------------------------


def test_pause_stops_the_clock() -> None:
    pauses = [(chi(2026, 11, 23, 10), chi(2026, 11, 23, 11))]
    start = chi(2026, 11, 23, 9)
    assert business_minutes_between(start, chi(2026, 11, 23, 12), CAL, pauses) == 120
    assert add_business_minutes(start, 120, CAL, pauses) == chi(2026, 11, 23, 12)


def test_pause_over_night_and_overlapping_pauses_count_once() -> None:
    pauses = [
        (chi(2026, 11, 23, 16), chi(2026, 11, 24, 9)),
        (chi(2026, 11, 23, 15), chi(2026, 11, 23, 16, 30)),
    ]
    # Monday 08:00-15:00 (7 h) runs, 15:00 to Tuesday 09:00 is paused, 09:00-10:00 runs.
    got = business_minutes_between(chi(2026, 11, 23, 8), chi(2026, 11, 24, 10), CAL, pauses)
    assert got == 8 * 60


def test_open_pause_holds_the_clock_until_the_client_replies() -> None:
    pauses = [(chi(2026, 11, 23, 10), None)]
    start = chi(2026, 11, 23, 9)
    assert business_minutes_between(start, chi(2026, 11, 25, 12), CAL, pauses) == 60
    with pytest.raises(ValueError, match="paused"):
        add_business_minutes(start, 120, CAL, pauses)


# -- daylight-saving changes ---------------------------------------------------------


def test_chicago_spring_forward_day_is_23_hours_long() -> None:
    assert business_minutes_between(chi(2026, 3, 8), chi(2026, 3, 9), ALWAYS) == 23 * 60


def test_chicago_fall_back_day_is_25_hours_long() -> None:
    assert business_minutes_between(chi(2026, 11, 1), chi(2026, 11, 2), ALWAYS) == 25 * 60


def test_chicago_office_hours_over_the_dst_weekend_stay_nine_hours() -> None:
    # Friday 16:00 CST (22:00 UTC) to Monday 09:00 CDT (14:00 UTC): 1 h + 1 h.
    assert business_minutes_between(chi(2026, 3, 6, 16), chi(2026, 3, 9, 9), CAL) == 120
    due = add_business_minutes(chi(2026, 3, 6, 16, 30), 60, CAL)
    assert due == chi(2026, 3, 9, 8, 30)
    assert due.utcoffset() == timedelta(0) and due.hour == 13  # 08:30 CDT is 13:30 UTC
    assert business_minutes_between(chi(2026, 10, 30, 16), chi(2026, 11, 2, 9), CAL) == 120


def test_london_spring_forward_skips_the_missing_hour() -> None:
    assert business_minutes_between(ldn(2026, 3, 29), ldn(2026, 3, 30), LONDON_ALWAYS) == 23 * 60
    # A Sunday shift 00:00-03:00 on the change day is two real hours long.
    cal = BusinessCalendar.from_names(LONDON, {"sun": ("00:00", "03:00")})
    assert business_minutes_between(ldn(2026, 3, 28), ldn(2026, 3, 30), cal) == 120


def test_london_fall_back_counts_the_repeated_hour() -> None:
    assert business_minutes_between(ldn(2026, 10, 25), ldn(2026, 10, 26), LONDON_ALWAYS) == 25 * 60
    cal = BusinessCalendar.from_names(LONDON, {"sun": ("00:00", "03:00")})
    assert business_minutes_between(ldn(2026, 10, 24), ldn(2026, 10, 26), cal) == 240


def test_london_office_day_after_the_change_opens_at_local_eight() -> None:
    cal = BusinessCalendar.from_names(LONDON)
    due = add_business_minutes(ldn(2026, 3, 27, 16, 30), 60, cal)  # Friday, still GMT
    assert due == ldn(2026, 3, 30, 8, 30)
    assert due.astimezone(UTC).hour == 7  # BST: 08:30 local is 07:30 UTC


# -- edges ---------------------------------------------------------------------------


def test_zero_length_and_zero_minutes() -> None:
    moment = chi(2026, 11, 23, 10)
    assert business_minutes_between(moment, moment, CAL) == 0
    assert add_business_minutes(moment, 0, CAL) == moment
    saturday = chi(2026, 11, 21, 10)
    assert add_business_minutes(saturday, 0, CAL) == saturday


def test_start_after_end_is_negative() -> None:
    a, b = chi(2026, 11, 20, 16), chi(2026, 11, 23, 9)
    assert business_minutes_between(b, a, CAL) == -business_minutes_between(a, b, CAL) == -120


def test_instants_in_other_zones_mean_the_same_moment() -> None:
    start = chi(2026, 11, 23, 9).astimezone(LONDON)
    assert business_minutes_between(start, chi(2026, 11, 23, 10).astimezone(UTC), CAL) == 60


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        business_minutes_between(datetime(2026, 1, 1), chi(2026, 1, 2), CAL)
    with pytest.raises(ValueError, match="negative"):
        add_business_minutes(chi(2026, 1, 2), -5, CAL)
    with pytest.raises(ValueError, match="at least one weekday"):
        BusinessCalendar.from_names(CHICAGO, {})
    with pytest.raises(ValueError, match="end before they start"):
        BusinessCalendar.from_names(CHICAGO, {"mon": ("17:00", "08:00")})
    with pytest.raises(ValueError, match="unknown weekday"):
        BusinessCalendar.from_names(CHICAGO, {"funday": ("08:00", "17:00")})
    with pytest.raises(ValueError, match="HH:MM"):
        parse_hhmm("25:00")
    assert parse_hhmm("24:00") == 1440


def test_a_calendar_closed_for_years_fails_instead_of_looping() -> None:
    every_day = HolidayRule("Closed", rrule="FREQ=DAILY")
    cal = BusinessCalendar.from_names(CHICAGO, holidays=[every_day])
    with pytest.raises(ValueError, match="no business time"):
        add_business_minutes(chi(2026, 1, 5), 60, cal)


# -- targets and breaches ------------------------------------------------------------


def test_untriaged_ticket_runs_only_the_first_response_clock() -> None:
    ticket = TicketTimes(created_at=chi(2026, 11, 23, 9))
    state = next_breach(ticket, chi(2026, 11, 23, 9, 45), CAL)
    assert state is not None and state.clock is Clock.FIRST_RESPONSE
    assert state.minutes_left == 15 and not state.breached
    assert state.due_at == chi(2026, 11, 23, 10)
    late = next_breach(ticket, chi(2026, 11, 23, 10, 30), CAL)
    assert late is not None and late.minutes_left == -30 and late.breached


def test_after_hours_ticket_is_not_breached_overnight() -> None:
    ticket = TicketTimes(created_at=chi(2026, 11, 23, 19))
    assert minutes_to_breach(ticket, chi(2026, 11, 24, 7, 59), CAL) == 60


def test_triaged_ticket_next_breach_is_engagement() -> None:
    ticket = TicketTimes(
        created_at=chi(2026, 11, 23, 9),
        priority="critical",
        first_response_at=chi(2026, 11, 23, 9, 20),
    )
    clocks = {s.clock for s in running_clocks(ticket, chi(2026, 11, 23, 9, 30), CAL)}
    assert clocks == {Clock.ENGAGEMENT, Clock.RESOLUTION}
    state = next_breach(ticket, chi(2026, 11, 23, 9, 30), CAL)
    assert state is not None and state.clock is Clock.ENGAGEMENT and state.minutes_left == 30


def test_waiting_on_the_client_pauses_only_resolution() -> None:
    ticket = TicketTimes(
        created_at=chi(2026, 11, 23, 8),
        priority="critical",
        first_response_at=chi(2026, 11, 23, 8, 10),
        engaged_at=chi(2026, 11, 23, 8, 30),
        pauses=((chi(2026, 11, 23, 9), None),),
    )
    state = next_breach(ticket, chi(2026, 11, 25, 16), CAL)
    assert state is not None and state.clock is Clock.RESOLUTION
    assert state.paused and state.due_at is None and state.minutes_left == 4 * 60 - 60
    # The reply ends the pause; the clock resumes where it stopped.
    replied = replace(ticket, pauses=((chi(2026, 11, 23, 9), chi(2026, 11, 25, 16)),))
    state = next_breach(replied, chi(2026, 11, 25, 16), CAL)
    assert state is not None and not state.paused and state.due_at == chi(2026, 11, 26, 10)


def test_met_clocks_give_no_breach() -> None:
    t = chi(2026, 11, 23, 9)
    done = TicketTimes(
        created_at=t, priority="low", first_response_at=t, engaged_at=t, resolved_at=t
    )
    assert next_breach(done, t + timedelta(days=30), CAL) is None
    assert minutes_to_breach(done, t, CAL) is None


def test_default_targets_and_custom_policy() -> None:
    policy = SlaPolicy()
    assert {t.first_response for t in policy.targets.values()} == {60}
    strict = SlaPolicy({**policy.targets, "low": Targets(30, 60, 120)})
    assert strict.untriaged_first_response() == 30
    with pytest.raises(ValueError, match="whole number"):
        Targets(0, 60, 60)
    with pytest.raises(ValueError, match="missing for priority"):
        SlaPolicy({"critical": Targets(60, 60, 60)})


@pytest.mark.parametrize("priority", [None, "critical", "low", "quick_hit"])
@pytest.mark.parametrize("pause", [None, "open", "closed"])
def test_minutes_without_due_moments_match_the_full_clocks(
    priority: str | None, pause: str | None
) -> None:
    # minutes_to_breach skips the breach moments; the minutes and the clocks that
    # run must be exactly those of running_clocks with them.
    created = chi(2026, 11, 20, 16, 59)
    pauses = {
        None: (),
        "open": ((chi(2026, 11, 23, 9), None),),
        "closed": ((chi(2026, 11, 23, 9), chi(2026, 11, 24, 11, 30)),),
    }[pause]
    ticket = TicketTimes(created_at=created, priority=priority, pauses=pauses)
    for hours in (0, 1, 7, 30, 200):
        now = created + timedelta(hours=hours, seconds=7.25)
        full = running_clocks(ticket, now, CAL)
        bare = running_clocks(ticket, now, CAL, with_due=False)
        assert [replace(s, due_at=None) for s in full] == bare
        assert minutes_to_breach(ticket, now, CAL) == min(s.minutes_left for s in full)


def _random_tickets(rng, now: datetime, count: int) -> list[TicketTimes]:
    priorities = [None, "critical", "high", "medium", "low", "quick_hit", "unknown"]
    tickets = []
    for _ in range(count):
        # Mostly recent arrivals (a queue), some old, some after now, some at whole minutes.
        age = rng.choice(
            [
                timedelta(seconds=rng.uniform(0, 3 * 86400)),
                timedelta(days=rng.uniform(0, 400)),
                timedelta(minutes=rng.randint(-600, 6000)),
                timedelta(days=HORIZON_DAYS - rng.uniform(-3, 3)),
                timedelta(0),
            ]
        )
        created = now - age
        done = [None, created + timedelta(minutes=rng.randint(1, 300))]
        pauses = rng.choice([(), (), (), ((created + timedelta(hours=2), None),)])
        tickets.append(
            TicketTimes(
                created_at=created,
                priority=rng.choice(priorities),
                first_response_at=rng.choice(done),
                engaged_at=rng.choice(done),
                resolved_at=rng.choice(done),
                pauses=pauses,
            )
        )
    return tickets


@pytest.mark.parametrize(
    "calendar",
    [
        CAL,
        ALWAYS,
        LONDON_ALWAYS,
        BusinessCalendar.from_names(
            LONDON,
            {"mon": ("07:30", "18:15"), "wed": ("00:00", "24:00"), "sat": ("22:00", "24:00")},
            holidays=[date(2026, 11, 26), date(2026, 3, 30)],
        ),
        BusinessCalendar.from_names(
            CHICAGO,
            holidays=[HolidayRule("thanksgiving", rrule="FREQ=YEARLY;BYMONTH=11;BYDAY=4TH")],
        ),
    ],
)
def test_minutes_for_a_queue_are_exactly_the_one_ticket_minutes(
    calendar: BusinessCalendar,
) -> None:
    # The queue path shares one calendar walk; every figure must equal the
    # one-ticket function's to the last bit, whatever the ticket, calendar and now
    # (DST changes in both zones fall inside these spans).
    import random

    rng = random.Random(9)
    policy = SlaPolicy({**DEFAULT_TARGETS, "medium": Targets(45, 250, 1500)})
    for now in (
        chi(2026, 11, 24, 10, 17) + timedelta(microseconds=123457),
        ldn(2026, 3, 30, 9, 1),
        chi(2026, 11, 1, 3, 30),
        datetime(2026, 11, 28, 23, 59, 59, 999999, tzinfo=UTC),
    ):
        tickets = _random_tickets(rng, now, 50)
        expected = [minutes_to_breach(t, now, calendar, policy) for t in tickets]
        assert minutes_to_breach_many(tickets, now, calendar, policy) == expected
    assert minutes_to_breach_many([], now, calendar) == []
