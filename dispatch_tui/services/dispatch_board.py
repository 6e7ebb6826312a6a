"""What the Dispatch screen shows, read in one go: the gate, one page of the triaged
unassigned work in the order it should go out, each ticket's full triage record and the
age of its last client update, how many tickets wait in all, and the roster.

The work is paged by key, not by offset: a page is the next ``PAGE_SIZE`` tickets after
a ``PageKey`` (priority rank, arrival, id) in the order of ix_ticket_tech_status_priority
(``assigned_tech_id IS NULL AND status = 'triaged'``, with priority and arrival in the
index). Pages are chosen on that index alone, so a refresh reads the rows, note lookups
and SLA clocks of one page whatever the size of the queue or of the history, and the
pages together hold every waiting ticket. A page is shown by priority, then business
time left before the next SLA breach. Within a priority, arrival order is that order for
every ticket triage releases: triage records the first response, so the clock still
running is the engagement clock, whose target is the priority's and whose business time
elapsed grows with age. Only a ticket with another clock running (imported with no
first response, or already engaged) can sort before an older one on an earlier page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, case, func, tuple_
from sqlmodel import Session, col, select

from dispatch_tui.rules import gate
from dispatch_tui.rules.priority import PRIORITY_RANK
from dispatch_tui.services import followup, settings, sla, timesheets
from dispatch_tui.services.availability import read_staff
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.roster import Roster, roster_in
from dispatch_tui.store import queries
from dispatch_tui.store.core import connection_for
from dispatch_tui.store.models import Client, Contact, Note, NoteKind, Status, Ticket
from dispatch_tui.store.types import utcnow

#: Tickets on one page of the work list: more than a dispatcher sees at once on a tall
#: terminal, few enough that a refresh (every second while colleagues work) reads,
#: clocks and draws only those; the rest are a key away (see ``PageKey``).
PAGE_SIZE = 50


class WorkTicket(NamedTuple):
    """The columns of a ticket the board shows (the triage record) and its SLA clock
    reads, as plain values: building ~200 ORM objects cost the board more than its
    query, and nothing here is edited in place (changes go through services with
    ``version``). A named tuple, as it is built from a row at the cost of a tuple."""

    id: int
    summary: str
    description: str
    status: str
    ticket_type: str | None
    category: str | None
    subcategory: str | None
    impact: str | None
    urgency: str | None
    priority: str | None
    estimate_hours: float | None
    required_skill: str | None
    due_at: datetime | None
    escalated: bool
    escalated_to: str | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    engaged_at: datetime | None
    resolved_at: datetime | None
    version: int


_WORK_COLUMNS = [getattr(Ticket, name) for name in WorkTicket._fields]


@dataclass(frozen=True)
class BoardTicket:
    """One ticket waiting for a technician, with its whole triage record."""

    ticket: WorkTicket
    client: str
    contact: str | None
    #: Business minutes before the next SLA breach (negative: breached; None: no target).
    minutes_left: float | None
    last_client_update: datetime | None


class PageKey(NamedTuple):
    """A place in the queue's arrival order (priority rank, arrival, id): a page holds
    the tickets after one. Keys are places, not tickets, so a page read again after
    assignments or arrivals still follows on from the one before it."""

    rank: int
    created_at: datetime
    id: int

    @classmethod
    def of(cls, ticket: WorkTicket) -> PageKey:
        return cls(_rank(ticket.priority), ticket.created_at, ticket.id)


@dataclass(frozen=True)
class DispatchData:
    gate: gate.GateState
    #: One page of the work, in the board's order.
    tickets: list[BoardTicket]
    roster: Roster
    #: Triaged, unassigned tickets in all, on every page.
    waiting: int = 0
    #: Waiting tickets on the pages before this one.
    before: int = 0
    #: Where this page starts (None: the first page); pass it back to read it again.
    after: PageKey | None = None
    #: Where the next page starts; None when this is the last.
    next_after: PageKey | None = None


def _rank(priority: str | None) -> int:
    return PRIORITY_RANK.get(priority or "", len(PRIORITY_RANK))


def _rank_column() -> ColumnElement[int]:
    return case(
        *((Ticket.priority == name, value) for name, value in PRIORITY_RANK.items()),
        else_=len(PRIORITY_RANK),
    )


def _waiting() -> list[ColumnElement[bool]]:
    return [col(Ticket.assigned_tech_id).is_(None), Ticket.status == Status.TRIAGED.value]


def _key_params(after: PageKey) -> dict[str, object]:
    return {"key_rank": after.rank, "key_created": after.created_at, "key_id": after.id}


def _after_key() -> ColumnElement[bool]:
    """The queue key is past the bound ``PageKey`` (parameters ``_key_params``)."""
    bound = tuple_(
        bindparam("key_rank"),
        bindparam("key_created", type_=Ticket.created_at.type),
        bindparam("key_id"),
    )
    return tuple_(_rank_column(), col(Ticket.created_at), col(Ticket.id)) > bound


@lru_cache(maxsize=8)
def _work_query(limit: int, keyed: bool = False, counted: bool = False) -> Select:
    # Built once: constructing the CASE and its cache key cost about as much as
    # running the query. Statements are immutable, so threads can share one.
    # Which tickets make the page is decided on ix_ticket_tech_status_priority alone
    # (priority and created_at are in it); only those rows are then read, instead of
    # reading and sorting every triaged ticket's row with its description.
    chosen = select(Ticket.id).where(*_waiting())
    if keyed:
        chosen = chosen.where(_after_key())
    chosen = chosen.order_by(_rank_column(), col(Ticket.created_at), col(Ticket.id)).limit(limit)
    # The last client update of each shown ticket, in the same statement: one lookup
    # on ix_note_ticket_kind_created per row instead of a second statement naming them.
    last_update = (
        select(func.max(Note.created_at))
        .where(Note.ticket_id == Ticket.id, Note.kind == NoteKind.CLIENT.value)
        .scalar_subquery()
    )
    # ``counted``: the counts of ``_counts_query`` follow on every row, as uncorrelated
    # scalar subqueries (run once, not per row): the page and its counts in one
    # statement, one fewer a refresh. An empty page has no row to carry them.
    counts = _counts_query(keyed).selected_columns if counted else []
    return (
        select(*_WORK_COLUMNS, Client.name, Contact.name, last_update, *counts)
        .join(Client, Client.id == Ticket.client_id)
        .join(Contact, Contact.id == Ticket.contact_id, isouter=True)
        .where(col(Ticket.id).in_(chosen))
    )


@lru_cache(maxsize=2)
def _counts_query(keyed: bool) -> Select:
    """The gate's count of new tickets, the waiting tickets, and (``keyed``) those on
    the pages before the bound key: one statement, each part a count on its index."""
    waiting = select(func.count()).select_from(Ticket).where(*_waiting())
    parts = [queries.untriaged_query().scalar_subquery(), waiting.scalar_subquery()]
    if keyed:
        before = waiting.where(~_after_key())
        parts.append(before.scalar_subquery())
    return select(*parts)


@lru_cache(maxsize=1)
def _back_query() -> Select:
    """Keys of the tickets before a bound key, nearest first (``_key_params``)."""
    return (
        select(_rank_column(), col(Ticket.created_at), col(Ticket.id))
        .where(*_waiting(), ~_after_key())
        .order_by(_rank_column().desc(), col(Ticket.created_at).desc(), col(Ticket.id).desc())
        .limit(bindparam("n"))
    )


def unassigned_work(
    session: Session, limit: int = PAGE_SIZE, after: PageKey | None = None
) -> list[tuple[WorkTicket, str, str | None]]:
    """Triaged tickets nobody has, most urgent priority first, then oldest, from the
    one after ``after``: (ticket, client name, contact name)."""
    return [
        (ticket, client, contact) for ticket, client, contact, _ in _work(session, limit, after)
    ]


def _work(
    session: Session, limit: int = PAGE_SIZE, after: PageKey | None = None
) -> list[tuple[WorkTicket, str, str | None, datetime | None]]:
    """``unassigned_work`` with each ticket's last client update (None: never)."""
    return _work_rows(_read_work(session, limit, after))


