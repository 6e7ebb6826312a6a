"""Booking, moving, resizing and cancelling service calls, and reading the schedule.

Each change is one write transaction (BEGIN IMMEDIATE) that runs the conflict check
inside it: two dispatchers booking the same technician at once are serialised by the
lock, so the second one sees the first one's call and gets the conflict. Every change
writes an audit event; a call booked over a conflict keeps the dispatcher's reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, case, exists, func
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from dispatch_tui.errors import EditConflict, InvalidInput, NotFound, ScheduleConflict
from dispatch_tui.rules.priority import PRIORITY_RANK
from dispatch_tui.rules.schedule import (
    Absence,
    BookedCall,
    Conflict,
    check_call,
    describe_conflicts,
    named_holidays,
    touched_dates,
)
from dispatch_tui.rules.workhours import WorkingHours
from dispatch_tui.services import audit
from dispatch_tui.services.availability import (
    absences,
    absences_by_tech,
    find_tech,
    read_staff,
    working_hours,
)
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.holidays import load_holiday_rules
from dispatch_tui.services.settings import DEFAULT_TIMEZONE, TIMEZONE, parse_timezone, read_setting
from dispatch_tui.store.core import connection_for
from dispatch_tui.store.models import (
    OPEN_STATUSES,
    Client,
    ServiceCall,
    Status,
    Technician,
    Ticket,
)
from dispatch_tui.store.queries import DEFAULT_LIMIT
from dispatch_tui.store.types import utcnow

#: Longest single call. Range queries look this far back for calls that started
#: earlier and still run, which keeps them on the (tech_id, starts_at) index.
MAX_CALL_HOURS = 24
#: Practice: work estimated above this many hours should be booked as a service call.
LONG_ESTIMATE_HOURS = 4.0
#: Rows a flag list returns at most; the screen shows the oldest first.
FLAG_LIMIT = 100

_AUDITED = ("ticket_id", "tech_id", "starts_at", "ends_at", "firm", "override_reason")
_OPEN = [s.value for s in OPEN_STATUSES]
#: Statuses whose work is ready to go on the schedule: triaged and not waiting on anyone.
_TO_BOOK = [Status.TRIAGED.value, Status.ASSIGNED.value, Status.IN_PROGRESS.value]


@dataclass(frozen=True)
class CallRow:
    """One service call as the schedule shows it."""

    id: int
    ticket_id: int
    tech_id: int
    tech: str
    client: str
    summary: str
    starts_at: datetime
    ends_at: datetime
    firm: bool
    override_reason: str | None
    created_by: str
    version: int

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


@dataclass(frozen=True)
class Booking:
    """The saved call, and the conflicts it was booked over (empty for a clean booking)."""

    call: CallRow
    overridden: list[Conflict] = field(default_factory=list)


class BookReason(StrEnum):
    """Why a ticket is on the list to book."""

    LONG_UNBOOKED = "over 4 h unbooked"
    CALLS_PAST = "booked calls all past"
    NOT_BOOKED = "not booked"


@dataclass(frozen=True)
class FlaggedTicket:
    id: int
    summary: str
    client: str
    status: str
    estimate_hours: float | None
    assigned_tech: str | None
    #: For "booked but every call lies in the past": when the last call ended.
    last_call_end: datetime | None = None
    priority: str | None = None
    assigned_tech_id: int | None = None
    reason: BookReason = BookReason.NOT_BOOKED


@dataclass(frozen=True)
class TechLane:
    """A technician's row on the schedule board."""

    id: int
    name: str
    hours: WorkingHours
    absences: list[Absence]


@dataclass(frozen=True)
class Board:
    """Everything the schedule screen draws for local dates ``first``..``last``, read at once."""

    zone: ZoneInfo
    first: date
    last: date
    techs: list[TechLane]
    holidays: dict[date, str]
    calls: list[CallRow]


# -- reading ----------------------------------------------------------------------------


def _zone(session: Session) -> ZoneInfo:
    return parse_timezone(read_setting(session, TIMEZONE, DEFAULT_TIMEZONE))


