"""Running the desk health checks: one bounded query per check, then its pure rule.

Each query fetches only candidate rows, filtered in SQL by status on an index. Where
the rule is in business time, the threshold is turned into one instant first
(``rules.health.latest_start``: "N business minutes have run since s" is exactly
"s is at or before that instant"), so SQL filters on the exact condition and reads
the offenders only, not every ticket a wall-clock bound would let through. The rule
in rules/health.py then re-tests each row. Rows stream in batches (``yield_per``),
and a result keeps at most ``max_ids`` ids, so no check holds an unbounded list.

All the ticket checks share one short read transaction: a consistent picture of the
desk, and one connection set-up instead of one per check. It stays short because
every query is bounded by candidates (open, waiting, resolved-not-closed tickets),
not by history.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, false, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from dispatch_tui.errors import InvalidInput
from dispatch_tui.rules import health as rules
from dispatch_tui.rules.health import (
    CheckResult,
    HealthContext,
    HealthThresholds,
    PendingTime,
    TechWeek,
    TicketFacts,
)
from dispatch_tui.rules.holidays import closed_dates
from dispatch_tui.rules.utilization import IsoWeek, available_hours
from dispatch_tui.services import timesheets
from dispatch_tui.services.availability import (
    absences_by_tech,
    read_staff,
    working_hours,
)
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.settings import load_policy, read_setting, write_setting
from dispatch_tui.store import queries
from dispatch_tui.store.models import (
    OPEN_STATUSES,
    Note,
    NoteKind,
    ServiceCall,
    Status,
    Ticket,
    TimeEntry,
)
from dispatch_tui.store.types import utcnow

#: Setting key: JSON object overriding HealthThresholds fields, e.g. {"waiting_business_days": 3}.
HEALTH_THRESHOLDS = "health_thresholds"
#: Rows fetched from SQLite per round trip while a check streams its candidates.
BATCH = 1000

OPEN = [s.value for s in OPEN_STATUSES]
WAITING = [Status.WAITING_CLIENT.value, Status.WAITING_VENDOR.value]
_TUNABLE = {f.name for f in fields(HealthThresholds) if f.name not in ("utilization", "max_ids")}


# -- settings ---------------------------------------------------------------------------


def _stored_thresholds(session: Session) -> dict[str, Any]:
    stored: Any = read_setting(session, HEALTH_THRESHOLDS, {})
    unknown = sorted(set(stored) - _TUNABLE) if isinstance(stored, dict) else ["?"]
    if unknown:
        raise InvalidInput(
            f"shop setting {HEALTH_THRESHOLDS!r} is not usable: it must be a JSON object of "
            f"{', '.join(sorted(_TUNABLE))}"
        )
    return stored


def load_thresholds(desk: Desk) -> HealthThresholds:
    """The shop's thresholds: defaults, the ``health_thresholds`` setting, and the shared
    utilisation levels (the same ones the utilisation report uses)."""
    with desk.db.read() as session:
        # One transaction for both: they are read together on every dashboard refresh.
        utilization = timesheets.thresholds_in(session)
        stored = _stored_thresholds(session)
    try:
        return HealthThresholds(utilization=utilization, **stored)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"shop setting {HEALTH_THRESHOLDS!r} is not usable: {exc}") from None


def set_thresholds(desk: Desk, **changes: float) -> HealthThresholds:
    """Store some of the shop's health levels (utilisation levels live with the timesheets)."""
    unknown = sorted(set(changes) - _TUNABLE)
    if unknown:
        raise InvalidInput(f"unknown health threshold {unknown[0]!r}")
    current = load_thresholds(desk)
    try:
        wanted = replace(current, **changes)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(str(exc)) from None
    with desk.db.write() as session:
        stored = {**_stored_thresholds(session), **changes}
        write_setting(session, desk.actor, HEALTH_THRESHOLDS, stored)
    return wanted


def _context(session: Session, thresholds: HealthThresholds) -> HealthContext:
    policy = load_policy(session)
    return HealthContext(policy.calendar, policy.sla, thresholds)


# -- candidate queries ------------------------------------------------------------------

