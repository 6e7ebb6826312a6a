"""Schedule conflicts: what is wrong with booking a technician from ``start`` to ``end``.

Pure: the caller gathers the technician's hours, the holidays, their out-of-office
periods and their other calls; this module only compares intervals. Every conflict
carries one sentence that names the clash, because the dispatcher decides from it
whether to move the call or book over it with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dispatch_tui.rules.holidays import HolidayRule, holiday_dates
from dispatch_tui.rules.workhours import (
    WorkingHours,
    clip,
    local_days,
    subtract,
    working_intervals,
)


class ConflictKind(StrEnum):
    OVERLAP = "overlap"
    OUTSIDE_HOURS = "outside_hours"
    HOLIDAY = "holiday"
    OUT_OF_OFFICE = "out_of_office"


@dataclass(frozen=True)
class Conflict:
    kind: ConflictKind
    message: str
    #: The other call or out-of-office record involved, where there is one.
    other_id: int | None = None


@dataclass(frozen=True)
class BookedCall:
    """Another call of the same technician, as the conflict check needs it."""

    id: int
    ticket_id: int
    start: datetime
    end: datetime
    firm: bool = True


@dataclass(frozen=True)
class Absence:
    """An out-of-office period."""

    id: int
    start: datetime
    end: datetime
    reason: str = ""


def named_holidays(rules: Iterable[HolidayRule], first: date, last: date) -> dict[date, str]:
    """Holiday dates in range with their names, via the shared expander."""
    names: dict[date, str] = {}
    for rule in rules:
        for day in holiday_dates([rule], first, last):
            names.setdefault(day, rule.name)
    return names


def touched_dates(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """Local dates the interval [start, end) covers at least partly."""
    last_moment = end - timedelta(microseconds=1)
    return list(local_days(start.astimezone(zone).date(), last_moment.astimezone(zone).date()))


def _span(start: datetime, end: datetime, zone: ZoneInfo, reference: date) -> str:
    """'10:00-12:00' on the proposed call's day; with dates otherwise, so no one misreads it."""
    s, e = start.astimezone(zone), end.astimezone(zone)
    if s.date() == e.date():
        day = "" if s.date() == reference else f"{s:%a %Y-%m-%d} "
        return f"{day}{s:%H:%M}-{e:%H:%M}"
    return f"{s:%a %Y-%m-%d %H:%M} to {e:%a %Y-%m-%d %H:%M}"


def check_call(
    start: datetime,
    end: datetime,
    *,
    zone: ZoneInfo,
    hours: WorkingHours,
    holidays: Mapping[date, str],
    absences: Iterable[Absence] = (),
    other_calls: Iterable[BookedCall] = (),
    ignore_call_id: int | None = None,
) -> list[Conflict]:
    """Every conflict of a proposed call; an empty list means it can be booked.

    ``ignore_call_id`` is the call being moved or resized, which must not clash with
    its own old position. Times must be aware; holidays are local dates.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("call times must carry a time zone")
    if end <= start:
        raise ValueError("a call must end after it starts")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    reference = start.astimezone(zone).date()
    conflicts: list[Conflict] = []

    for call in sorted(other_calls, key=lambda c: (c.start, c.id)):
        if call.id == ignore_call_id:
            continue
        if call.start < end and start < call.end:
            tentative = "" if call.firm else "tentative "
            conflicts.append(
                Conflict(
                    ConflictKind.OVERLAP,
                    f"overlaps {tentative}call #{call.id} for ticket #{call.ticket_id}, "
                    f"{_span(call.start, call.end, zone, reference)}",
                    call.id,
                )
            )

    days = touched_dates(start, end, zone)
    closed = [d for d in days if d in holidays]
    for day in closed:
        conflicts.append(
            Conflict(
                ConflictKind.HOLIDAY, f"falls on the holiday {holidays[day]} ({day:%a %Y-%m-%d})"
            )
        )

    # A shift can start the evening before (night shifts), so look one day back.
    # Holiday dates are left in here: a holiday is reported once, as a holiday.
    shifts = working_intervals(hours, zone, days[0] - timedelta(days=1), days[-1])
    uncovered = subtract([(start, end)], clip(shifts, start, end))
    uncovered = subtract(
        uncovered,
        [
            (
                datetime.combine(d, datetime.min.time(), tzinfo=zone).astimezone(UTC),
                datetime.combine(
                    d + timedelta(days=1), datetime.min.time(), tzinfo=zone
                ).astimezone(UTC),
            )
            for d in closed
        ],
    )
    if uncovered:
        first_start, first_end = uncovered[0]
        more = f" and {len(uncovered) - 1} more stretch(es)" if len(uncovered) > 1 else ""
        conflicts.append(
            Conflict(
                ConflictKind.OUTSIDE_HOURS,
                f"{_span(first_start, first_end, zone, reference)}{more} "
                f"lies outside working hours ({hours.describe()})",
            )
        )

    for absence in sorted(absences, key=lambda a: (a.start, a.id)):
        if absence.start < end and start < absence.end:
            why = f": {absence.reason}" if absence.reason else ""
            when = _span(absence.start, absence.end, zone, reference)
            conflicts.append(
                Conflict(
                    ConflictKind.OUT_OF_OFFICE,
                    f"during out-of-office {when}{why}",
                    absence.id,
                )
            )
    return conflicts


def describe_conflicts(conflicts: Iterable[Conflict]) -> str:
    """All conflicts as one line (the CLI prints errors on one line)."""
    return "; ".join(c.message for c in conflicts)