def _call_rows_query():
    # Plain columns in CallRow's order: the board reads a week of calls, and building
    # an ORM object per row cost more than the query itself.
    return (
        select(
            ServiceCall.id,
            ServiceCall.ticket_id,
            ServiceCall.tech_id,
            Technician.name,
            Client.name,
            Ticket.summary,
            ServiceCall.starts_at,
            ServiceCall.ends_at,
            ServiceCall.firm,
            ServiceCall.override_reason,
            ServiceCall.created_by,
            ServiceCall.version,
        )
        .join(Technician, Technician.id == ServiceCall.tech_id)
        .join(Ticket, Ticket.id == ServiceCall.ticket_id)
        .join(Client, Client.id == Ticket.client_id)
    )


def _in_range(query, start: datetime, end: datetime):
    return query.where(
        col(ServiceCall.starts_at) < end,
        col(ServiceCall.starts_at) >= start - timedelta(hours=MAX_CALL_HOURS),
        col(ServiceCall.ends_at) > start,
    )


def _call_row(session: Session, call_id: int) -> CallRow:
    row = session.exec(_call_rows_query().where(ServiceCall.id == call_id)).first()
    if row is None:
        raise NotFound(f"no service call #{call_id}")
    return CallRow(*row)


def _query_calls(
    session: Session, start: datetime, end: datetime, tech_id: int | None, limit: int
) -> list[CallRow]:
    # A statement built once per shape and run as Core on the session's connection: the
    # schedule board reads a week of calls at every refresh, and the ORM session's
    # statement building and row loading cost more than SQLite's reads.
    params = {
        "start": start,
        "end": end,
        "since": start - timedelta(hours=MAX_CALL_HOURS),
        "n": limit,
    }
    if tech_id is not None:
        params["tech"] = tech_id
    rows = connection_for(session).execute(_calls_query(tech_id is not None), params).all()
    return [CallRow(*row) for row in rows]


@lru_cache(maxsize=2)
def _calls_query(one_tech: bool) -> Select:
    query = _call_rows_query().where(
        col(ServiceCall.starts_at) < bindparam("end"),
        col(ServiceCall.starts_at) >= bindparam("since"),
        col(ServiceCall.ends_at) > bindparam("start"),
    )
    if one_tech:
        query = query.where(ServiceCall.tech_id == bindparam("tech"))
    return query.order_by(col(ServiceCall.starts_at), col(ServiceCall.id)).limit(bindparam("n"))