_FACT_NAMES = (
    "id",
    "status",
    "created_at",
    "updated_at",
    "priority",
    "estimate_hours",
    "due_at",
    "escalated",
    "engaged_at",
    "resolved_at",
)
_FACT_COLUMNS = (
    Ticket.id,
    Ticket.status,
    Ticket.created_at,
    Ticket.updated_at,
    Ticket.priority,
    Ticket.estimate_hours,
    Ticket.due_at,
    Ticket.escalated,
    Ticket.engaged_at,
    Ticket.resolved_at,
)


def _stream(session: Session, query, extra: tuple[str, ...] = ()) -> Iterator[TicketFacts]:
    """TicketFacts from a query selecting _FACT_COLUMNS then the ``extra`` fields, in batches.

    The fact columns are TicketFacts' leading fields in order, so they pass by position:
    a check may stream hundreds of offenders, and a dict per row cost more than its SQL.
    """
    base = len(_FACT_COLUMNS)
    for row in session.exec(query.execution_options(yield_per=BATCH)):
        if not extra:
            yield TicketFacts(*row)
            continue
        more = {n: v for n, v in zip(extra, row[base:], strict=True) if v is not None}
        yield TicketFacts(*row[:base], **more)


def _last_note():
    return select(func.max(Note.created_at)).where(Note.ticket_id == Ticket.id).scalar_subquery()


def _last_time_entry():
    return (
        select(func.max(TimeEntry.created_at))
        .where(TimeEntry.ticket_id == Ticket.id)
        .scalar_subquery()
    )


def _quiet_since(cutoff: datetime):
    """No change, note or time entry after ``cutoff``: the wall-clock pre-filter of activity."""
    return and_(
        col(Ticket.updated_at) <= cutoff,
        ~exists().where(Note.ticket_id == Ticket.id, col(Note.created_at) > cutoff),
        ~exists().where(TimeEntry.ticket_id == Ticket.id, col(TimeEntry.created_at) > cutoff),
    )


def _cutoff(now: datetime, ctx: HealthContext, days: float) -> datetime:
    """The exact business-day cut-off the rule applies (see rules.health.latest_start)."""
    return rules.business_days_cutoff(now, days, ctx.calendar)


def _untriaged(session: Session, now: datetime, ctx: HealthContext) -> Iterable[TicketFacts]:
    cutoff = now - timedelta(minutes=ctx.sla.untriaged_first_response())
    query = select(*_FACT_COLUMNS).where(
        Ticket.status == Status.NEW.value, col(Ticket.created_at) < cutoff
    )
    return _stream(session, query)


def _quiet(
    session: Session, now: datetime, ctx: HealthContext, days: float, *, escalated: bool
) -> Iterable[TicketFacts]:
    status = col(Ticket.status).in_(OPEN if escalated else WAITING)
    query = select(*_FACT_COLUMNS, _last_note(), _last_time_entry()).where(
        status, _quiet_since(_cutoff(now, ctx, days))
    )
    if escalated:
        query = query.where(col(Ticket.escalated).is_(True))
    return _stream(session, query, ("last_note_at", "last_time_entry_at"))


def _booked(session: Session, now: datetime) -> Iterable[TicketFacts]:
    calls = select(func.count()).where(ServiceCall.ticket_id == Ticket.id).scalar_subquery()
    last_end = (
        select(func.max(ServiceCall.ends_at)).where(ServiceCall.ticket_id == Ticket.id)
    ).scalar_subquery()
    query = select(*_FACT_COLUMNS, calls, last_end).where(
        col(Ticket.status).in_(OPEN),
        exists().where(ServiceCall.ticket_id == Ticket.id),
        ~exists().where(ServiceCall.ticket_id == Ticket.id, col(ServiceCall.ends_at) > now),
    )
    return _stream(session, query, ("service_calls", "last_call_end"))


def _on_hold(session: Session, now: datetime) -> Iterable[TicketFacts]:
    query = select(*_FACT_COLUMNS).where(
        Ticket.status == Status.ON_HOLD.value,
        or_(col(Ticket.due_at).is_(None), col(Ticket.due_at) <= now),
    )
    return _stream(session, query)


