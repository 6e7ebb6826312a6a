"""Ticket claims: "being triaged by NAME", shown to every dispatcher on the file.

A claim never blocks anyone: ``claim()`` on a ticket someone else holds returns
their claim and changes nothing, and a save still goes through the version check
alone. The holder's app renews its claim (call ``claim()`` again, about every
``ttl / 3``) while the ticket stays open, and releases it on save or when the
dispatcher moves on; a crashed app's claim lapses after ``ttl``.

Claims write no audit event (renewals would flood the log); other dispatchers'
apps see them because any commit moves ``PRAGMA data_version`` (see
store/changes.py), after which they re-read ``active_claims`` for the rows shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, delete

from dispatch_tui.errors import InvalidInput, NotFound
from dispatch_tui.services.desk import Desk
from dispatch_tui.store.core import connection_for
from dispatch_tui.store.models import Ticket, TicketClaim
from dispatch_tui.store.types import utcnow

#: A claim lives this long without renewal: long enough to ride out a slow network
#: save and modest clock skew between dispatchers' machines, short enough that a
#: crashed app's claim is gone by the time someone wonders about it.
DEFAULT_TTL_S = 60.0

#: Longest ``active_claims`` query; screens ask for the rows they show (at most 200).
MAX_IDS = 1000


@dataclass(frozen=True)
class Claim:
    ticket_id: int
    holder: str
    claimed_at: datetime
    expires_at: datetime
    #: True when the caller holds it (just claimed or renewed), False when someone else does.
    mine: bool


def _as_claim(row: TicketClaim | Row, actor: str) -> Claim:
    return Claim(row.ticket_id, row.holder, row.claimed_at, row.expires_at, row.holder == actor)


def claim(
    desk: Desk, ticket_id: int, *, ttl: float = DEFAULT_TTL_S, now: datetime | None = None
) -> Claim:
    """Claim or renew a ticket for ``desk.actor``; returns the claim now in force.

    If another dispatcher holds a live claim, theirs is returned (``mine=False``)
    and left as it is: the caller shows "being triaged by NAME" and carries on.
    """
    if ttl <= 0:
        raise InvalidInput("a claim needs a positive time to live")
    now = now or utcnow()
    expires = now + timedelta(seconds=ttl)
    with desk.db.write() as session:
        if session.get(Ticket, ticket_id) is None:
            raise NotFound(f"no ticket #{ticket_id}")
        row = session.get(TicketClaim, ticket_id)
        if row is not None and row.holder != desk.actor and row.expires_at > now:
            return _as_claim(row, desk.actor)
        if row is None:
            row = TicketClaim(
                ticket_id=ticket_id, holder=desk.actor, claimed_at=now, expires_at=expires
            )
            session.add(row)
        else:
            if row.holder != desk.actor:  # an expired claim of someone else's
                row.holder = desk.actor
                row.claimed_at = now
            row.expires_at = expires
        session.flush()
        return _as_claim(row, desk.actor)


def release(desk: Desk, ticket_id: int) -> bool:
    """Drop ``desk.actor``'s claim on a ticket; True if there was one. Others' stay."""
    with desk.db.write() as session:
        result = session.exec(
            delete(TicketClaim).where(
                col(TicketClaim.ticket_id) == ticket_id, col(TicketClaim.holder) == desk.actor
            )
        )
        return bool(result.rowcount)


def active_claims(
    desk: Desk, ticket_ids: Iterable[int], *, now: datetime | None = None
) -> dict[int, Claim]:
    """Live claims on the given tickets, by ticket id (expired ones are left out)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    if len(ids) > MAX_IDS:
        raise InvalidInput(f"ask for at most {MAX_IDS} tickets' claims at once")
    with desk.db.read() as session:
        return claims_in(session, ids, desk.actor, now or utcnow())


_CLAIMS = TicketClaim.__table__  # type: ignore[attr-defined]
#: The live claims on some tickets, built once and read as plain rows: the Triage and
#: Dispatch screens ask at every refresh, and building the select and loading claim
#: objects cost more than SQLite's lookup.
_LIVE_CLAIMS = sa_select(
    _CLAIMS.c.ticket_id, _CLAIMS.c.holder, _CLAIMS.c.claimed_at, _CLAIMS.c.expires_at
).where(
    _CLAIMS.c.ticket_id.in_(bindparam("ids", expanding=True)),
    _CLAIMS.c.expires_at > bindparam("now", type_=_CLAIMS.c.expires_at.type),
)


def claims_in(
    session: Session, ticket_ids: list[int], actor: str, now: datetime
) -> dict[int, Claim]:
    """``active_claims`` in the caller's read (``ticket_ids`` already bounded)."""
    rows = connection_for(session).execute(_LIVE_CLAIMS, {"ids": ticket_ids, "now": now})
    return {row.ticket_id: _as_claim(row, actor) for row in rows}
