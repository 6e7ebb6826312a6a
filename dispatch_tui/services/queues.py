"""Each technician's ordered "ready to engage" queue: what to work next, in order.

Dispatch sets the order so technicians do not cherry-pick from a shared pool. The
order is ``ticket.queue_position`` (lower first) over the technician's open tickets.
Reordering is not dispatching (no work changes hands), so the triage gate does not
apply; each move writes an audit event naming the old and new position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from dispatch_tui.errors import InvalidInput, NotFound
from dispatch_tui.services import audit
from dispatch_tui.services.availability import find_tech
from dispatch_tui.services.conflicts import check_version, stale_guard
from dispatch_tui.services.desk import Desk
from dispatch_tui.store.models import OPEN_STATUSES, Client, Ticket
from dispatch_tui.store.queries import DEFAULT_LIMIT
from dispatch_tui.store.types import utcnow

_OPEN = [s.value for s in OPEN_STATUSES]


@dataclass(frozen=True)
class QueueRow:
    position: int
    id: int
    summary: str
    client: str
    status: str
    priority: str | None
    estimate_hours: float | None
    escalated: bool
    escalated_to: str | None
    created_at: datetime
    version: int


@dataclass(frozen=True)
class TechQueue:
    tech_id: int
    tech: str
    rows: list[QueueRow]

    @property
    def hours(self) -> float:
        return sum(r.estimate_hours or 0 for r in self.rows)


def _ordered(session: Session, tech_id: int, limit: int = DEFAULT_LIMIT) -> list[tuple]:
    # Runs on ix_ticket_tech_status_priority (assigned_tech_id, status, queue_position, ...).
    return list(
        session.exec(
            select(Ticket, Client.name)
            .join(Client, Client.id == Ticket.client_id)
            .where(Ticket.assigned_tech_id == tech_id, col(Ticket.status).in_(_OPEN))
            .order_by(
                col(Ticket.queue_position).is_(None),
                col(Ticket.queue_position),
                col(Ticket.id),
            )
            .limit(limit)
        ).all()
    )


def tech_queue(desk: Desk, tech: str | int, *, limit: int = DEFAULT_LIMIT) -> TechQueue:
    """A technician's open tickets in the order they should be worked."""
    with desk.db.read() as session:
        row = find_tech(session, tech)
        rows = [
            QueueRow(
                index,
                t.id or 0,
                t.summary,
                client,
                t.status,
                t.priority,
                t.estimate_hours,
                t.escalated,
                t.escalated_to,
                t.created_at,
                t.version,
            )
            for index, (t, client) in enumerate(_ordered(session, row.id or 0, limit), start=1)
        ]
    return TechQueue(row.id or 0, row.name, rows)


def move_in_queue(
    desk: Desk,
    ticket_id: int,
    *,
    direction: int | None = None,
    position: int | None = None,
    expect_version: int | None = None,
) -> int:
    """Move a ticket within its technician's queue: ``direction`` -1 (sooner) or +1
    (later), or to ``position`` (1 is next). Returns the new position (1-based).

    The queue is renumbered 1..n in the same transaction, so gaps left by resolved
    tickets disappear; only rows whose position changes are written.
    """
    if (direction is None) == (position is None):
        raise InvalidInput("give a direction or a position to move to")
    with stale_guard(desk, ticket_id, expect_version), desk.db.write() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket #{ticket_id}")
        check_version(session, ticket, expect_version)
        if ticket.assigned_tech_id is None or ticket.status not in _OPEN:
            raise InvalidInput(f"ticket #{ticket_id} is not in a technician's open queue")
        order = [t for t, _ in _ordered(session, ticket.assigned_tech_id)]
        index = next(i for i, t in enumerate(order) if t.id == ticket_id)
        target = index + direction if direction is not None else (position or 1) - 1
        target = max(0, min(len(order) - 1, target))
        if target == index:
            return index + 1
        order.insert(target, order.pop(index))
        before = {"queue_position": ticket.queue_position}
        now = utcnow()
        for number, row in enumerate(order, start=1):
            if row.queue_position != number:
                row.queue_position = number
                row.updated_at, row.updated_by = now, desk.actor
                session.add(row)
        session.flush()
        audit.record(
            session,
            desk.actor,
            "ticket.queue_move",
            "ticket",
            ticket_id,
            f"from {index + 1} to {target + 1} of {len(order)}",
            before=before,
            after={"queue_position": ticket.queue_position},
        )
    return target + 1
