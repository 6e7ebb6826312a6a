"""Read queries for the screens and the CLI. Each returns plain values, is bounded,
and runs on an index (see the table definitions); none loads every ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Select, bindparam, func
from sqlmodel import Session, col, select

from dispatch_tui.store.core import Executor, connection_for
from dispatch_tui.store.models import (
    OPEN_STATUSES,
    Client,
    Contact,
    Note,
    Status,
    Technician,
    Ticket,
)

#: The most rows any list query returns unless asked for fewer; screens page beyond it.
DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class TicketRow:
    """One ticket as a list shows it."""

    id: int
    summary: str
    client: str
    status: str
    priority: str | None
    ticket_type: str | None
    channel: str
    created_at: datetime
    updated_at: datetime
    assigned_tech: str | None
    estimate_hours: float | None
    escalated: bool
    version: int


@dataclass(frozen=True)
class NoteRow:
    id: int
    kind: str
    body: str
    author: str
    created_at: datetime


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    client: str
    contact: str | None
    contact_email: str | None
    assigned_tech: str | None
    notes: list[NoteRow]


@dataclass(frozen=True)
class TicketNames:
    """A ticket with the names of its client and contact: what the triage panel edits."""

    ticket: Ticket
    client: str
    contact: str | None


@dataclass(frozen=True)
class DeskCounts:
    untriaged: int
    unassigned: int
    overdue: int
    oldest_untriaged_at: datetime | None


def _ticket_rows_query():
    return (
        select(
            Ticket.id,
            Ticket.summary,
            Client.name,
            Ticket.status,
            Ticket.priority,
            Ticket.ticket_type,
            Ticket.channel,
            Ticket.created_at,
            Ticket.updated_at,
            Technician.name,
            Ticket.estimate_hours,
            Ticket.escalated,
            Ticket.version,
        )
        .join(Client, Client.id == Ticket.client_id)
        .join(Technician, Technician.id == Ticket.assigned_tech_id, isouter=True)
    )


@lru_cache(maxsize=16)
def _listing(statuses: tuple[str, ...] | None, oldest_first: bool) -> Select:
    """The ticket list for a set of statuses in one order, built once: building the
    select cost more than SQLite running it for the Triage screen's few rows. The
    statuses are the app's own words, bound as one parameter each."""
    query = _ticket_rows_query()
    if statuses:
        query = query.where(
            col(Ticket.status).in_([bindparam(f"status_{i}") for i in range(len(statuses))])
        )
    order = col(Ticket.created_at) if oldest_first else col(Ticket.created_at).desc()
    return (
        query.order_by(order, col(Ticket.id)).limit(bindparam("limit")).offset(bindparam("offset"))
    )


