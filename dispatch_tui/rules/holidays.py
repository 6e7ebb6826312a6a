"""Which dates the shop is closed: single dates plus yearly rules (RFC 5545 RRULEs).

Shared by the SLA clock (business time skips holidays) and the scheduler (no
calls on a holiday without an override), so both agree on what a holiday is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from dateutil.rrule import rrulestr


@dataclass(frozen=True)
class HolidayRule:
    name: str
    day: date | None = None
    rrule: str | None = None

    def __post_init__(self) -> None:
        if (self.day is None) == (self.rrule is None):
            raise ValueError(f"holiday {self.name!r} needs exactly one of a date or a rule")
        if self.rrule is not None:
            validate_rrule(self.rrule)


def validate_rrule(rule: str) -> None:
    """Raise ValueError with a readable message when the rule cannot be parsed."""
    try:
        rrulestr(rule, dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a valid recurrence rule {rule!r}: {exc}") from None


def holiday_dates(rules: Iterable[HolidayRule], start: date, end: date) -> set[date]:
    """Every holiday date from ``start`` to ``end`` inclusive (a fresh set)."""
    return set(closed_dates(tuple(rules), start, end))


@lru_cache(maxsize=512)
def closed_dates(rules: tuple[HolidayRule, ...], start: date, end: date) -> frozenset[date]:
    """``holiday_dates``, remembered. Parsing and expanding RRULEs is the costly step of
    the SLA clock, the roster, the schedule and the health checks alike, so it is
    remembered here, once for all of them. A pure function of its arguments: callers
    read the rules from the file in their own transaction, and an edited holiday (by
    anyone) is a new key, never a stale answer."""
    if end < start:
        return frozenset()
    found: set[date] = set()
    for rule in rules:
        if rule.day is not None:
            if start <= rule.day <= end:
                found.add(rule.day)
            continue
        # Anchor far enough back that yearly rules (with BYMONTH/BYDAY) cover the range.
        anchor = datetime(start.year - 1, 1, 1)
        recurrence = rrulestr(rule.rrule or "", dtstart=anchor)
        for moment in recurrence.between(
            datetime(start.year, start.month, start.day),
            datetime(end.year, end.month, end.day, 23, 59, 59),
            inc=True,
        ):
            found.add(moment.date())
    return frozenset(found)
