"""Where the demo books its service calls: in free working hours, never over a clash.

A demo board should look like a well-run one: every call inside its technician's
shift, none on a holiday, a day off or during an out-of-office, and no technician
in two places at once. ``rules.schedule.check_call`` (the rule the Schedule screen
books with) decides which starts are possible; the book then hands each call the
first free one at or after the start the generator drew. A call that finds no room
in the window is not booked, so its ticket stays on the Schedule's "to book" list,
as it would in a busy shop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch_tui.rules.schedule import Absence, check_call
from dispatch_tui.rules.workhours import WorkingHours, local_days, shift_on


class DemoCallBook:
    """Free slots of each technician over ``[first, last]`` (local dates), whole hours."""

    def __init__(
        self,
        *,
        zone: ZoneInfo,
        first: date,
        last: date,
        length: timedelta,
        hours: Mapping[int, WorkingHours],
        holidays: Mapping[date, str],
        absences: Mapping[int, Iterable[Absence]],
    ) -> None:
        self._length = length
        self._starts: dict[int, list[datetime]] = {}
        self._booked: dict[int, list[tuple[datetime, datetime]]] = {}
        for tech_id, tech_hours in hours.items():
            away = list(absences.get(tech_id, ()))
            self._starts[tech_id] = [
                start
                for start in _hourly_starts(tech_hours, zone, first, last, length)
                if not check_call(
                    start,
                    start + length,
                    zone=zone,
                    hours=tech_hours,
                    holidays=holidays,
                    absences=away,
                )
            ]
            self._booked[tech_id] = []

    def book(self, tech_id: int, wanted: datetime) -> datetime | None:
        """The first free start at or after ``wanted`` (now booked), or None if none is left."""
        booked = self._booked[tech_id]
        for start in self._starts[tech_id]:
            end = start + self._length
            if start >= wanted and all(end <= s or e <= start for s, e in booked):
                booked.append((start, end))
                return start
        return None


def _hourly_starts(
    hours: WorkingHours, zone: ZoneInfo, first: date, last: date, length: timedelta
) -> list[datetime]:
    """Starts on the hour where a call of ``length`` fits in a shift (UTC), before the
    full check: only these few per day need ``check_call``'s holiday and absence test."""
    starts = []
    for day in local_days(first, last):
        shift = shift_on(hours, day, zone)
        if shift is None:
            continue
        shift_start, shift_end = shift
        start = shift_start.replace(minute=0, second=0, microsecond=0)
        if start < shift_start:
            start += timedelta(hours=1)
        while start + length <= shift_end:
            starts.append(start)
            start += timedelta(hours=1)
    return starts