def _read_work(session: Session, limit: int, after: PageKey | None, counted: bool = False) -> list:
    query = _work_query(limit, after is not None, counted)
    params = {} if after is None else _key_params(after)
    # Core rows, not the ORM's: no entities are wanted, and its row processing doubles the cost.
    return connection_for(session).execute(query, params).all()


def _work_rows(rows: list) -> list[tuple[WorkTicket, str, str | None, datetime | None]]:
    width = len(_WORK_COLUMNS)
    found = [
        (
            WorkTicket._make(row[:width]),
            row[width],
            row[width + 1],
            None if row[width + 2] is None else followup.as_time(row[width + 2]),
        )
        for row in rows
    ]
    # The chosen rows come back in no particular order: put them in the queue's.
    found.sort(key=lambda item: PageKey.of(item[0]))
    return found


def page_start_before(session: Session, key: PageKey, size: int | None = None) -> PageKey | None:
    """Where the page that ends just before ``key`` starts: the key ``size`` tickets
    back (a page, by default), or None when no more than that come before it (the
    first page)."""
    size = size or PAGE_SIZE
    rows = connection_for(session).execute(_back_query(), {**_key_params(key), "n": size + 1})
    keys = rows.all()
    return PageKey(*keys[size]) if len(keys) > size else None


