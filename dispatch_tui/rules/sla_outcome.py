"""Whether a ticket met an SLA target: met, missed, or not decided yet. Pure.

A target is met when its event (first response, engagement, resolution) happened
within the target's business minutes of the ticket's arrival; missed when more
business time ran first, or the event has not happened and more has run by now;
otherwise pending. "More" is strict, as ``sla.ClockState.breached`` has it, so an
answer at 18:00 to a target that ran out at closing time 17:00 still met it.
Shares count decided tickets only, so a week still in progress is not dragged down
by tickets whose clocks are still running.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dispatch_tui.rules.sla import BusinessCalendar, business_minutes_between


class Outcome(StrEnum):
    MET = "met"
    MISSED = "missed"
    PENDING = "pending"


class BusinessTimeline:
    """Business minutes between any two instants of a span, by lookup.

    A report judges thousands of tickets over the same weeks; walking the calendar for
    each (as ``business_minutes_between`` does) repeats the same windows every time.
    This lays the span's working windows out once with running totals, so each
    measure is two binary searches. Outside the span it falls back to the calendar.
    """

    def __init__(self, calendar: BusinessCalendar, start: datetime, end: datetime) -> None:
        self.calendar, self.start, self.end = calendar, start, end
        self._starts: list[datetime] = []
        self._ends: list[datetime] = []
        self._before: list[float] = []
        total = 0.0
        for begin, finish in calendar.windows_from(start):
            if begin >= end:
                break
            self._starts.append(begin)
            self._ends.append(finish)
            self._before.append(total)
            total += (finish - begin).total_seconds() / 60

    def _at(self, moment: datetime) -> float:
        i = bisect_right(self._starts, moment) - 1
        if i < 0:
            return 0.0
        inside = min(moment, self._ends[i]) - self._starts[i]
        return self._before[i] + inside.total_seconds() / 60

    def between(self, start: datetime, end: datetime) -> float:
        if start < self.start or end > self.end:
            return business_minutes_between(start, end, self.calendar)
        return self._at(end) - self._at(start)


def outcome(
    created_at: datetime,
    done_at: datetime | None,
    target_minutes: int,
    now: datetime,
    timeline: BusinessTimeline,
) -> Outcome:
    elapsed = timeline.between(created_at, done_at or now)
    if done_at is not None:
        return Outcome.MET if elapsed <= target_minutes else Outcome.MISSED
    return Outcome.MISSED if elapsed > target_minutes else Outcome.PENDING


@dataclass
class Tally:
    """Met and missed counts of one clock over a group of tickets."""

    met: int = 0
    missed: int = 0
    pending: int = 0

    def add(self, result: Outcome) -> None:
        setattr(self, result.value, getattr(self, result.value) + 1)

    @property
    def share(self) -> float | None:
        """Met / decided, or None when nothing is decided yet."""
        decided = self.met + self.missed
        return round(self.met / decided, 4) if decided else None
