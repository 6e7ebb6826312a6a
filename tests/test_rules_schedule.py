"""Schedule conflict rules: overlap, outside hours, holiday, out-of-office, DST and midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch_tui.rules.holidays import HolidayRule
from dispatch_tui.rules.schedule import (
    Absence,
    BookedCall,
    ConflictKind,
    check_call,
    describe_conflicts,
    named_holidays,
)
from dispatch_tui.rules.workhours import WorkingHours

CHICAGO = ZoneInfo("America/Chicago")
DAY = WorkingHours.parse("mon,tue,wed,thu,fri", "08:00", "17:00")
EVERY_DAY = WorkingHours.parse("mon,tue,wed,thu,fri,sat,sun", "08:00", "17:00")
NIGHTS = WorkingHours.parse("mon,tue,wed,thu,fri,sat,sun", "22:00", "06:00")


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CHICAGO)


def check(start: datetime, end: datetime, hours: WorkingHours = DAY, **kw):
    kw.setdefault("holidays", {})
    return check_call(start, end, zone=CHICAGO, hours=hours, **kw)


def kinds(conflicts) -> list[ConflictKind]:
    return [c.kind for c in conflicts]


def test_a_call_inside_working_hours_has_no_conflict() -> None:
    # Tuesday 2026-03-10
    assert check(at(2026, 3, 10, 9), at(2026, 3, 10, 11)) == []


def test_overlap_names_the_other_call_and_its_time() -> None:
    other = BookedCall(12, 40, at(2026, 3, 10, 10), at(2026, 3, 10, 12))
    conflicts = check(at(2026, 3, 10, 9), at(2026, 3, 10, 11), other_calls=[other])
    assert kinds(conflicts) == [ConflictKind.OVERLAP]
    assert conflicts[0].message == "overlaps call #12 for ticket #40, 10:00-12:00"
    assert conflicts[0].other_id == 12


def test_touching_calls_do_not_overlap_and_the_moved_call_ignores_itself() -> None:
    before = BookedCall(1, 2, at(2026, 3, 10, 8), at(2026, 3, 10, 9))
    after = BookedCall(3, 4, at(2026, 3, 10, 11), at(2026, 3, 10, 12))
    assert check(at(2026, 3, 10, 9), at(2026, 3, 10, 11), other_calls=[before, after]) == []
    itself = BookedCall(7, 8, at(2026, 3, 10, 9), at(2026, 3, 10, 10))
    assert (
        check(
            at(2026, 3, 10, 9, 30), at(2026, 3, 10, 10, 30), other_calls=[itself], ignore_call_id=7
        )
        == []
    )


def test_tentative_overlap_says_so() -> None:
    other = BookedCall(5, 6, at(2026, 3, 10, 9), at(2026, 3, 10, 10), firm=False)
    [conflict] = check(at(2026, 3, 10, 9), at(2026, 3, 10, 10), other_calls=[other])
    assert "tentative call #5" in conflict.message


def test_outside_hours_names_the_stretch_and_the_hours() -> None:
    [conflict] = check(at(2026, 3, 10, 16), at(2026, 3, 10, 18))
    assert conflict.kind is ConflictKind.OUTSIDE_HOURS
    assert (
        conflict.message
        == "17:00-18:00 lies outside working hours (mon,tue,wed,thu,fri 08:00-17:00)"
    )


def test_a_weekend_call_is_outside_hours() -> None:
    assert kinds(check(at(2026, 3, 14, 9), at(2026, 3, 14, 10))) == [ConflictKind.OUTSIDE_HOURS]


def test_holiday_is_reported_once_as_a_holiday() -> None:
    rules = [HolidayRule("Christmas Day", rrule="FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25")]
    holidays = named_holidays(rules, date(2026, 12, 1), date(2026, 12, 31))
    conflicts = check(at(2026, 12, 25, 9), at(2026, 12, 25, 11), holidays=holidays)
    assert kinds(conflicts) == [ConflictKind.HOLIDAY]
    assert conflicts[0].message == "falls on the holiday Christmas Day (Fri 2026-12-25)"


def test_out_of_office_names_the_period_and_reason() -> None:
    away = Absence(3, at(2026, 3, 10, 13), at(2026, 3, 12, 13), "training course")
    conflicts = check(at(2026, 3, 11, 9), at(2026, 3, 11, 10), absences=[away])
    assert kinds(conflicts) == [ConflictKind.OUT_OF_OFFICE]
    assert conflicts[0].message == (
        "during out-of-office Tue 2026-03-10 13:00 to Thu 2026-03-12 13:00: training course"
    )


def test_several_conflicts_read_as_one_line() -> None:
    other = BookedCall(12, 40, at(2026, 3, 14, 10), at(2026, 3, 14, 12))
    conflicts = check(at(2026, 3, 14, 9), at(2026, 3, 14, 11), other_calls=[other])
    assert kinds(conflicts) == [ConflictKind.OVERLAP, ConflictKind.OUTSIDE_HOURS]
    line = describe_conflicts(conflicts)
    assert "\n" not in line and "call #12" in line and "outside working hours" in line


# -- daylight saving: working hours are wall-clock -----------------------------------


def test_working_hours_follow_the_wall_clock_on_the_spring_forward_day() -> None:
    # 2026-03-08: Chicago jumps from CST (UTC-6) to CDT (UTC-5) at 02:00.
    assert check(at(2026, 3, 8, 8), at(2026, 3, 8, 17), hours=EVERY_DAY) == []
    [early] = check(at(2026, 3, 8, 7), at(2026, 3, 8, 9), hours=EVERY_DAY)
    assert early.message.startswith("07:00-08:00 lies outside")
    # 08:00 CDT is 13:00 UTC; a shift computed with the winter offset would start at 14:00.
    assert (
        check(
            datetime(2026, 3, 8, 13, tzinfo=UTC),
            datetime(2026, 3, 8, 14, tzinfo=UTC),
            hours=EVERY_DAY,
        )
        == []
    )


def test_working_hours_follow_the_wall_clock_on_the_fall_back_day() -> None:
    # 2026-11-01: CDT back to CST; 08:00 local is 14:00 UTC that day.
    assert (
        check(
            datetime(2026, 11, 1, 14, tzinfo=UTC),
            datetime(2026, 11, 1, 23, tzinfo=UTC),
            hours=EVERY_DAY,
        )
        == []
    )
    assert kinds(
        check(
            datetime(2026, 11, 1, 13, tzinfo=UTC),
            datetime(2026, 11, 1, 14, tzinfo=UTC),
            hours=EVERY_DAY,
        )
    ) == [ConflictKind.OUTSIDE_HOURS]


def test_a_night_shift_across_the_fall_back_hour_is_covered() -> None:
    # 22:00 Oct 31 to 06:00 Nov 1 is nine real hours; a call filling it all fits.
    assert check(at(2026, 10, 31, 22), at(2026, 11, 1, 6), hours=NIGHTS) == []


# -- calls spanning midnight ----------------------------------------------------------


def test_a_call_across_midnight_fits_a_night_shift() -> None:
    assert check(at(2026, 3, 10, 23), at(2026, 3, 11, 1), hours=NIGHTS) == []


def test_a_call_across_midnight_is_outside_a_day_shift() -> None:
    [conflict] = check(at(2026, 3, 10, 23), at(2026, 3, 11, 1))
    assert conflict.kind is ConflictKind.OUTSIDE_HOURS
    assert conflict.message.startswith("Tue 2026-03-10 23:00 to Wed 2026-03-11 01:00 lies outside")


def test_a_call_across_midnight_overlaps_a_call_the_next_morning() -> None:
    other = BookedCall(9, 90, at(2026, 3, 11, 0, 30), at(2026, 3, 11, 2))
    [conflict] = check(at(2026, 3, 10, 23), at(2026, 3, 11, 1), hours=NIGHTS, other_calls=[other])
    assert conflict.message == "overlaps call #9 for ticket #90, Wed 2026-03-11 00:30-02:00"


def test_a_call_running_into_a_holiday_after_midnight_hits_the_holiday() -> None:
    holidays = {date(2026, 12, 25): "Christmas Day"}
    conflicts = check(at(2026, 12, 24, 23), at(2026, 12, 25, 1), hours=NIGHTS, holidays=holidays)
    assert kinds(conflicts) == [ConflictKind.HOLIDAY]


def test_bad_intervals_are_refused() -> None:
    with pytest.raises(ValueError):
        check(at(2026, 3, 10, 10), at(2026, 3, 10, 9))
    with pytest.raises(ValueError):
        check(datetime(2026, 3, 10, 9), datetime(2026, 3, 10, 10))