def list_calls(
    desk: Desk,
    start: datetime,
    end: datetime,
    *,
    tech: str | int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[CallRow]:
    """Calls overlapping [start, end), earliest first, at most ``limit``."""
    if end <= start:
        raise InvalidInput("the range must end after it starts")
    with desk.db.read() as session:
        tech_id = find_tech(session, tech).id if tech is not None else None
        return _query_calls(session, start, end, tech_id, limit)


def get_call(desk: Desk, call_id: int) -> CallRow:
    with desk.db.read() as session:
        return _call_row(session, call_id)


def board(desk: Desk, first: date, last: date, *, limit: int = DEFAULT_LIMIT) -> Board:
    """The schedule for local dates first..last: active technicians, holidays, away time, calls."""
    if last < first:
        raise InvalidInput("the range must end after it starts")
    with desk.db.read() as session:
        staff = read_staff(session)
        zone = staff.zone
        start = datetime.combine(first, time(), tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)
        away = absences_by_tech(session, staff.tech_ids, start, end)
        lanes = [
            TechLane(t.id or 0, t.name, working_hours(t), away[t.id or 0]) for t in staff.techs
        ]
        holidays = named_holidays(staff.holidays, first, last)
        calls = _query_calls(session, start, end, None, limit)
    return Board(zone, first, last, lanes, holidays, calls)


# -- conflict checking ------------------------------------------------------------------


def _conflicts(
    session: Session,
    zone: ZoneInfo,
    tech: Technician,
    start: datetime,
    end: datetime,
    ignore_call_id: int | None,
) -> list[Conflict]:
    tech_id = tech.id or 0
    days = touched_dates(start, end, zone)
    others = session.exec(
        _in_range(select(ServiceCall), start, end).where(ServiceCall.tech_id == tech_id)
    ).all()
    return check_call(
        start,
        end,
        zone=zone,
        hours=working_hours(tech),
        holidays=named_holidays(load_holiday_rules(session), days[0], days[-1]),
        absences=absences(session, tech_id, start, end),
        other_calls=[
            BookedCall(c.id or 0, c.ticket_id, c.starts_at, c.ends_at, c.firm) for c in others
        ],
        ignore_call_id=ignore_call_id,
    )


def _settle(
    conflicts: list[Conflict],
    *,
    what: str,
    allow_conflict: bool,
    override_reason: str | None,
) -> str | None:
    """Refuse a conflicting change, or return the reason it is booked over the conflict."""
    if not conflicts:
        return None
    if not allow_conflict:
        raise ScheduleConflict(f"{what}: {describe_conflicts(conflicts)}")
    reason = (override_reason or "").strip()
    if not reason:
        raise InvalidInput(f"{what} conflicts; booking over it needs a reason")
    return reason


def _span_text(tech: str, start: datetime, end: datetime, zone: ZoneInfo) -> str:
    s, e = start.astimezone(zone), end.astimezone(zone)
    until = f"{e:%H:%M}" if s.date() == e.date() else f"{e:%Y-%m-%d %H:%M}"
    return f"{tech} {s:%Y-%m-%d %H:%M}-{until}"


def _check_times(start: datetime, hours: float) -> tuple[datetime, datetime]:
    """Start and end in UTC, as stored, so the audit snapshot matches the file."""
    if start.tzinfo is None:
        raise InvalidInput("the start time needs a time zone")
    if not 0 < hours <= MAX_CALL_HOURS:
        raise InvalidInput(
            f"a call lasts more than 0 and at most {MAX_CALL_HOURS} hours, not {hours:g}"
        )
    start = start.astimezone(UTC)
    return start, start + timedelta(hours=hours)


def _open_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket #{ticket_id}")
    if ticket.status not in _OPEN:
        raise InvalidInput(f"ticket #{ticket_id} is {ticket.status}; reopen it before booking")
    return ticket


def _active_tech(session: Session, tech: str | int) -> Technician:
    row = find_tech(session, tech)
    if not row.active:
        raise InvalidInput(f"technician {row.name} is inactive")
    return row


def _locked_call(session: Session, call_id: int, expected_version: int | None) -> ServiceCall:
    call = session.get(ServiceCall, call_id)
    if call is None:
        raise NotFound(f"no service call #{call_id}")
    if expected_version is not None and call.version != expected_version:
        raise EditConflict(
            f"service call #{call_id} changed since you read it (version {expected_version}, "
            f"now {call.version}); reload and try again"
        )
    return call


def _flush(session: Session, call_id: int | None) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise EditConflict(
            f"service call #{call_id} was changed by someone else; reload and try again"
        ) from None


# -- changing ---------------------------------------------------------------------------


def book_call(
    desk: Desk,
    ticket_id: int,
    tech: str | int,
    start: datetime,
    hours: float,
    *,
    firm: bool = True,
    allow_conflict: bool = False,
    override_reason: str | None = None,
) -> Booking:
    """Book ``tech`` on the ticket from ``start`` for ``hours``.

    A conflict raises ScheduleConflict naming the clash, unless ``allow_conflict`` is set
    with an ``override_reason``, which is saved on the call.
    """
    start, end = _check_times(start, hours)
    with desk.db.write() as session:
        zone = _zone(session)
        _open_ticket(session, ticket_id)
        tech_row = _active_tech(session, tech)
        what = f"cannot book ticket #{ticket_id} for {_span_text(tech_row.name, start, end, zone)}"
        conflicts = _conflicts(session, zone, tech_row, start, end, None)
        reason = _settle(
            conflicts, what=what, allow_conflict=allow_conflict, override_reason=override_reason
        )
        call = ServiceCall(
            ticket_id=ticket_id,
            tech_id=tech_row.id or 0,
            starts_at=start,
            ends_at=end,
            firm=firm,
            override_reason=reason,
            created_by=desk.actor,
        )
        session.add(call)
        _flush(session, None)
        detail = f"ticket #{ticket_id} for {_span_text(tech_row.name, start, end, zone)}"
        if reason:
            detail += f"; booked over: {describe_conflicts(conflicts)}"
        audit.record(
            session,
            desk.actor,
            "service_call.book",
            "service_call",
            call.id,
            detail,
            after=audit.snapshot(call, _AUDITED),
        )
        row = _call_row(session, call.id or 0)
    return Booking(row, conflicts)


def _reschedule(
    desk: Desk,
    call_id: int,
    *,
    action: str,
    start: datetime | None,
    tech: str | int | None,
    hours: float | None,
    expected_version: int | None,
    allow_conflict: bool,
    override_reason: str | None,
) -> Booking:
    with desk.db.write() as session:
        zone = _zone(session)
        call = _locked_call(session, call_id, expected_version)
        new_start = start if start is not None else call.starts_at
        length = (
            hours if hours is not None else (call.ends_at - call.starts_at).total_seconds() / 3600
        )
        new_start, new_end = _check_times(new_start, length)
        tech_row = (
            _active_tech(session, tech) if tech is not None else find_tech(session, call.tech_id)
        )
        span = _span_text(tech_row.name, new_start, new_end, zone)
        what = f"cannot {action} call #{call_id} to {span}"
        conflicts = _conflicts(session, zone, tech_row, new_start, new_end, call_id)
        reason = _settle(
            conflicts, what=what, allow_conflict=allow_conflict, override_reason=override_reason
        )
        before = audit.snapshot(call, _AUDITED)
        call.starts_at, call.ends_at, call.tech_id = new_start, new_end, tech_row.id or 0
        # A call that no longer clashes carries no override; the audit log keeps the old one.
        call.override_reason = reason
        session.add(call)
        _flush(session, call_id)
        detail = f"call #{call_id} (ticket #{call.ticket_id}) to {span}"
        if reason:
            detail += f"; booked over: {describe_conflicts(conflicts)}"
        audit.record(
            session,
            desk.actor,
            f"service_call.{action}",
            "service_call",
            call_id,
            detail,
            before=before,
            after=audit.snapshot(call, _AUDITED),
        )
        row = _call_row(session, call_id)
    return Booking(row, conflicts)


def move_call(
    desk: Desk,
    call_id: int,
    *,
    start: datetime | None = None,
    tech: str | int | None = None,
    expected_version: int | None = None,
    allow_conflict: bool = False,
    override_reason: str | None = None,
) -> Booking:
    """Move a call to a new start and/or technician, keeping its length."""
    if start is None and tech is None:
        raise InvalidInput("say where to move the call: a new start, a technician, or both")
    return _reschedule(
        desk,
        call_id,
        action="move",
        start=start,
        tech=tech,
        hours=None,
        expected_version=expected_version,
        allow_conflict=allow_conflict,
        override_reason=override_reason,
    )


def resize_call(
    desk: Desk,
    call_id: int,
    hours: float,
    *,
    expected_version: int | None = None,
    allow_conflict: bool = False,
    override_reason: str | None = None,
) -> Booking:
    """Change a call's length, keeping its start."""
    return _reschedule(
        desk,
        call_id,
        action="resize",
        start=None,
        tech=None,
        hours=hours,
        expected_version=expected_version,
        allow_conflict=allow_conflict,
        override_reason=override_reason,
    )


def set_call_firm(
    desk: Desk, call_id: int, firm: bool, *, expected_version: int | None = None
) -> CallRow:
    """Mark a call firm or tentative; firmness never changes conflicts, so none are checked."""
    with desk.db.write() as session:
        call = _locked_call(session, call_id, expected_version)
        before = audit.snapshot(call, ("firm",))
        call.firm = firm
        session.add(call)
        _flush(session, call_id)
        audit.record(
            session,
            desk.actor,
            "service_call.firm" if firm else "service_call.tentative",
            "service_call",
            call_id,
            f"call #{call_id} (ticket #{call.ticket_id})",
            before=before,
            after=audit.snapshot(call, ("firm",)),
        )
        return _call_row(session, call_id)


def cancel_call(
    desk: Desk, call_id: int, *, expected_version: int | None = None, reason: str = ""
) -> CallRow:
    """Remove a call; the audit event keeps what it was."""
    with desk.db.write() as session:
        row = _call_row(session, call_id)
        call = _locked_call(session, call_id, expected_version)
        before = audit.snapshot(call, _AUDITED)
        session.delete(call)
        _flush(session, call_id)
        detail = f"call #{call_id} (ticket #{call.ticket_id}, {row.tech})"
        if reason.strip():
            detail += f": {reason.strip()}"
        audit.record(
            session,
            desk.actor,
            "service_call.cancel",
            "service_call",
            call_id,
            detail,
            before=before,
        )
    return row


# -- flags and the list of tickets to book ------------------------------------------------


def _reason(estimate_hours: float | None, last_call_end: datetime | None) -> BookReason:
    if last_call_end is not None:
        return BookReason.CALLS_PAST
    if estimate_hours is not None and estimate_hours > LONG_ESTIMATE_HOURS:
        return BookReason.LONG_UNBOOKED
    return BookReason.NOT_BOOKED


def _unbooked_query(now: datetime, statuses: list[str]):
    """Tickets in ``statuses`` with no call still to come, and when their last call ended
    (None: never booked). Both per-ticket lookups are correlated on ix_service_call_ticket_end
    and the status filter on ix_ticket_status_created, so the cost follows the open
    tickets, never the history of calls. Returns the query and the last-end column."""
    last_end = (
        select(func.max(ServiceCall.ends_at))
        .where(ServiceCall.ticket_id == Ticket.id)
        .correlate(Ticket)
        .scalar_subquery()
    )
    # A call still running counts as booked: the work is happening.
    upcoming = exists().where(ServiceCall.ticket_id == Ticket.id, col(ServiceCall.ends_at) > now)
    query = (
        select(
            Ticket.id,
            Ticket.summary,
            Client.name,
            Ticket.status,
            Ticket.estimate_hours,
            Technician.name,
            last_end,
            Ticket.priority,
            Ticket.assigned_tech_id,
        )
        .join(Client, Client.id == Ticket.client_id)
        .join(Technician, Technician.id == Ticket.assigned_tech_id, isouter=True)
        .where(col(Ticket.status).in_(statuses), ~upcoming)
    )
    return query, last_end


def _flagged(session: Session, query) -> list[FlaggedTicket]:
    rows = session.exec(query).all()
    return [
        FlaggedTicket(
            id=ticket_id,
            summary=summary,
            client=client,
            status=status,
            estimate_hours=estimate,
            assigned_tech=tech,
            last_call_end=last_end,
            priority=priority,
            assigned_tech_id=tech_id,
            reason=_reason(estimate, last_end),
        )
        for ticket_id, summary, client, status, estimate, tech, last_end, priority, tech_id in rows
    ]


def _bounded(limit: int) -> int:
    if not 0 < limit <= DEFAULT_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {DEFAULT_LIMIT}, not {limit}")
    return limit


def unbooked_long_tickets(
    desk: Desk, *, now: datetime | None = None, limit: int = FLAG_LIMIT
) -> list[FlaggedTicket]:
    """Open tickets estimated over 4 hours that have no service call at all, oldest first."""
    query, last_end = _unbooked_query(now or utcnow(), _OPEN)
    query = (
        query.where(last_end.is_(None), col(Ticket.estimate_hours) > LONG_ESTIMATE_HOURS)
        .order_by(col(Ticket.created_at), col(Ticket.id))
        .limit(_bounded(limit))
    )
    with desk.db.read() as session:
        return _flagged(session, query)


def stale_booked_tickets(
    desk: Desk, *, now: datetime | None = None, limit: int = FLAG_LIMIT
) -> list[FlaggedTicket]:
    """Open tickets that were booked but whose calls have all ended: booked, then forgotten."""
    query, last_end = _unbooked_query(now or utcnow(), _OPEN)
    query = (
        query.where(last_end.is_not(None)).order_by(last_end, col(Ticket.id)).limit(_bounded(limit))
    )
    with desk.db.read() as session:
        return _flagged(session, query)


def tickets_to_book(
    desk: Desk, *, now: datetime | None = None, limit: int = FLAG_LIMIT
) -> list[FlaggedTicket]:
    """Work ready to be booked: triaged, assigned or in-progress tickets with no call to
    come, most urgent first (``PRIORITY_RANK``; no priority yet sorts last), then oldest.
    Each carries why it is listed: long and never booked, booked but every call past,
    or simply not booked."""
    query, _ = _unbooked_query(now or utcnow(), _TO_BOOK)
    rank = case(
        *((col(Ticket.priority) == name, value) for name, value in PRIORITY_RANK.items()),
        else_=len(PRIORITY_RANK),
    )
    query = query.order_by(rank, col(Ticket.created_at), col(Ticket.id)).limit(_bounded(limit))
    with desk.db.read() as session:
        return _flagged(session, query)
