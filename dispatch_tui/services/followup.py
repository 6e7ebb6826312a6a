"""Escalation and follow-up: the dispatcher's notes to and about the client, and moving
a ticket up to a senior tier or the service manager.

Escalation does not move the ticket to another technician by itself: it marks the
ticket (``escalated``, ``escalated_to``) everywhere and lists it for the service
manager; the dispatcher reassigns with a reason when a person must change too.
Neither verb is dispatching, so the triage gate does not apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Select, bindparam, func
from sqlmodel import Session, col, select

from dispatch_tui.errors import InvalidInput, NotFound
from dispatch_tui.services import audit
from dispatch_tui.services.conflicts import check_version, stale_guard
from dispatch_tui.services.desk import Desk
from dispatch_tui.store.core import connection_for
from dispatch_tui.store.models import (
    OPEN_STATUSES,
    Client,
    Note,
    NoteKind,
    Status,
    Technician,
    Ticket,
)
from dispatch_tui.store.queries import DEFAULT_LIMIT
from dispatch_tui.store.types import utcnow

#: Where a ticket can be escalated to, most junior first.
ESCALATION_TARGETS = ("tier2", "tier3", "manager")
TARGET_NAMES = {"tier2": "tier 2", "tier3": "tier 3", "manager": "the service manager"}
#: A note longer than this is a paste accident, not a note.
MAX_NOTE = 20_000

_OPEN = [s.value for s in OPEN_STATUSES]


@dataclass(frozen=True)
class EscalatedRow:
    id: int
    summary: str
    client: str
    status: str
    priority: str | None
    escalated_to: str | None
    assigned_tech: str | None
    updated_at: datetime


def escalate(
    desk: Desk,
    ticket_id: int,
    *,
    reason: str,
    to: str = "tier3",
    expect_version: int | None = None,
) -> Ticket:
    """Escalate an open ticket; the reason is required and kept as an internal note."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("escalating needs a reason")
    target = (to or "").strip().lower().replace(" ", "")
    if target not in ESCALATION_TARGETS:
        raise InvalidInput(f"escalate to one of {', '.join(ESCALATION_TARGETS)}, not {to!r}")
    with stale_guard(desk, ticket_id, expect_version), desk.db.write() as session:
        ticket = _open_ticket(session, ticket_id, expect_version)
        if ticket.status == Status.NEW.value:
            raise InvalidInput(f"ticket #{ticket_id} is new; triage it before escalating")
        if ticket.escalated and ticket.escalated_to == target:
            raise InvalidInput(
                f"ticket #{ticket_id} is already escalated to {TARGET_NAMES[target]}"
            )
        fields = ("escalated", "escalated_to")
        before = audit.snapshot(ticket, fields)
        ticket.escalated, ticket.escalated_to = True, target
        ticket.updated_at, ticket.updated_by = utcnow(), desk.actor
        session.add(ticket)
        session.add(
            Note(
                ticket_id=ticket_id,
                kind=NoteKind.INTERNAL.value,
                body=f"Escalated to {TARGET_NAMES[target]}: {reason}",
                author=desk.actor,
            )
        )
        session.flush()
        audit.record(
            session,
            desk.actor,
            "ticket.escalate",
            "ticket",
            ticket_id,
            f"to {TARGET_NAMES[target]}: {reason}",
            before=before,
            after=audit.snapshot(ticket, fields),
        )
    return ticket


def escalated_tickets(desk: Desk, *, limit: int = DEFAULT_LIMIT) -> list[EscalatedRow]:
    """Open escalated tickets, most recently changed first: the service manager's list."""
    query = (
        select(
            Ticket.id,
            Ticket.summary,
            Client.name,
            Ticket.status,
            Ticket.priority,
            Ticket.escalated_to,
            Technician.name,
            Ticket.updated_at,
        )
        .join(Client, Client.id == Ticket.client_id)
        .join(Technician, Technician.id == Ticket.assigned_tech_id, isouter=True)
        # ix_ticket_escalated_status: the few escalated rows, never a scan of all tickets.
        .where(col(Ticket.escalated).is_(True), col(Ticket.status).in_(_OPEN))
        .order_by(col(Ticket.updated_at).desc(), col(Ticket.id))
        .limit(limit)
    )
    with desk.db.read() as session:
        return [EscalatedRow(*row) for row in session.exec(query).all()]


def add_note(desk: Desk, ticket_id: int, *, kind: str, text: str) -> Note:
    """Add a note to a ticket. Notes are appended, never edited, so the ticket's
    version is left alone: a note never causes someone else's save to conflict."""
    body = (text or "").strip()
    if not body:
        raise InvalidInput("the note is empty")
    if len(body) > MAX_NOTE:
        raise InvalidInput(f"a note holds at most {MAX_NOTE} characters")
    kinds = [k.value for k in NoteKind]
    if kind not in kinds:
        raise InvalidInput(f"note kind must be one of {', '.join(kinds)}, not {kind!r}")
    with desk.db.write() as session:
        if session.get(Ticket, ticket_id) is None:
            raise NotFound(f"no ticket #{ticket_id}")
        note = Note(ticket_id=ticket_id, kind=kind, body=body, author=desk.actor)
        session.add(note)
        session.flush()
        audit.record(
            session,
            desk.actor,
            "ticket.note",
            "ticket",
            ticket_id,
            f"{kind} note #{note.id}",
            after={"note_id": note.id, "kind": kind},
        )
    return note


def log_client_update(desk: Desk, ticket_id: int, text: str) -> Note:
    """Record that the client was updated (a ``client`` note): its age is watched."""
    return add_note(desk, ticket_id, kind=NoteKind.CLIENT.value, text=text)


def last_client_updates(session: Session, ticket_ids: Iterable[int]) -> dict[int, datetime]:
    """When each ticket's client was last updated; tickets never updated are absent.

    One grouped query on the covering index (ticket_id, kind, created_at).
    """
    ids = list(ticket_ids)[:DEFAULT_LIMIT]
    if not ids:
        return {}
    rows = connection_for(session).execute(_last_updates_query(), {"ids": ids}).all()
    # MAX() over a custom column type comes back as text; parse it like the column would.
    return {ticket_id: as_time(value) for ticket_id, value in rows if value is not None}


@lru_cache(maxsize=1)
def _last_updates_query() -> Select:
    # Built once and run as Core: the Dispatch board asks at every refresh.
    return (
        select(Note.ticket_id, func.max(Note.created_at))
        .where(
            col(Note.ticket_id).in_(bindparam("ids", expanding=True)),
            Note.kind == NoteKind.CLIENT.value,
        )
        .group_by(Note.ticket_id)
    )


def as_time(value: object) -> datetime:
    """A MAX() of a time column as the column reads it (SQLite may return the text)."""
    from dispatch_tui.store.types import UTCDateTime

    if isinstance(value, datetime):
        return value
    return UTCDateTime().process_result_value(value, None)


def _open_ticket(session: Session, ticket_id: int, expect_version: int | None) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket #{ticket_id}")
    check_version(session, ticket, expect_version)
    if ticket.status not in _OPEN:
        raise InvalidInput(f"ticket #{ticket_id} is {ticket.status}; only open tickets escalate")
    return ticket
