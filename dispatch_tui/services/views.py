"""Read-only views the screens show, each one short read transaction and bounded.

Kept apart from the verbs in ``tickets.py``: these shape data for one screen and
change as the screens do.
"""

from __future__ import annotations

from dispatch_tui.services.desk import Desk
from dispatch_tui.store import queries
from dispatch_tui.store.models import Status

#: Rows a screen list holds at most; a DataTable keeps every row in memory.
SCREEN_LIMIT = 200


def triage_queue(desk: Desk, *, limit: int = SCREEN_LIMIT) -> list[queries.TicketRow]:
    """Tickets waiting for triage, oldest first: the order they must be worked in."""
    with desk.db.read() as session:
        return queries.list_tickets(
            session, statuses=(Status.NEW.value,), oldest_first=True, limit=limit
        )


def recent_tickets(desk: Desk, *, limit: int = SCREEN_LIMIT) -> list[queries.TicketRow]:
    """The latest tickets recorded, newest first, whatever their status."""
    with desk.db.read() as session:
        return queries.list_tickets(session, limit=limit)
