"""Suggested technicians for a ticket: gathers the facts, then asks rules/suggest.py.

One read transaction: the ticket, every active technician's load (services/roster.py)
and each technician's recent history with the ticket's client, counted on the
(client_id, created_at, assigned_tech_id) index over a bounded window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func
from sqlmodel import Session, col, select

from dispatch_tui.errors import NotFound
from dispatch_tui.rules import suggest
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.roster import TechLoad, tech_loads
from dispatch_tui.store.core import connection_for
from dispatch_tui.store.models import Client, Ticket
from dispatch_tui.store.types import utcnow

#: How far back "has worked this client before" looks.
HISTORY_DAYS = 90


@dataclass(frozen=True)
class Suggestions:
    ticket_id: int
    client: str
    suggestions: list[suggest.Suggestion]


def client_history(
    session: Session, client_id: int, now: datetime, days: int = HISTORY_DAYS
) -> dict[int, int]:
    """Tickets of this client each technician had, created in the last ``days``.

    Counted on ix_ticket_client_created_tech alone (the technician is in the index), so
    a busy client's months of tickets cost index entries, not a row read each.
    """
    rows = connection_for(session).execute(
        _history_query(), {"client": client_id, "since": now - timedelta(days=days)}
    )
    return {tech_id: count for tech_id, count in rows if tech_id is not None}


class TicketRow(NamedTuple):
    """The columns of a ticket the ranking reads, and its client's name."""

    id: int
    client_id: int
    assigned_tech_id: int | None
    priority: str | None
    ticket_type: str | None
    required_skill: str | None
    estimate_hours: float | None
    client: str | None


# Statements built once and run as Core on the session's connection: suggestions are
# ranked at every cursor move on the Dispatch screen, and building ORM selects and
# loading a whole Ticket and Client cost more than the reads themselves.


@lru_cache(maxsize=1)
def _history_query() -> Select:
    return (
        select(Ticket.assigned_tech_id, func.count())
        .where(
            Ticket.client_id == bindparam("client"),
            col(Ticket.created_at) >= bindparam("since"),
            col(Ticket.assigned_tech_id).is_not(None),
        )
        .group_by(Ticket.assigned_tech_id)
    )


@lru_cache(maxsize=1)
def _ticket_query() -> Select:
    columns = [getattr(Ticket, name) for name in TicketRow._fields[:-1]]
    return (
        select(*columns, Client.name)
        .join(Client, Client.id == Ticket.client_id, isouter=True)
        .where(Ticket.id == bindparam("id"))
    )


def ticket_facts(ticket: Ticket | TicketRow) -> suggest.TicketFacts:
    return suggest.TicketFacts(
        priority=ticket.priority,
        ticket_type=ticket.ticket_type,
        required_skill=ticket.required_skill,
        estimate_hours=ticket.estimate_hours,
    )


def tech_facts(load: TechLoad, history: dict[int, int]) -> suggest.TechFacts:
    return suggest.TechFacts(
        id=load.id,
        name=load.name,
        tier=load.tier,
        skills=frozenset(load.skills),
        on_shift=load.on_shift,
        away=load.away_now,
        away_reason=load.away_reason,
        free_hours_today=load.free_hours_today,
        queue_count=load.open_tickets,
        queue_hours=load.queued_hours,
        client_history=history.get(load.id, 0),
    )


def rank_in_session(
    session: Session,
    ticket: Ticket | TicketRow,
    loads: list[TechLoad],
    now: datetime,
    weights: suggest.Weights | None = None,
) -> list[suggest.Suggestion]:
    """Rank with loads already read (the Dispatch screen reads them once per refresh)."""
    history = client_history(session, ticket.client_id, now)
    # The ticket's current technician (a reassignment) is not suggested back to itself.
    facts = [tech_facts(load, history) for load in loads if load.id != ticket.assigned_tech_id]
    return suggest.rank(ticket_facts(ticket), facts, weights)


def suggest_for(
    desk: Desk,
    ticket_id: int,
    *,
    now: datetime | None = None,
    weights: suggest.Weights | None = None,
) -> Suggestions:
    """Every active technician for the ticket, best first, each with reasons."""
    now = now or utcnow()
    with desk.db.read() as session:
        row = connection_for(session).execute(_ticket_query(), {"id": ticket_id}).first()
        if row is None:
            raise NotFound(f"no ticket #{ticket_id}")
        ticket = TicketRow._make(row)
        ranked = rank_in_session(session, ticket, tech_loads(session, now), now, weights)
    return Suggestions(ticket_id, ticket.client or "?", ranked)