def list_tickets(
    session: Executor,
    *,
    statuses: tuple[str, ...] | None = None,
    oldest_first: bool = False,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> list[TicketRow]:
    statuses = tuple(statuses) if statuses else None
    params: dict[str, object] = {"limit": limit, "offset": offset}
    params.update({f"status_{i}": status for i, status in enumerate(statuses or ())})
    rows = connection_for(session).execute(_listing(statuses, oldest_first), params)
    return [TicketRow(*row) for row in rows]


def tickets_by_ids(session: Session, ids: list[int]) -> list[TicketRow]:
    """The named tickets as list rows, oldest first; pass a bounded list (one IN clause)."""
    if not ids:
        return []
    query = (
        _ticket_rows_query()
        .where(col(Ticket.id).in_(ids[:DEFAULT_LIMIT]))
        .order_by(col(Ticket.created_at), col(Ticket.id))
    )
    return [TicketRow(*row) for row in session.exec(query).all()]


#: Tickets with their client's and contact's names, by id, built once: see
#: ``tickets_with_names``.
_WITH_NAMES = (
    select(Ticket, Client.name, Contact.name)
    .outerjoin(Client, col(Client.id) == col(Ticket.client_id))
    .outerjoin(Contact, col(Contact.id) == col(Ticket.contact_id))
    .where(col(Ticket.id).in_(bindparam("ids", expanding=True)))
)


def tickets_with_names(session: Session, ids: list[int]) -> list[TicketNames]:
    """The named tickets with their client's and contact's names, in one statement
    (a read per ticket, as ``ticket_detail`` does, costs four); pass a bounded list.
    The tickets are ORM objects: the triage panel edits and saves them."""
    if not ids:
        return []
    rows = session.exec(_WITH_NAMES, params={"ids": ids[:DEFAULT_LIMIT]})  # type: ignore[call-overload]
    return [
        TicketNames(ticket, client if client is not None else "?", contact)
        for ticket, client, contact in rows.all()
    ]


def ticket_detail(session: Session, ticket_id: int) -> TicketDetail | None:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    client = session.get(Client, ticket.client_id)
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    tech = session.get(Technician, ticket.assigned_tech_id) if ticket.assigned_tech_id else None
    notes = session.exec(
        select(Note).where(Note.ticket_id == ticket_id).order_by(col(Note.created_at), col(Note.id))
    ).all()
    return TicketDetail(
        ticket=ticket,
        client=client.name if client else "?",
        contact=contact.name if contact else None,
        contact_email=contact.email if contact else None,
        assigned_tech=tech.name if tech else None,
        notes=[NoteRow(n.id or 0, n.kind, n.body, n.author, n.created_at) for n in notes],
    )


def count_untriaged(session: Executor) -> int:
    # Core on the session's connection, the statement built once: the dispatch gate
    # asks on every board refresh, and the ORM path cost more than the index count.
    return connection_for(session).execute(untriaged_query()).scalar_one()


@lru_cache(maxsize=1)
def untriaged_query() -> Select:
    """The triage gate's count: tickets still ``new`` (also a part of the Dispatch
    board's one statement)."""
    return select(func.count()).select_from(Ticket).where(Ticket.status == Status.NEW.value)


def desk_counts(session: Session, now: datetime) -> DeskCounts:
    """The header's counts in one statement (each part a scalar subquery on its own
    index): a statement costs more in SQLAlchemy than these index reads do."""
    untriaged = untriaged_query().scalar_subquery()
    oldest = (
        select(func.min(Ticket.created_at))
        .where(Ticket.status == Status.NEW.value)
        .scalar_subquery()
    )
    unassigned = (
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.status == Status.TRIAGED.value, col(Ticket.assigned_tech_id).is_(None))
        .scalar_subquery()
    )
    # On ix_ticket_status_due: a due_at range per open status, never a ticket row.
    overdue = (
        select(func.count())
        .select_from(Ticket)
        .where(
            col(Ticket.status).in_([s.value for s in OPEN_STATUSES]),
            col(Ticket.due_at).is_not(None),
            col(Ticket.due_at) < now,
        )
        .scalar_subquery()
    )
    row = session.exec(select(untriaged, unassigned, overdue, oldest)).one()
    return DeskCounts(*row)


def find_client(session: Session, name: str) -> Client | None:
    return session.exec(select(Client).where(func.lower(Client.name) == name.lower())).first()


def find_contact(session: Session, client_id: int, name: str) -> Contact | None:
    return session.exec(
        select(Contact).where(
            Contact.client_id == client_id,
            (func.lower(Contact.name) == name.lower())
            | (func.lower(Contact.email) == name.lower()),
        )
    ).first()


def find_technician(session: Session, name_or_id: str) -> Technician | None:
    if name_or_id.isdigit():
        tech = session.get(Technician, int(name_or_id))
        if tech is not None:
            return tech
    return session.exec(
        select(Technician).where(func.lower(Technician.name) == name_or_id.lower())
    ).first()


_TECHS = Technician.__table__  # type: ignore[attr-defined]
#: Built once: the Triage screen reads the skills at every showing.
_ACTIVE_SKILLS = select(_TECHS.c.skills).where(_TECHS.c.active.is_(True))


def active_skills(session: Executor) -> list[str]:
    """The ``skills`` text of every active technician, as stored."""
    return list(connection_for(session).execute(_ACTIVE_SKILLS).scalars())


def list_technicians(session: Session, *, include_inactive: bool = False) -> list[Technician]:
    query = select(Technician).order_by(col(Technician.name))
    if not include_inactive:
        query = query.where(col(Technician.active).is_(True))
    return list(session.exec(query).all())


def list_clients(session: Session, *, prefix: str = "", limit: int = 50) -> list[Client]:
    query = select(Client).order_by(col(Client.name)).limit(limit)
    if prefix:
        query = query.where(func.lower(Client.name).startswith(prefix.lower()))
    return list(session.exec(query).all())
