"""A technician's working hours as wall-clock times in the shop's zone, turned into real
(UTC-comparable) intervals day by day.

Working hours are wall-clock: "08:00-17:00" is nine hours on a daylight-saving day too,
so intervals are built per local date with ``datetime.combine(..., tzinfo=zone)`` and
never by adding fixed offsets to a UTC time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: A half-open interval [start, end) of aware datetimes; keep them in UTC (see shift_on).
Interval = tuple[datetime, datetime]


def parse_clock(value: str, *, what: str = "time") -> time:
    """'HH:MM' (24-hour) as a time; ValueError with a readable message otherwise."""
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"{what} must look like HH:MM (24-hour), not {value!r}") from None


def parse_days(value: str) -> frozenset[int]:
    """'mon,tue,...' as ISO weekday numbers 0 (Monday) to 6; ValueError on unknown names."""
    names = [part.strip().lower()[:3] for part in value.split(",") if part.strip()]
    unknown = [n for n in names if n not in DAY_NAMES]
    if unknown or not names:
        raise ValueError(
            f"working days must be a comma list of {','.join(DAY_NAMES)}, not {value!r}"
        )
    return frozenset(DAY_NAMES.index(n) for n in names)


@dataclass(frozen=True)
class WorkingHours:
    """Weekdays worked and the daily wall-clock bounds. An end at or before the start
    means the shift runs past midnight into the next day (a night shift)."""

    days: frozenset[int]
    start: time
    end: time

    @classmethod
    def parse(cls, work_days: str, work_start: str, work_end: str) -> WorkingHours:
        start = parse_clock(work_start, what="start of working hours")
        end = parse_clock(work_end, what="end of working hours")
        if start == end:
            raise ValueError("working hours must not start and end at the same time")
        return cls(parse_days(work_days), start, end)

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def describe(self) -> str:
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M}"

    def storage(self) -> tuple[str, str, str]:
        """The three technician columns: work_days, work_start, work_end."""
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        return days, f"{self.start:%H:%M}", f"{self.end:%H:%M}"


def local_days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def shift_on(hours: WorkingHours, day: date, zone: ZoneInfo) -> Interval | None:
    """The shift that starts on local date ``day``, or None when it is not a working day."""
    if day.weekday() not in hours.days:
        return None
    start = datetime.combine(day, hours.start, tzinfo=zone)
    end_day = day + timedelta(days=1) if hours.overnight else day
    end = datetime.combine(end_day, hours.end, tzinfo=zone)
    # In UTC: Python compares and subtracts two datetimes sharing one tzinfo by wall
    # clock, which is an hour off across a daylight-saving change.
    return start.astimezone(UTC), end.astimezone(UTC)


def working_intervals(
    hours: WorkingHours,
    zone: ZoneInfo,
    first: date,
    last: date,
    *,
    closed: Iterable[date] = (),
) -> list[Interval]:
    """Shifts starting on local dates ``first``..``last`` inclusive, skipping ``closed`` dates."""
    skip = set(closed)
    found = []
    for day in local_days(first, last):
        if day in skip:
            continue
        shift = shift_on(hours, day, zone)
        if shift is not None:
            found.append(shift)
    return found


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of ``intervals`` inside [start, end)."""
    found = []
    for a, b in intervals:
        lo, hi = max(a, start), min(b, end)
        if lo < hi:
            found.append((lo, hi))
    return found


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union of the intervals."""
    merged: list[Interval] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def subtract(base: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """``base`` minus every hole, as a sorted list of intervals."""
    remaining = merge(base)
    for h_start, h_end in merge(holes):
        next_remaining: list[Interval] = []
        for a, b in remaining:
            if h_end <= a or h_start >= b:
                next_remaining.append((a, b))
                continue
            if a < h_start:
                next_remaining.append((a, h_start))
            if h_end < b:
                next_remaining.append((h_end, b))
        remaining = next_remaining
    return remaining


def total_hours(intervals: Iterable[Interval]) -> float:
    return sum((b - a).total_seconds() for a, b in merge(intervals)) / 3600
