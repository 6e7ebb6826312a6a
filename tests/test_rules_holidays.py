from __future__ import annotations

from datetime import date

import pytest

from dispatch_tui.rules.holidays import HolidayRule, holiday_dates

THANKSGIVING = HolidayRule("Thanksgiving", rrule="FREQ=YEARLY;BYMONTH=11;BYDAY=+4TH")
CHRISTMAS = HolidayRule("Christmas", rrule="FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25")


def test_yearly_rules_and_single_dates() -> None:
    rules = [THANKSGIVING, CHRISTMAS, HolidayRule("Offsite", day=date(2027, 1, 8))]
    got = holiday_dates(rules, date(2026, 11, 1), date(2027, 12, 31))
    assert got == {
        date(2026, 11, 26),
        date(2026, 12, 25),
        date(2027, 1, 8),
        date(2027, 11, 25),
        date(2027, 12, 25),
    }


def test_range_bounds_are_inclusive() -> None:
    assert holiday_dates([CHRISTMAS], date(2026, 12, 25), date(2026, 12, 25)) == {
        date(2026, 12, 25)
    }
    assert holiday_dates([CHRISTMAS], date(2026, 12, 26), date(2026, 12, 24)) == set()


def test_a_holiday_needs_a_date_or_a_valid_rule() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        HolidayRule("Nothing")
    with pytest.raises(ValueError, match="not a valid recurrence rule"):
        HolidayRule("Broken", rrule="FREQ=SOMETIMES")