def _large(session: Session, ctx: HealthContext) -> Iterable[TicketFacts]:
    # The open tickets with a large estimate, found in ix_ticket_status_tech_estimate
    # alone (status, assigned_tech_id, estimate_hours), then read by id. Asked in one
    # WHERE, SQLite picks (status, created_at) and reads every open ticket's row to
    # test the estimate: ~5 ms at 100k against under 1 ms.
    large = aliased(Ticket)
    found = select(large.id).where(
        col(large.status).in_(OPEN),
        col(large.estimate_hours) > ctx.thresholds.large_estimate_hours,
    )
    query = select(*_FACT_COLUMNS).where(
        col(Ticket.id).in_(found),
        ~exists().where(ServiceCall.ticket_id == Ticket.id),
    )
    return _stream(session, query)


def _resolution(session: Session, now: datetime, ctx: HealthContext) -> Iterable[TicketFacts]:
    # Per priority, only tickets that arrived by the target's cut-off can be past it. A
    # ticket waiting on the client stops its clock earlier than now, so this bound holds
    # for it too; the rule decides it exactly.
    fallback = ctx.sla.targets["medium"].resolution
    known = list(ctx.sla.targets)
    by_target: dict[int, datetime] = {}

    def cutoff(minutes: int) -> datetime:
        if minutes not in by_target:
            by_target[minutes] = rules.resolution_cutoff(now, minutes, ctx.calendar)
        return by_target[minutes]

    late = [
        and_(Ticket.priority == name, col(Ticket.created_at) <= cutoff(t.resolution))
        for name, t in ctx.sla.targets.items()
    ]
    late.append(
        and_(col(Ticket.priority).not_in(known), col(Ticket.created_at) <= cutoff(fallback))
    )
    query = select(*_FACT_COLUMNS).where(
        col(Ticket.status).in_(OPEN),
        col(Ticket.priority).is_not(None),
        col(Ticket.resolved_at).is_(None),
        or_(false(), *late),
        # Implied by the branches above, but SQLite cannot range-scan an OR: with the
        # latest cut-off stated once, it reads ix_ticket_status_created by (status,
        # created_at) and skips the open tickets too young to be late (about half).
        col(Ticket.created_at) <= max(by_target.values()),
    )
    return _stream(session, query)


def _resolved_no_note(session: Session) -> Iterable[TicketFacts]:
    query = select(*_FACT_COLUMNS).where(
        Ticket.status == Status.RESOLVED.value,
        ~exists().where(Note.ticket_id == Ticket.id, Note.kind == NoteKind.RESOLUTION.value),
    )
    return _stream(session, query)


def _no_notes(session: Session, now: datetime, ctx: HealthContext) -> Iterable[TicketFacts]:
    query = select(*_FACT_COLUMNS).where(
        col(Ticket.status).in_(OPEN),
        col(Ticket.engaged_at).is_not(None),
        col(Ticket.engaged_at) <= _cutoff(now, ctx, ctx.thresholds.note_business_days),
        ~exists().where(Note.ticket_id == Ticket.id, col(Note.created_at) >= Ticket.engaged_at),
    )
    return _stream(session, query)


def _pending_time(session: Session) -> Iterator[PendingTime]:
    query = (
        select(TimeEntry.ticket_id, func.count(), func.sum(TimeEntry.hours))
        .where(col(TimeEntry.approved_at).is_(None))
        .group_by(TimeEntry.ticket_id)
        .order_by(TimeEntry.ticket_id)
    )
    for ticket_id, entries, hours in session.exec(query.execution_options(yield_per=BATCH)):
        yield PendingTime(ticket_id, entries, float(hours or 0))


def _ticket_candidates(
    session: Session, check_id: str, now: datetime, ctx: HealthContext
) -> Iterable[TicketFacts]:
    t = ctx.thresholds
    match check_id:
        case "untriaged_past_first_response":
            return _untriaged(session, now, ctx)
        case "waiting_no_activity":
            return _quiet(session, now, ctx, t.waiting_business_days, escalated=False)
        case "escalated_untouched":
            return _quiet(session, now, ctx, t.escalated_business_days, escalated=True)
        case "booked_no_future_call":
            return _booked(session, now)
        case "on_hold_no_future_due":
            return _on_hold(session, now)
        case "large_not_booked":
            return _large(session, ctx)
        case "past_resolution_target":
            return _resolution(session, now, ctx)
        case "resolved_without_resolution_note":
            return _resolved_no_note(session)
        case "no_notes_after_a_day":
            return _no_notes(session, now, ctx)
    raise InvalidInput(f"unknown health check {check_id!r}")