def order_key(item: BoardTicket) -> tuple:
    left = item.minutes_left
    return (_rank(item.ticket.priority), left is None, left or 0.0, item.ticket.id)


def dispatch_data(
    desk: Desk,
    now: datetime | None = None,
    *,
    after: PageKey | None = None,
    back_from: PageKey | None = None,
) -> DispatchData:
    """The screen's data with the page after ``after`` (None: the first page); with
    ``back_from``, the page that ends just before that key (the previous page)."""
    now = now or utcnow()
    with desk.db.read() as session:
        if back_from is not None:
            after = page_start_before(session, back_from)
        untriaged, waiting, before, rows = _page(session, after)
        if not rows and after is not None:
            # Everything from here on was taken since the page was shown: the last
            # page there is, so the dispatcher is never left on an empty one.
            after = page_start_before(session, after)
            untriaged, waiting, before, rows = _page(session, after)
        # The roster's utilisation thresholds come in the policy's statement.
        policy, stored = settings.load_policy_with(session, timesheets.THRESHOLD_KEYS)
        # In the same transaction: one connection for the whole screen, and the
        # roster's loads agree with the board it sits beside. Its time zone and
        # holidays are the policy's, just read.
        board_roster = roster_in(
            session, now, read_staff(session, policy), timesheets.thresholds_from(stored)
        )
    left = sla.minutes_left(policy, [t for t, _, _, _ in rows], now)
    items = [
        BoardTicket(ticket, client, contact, left.get(ticket.id or 0), updated)
        for ticket, client, contact, updated in rows
    ]
    items.sort(key=order_key)
    more = bool(rows) and before + len(rows) < waiting
    return DispatchData(
        gate.check(untriaged),
        items,
        board_roster,
        waiting=waiting,
        before=before,
        after=after,
        next_after=PageKey.of(rows[-1][0]) if more else None,
    )


def _page(
    session: Session, after: PageKey | None
) -> tuple[int, int, int, list[tuple[WorkTicket, str, str | None, datetime | None]]]:
    """(new tickets, waiting tickets, waiting before ``after``, the page's rows)."""
    rows = _read_work(session, PAGE_SIZE, after, counted=True)
    parts = len(_counts_query(after is not None).selected_columns)
    if rows:
        counts = tuple(rows[0][-parts:])
    else:
        params = {} if after is None else _key_params(after)
        counts = tuple(
            connection_for(session).execute(_counts_query(after is not None), params).one()
        )
    untriaged, waiting, before = counts if after is not None else (*counts, 0)
    return untriaged, waiting, before, _work_rows(rows)
