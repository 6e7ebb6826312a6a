"""What the Dispatch screen shows, read in one go: the gate, the triaged unassigned work
in the order it should go out, each ticket's full triage record and the age of its
last client update, and the roster.

The work list is chosen on ix_ticket_tech_status_priority (``assigned_tech_id IS NULL
AND status = 'triaged'``, with priority and arrival in the index) instead of filtering
a page of every triaged ticket in Python, and is ordered by priority, then business
time left before the next SLA breach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Select, case, func
from sqlmodel import Session, col, select

from dispatch_tui.rules import gate
from dispatch_tui.rules.priority import PRIORITY_RANK
from dispatch_tui.services import followup, settings, sla
from dispatch_tui.services.availability import read_staff
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.roster import Roster, roster_in
from dispatch_tui.store import queries
from dispatch_tui.store.core import connection_for
from dispatch_tui.store.models import Client, Contact, Note, NoteKind, Status, Ticket
from dispatch_tui.store.types import utcnow

#: Rows the work list holds at most (a DataTable keeps every row in memory).
BOARD_LIMIT = 200


class WorkTicket(NamedTuple):
    """The columns of a ticket the board shows (the triage record) and its SLA clock
    reads, as plain values: building ~200 ORM objects cost the board more than its
    query, and nothing here is edited in place (changes go through services with
    ``version``). A named tuple, as it is built from a row at the cost of a tuple."""

    id: int
    summary: str
    description: str
    status: str
    ticket_type: str | None
    category: str | None
    subcategory: str | None
    impact: str | None
    urgency: str | None
    priority: str | None
    estimate_hours: float | None
    required_skill: str | None
    due_at: datetime | None
    escalated: bool
    escalated_to: str | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    engaged_at: datetime | None
    resolved_at: datetime | None
    version: int


_WORK_COLUMNS = [getattr(Ticket, name) for name in WorkTicket._fields]


@dataclass(frozen=True)
class BoardTicket:
    """One ticket waiting for a technician, with its whole triage record."""

    ticket: WorkTicket
    client: str
    contact: str | None
    #: Business minutes before the next SLA breach (negative: breached; None: no target).
    minutes_left: float | None
    last_client_update: datetime | None


@dataclass(frozen=True)
class DispatchData:
    gate: gate.GateState
    tickets: list[BoardTicket]
    roster: Roster


def _rank(priority: str | None) -> int:
    return PRIORITY_RANK.get(priority or "", len(PRIORITY_RANK))


@lru_cache(maxsize=4)
def _work_query(limit: int) -> Select:
    # Built once: constructing the CASE and its cache key cost about as much as
    # running the query. Statements are immutable, so threads can share one.
    rank = case(
        *((Ticket.priority == name, value) for name, value in PRIORITY_RANK.items()),
        else_=len(PRIORITY_RANK),
    )
    # Which tickets make the board is decided on ix_ticket_tech_status_priority alone
    # (priority and created_at are in it); only those rows are then read, instead of
    # reading and sorting every triaged ticket's row with its description.
    chosen = (
        select(Ticket.id)
        .where(col(Ticket.assigned_tech_id).is_(None), Ticket.status == Status.TRIAGED.value)
        .order_by(rank, col(Ticket.created_at), col(Ticket.id))
        .limit(limit)
    )
    # The last client update of each shown ticket, in the same statement: one lookup
    # on ix_note_ticket_kind_created per row instead of a second statement naming them.
    last_update = (
        select(func.max(Note.created_at))
        .where(Note.ticket_id == Ticket.id, Note.kind == NoteKind.CLIENT.value)
        .scalar_subquery()
    )
    return (
        select(*_WORK_COLUMNS, Client.name, Contact.name, last_update)
        .join(Client, Client.id == Ticket.client_id)
        .join(Contact, Contact.id == Ticket.contact_id, isouter=True)
        .where(col(Ticket.id).in_(chosen))
    )


def unassigned_work(
    session: Session, limit: int = BOARD_LIMIT
) -> list[tuple[WorkTicket, str, str | None]]:
    """Triaged tickets nobody has, most urgent priority first, then oldest:
    (ticket, client name, contact name)."""
    return [(ticket, client, contact) for ticket, client, contact, _ in _work(session, limit)]


def _work(
    session: Session, limit: int = BOARD_LIMIT
) -> list[tuple[WorkTicket, str, str | None, datetime | None]]:
    """``unassigned_work`` with each ticket's last client update (None: never)."""
    width = len(_WORK_COLUMNS)
    # Core rows, not the ORM's: no entities are wanted, and its row processing doubles the cost.
    rows = connection_for(session).execute(_work_query(limit)).all()
    found = [
        (
            WorkTicket._make(row[:width]),
            row[width],
            row[width + 1],
            None if row[width + 2] is None else followup.as_time(row[width + 2]),
        )
        for row in rows
    ]
    # The chosen rows come back in no particular order: put them in the board's.
    found.sort(key=lambda item: (_rank(item[0].priority), item[0].created_at, item[0].id))
    return found


def order_key(item: BoardTicket) -> tuple:
    left = item.minutes_left
    return (_rank(item.ticket.priority), left is None, left or 0.0, item.ticket.id)


def dispatch_data(desk: Desk, now: datetime | None = None) -> DispatchData:
    now = now or utcnow()
    with desk.db.read() as session:
        state = gate.check(queries.count_untriaged(session))
        rows = _work(session)
        policy = settings.load_policy(session)
        # In the same transaction: one connection for the whole screen, and the
        # roster's loads agree with the board it sits beside. Its time zone and
        # holidays are the policy's, just read.
        board_roster = roster_in(session, now, read_staff(session, policy))
    left = sla.minutes_left(policy, [t for t, _, _, _ in rows], now)
    items = [
        BoardTicket(ticket, client, contact, left.get(ticket.id or 0), updated)
        for ticket, client, contact, updated in rows
    ]
    items.sort(key=order_key)
    return DispatchData(state, items, board_roster)
