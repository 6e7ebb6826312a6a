"""Reading the times a dispatcher types into a form, in shop time.

Pure functions (no Textual): the forms call them and show the ``InvalidInput``
message when a value cannot be read. Short forms are the point: during a call
nobody types a full date, so "14:05" means today (or yesterday, for a call
logged after midnight) and "+2d" a due date two days out.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

from dispatch_tui.errors import InvalidInput

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATE_CLOCK = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})$")
_RELATIVE = re.compile(r"^\+(\d{1,3})\s*([dh])$")

#: A due date given as a day means the end of that working day.
END_OF_DAY = time(17, 0)


def _at(day: date, hour: int, minute: int, zone: tzinfo, text: str, what: str) -> datetime:
    try:
        return datetime.combine(day, time(hour, minute), tzinfo=zone)
    except ValueError:
        raise InvalidInput(f"{what}: {text!r} is not a time of day") from None


def _day(year: str, month: str, day: str, text: str, what: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise InvalidInput(f"{what}: {text!r} is not a date") from None


def parse_received(text: str, zone: tzinfo, now: datetime, *, what: str = "received") -> datetime:
    """When a request arrived: empty or "now", "HH:MM" (the last such moment, so a call
    logged at 00:10 as "23:50" was yesterday), or "YYYY-MM-DD HH:MM"; shop time."""
    value = text.strip().lower()
    local_now = now.astimezone(zone)
    if value in ("", "now"):
        return now
    if match := _CLOCK.match(value):
        moment = _at(local_now.date(), int(match[1]), int(match[2]), zone, text, what)
        if moment > now:
            moment = _at(
                local_now.date() - timedelta(days=1), int(match[1]), int(match[2]), zone, text, what
            )
        return moment
    if match := _DATE_CLOCK.match(value):
        day = _day(match[1], match[2], match[3], text, what)
        moment = _at(day, int(match[4]), int(match[5]), zone, text, what)
        if moment > now:
            raise InvalidInput(f"{what}: {text!r} lies in the future")
        return moment
    raise InvalidInput(f"{what}: cannot read {text!r}; type HH:MM or YYYY-MM-DD HH:MM (shop time)")


def parse_due(text: str, zone: tzinfo, now: datetime, *, what: str = "due") -> datetime | None:
    """A due date: empty (none), "+3d" / "+4h", "YYYY-MM-DD" (17:00 that day),
    "YYYY-MM-DD HH:MM", or "HH:MM" (the next such moment); shop time."""
    value = text.strip().lower()
    local_now = now.astimezone(zone)
    if not value:
        return None
    if match := _RELATIVE.match(value):
        amount = int(match[1])
        if match[2] == "h":
            return now + timedelta(hours=amount)
        day = local_now.date() + timedelta(days=amount)
        return _at(day, END_OF_DAY.hour, END_OF_DAY.minute, zone, text, what)
    if match := _CLOCK.match(value):
        moment = _at(local_now.date(), int(match[1]), int(match[2]), zone, text, what)
        if moment <= now:
            moment = _at(
                local_now.date() + timedelta(days=1), int(match[1]), int(match[2]), zone, text, what
            )
        return moment
    if match := _DATE.match(value):
        day = _day(match[1], match[2], match[3], text, what)
        return _at(day, END_OF_DAY.hour, END_OF_DAY.minute, zone, text, what)
    if match := _DATE_CLOCK.match(value):
        day = _day(match[1], match[2], match[3], text, what)
        return _at(day, int(match[4]), int(match[5]), zone, text, what)
    raise InvalidInput(
        f"{what}: cannot read {text!r}; type +3d, YYYY-MM-DD, or YYYY-MM-DD HH:MM (shop time)"
    )


def format_shop(moment: datetime | None, zone: tzinfo) -> str:
    """The form's own spelling of a moment, so what is shown can be typed back."""
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
