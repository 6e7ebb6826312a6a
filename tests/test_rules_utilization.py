"""Utilisation against weeks worked out by hand."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch_tui.rules.utilization import Flag, IsoWeek, Thresholds, available_hours, classify
from dispatch_tui.rules.workhours import WorkingHours

CHICAGO = ZoneInfo("America/Chicago")
NINE_TO_FIVE = WorkingHours.parse("mon,tue,wed,thu,fri", "09:00", "17:00")  # 8 h a day
T = Thresholds()


def test_iso_weeks_parse_and_print() -> None:
    week = IsoWeek.parse("2026-W10")
    assert (week.monday, week.sunday) == (date(2026, 3, 2), date(2026, 3, 8))
    assert str(week) == "2026-W10" and IsoWeek.parse("2026w10") == week
    assert IsoWeek.containing(date(2026, 3, 8)) == week
    for bad in ("2026-10", "2025-W53", "W10", "2026-W0"):
        with pytest.raises(ValueError):
            IsoWeek.parse(bad)


def test_a_plain_week_is_forty_hours_and_thirty_billable_hits_the_target() -> None:
    week = IsoWeek.parse("2026-W11")  # Mon 9 Mar - Sun 15 Mar, after the DST change
    assert available_hours(NINE_TO_FIVE, CHICAGO, week) == 40
    ratio, flag = classify(30, 40, T)
    assert ratio == 0.75 and flag is Flag.OK


def test_the_dst_week_still_has_forty_wall_clock_hours() -> None:
    # Week 10 ends on Sunday 8 March, the spring-forward day; weekdays are unaffected.
    assert available_hours(NINE_TO_FIVE, CHICAGO, IsoWeek.parse("2026-W10")) == 40
    every_day = WorkingHours.parse("mon,tue,wed,thu,fri,sat,sun", "00:00", "12:00")
    # Sunday 00:00-12:00 loses the skipped hour: 7 * 12 - 1.
    assert available_hours(every_day, CHICAGO, IsoWeek.parse("2026-W10")) == 83


def test_a_week_with_a_holiday() -> None:
    # Thanksgiving 2026 is Thursday 26 November (week 48): 4 days * 8 h = 32 h.
    week = IsoWeek.parse("2026-W48")
    available = available_hours(NINE_TO_FIVE, CHICAGO, week, holidays=[date(2026, 11, 26)])
    assert available == 32
    # 24 billable of 32 is 75%, while against a naive 40 h it would look like 60%.
    assert classify(24, available, T) == (0.75, Flag.OK)


def test_a_week_with_out_of_office() -> None:
    # Away Tuesday 13:00 to Thursday 13:00: Tue 4 h + Wed 8 h + Thu 4 h = 16 h gone.
    week = IsoWeek.parse("2026-W11")
    away = [(datetime(2026, 3, 10, 13, tzinfo=CHICAGO), datetime(2026, 3, 12, 13, tzinfo=CHICAGO))]
    available = available_hours(NINE_TO_FIVE, CHICAGO, week, away=away)
    assert available == 24
    ratio, flag = classify(23, available, T)
    assert round(ratio, 4) == 0.9583 and flag is Flag.HIGH


def test_away_time_outside_the_week_or_overlapping_a_holiday_counts_once() -> None:
    week = IsoWeek.parse("2026-W48")
    away = [
        (datetime(2026, 11, 20, 9, tzinfo=CHICAGO), datetime(2026, 11, 24, 0, tzinfo=CHICAGO)),
        (datetime(2026, 11, 26, 0, tzinfo=CHICAGO), datetime(2026, 11, 28, 0, tzinfo=CHICAGO)),
    ]
    # Monday is away (8), Thursday is the holiday, Friday is away (8): Tue + Wed = 16 h.
    assert (
        available_hours(NINE_TO_FIVE, CHICAGO, week, holidays=[date(2026, 11, 26)], away=away) == 16
    )


def test_the_remembered_week_follows_every_argument_and_the_away_time() -> None:
    # The week's shifts are remembered per hours, zone, week and holidays; the away
    # time, which the health check moves to now at every refresh, is applied afresh.
    week = IsoWeek.parse("2026-W48")
    thanksgiving = [date(2026, 11, 26)]
    assert available_hours(NINE_TO_FIVE, CHICAGO, week, holidays=thanksgiving) == 32
    assert available_hours(NINE_TO_FIVE, CHICAGO, week) == 40
    assert available_hours(NINE_TO_FIVE, CHICAGO, IsoWeek.parse("2026-W49")) == 40
    monday = (datetime(2026, 11, 23, 0, tzinfo=CHICAGO), datetime(2026, 11, 24, 0, tzinfo=CHICAGO))
    assert available_hours(NINE_TO_FIVE, CHICAGO, week, holidays=thanksgiving, away=[monday]) == 24
    assert available_hours(NINE_TO_FIVE, CHICAGO, week, holidays=iter(thanksgiving)) == 32
    short = WorkingHours.parse("mon,tue,wed,thu,fri", "09:00", "13:00")
    assert available_hours(short, CHICAGO, week, holidays=thanksgiving) == 16
    nobody = WorkingHours.parse("sat", "09:00", "13:00")
    assert available_hours(nobody, CHICAGO, week, holidays=[date(2026, 11, 28)]) == 0


def test_flags_at_the_edges() -> None:
    assert classify(38, 40, T) == (0.95, Flag.HIGH)
    assert classify(37.9, 40, T)[1] is Flag.OK
    assert classify(19.9, 40, T)[1] is Flag.LOW
    assert classify(20, 40, T)[1] is Flag.OK
    assert classify(5, 0, T) == (None, Flag.NO_HOURS)


def test_thresholds_are_configurable_and_checked() -> None:
    strict = Thresholds(target=0.8, high=0.9, low=0.7)
    assert classify(27, 40, strict)[1] is Flag.LOW
    assert classify(36, 40, strict)[1] is Flag.HIGH
    with pytest.raises(ValueError):
        Thresholds(target=0.5, high=0.95, low=0.6)
