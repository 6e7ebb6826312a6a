"""Billable utilisation: billable hours / available working hours, per technician per ISO week.

Available hours are the technician's wall-clock working hours in the week, minus shop
holidays and their out-of-office time. Practice: 75% is the usual target; around 95%
means overwork or doctored numbers; far below target means idle time or missing
time entries. All three levels are settings, so each is a parameter here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from dispatch_tui.rules.workhours import (
    Interval,
    WorkingHours,
    clip,
    subtract,
    total_hours,
    working_intervals,
)


@dataclass(frozen=True)
class Thresholds:
    target: float = 0.75
    #: At or above this the numbers are not believable: overwork, or time padded.
    high: float = 0.95
    #: Below this the technician is idle or not logging time.
    low: float = 0.50

    def __post_init__(self) -> None:
        if not 0 < self.low < self.target < self.high:
            raise ValueError(
                "utilisation thresholds must satisfy 0 < low < target < high "
                f"(got low {self.low:g}, target {self.target:g}, high {self.high:g})"
            )


class Flag(StrEnum):
    OK = "ok"
    HIGH = "high"
    LOW = "low"
    #: No working hours in the week (all holiday or away): a ratio would mean nothing.
    NO_HOURS = "no_hours"


FLAG_TEXT = {
    Flag.OK: "",
    Flag.HIGH: "overworked or doctored numbers",
    Flag.LOW: "well below target",
    Flag.NO_HOURS: "no working hours this week",
}


@dataclass(frozen=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """'2026-W10' (also '2026W10', '2026-w10')."""
        cleaned = text.strip().upper().replace("-", "")
        try:
            year_text, week_text = cleaned.split("W")
            week = cls(int(year_text), int(week_text))
            date.fromisocalendar(week.year, week.week, 1)  # refuses week 53 in 52-week years
        except ValueError:
            raise ValueError(
                f"a week must look like YYYY-Www, e.g. 2026-W10, not {text!r}"
            ) from None
        return week

    @classmethod
    def containing(cls, day: date) -> IsoWeek:
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def bounds(self, zone: ZoneInfo) -> Interval:
        """Monday 00:00 to the next Monday 00:00, local time, as UTC."""
        start = datetime.combine(self.monday, time(), tzinfo=zone)
        end = datetime.combine(self.monday + timedelta(days=7), time(), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


def available_hours(
    hours: WorkingHours,
    zone: ZoneInfo,
    week: IsoWeek,
    *,
    holidays: Iterable[date] = (),
    away: Iterable[Interval] = (),
) -> float:
    """Working hours in the week minus holidays and out-of-office time.

    A shift counts in the week it starts in (a Sunday night shift belongs to its week).
    """
    shifts, span = _week_shifts(hours, zone, week, frozenset(holidays))
    if span is None:  # no shift this week
        return 0.0
    return round(total_hours(subtract(shifts, clip(away, *span))), 4)


@lru_cache(maxsize=256)
def _week_shifts(
    hours: WorkingHours, zone: ZoneInfo, week: IsoWeek, closed: frozenset[date]
) -> tuple[tuple[Interval, ...], Interval | None]:
    """The week's shifts and their span: a pure function of its (frozen) arguments,
    remembered because the health checks ask it for every technician at every refresh
    while only ``away`` (which runs to now) changes. A tuple, so no caller can alter it."""
    shifts = tuple(working_intervals(hours, zone, week.monday, week.sunday, closed=closed))
    if not shifts:
        return shifts, None
    return shifts, (min(a for a, _ in shifts), max(b for _, b in shifts))


def classify(
    billable: float, available: float, thresholds: Thresholds
) -> tuple[float | None, Flag]:
    """The ratio (None when nothing was available) and its flag."""
    if available <= 0:
        return None, Flag.NO_HOURS
    ratio = billable / available
    if ratio >= thresholds.high:
        return ratio, Flag.HIGH
    if ratio < thresholds.low:
        return ratio, Flag.LOW
    return ratio, Flag.OK