# -- utilisation so far this week -------------------------------------------------------


def _tech_weeks(session: Session, now: datetime) -> list[TechWeek]:
    """Billable hours this week (from the utilisation report) against the working hours
    that have passed so far: the rest of the week is treated as away, so Monday's
    numbers are judged on Monday's hours, not on the whole week's.

    Inside the caller's transaction, with one read of the staff (technicians, time
    zone, holidays) shared with the report and one query for every technician's
    absences, instead of a transaction of its own and a query per technician.
    """
    staff = read_staff(session)
    report = timesheets.utilization_in(session, None, staff)
    week = IsoWeek.parse(report.week)
    zone = staff.zone
    start, end = week.bounds(zone)
    holidays = closed_dates(staff.holidays, week.monday, week.sunday)
    techs = {t.id: t for t in staff.techs}
    ids = [row.tech_id for row in report.rows if row.tech_id in techs]
    away_by_tech = absences_by_tech(session, ids, start, end)
    rows: list[TechWeek] = []
    for row in report.rows:
        tech = techs.get(row.tech_id)
        if tech is None:
            continue
        away = [(a.start, a.end) for a in away_by_tech[row.tech_id]]
        # Night shifts may run past Sunday midnight; a day beyond the week covers them.
        away.append((max(now, start), end + timedelta(days=1)))
        so_far = available_hours(working_hours(tech), zone, week, holidays=holidays, away=away)
        rows.append(TechWeek(row.tech, row.billable_hours, so_far))
    return rows


# -- running the checks -----------------------------------------------------------------


def _run_in(session: Session, check_id: str, now: datetime, ctx: HealthContext) -> CheckResult:
    """One check over the ticket tables, inside the caller's read transaction."""
    if check_id == "time_entries_pending_approval":
        return rules.time_entries_pending_approval(_pending_time(session), ctx)
    candidates = _ticket_candidates(session, check_id, now, ctx)
    return rules.TICKET_CHECKS[check_id](candidates, now, ctx)


def run_check(
    desk: Desk,
    check_id: str,
    *,
    now: datetime | None = None,
    thresholds: HealthThresholds | None = None,
) -> CheckResult:
    """One check by its id (see rules.health.CHECK_IDS)."""
    now = now or utcnow()
    thresholds = thresholds or load_thresholds(desk)
    if check_id not in rules.TITLES:
        raise InvalidInput(
            f"unknown health check {check_id!r}; use one of: {', '.join(rules.CHECK_IDS)}"
        )
    with desk.db.read() as session:
        ctx = _context(session, thresholds)
        if check_id != "technician_utilization":
            return _run_in(session, check_id, now, ctx)
        return rules.technician_utilization(_tech_weeks(session, now), ctx)


def run_checks(
    desk: Desk,
    *,
    now: datetime | None = None,
    thresholds: HealthThresholds | None = None,
) -> list[CheckResult]:
    """Every check, in CHECK_IDS order, in one short read transaction (each query is
    bounded by candidates, see the module docstring; utilisation by the technicians)."""
    now = now or utcnow()
    thresholds = thresholds or load_thresholds(desk)
    results: dict[str, CheckResult] = {}
    with desk.db.read() as session:
        ctx = _context(session, thresholds)
        for check_id in rules.CHECK_IDS:
            if check_id != "technician_utilization":
                results[check_id] = _run_in(session, check_id, now, ctx)
        weeks = _tech_weeks(session, now)
    results["technician_utilization"] = rules.technician_utilization(weeks, ctx)
    return [results[c] for c in rules.CHECK_IDS]


def tickets_of(desk: Desk, result: CheckResult, *, limit: int = 200) -> list[queries.TicketRow]:
    """The offending tickets of a result as list rows, oldest first, at most ``limit``."""
    ids = list(result.ticket_ids[:limit])
    with desk.db.read() as session:
        return queries.tickets_by_ids(session, ids)
