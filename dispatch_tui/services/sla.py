"""The SLA clock applied to stored tickets: what the queues show and sort by.

The clock itself is the pure rule in rules/sla.py; this module turns ticket rows
into its inputs with the shop's policy. Pause history is not stored yet: a
ticket waiting on the client now counts as paused since its last update, and a
past wait that ended counts as running time (a status-change log will refine it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from dispatch_tui.rules.sla import ClockState, TicketTimes, minutes_to_breach_many, next_breach
from dispatch_tui.services import settings
from dispatch_tui.services.desk import Desk
from dispatch_tui.store.models import Status
from dispatch_tui.store.types import utcnow

# The status values as plain strings: an enum member's ``.value`` is a descriptor call,
# and a queue refresh asks four times per ticket.
_WAITING_CLIENT = Status.WAITING_CLIENT.value
_DONE = (Status.RESOLVED.value, Status.CLOSED.value)
_NEW = Status.NEW.value


def ticket_times(ticket: Any) -> TicketTimes:
    """Clock inputs from a Ticket or any row with its time fields (a TicketRow works:
    fields it lacks count as not happened yet)."""
    status = getattr(ticket, "status", None)
    pauses: tuple = ()
    if status == _WAITING_CLIENT:
        pauses = ((getattr(ticket, "updated_at", None) or ticket.created_at, None),)
    resolved = getattr(ticket, "resolved_at", None)
    if resolved is None and status in _DONE:
        resolved = getattr(ticket, "updated_at", None) or ticket.created_at
    return TicketTimes(
        created_at=ticket.created_at,
        # An untriaged ticket has no priority yet, whatever an importer guessed.
        priority=None if status == _NEW else getattr(ticket, "priority", None),
        first_response_at=getattr(ticket, "first_response_at", None),
        engaged_at=getattr(ticket, "engaged_at", None),
        resolved_at=resolved,
        pauses=pauses,
    )


def clocks(
    policy: settings.ShopPolicy, tickets: Iterable[Any], now: datetime | None = None
) -> dict[int, ClockState | None]:
    """Each ticket's next breach (None when every target is met), keyed by ticket id.

    Sort a queue by ``state.minutes_left`` (None last) for "business time left".
    Pure given the policy: screens load the policy once and call this on every refresh.
    """
    now = now or utcnow()
    return {
        ticket.id: next_breach(ticket_times(ticket), now, policy.calendar, policy.sla)
        for ticket in tickets
    }


def minutes_left(
    policy: settings.ShopPolicy, tickets: Iterable[Any], now: datetime | None = None
) -> dict[int, float | None]:
    """Business minutes before each ticket's next breach (None: every target met),
    keyed by ticket id: ``clocks(...)[id].minutes_left`` without the breach moments,
    for a queue that sorts and shows time left but not when it runs out."""
    now = now or utcnow()
    rows = list(tickets)
    # One calendar walk for the whole queue, not one per ticket (same figures).
    left = minutes_to_breach_many(
        [ticket_times(ticket) for ticket in rows], now, policy.calendar, policy.sla
    )
    return {ticket.id: minutes for ticket, minutes in zip(rows, left, strict=True)}


def breach_clocks(
    desk: Desk, tickets: Iterable[Any], now: datetime | None = None
) -> dict[int, ClockState | None]:
    """``clocks`` with the shop's policy read from the database (one short read)."""
    return clocks(settings.shop_policy(desk), tickets, now)
