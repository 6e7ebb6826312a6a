"""Edit conflicts: telling a dispatcher whose change won, instead of overwriting it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm.exc import StaleDataError

from dispatch_tui.errors import EditConflict, NotFound
from dispatch_tui.services import settings
from dispatch_tui.services.desk import Desk
from dispatch_tui.store import StaleRecord, writes
from dispatch_tui.store.core import Executor
from dispatch_tui.store.models import Ticket


def conflict_error(session: Executor, ticket: Ticket | None, expected: int | None) -> EditConflict:
    """An EditConflict naming who last changed the ticket and when, in shop time."""
    if ticket is None:
        return EditConflict("the ticket was deleted by someone else; nothing was saved")
    zone = settings.parse_timezone(
        settings.read_setting(session, settings.TIMEZONE, settings.DEFAULT_TIMEZONE)
    )
    when = ticket.updated_at.astimezone(zone)
    had = f" (you had version {expected}, it is now {ticket.version})" if expected else ""
    return EditConflict(
        f"ticket #{ticket.id} was changed by {ticket.updated_by or 'someone'} at "
        f"{when:%Y-%m-%d %H:%M}{had}; nothing was saved. Reload it and try again"
    )


def check_version(session: Executor, ticket: Ticket, expected: int | None) -> None:
    if expected is not None and ticket.version != expected:
        raise conflict_error(session, ticket, expected)


def ticket_row_at(session: Executor, ticket_id: int, expected: int | None) -> Row[Any]:
    """The ticket's row for a write, checked against the version the dispatcher saw
    (``expected``; None takes it as it is). NotFound or EditConflict otherwise."""
    row = writes.ticket_row(session, ticket_id)
    if row is None:
        raise NotFound(f"no ticket #{ticket_id}")
    check_version(session, row, expected)
    return row


@contextmanager
def stale_guard(desk: Desk, ticket_id: int, expected: int | None) -> Iterator[None]:
    """Wrap a write: a stale-row failure at flush or commit becomes an EditConflict.

    Inside BEGIN IMMEDIATE nobody else can commit, so this fires only when a row
    loaded earlier (e.g. by a screen) is written back, or a tool ignored the lock.
    """
    try:
        yield
    except (StaleDataError, StaleRecord):
        with desk.db.read() as session:
            raise conflict_error(session, session.get(Ticket, ticket_id), expected) from None
