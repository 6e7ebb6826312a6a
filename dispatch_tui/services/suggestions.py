"""Suggested technicians for a ticket: gathers the facts, then asks rules/suggest.py.

One read transaction: the ticket, every active technician's load (services/roster.py)
and each technician's recent history with the ticket's client, counted on the
(client_id, created_at) index over a bounded window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from dispatch_tui.errors import NotFound
from dispatch_tui.rules import suggest
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.roster import TechLoad, tech_loads
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
    """Tickets of this client each technician had, created in the last ``days``."""
    rows = session.exec(
        select(Ticket.assigned_tech_id, func.count())
        .where(
            Ticket.client_id == client_id,
            col(Ticket.created_at) >= now - timedelta(days=days),
            col(Ticket.assigned_tech_id).is_not(None),
        )
        .group_by(Ticket.assigned_tech_id)
    ).all()
    return {tech_id: count for tech_id, count in rows if tech_id is not None}


def ticket_facts(ticket: Ticket) -> suggest.TicketFacts:
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
    ticket: Ticket,
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
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket #{ticket_id}")
        client = session.get(Client, ticket.client_id)
        ranked = rank_in_session(session, ticket, tech_loads(session, now), now, weights)
    return Suggestions(ticket_id, client.name if client else "?", ranked)
