"""What the Triage screen shows, read in one go: the new tickets oldest first with each
one's first-response clock, how many wait in all, the shop policy, the skills the
"required skill" field offers, other dispatchers' live claims on the listed tickets, and
every listed ticket as stored with its client's and contact's names.

One read transaction instead of one per part: the screen reads this at every showing,
after every save and whenever a colleague commits, and six short reads of a file on a
network share cost six times the transaction overhead. The bench's "triage queue" row
measures this function, so it counts everything the screen waits for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dispatch_tui.rules import sla
from dispatch_tui.services import settings
from dispatch_tui.services.claims import Claim, claims_in
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.intake_views import known_skills_in
from dispatch_tui.services.views import SCREEN_LIMIT
from dispatch_tui.store import queries
from dispatch_tui.store.models import Status
from dispatch_tui.store.queries import TicketNames, TicketRow
from dispatch_tui.store.types import utcnow


@dataclass(frozen=True)
class QueueItem:
    row: TicketRow
    #: The first-response clock, or None when it is already met (a call-back).
    clock: sla.ClockState | None


@dataclass(frozen=True)
class TriageData:
    items: list[QueueItem]
    #: Every ticket waiting, which may be more than the list holds.
    waiting: int
    policy: settings.ShopPolicy
    skills: list[str]
    #: Other dispatchers' live claims on the listed tickets, by ticket id.
    claims: dict[int, Claim]
    #: Every listed ticket as stored, by id, read with the queue: the panel then shows
    #: the ticket under the cursor without a read (a worker and four statements) per
    #: cursor move, and the first frame already has the first ticket.
    tickets: dict[int, TicketNames] = field(default_factory=dict)


def triage_data(desk: Desk, now: datetime | None = None) -> TriageData:
    """The Triage screen's data: at most ``SCREEN_LIMIT`` new tickets, oldest first."""
    now = now or utcnow()
    with desk.db.read() as session:
        rows = queries.list_tickets(
            session, statuses=(Status.NEW.value,), oldest_first=True, limit=SCREEN_LIMIT
        )
        waiting = queries.count_untriaged(session)
        policy = settings.load_policy(session)
        skills = known_skills_in(session)
        ids = [row.id for row in rows]
        held = claims_in(session, ids, desk.actor, now) if ids else {}
        named = queries.tickets_with_names(session, ids)
    items = [
        QueueItem(
            row, sla.next_breach(sla.TicketTimes(row.created_at), now, policy.calendar, policy.sla)
        )
        for row in rows
    ]
    return TriageData(
        items,
        waiting,
        policy,
        skills,
        {ticket_id: claim for ticket_id, claim in held.items() if not claim.mine},
        {item.ticket.id or 0: item for item in named},
    )
