"""Recording and reading tickets."""

from __future__ import annotations

from datetime import datetime

from dispatch_tui.errors import InvalidInput, NotFound
from dispatch_tui.services import audit
from dispatch_tui.services.clients import ensure_client, ensure_contact
from dispatch_tui.services.desk import Desk
from dispatch_tui.store import queries
from dispatch_tui.store.models import Channel, Status, Ticket
from dispatch_tui.store.types import utcnow

#: Longest summary we accept; a summary is a line, the description holds the rest.
MAX_SUMMARY = 200


def parse_channel(value: str) -> str:
    try:
        return Channel(value.strip().lower()).value
    except ValueError:
        allowed = ", ".join(c.value for c in Channel)
        raise InvalidInput(f"unknown channel {value!r}; use one of: {allowed}") from None


def parse_status(value: str) -> str:
    try:
        return Status(value.strip().lower()).value
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise InvalidInput(f"unknown status {value!r}; use one of: {allowed}") from None


def add_ticket(
    desk: Desk,
    *,
    client: str,
    summary: str,
    contact: str | None = None,
    channel: str = Channel.PHONE.value,
    description: str = "",
    received_at: datetime | None = None,
) -> Ticket:
    """Record a new request as a ``new`` ticket; creates the client and contact if unknown."""
    summary = summary.strip()
    if not summary:
        raise InvalidInput("a summary is required")
    if len(summary) > MAX_SUMMARY:
        raise InvalidInput(f"the summary is {len(summary)} characters; keep it under {MAX_SUMMARY}")
    channel = parse_channel(channel)
    now = utcnow()
    received = received_at or now
    if received.tzinfo is None:
        raise InvalidInput("received-at needs a time zone")
    if received > now:
        raise InvalidInput("received-at lies in the future")
    with desk.db.write() as session:
        client_row = ensure_client(session, desk.actor, client)
        contact_row = ensure_contact(session, desk.actor, client_row, contact) if contact else None
        ticket = Ticket(
            client_id=client_row.id or 0,
            contact_id=contact_row.id if contact_row else None,
            channel=channel,
            summary=summary,
            description=description,
            created_at=received,
            updated_at=now,
            updated_by=desk.actor,
        )
        session.add(ticket)
        session.flush()
        audit.record(
            session,
            desk.actor,
            "ticket.create",
            "ticket",
            ticket.id,
            f"{channel} from {client_row.name}",
            after=audit.snapshot(
                ticket, ("client_id", "contact_id", "channel", "summary", "status")
            ),
        )
    return ticket


def get_ticket(desk: Desk, ticket_id: int) -> queries.TicketDetail:
    with desk.db.read() as session:
        detail = queries.ticket_detail(session, ticket_id)
    if detail is None:
        raise NotFound(f"no ticket #{ticket_id}")
    return detail


def list_tickets(
    desk: Desk, *, status: str | None = None, limit: int = queries.DEFAULT_LIMIT
) -> list[queries.TicketRow]:
    statuses = (parse_status(status),) if status else None
    with desk.db.read() as session:
        return queries.list_tickets(session, statuses=statuses, limit=limit)


def desk_counts(desk: Desk) -> queries.DeskCounts:
    with desk.db.read() as session:
        return queries.desk_counts(session, utcnow())
