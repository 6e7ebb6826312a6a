"""What the Dispatch screen shows, read in one go: the gate, the triaged unassigned work
in the order it should go out, each ticket's full triage record and the age of its
last client update, and the roster.

The work list runs on ix_ticket_tech_status (``assigned_tech_id IS NULL AND status =
'triaged'``) instead of filtering a page of every triaged ticket in Python, and is
ordered by priority, then business time left before the next SLA breach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case
from sqlmodel import Session, col, select

from dispatch_tui.rules import gate
from dispatch_tui.rules.priority import PRIORITY_RANK
from dispatch_tui.services import followup, settings, sla
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.roster import Roster, roster_in
from dispatch_tui.store import queries
from dispatch_tui.store.models import Client, Contact, Status, Ticket
from dispatch_tui.store.types import utcnow

#: Rows the work list holds at most (a DataTable keeps every row in memory).
BOARD_LIMIT = 200


@dataclass(frozen=True)
class BoardTicket:
    """One ticket waiting for a technician, with its whole triage record."""

    ticket: Ticket
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


def unassigned_work(session: Session, limit: int = BOARD_LIMIT) -> list[tuple]:
    """Triaged tickets nobody has, most urgent priority first, then oldest."""
    rank = case(
        *((Ticket.priority == name, value) for name, value in PRIORITY_RANK.items()),
        else_=len(PRIORITY_RANK),
    )
    return list(
        session.exec(
            select(Ticket, Client.name, Contact.name)
            .join(Client, Client.id == Ticket.client_id)
            .join(Contact, Contact.id == Ticket.contact_id, isouter=True)
            .where(col(Ticket.assigned_tech_id).is_(None), Ticket.status == Status.TRIAGED.value)
            .order_by(rank, col(Ticket.created_at), col(Ticket.id))
            .limit(limit)
        ).all()
    )


def order_key(item: BoardTicket) -> tuple:
    left = item.minutes_left
    return (_rank(item.ticket.priority), left is None, left or 0.0, item.ticket.id)


def dispatch_data(desk: Desk, now: datetime | None = None) -> DispatchData:
    now = now or utcnow()
    with desk.db.read() as session:
        state = gate.check(queries.count_untriaged(session))
        rows = unassigned_work(session)
        updates = followup.last_client_updates(session, [t.id for t, _, _ in rows])
        policy = settings.load_policy(session)
        # In the same transaction: one connection for the whole screen, and the
        # roster's loads agree with the board it sits beside.
        board_roster = roster_in(session, now)
    clocks = sla.clocks(policy, [t for t, _, _ in rows], now)
    items = []
    for ticket, client, contact in rows:
        clock = clocks.get(ticket.id or 0)
        items.append(
            BoardTicket(
                ticket,
                client,
                contact,
                None if clock is None else clock.minutes_left,
                updates.get(ticket.id or 0),
            )
        )
    items.sort(key=order_key)
    return DispatchData(state, items, board_roster)
