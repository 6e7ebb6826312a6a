"""Where things fall on the schedule board: slots, shading and the calls in each cell.

Pure functions over the service's ``Board`` (no Textual), so the grid only draws and
the arithmetic can be tested on its own. Slots are built per local date with
``datetime.combine(..., tzinfo=zone)`` and compared in UTC, so a daylight-saving day
still shows 06:00 where the wall clock says 06:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dispatch_tui.rules.workhours import shift_on
from dispatch_tui.services.schedule import Board, CallRow, TechLane

#: The day view's slot length; also the step for lengthening and shortening a call.
SLOT_MINUTES = 30
#: The shop's day on the day view: early enough for the morning triage, late enough for
#: the last visits. Technicians working outside it widen it.
DAY_START = time(6, 0)
DAY_END = time(20, 0)


class View(StrEnum):
    DAY = "day"
    WEEK = "week"


class Shade(StrEnum):
    """What a technician's time in a slot is, before any call is drawn on it."""

    OFF = "off"
    WORK = "work"
    AWAY = "away"
    HOLIDAY = "holiday"


@dataclass(frozen=True)
class Slot:
    """One column of the board: [start, end) in UTC, and the local date it belongs to."""

    start: datetime
    end: datetime
    day: date
    label: str


def first_day(view: View, anchor: date) -> date:
    """The first local date shown: the anchor itself, or the Monday of its week."""
    return anchor if view is View.DAY else anchor - timedelta(days=anchor.weekday())


def last_day(view: View, anchor: date) -> date:
    return anchor if view is View.DAY else first_day(view, anchor) + timedelta(days=6)


def step(view: View) -> timedelta:
    """How far prev/next moves the anchor."""
    return timedelta(days=1 if view is View.DAY else 7)


def _utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def day_hours(techs: list[TechLane]) -> tuple[int, int]:
    """First and last hour shown on the day view: 06-20, widened to fit day shifts."""
    first, last = DAY_START.hour, DAY_END.hour
    for lane in techs:
        # A night shift would widen the day to all 24 hours; it shows as working time
        # where it overlaps the day instead.
        if lane.hours.overnight:
            continue
        first = min(first, lane.hours.start.hour)
        last = max(last, lane.hours.end.hour + (1 if lane.hours.end.minute else 0))
    return first, last


def day_slots(day: date, zone: ZoneInfo, first_hour: int, last_hour: int) -> list[Slot]:
    slots = []
    for minute in range(first_hour * 60, last_hour * 60, SLOT_MINUTES):
        clock = time(minute // 60, minute % 60)
        end_minute = minute + SLOT_MINUTES
        start = _utc(day, clock, zone)
        end = (
            _utc(day + timedelta(days=1), time(), zone)
            if end_minute >= 24 * 60
            else _utc(day, time(end_minute // 60, end_minute % 60), zone)
        )
        slots.append(Slot(start, end, day, f"{clock:%H:%M}"))
    return slots


def week_slots(monday: date, zone: ZoneInfo) -> list[Slot]:
    slots = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        start = _utc(day, time(), zone)
        end = _utc(day + timedelta(days=1), time(), zone)
        slots.append(Slot(start, end, day, f"{day:%a %d}"))
    return slots


def slots_for(view: View, anchor: date, board: Board) -> list[Slot]:
    if view is View.DAY:
        first, last = day_hours(board.techs)
        return day_slots(anchor, board.zone, first, last)
    return week_slots(first_day(view, anchor), board.zone)


def _overlaps(start: datetime, end: datetime, slot: Slot) -> bool:
    return start < slot.end and end > slot.start


def shade(lane: TechLane, slot: Slot, board: Board) -> Shade:
    """Holiday beats out-of-office beats working hours: the strongest reason not to book."""
    if slot.day in board.holidays:
        return Shade.HOLIDAY
    if any(_overlaps(a.start, a.end, slot) for a in lane.absences):
        return Shade.AWAY
    # A night shift that started the evening before still covers the early slots.
    for day in (slot.day - timedelta(days=1), slot.day):
        shift = shift_on(lane.hours, day, board.zone)
        if shift is not None and _overlaps(shift[0], shift[1], slot):
            return Shade.WORK
    return Shade.OFF


def calls_in(lane: TechLane, slot: Slot, calls: list[CallRow]) -> list[CallRow]:
    """The technician's calls overlapping the slot, earliest first."""
    return [c for c in calls if c.tech_id == lane.id and _overlaps(c.starts_at, c.ends_at, slot)]


def slot_index_at(slots: list[Slot], moment: datetime) -> int | None:
    for index, slot in enumerate(slots):
        if slot.start <= moment < slot.end:
            return index
    return None


def booking_start(view: View, lane: TechLane, slot: Slot, zone: ZoneInfo) -> datetime:
    """Where a booking at the cursor starts: the slot itself on the day view; on the week
    view the technician's start of work that day (08:00 shop time if they do not work)."""
    if view is View.DAY:
        return slot.start
    shift = shift_on(lane.hours, slot.day, zone)
    return shift[0] if shift is not None else _utc(slot.day, time(8, 0), zone)


def moved_start(view: View, call: CallRow, direction: int, zone: ZoneInfo) -> datetime:
    """A call moved one slot: half an hour on the day view, one day on the week view
    (same wall-clock time, so a move across a daylight-saving change keeps 09:00)."""
    if view is View.DAY:
        return call.starts_at + timedelta(minutes=SLOT_MINUTES * direction)
    local = call.starts_at.astimezone(zone)
    day = local.date() + timedelta(days=direction)
    return datetime.combine(day, local.time(), tzinfo=zone).astimezone(UTC)
