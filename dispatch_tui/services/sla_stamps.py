"""Keeping each ticket's SLA met-by moments (rules/sla_due.py) in the ticket row.

Which policy judges a ticket: the one in force *now*, as before these columns
existed. The dashboard and the service manager's figures never mix two policies, and
a holiday entered late still moves the deadlines of the tickets it falls in. The
stored moments are therefore derived data with a receipt: ``sla_basis`` (the
priority, or "untriaged") and ``sla_policy`` (the policy's fingerprint). A reader
trusts a row only when both match the ticket and the policy it reads in the same
transaction; any other row (``stale``) is judged live by the same rule. So a
writer that forgets to stamp, an old file, or a policy change costs speed, never a
wrong or stale figure, whatever other dispatchers' processes write meanwhile.

Writers: triage stamps the ticket it sets the priority of, in its own transaction;
the demo generator stamps what it creates; a change of time zone, working hours,
SLA targets or holidays restamps the recent tickets (``restamp_recent``); and
``dispatch-tui restamp-sla`` (``restamp``) fills or refreshes all of history, e.g.
after the migration to schema 3, in short write transactions. The app does the same
by itself (``catch_up``, on a background worker at start) whenever the file's
``meta`` marker says history was last fully stamped under another policy, so a
dispatcher never has to know the command exists. Stamping is not an
edit: it leaves ``version``, ``updated_at`` and the audit log alone, so it never
makes another dispatcher's save fail or their screen reload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, update
from sqlmodel import col, select

from dispatch_tui.rules.sla_due import (
    UNTRIAGED,
    DueTimeline,
    SlaDue,
    policy_stamp,
    sla_due,
    timeline_for,
)
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.settings import ShopPolicy, load_policy
from dispatch_tui.store.core import connection_for
from dispatch_tui.store.errors import DatabaseLocked
from dispatch_tui.store.models import Meta, Ticket
from dispatch_tui.store.types import utcnow

log = logging.getLogger("dispatch_tui.sla")

#: How far back a policy change restamps at once: the default SLA report reads 28
#: days plus an 8-week trend; the rest of history waits for a full restamp.
RECENT_DAYS = 120
#: ``meta`` key: the policy stamp all of history was last fully stamped under.
STAMPED_KEY = "sla_stamped_policy"
#: Tickets stamped per write transaction by ``restamp``: short enough that another
#: dispatcher's save waits a few milliseconds at most.
BATCH = 2000


def stamp_of(policy: ShopPolicy) -> str:
    return policy_stamp(policy.sla, policy.calendar)


def stale(stamp: str):
    """Rows whose stored moments do not match their priority and the policy ``stamp``:
    never stamped, or stamped for another priority or policy. The SLA report counts
    the others per priority, as ranges of ix_ticket_priority_sla."""
    return or_(
        col(Ticket.sla_policy).is_(None),
        col(Ticket.sla_basis).is_(None),
        Ticket.sla_policy != stamp,
        Ticket.sla_basis != func.coalesce(Ticket.priority, UNTRIAGED),
    )


def due_of(
    created_at: datetime,
    priority: str | None,
    policy: ShopPolicy,
    timeline: DueTimeline,
    stamp: str | None = None,
) -> SlaDue:
    """``stamp`` is ``stamp_of(policy)``, passed in by callers stamping many tickets."""
    return sla_due(created_at, priority, policy.sla, stamp or stamp_of(policy), timeline)


def columns(due: SlaDue) -> dict[str, object]:
    """The ticket columns of a set of moments, as a row dict (demo, bulk insert)."""
    return {
        "sla_basis": due.basis,
        "sla_policy": due.policy,
        "respond_by": due.respond_by,
        "engage_by": due.engage_by,
        "resolve_by": due.resolve_by,
    }


def stamp(ticket: Ticket, policy: ShopPolicy) -> None:
    """Set the moments of a ticket being saved (its priority may just have changed)."""
    timeline = timeline_for(policy.calendar, ticket.created_at, ticket.created_at)
    for name, value in columns(
        due_of(ticket.created_at, ticket.priority, policy, timeline)
    ).items():
        setattr(ticket, name, value)


_STAMP = (
    update(Ticket.__table__)  # type: ignore[arg-type]
    .where(Ticket.__table__.c.id == bindparam("b_id"))
    .values(
        sla_basis=bindparam("b_basis"),
        sla_policy=bindparam("b_policy"),
        respond_by=bindparam("b_respond"),
        engage_by=bindparam("b_engage"),
        resolve_by=bindparam("b_resolve"),
    )
)


def restamp_recent(desk: Desk, *, now: datetime | None = None) -> int:
    """Restamp what the dashboard's default report reads (its period and trend, with
    room to spare), after a policy or holiday change: a few thousand rows, so the
    writer of the change waits a moment, not minutes. Older tickets stay judged live
    (right, only slower) until a full ``restamp``. A lock held too long by another
    dispatcher only postpones the speed-up: it is logged, not raised."""
    since = (now or utcnow()) - timedelta(days=RECENT_DAYS)
    try:
        return restamp(desk, since=since)
    except DatabaseLocked as exc:
        log.warning("SLA moments not restamped after a policy change: %s", exc)
        return 0


def restamp(
    desk: Desk,
    *,
    batch: int = BATCH,
    since: datetime | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Stamp every ticket whose moments are missing or stale (those that arrived from
    ``since`` on, when given); the number stamped.

    Each batch reads the policy and the tickets and writes them back in one write
    transaction, so a priority changed by another dispatcher meanwhile is either
    seen here or stamped by their own save. A Core update: no version bump.
    ``should_stop`` is asked between batches (the app quitting ends a long restamp;
    what was stamped stays stamped).
    """
    arrived = [] if since is None else [col(Ticket.created_at) >= since]
    done = 0
    after = 0  # keyset on id: each batch starts where the last one ended
    while True:
        with desk.db.write() as session:
            policy = load_policy(session)
            stamp = stamp_of(policy)
            rows = session.exec(
                select(Ticket.id, Ticket.created_at, Ticket.priority)
                .where(col(Ticket.id) > after, stale(stamp), *arrived)
                .order_by(col(Ticket.id))
                .limit(batch)
            ).all()
            if rows:
                first = min(r[1] for r in rows)
                timeline = timeline_for(policy.calendar, first, max(r[1] for r in rows))
                params = []
                for ticket_id, created_at, priority in rows:
                    due = due_of(created_at, priority, policy, timeline, stamp)
                    params.append(
                        {
                            "b_id": ticket_id,
                            "b_basis": due.basis,
                            "b_policy": due.policy,
                            "b_respond": due.respond_by,
                            "b_engage": due.engage_by,
                            "b_resolve": due.resolve_by,
                        }
                    )
                connection_for(session).execute(_STAMP, params)
        done += len(rows)
        if rows:
            after = rows[-1][0]
        if len(rows) < batch or (should_stop is not None and should_stop()):
            return done


def catch_up(desk: Desk, *, should_stop: Callable[[], bool] | None = None) -> int:
    """Restamp all of history once if the file says it was not fully stamped under the
    current policy (a migrated file, or a policy change that restamped only recent
    tickets); the number stamped. A no-op costing one read when the marker matches,
    so it can run at every start. Two dispatchers starting at once both restamp:
    harmless, as stamping the same moments twice writes the same values."""
    with desk.db.read() as session:
        stamp = stamp_of(load_policy(session))
        marker = session.get(Meta, STAMPED_KEY)
        if marker is not None and marker.value == stamp:
            return 0
    count = restamp(desk, should_stop=should_stop)
    if should_stop is not None and should_stop():
        return count  # cut short: the marker stays old and the next start goes on
    with desk.db.write() as session:
        # A policy changed while history was being stamped leaves the marker old: the
        # rows stamped under the old policy are stale and the next start restamps them.
        if stamp_of(load_policy(session)) == stamp:
            session.merge(Meta(key=STAMPED_KEY, value=stamp))
    return count
