"""Edits to the schedule as values: what to run on the worker thread, how to word the
result, and where the cursor goes after it.

A change is kept after the service refuses it over a conflict, so the override key can
run the very same change again with ``allow_conflict`` and the dispatcher's reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dispatch_tui.services import schedule
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.schedule import CallRow

#: Runs the edit: (desk, allow_conflict, override_reason) -> the line to show afterwards.
Runner = Callable[[Desk, bool, "str | None"], str]


@dataclass(frozen=True)
class Change:
    what: str
    run: Runner
    #: Rows and slots the cursor moves after success, so it stays on a moved call.
    follow: tuple[int, int] = (0, 0)


def _span(call: CallRow, zone: ZoneInfo) -> str:
    start, end = call.starts_at.astimezone(zone), call.ends_at.astimezone(zone)
    return f"{call.tech} {start:%a %d %b %H:%M}-{end:%H:%M}"


def _booked(verb: str, booking: schedule.Booking, zone: ZoneInfo) -> str:
    call = booking.call
    text = f"{verb} call #{call.id} (ticket #{call.ticket_id}): {_span(call, zone)}"
    if booking.overridden:
        text += f"; over a conflict ({call.override_reason})"
    return text


def book(ticket_id: int, tech_id: int, start: datetime, hours: float, zone: ZoneInfo) -> Change:
    def run(desk: Desk, allow: bool, reason: str | None) -> str:
        booking = schedule.book_call(
            desk, ticket_id, tech_id, start, hours, allow_conflict=allow, override_reason=reason
        )
        return _booked("Booked", booking, zone)

    return Change(f"book ticket #{ticket_id}", run)


def move(
    call: CallRow,
    zone: ZoneInfo,
    *,
    start: datetime | None = None,
    tech_id: int | None = None,
    follow: tuple[int, int] = (0, 0),
) -> Change:
    def run(desk: Desk, allow: bool, reason: str | None) -> str:
        booking = schedule.move_call(
            desk,
            call.id,
            start=start,
            tech=tech_id,
            expected_version=call.version,
            allow_conflict=allow,
            override_reason=reason,
        )
        return _booked("Moved", booking, zone)

    return Change(f"move call #{call.id}", run, follow)


def resize(call: CallRow, hours: float, zone: ZoneInfo) -> Change:
    def run(desk: Desk, allow: bool, reason: str | None) -> str:
        booking = schedule.resize_call(
            desk,
            call.id,
            hours,
            expected_version=call.version,
            allow_conflict=allow,
            override_reason=reason,
        )
        return _booked(f"Resized to {hours:g} h:", booking, zone)

    return Change(f"resize call #{call.id}", run)


def set_firm(call: CallRow, firm: bool) -> Change:
    def run(desk: Desk, allow: bool, reason: str | None) -> str:
        schedule.set_call_firm(desk, call.id, firm, expected_version=call.version)
        return f"Call #{call.id} (ticket #{call.ticket_id}) is {'firm' if firm else 'tentative'}"

    return Change(f"mark call #{call.id}", run)


def cancel(call: CallRow, zone: ZoneInfo) -> Change:
    def run(desk: Desk, allow: bool, reason: str | None) -> str:
        schedule.cancel_call(
            desk, call.id, expected_version=call.version, reason="cancelled on the schedule"
        )
        return f"Cancelled call #{call.id} (ticket #{call.ticket_id}): {_span(call, zone)}"

    return Change(f"cancel call #{call.id}", run)
