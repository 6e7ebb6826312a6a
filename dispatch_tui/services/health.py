"""Running the desk health checks: SQL counts the offenders, the pure rules decide the rest.

Where a check is in business time, its threshold is turned into one instant first
(``rules.health.latest_start``: "N business minutes have run since s" is exactly "s is
at or before that instant"), so nine of the eleven checks are plain comparisons that
SQL decides exactly. One statement (built once per process, with bound parameters)
returns each one's offenders as one string of ids (counted and cut to the first
``max_ids`` here): no ticket row is read into Python, and at a thousand tickets the
per-statement cost of eleven ORM queries no longer outweighs SQLite's own work. The
rows the calendar must decide one by one (new tickets, and tickets whose resolution
clock stopped when they started waiting on the client) come in one more query and go
through the rules in rules/health.py, which the equivalence tests also apply to every
ticket of a demo desk.

Everything, the thresholds and the policy included, is read in one short read
transaction: a consistent picture of the desk, and one connection set-up. It stays
short because every query reads index ranges bounded by the open work (open, waiting,
resolved-not-closed tickets; schema 4's flag, schema 6's partial index of the open
tickets and their latest note's time), not by history: no ticket row and no note is
read for a ticket whose latest note is known.
"""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlmodel import Session

from dispatch_tui.errors import InvalidInput
from dispatch_tui.rules import health as rules
from dispatch_tui.rules.health import (
    CheckResult,
    HealthContext,
    HealthThresholds,
    TechWeek,
    TicketFacts,
)
from dispatch_tui.rules.holidays import closed_dates
from dispatch_tui.rules.sla import BusinessCalendar
from dispatch_tui.rules.sla_due import DueTimeline, timeline_for
from dispatch_tui.rules.utilization import IsoWeek, available_hours
from dispatch_tui.services import timesheets
from dispatch_tui.services.availability import (
    absences_by_tech,
    read_staff,
    tech_id_params,
    tech_ids_in,
    working_hours,
)
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.settings import (
    ShopPolicy,
    load_policy_with,
    read_setting,
    stored_texts,
    write_setting,
)
from dispatch_tui.store import queries
from dispatch_tui.store.core import connection_for
from dispatch_tui.store.models import (
    OPEN_STATUSES,
    Note,
    ServiceCall,
    Status,
    Ticket,
    TimeEntry,
)
from dispatch_tui.store.types import utcnow

#: Setting key: JSON object overriding HealthThresholds fields, e.g. {"waiting_business_days": 3}.
HEALTH_THRESHOLDS = "health_thresholds"

OPEN = [s.value for s in OPEN_STATUSES]
WAITING = [Status.WAITING_CLIENT.value, Status.WAITING_VENDOR.value]
_TUNABLE = {f.name for f in fields(HealthThresholds) if f.name not in ("utilization", "max_ids")}


# -- settings ---------------------------------------------------------------------------


def _stored_thresholds(session: Session) -> dict[str, Any]:
    return _checked_thresholds(read_setting(session, HEALTH_THRESHOLDS, {}))


def _checked_thresholds(stored: Any) -> dict[str, Any]:
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
        return _thresholds_in(session)


#: The settings the thresholds are made of, read in one statement (with the policy, in
#: ``_run_in``).
_THRESHOLD_KEYS = (*timesheets.THRESHOLD_KEYS, HEALTH_THRESHOLDS)


def _thresholds_in(session: Session) -> HealthThresholds:
    return _thresholds_read(stored_texts(session, _THRESHOLD_KEYS))


def _thresholds_read(stored_text: dict[str, str]) -> HealthThresholds:
    """The thresholds from the stored texts of ``_THRESHOLD_KEYS`` (absent: not set)."""
    utilization = timesheets.thresholds_from(
        {key: text for key, text in stored_text.items() if key in timesheets.THRESHOLD_KEYS}
    )
    health = stored_text.get(HEALTH_THRESHOLDS)
    stored = _checked_thresholds(json.loads(health) if health is not None else {})
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


def _context(policy: ShopPolicy, thresholds: HealthThresholds) -> HealthContext:
    return HealthContext(policy.calendar, policy.sla, thresholds)


# -- the checks' SQL ----------------------------------------------------------------------
#
# Nine of the eleven checks are decided exactly in SQL: their conditions are plain
# comparisons once each business-time threshold is one instant (see the module
# docstring), so SQL finds the offenders and hands back their ids as one string, and
# no row is read into Python. All of them travel in one statement of scalar subqueries
# (one round trip, one compiled-statement lookup), built once per process with bound
# parameters, because at a thousand tickets building and executing eleven ORM queries
# cost more than SQLite's work. Two parts need the calendar per ticket and stay rules
# over rows: tickets not triaged yet (few, the intake queue) and tickets waiting on the
# client, whose resolution clock stopped when they started waiting.

_T = Ticket.__table__  # type: ignore[attr-defined]
_N = Note.__table__  # type: ignore[attr-defined]
_TE = TimeEntry.__table__  # type: ignore[attr-defined]
_SC = ServiceCall.__table__  # type: ignore[attr-defined]

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
_FACT_COLUMNS = tuple(_T.c[name] for name in _FACT_NAMES)


def _no_note(recent):
    """The ticket has no note for which ``recent(created_at)`` holds, where ``recent``
    is a lower bound on the note's time (``> moment`` or ``>= moment``).

    Decided from ``last_note_at`` (schema 6) wherever it is known: then the latest note
    is the only one to ask, and the open tickets' values are in ix_ticket_open_health,
    so no note is looked up. Rows not known (history untouched by the migration,
    reopened since) look their notes up as before. "= true" rather than "IS true", as
    for the flag of schema 4."""
    known = and_(
        _T.c.last_note_known == true(),
        or_(_T.c.last_note_at.is_(None), ~recent(_T.c.last_note_at)),
    )
    unknown = and_(
        _T.c.last_note_known == false(),
        ~exists().where(_N.c.ticket_id == _T.c.id, recent(_N.c.created_at)),
    )
    return or_(known, unknown)


def _quiet_since(cutoff):
    """No change, note or time entry after ``cutoff``: the last activity is at or before it."""
    return and_(
        _T.c.updated_at <= cutoff,
        _no_note(lambda at: at > cutoff),
        ~exists().where(_TE.c.ticket_id == _T.c.id, _TE.c.created_at > cutoff),
    )


def _text(value: str):
    """A fixed status as an SQL string constant, not a parameter: the statements then need
    no per-run expansion of their IN lists (the values are known, plain words)."""
    return literal_column(f"'{value}'")


def _statuses(values: list[str]):
    return _T.c.status.in_([_text(v) for v in values])


#: The open statuses as the condition of ix_ticket_open_health (schema 6), which SQLite
#: uses only for a query whose WHERE states that same condition: the checks over a
#: subset of the open statuses state it too, redundant as it is for their answer.
_OPEN = _statuses(OPEN)


def _at(name: str):
    """A bound instant, stored as the ticket's times are."""
    return bindparam(name, type_=_T.c.created_at.type)


def _priority_key(priorities: tuple[str, ...], name: str) -> str:
    """The parameter of a priority's cut-off: by position, as names are the shop's words."""
    return f"late_{priorities.index(name)}"


def _late_at_now(priorities: tuple[str, ...]):
    """Arrived by its priority's resolution cut-off at now (an unknown priority is judged
    as medium, bound as "late_other"): past the target with the clock running to now."""
    late = [
        and_(_T.c.priority == name, _T.c.created_at <= _at(_priority_key(priorities, name)))
        for name in priorities
    ]
    late.append(
        and_(
            # One parameter per name, not an expanding list: that is rendered into the
            # statement's text at every run ("post-compile"), a string build per refresh.
            _T.c.priority.not_in([literal(name) for name in priorities]),
            _T.c.created_at <= _at("late_other"),
        )
    )
    return or_(*late)


def _offenders(priorities: tuple[str, ...]) -> dict[str, Any]:
    """Each exact check's WHERE clause over ``ticket``, with bound parameters."""
    open_ = _OPEN
    now = _at("now")
    # Past the resolution target with the clock running to now. A ticket waiting on the
    # client since before now is decided in Python (_by_calendar below), as its clock
    # stopped earlier.
    return {
        "waiting_no_activity": and_(open_, _statuses(WAITING), _quiet_since(_at("quiet_waiting"))),
        # Booked, and the last call is over: one lookup per open ticket, the end of its
        # latest call at the end of its range of ix_service_call_ticket_end (NULL, and
        # so not counted, for a ticket never booked).
        "booked_no_future_call": and_(
            open_,
            select(func.max(_SC.c.ends_at)).where(_SC.c.ticket_id == _T.c.id).scalar_subquery()
            <= now,
        ),
        "on_hold_no_future_due": and_(
            _T.c.status == _text(Status.ON_HOLD),
            or_(_T.c.due_at.is_(None), _T.c.due_at <= now),
        ),
        "large_not_booked": and_(
            open_,
            _T.c.estimate_hours > bindparam("large_hours"),
            ~exists().where(_SC.c.ticket_id == _T.c.id),
        ),
        "past_resolution_target": and_(
            open_,
            _T.c.priority.is_not(None),
            _T.c.resolved_at.is_(None),
            or_(_T.c.status != _text(Status.WAITING_CLIENT), _T.c.updated_at >= now),
            _late_at_now(priorities),
            # Implied by the branches above, but SQLite cannot range-scan an OR: the
            # latest cut-off stated once lets it read (status, created_at) from there.
            _T.c.created_at <= _at("late_latest"),
        ),
        "escalated_untouched": and_(
            _T.c.escalated.is_(True), open_, _quiet_since(_at("quiet_escalated"))
        ),
        # Schema 4's flag, on ix_ticket_noted_status: no note lookups. "= false" rather
        # than "IS false", which PostgreSQL cannot look up in an index.
        "resolved_without_resolution_note": and_(
            _T.c.resolution_noted == false(), _T.c.status == _text(Status.RESOLVED)
        ),
        "no_notes_after_a_day": and_(
            open_,
            _T.c.engaged_at.is_not(None),
            _T.c.engaged_at <= _at("silent_since"),
            _no_note(lambda at: at >= _T.c.engaged_at),
        ),
    }


#: The checks decided exactly in SQL, in the order of the statement's columns.
EXACT = (
    "waiting_no_activity",
    "booked_no_future_call",
    "on_hold_no_future_due",
    "large_not_booked",
    "past_resolution_target",
    "escalated_untouched",
    "resolved_without_resolution_note",
    "no_notes_after_a_day",
)


_COMMA: Any = literal_column("','")


def _first_ids(key, rows, limit, *, distinct: bool = False) -> Any:
    """The first ``limit`` values of ``key`` (by value) of ``rows``, as one
    comma-separated string (NULL for none). A bounded sort (ORDER BY .. LIMIT) picks
    them, so the set is exact whatever order the string is joined in (the caller
    sorts). ``distinct``: ``key`` may repeat (a ticket's entries)."""
    first = select(key.label("id")).select_from(rows).order_by(key).limit(limit)
    picked = (first.distinct() if distinct else first).subquery()
    # The separator as SQL text, not a literal parameter: a literal one is rendered
    # into the statement at every run ("post-compile"), a string build per refresh.
    return select(func.aggregate_strings(cast(picked.c.id, String), _COMMA)).scalar_subquery()


def _offender_ids(where) -> Any:
    """Every ticket ``where`` holds for, as one comma-separated string of ids (NULL for
    none), in one pass over the candidates: the caller counts them and keeps the first
    ``max_ids`` by id.

    The string grows with the offenders, as the conditions' own work does. Picking
    the first ids in SQL instead (the offenders a materialised common table
    expression, counted, then sorted for the first ones) cost more than the conditions
    themselves where offenders are many: 2.6 against 1.2 ms for the 3,142 tickets with
    no note after a day at 1M tickets. Numbering every offender with a window function
    cost about 1 us an offender, and evaluating the conditions twice doubled the cost
    of the checks with few offenders."""
    ids = func.aggregate_strings(cast(_T.c.id, String), _COMMA)
    return select(ids).where(where).scalar_subquery()


def _pending_time(limit) -> list[Any]:
    """Tickets with time waiting for approval, their entries and hours, and the first
    ``limit`` tickets, from one range of ix_time_entry_pending_hours (plus the first
    tickets' part of it again): no grouping, no sort."""
    pending = _TE.c.approved_at.is_(None)
    totals = (
        select(
            func.count(_TE.c.ticket_id.distinct()).label("tickets"),
            func.count().label("entries"),
            func.sum(_TE.c.hours).label("hours"),
        )
        .where(pending)
        .subquery()
    )
    waiting = select(_TE.c.ticket_id).where(pending).subquery()
    first = _first_ids(waiting.c.ticket_id, waiting, limit, distinct=True)
    return [totals.c.tickets, totals.c.entries, totals.c.hours, first]


@lru_cache(maxsize=8)
def _statement(priorities: tuple[str, ...], checks: tuple[str, ...]):
    """One row: for each check its offenders' ids; for unapproved time, the tickets,
    entries, hours and first ``max_ids`` tickets.
    One statement of scalar subqueries (one round trip, one compiled-statement lookup)."""
    where = _offenders(priorities)
    limit = bindparam("max_ids", type_=Integer)
    columns: list[Any] = []
    for check_id in checks:
        if check_id == "time_entries_pending_approval":
            columns += _pending_time(limit)
        else:
            columns.append(_offender_ids(where[check_id]))
    return select(*columns)


#: The leading TicketFacts fields, all that the two rules decided row by row read (both
#: candidate sets have no resolved_at): fewer times to convert per row.
_ROW_FACTS = _FACT_COLUMNS[:5]


@lru_cache(maxsize=8)
def _by_calendar(priorities: tuple[str, ...]):
    """The rows the calendar must decide one by one: new tickets past the wall-clock
    first-response bound (business time never runs faster than the wall clock), and
    tickets waiting on the client since before now that were already past their own
    priority's resolution cut-off at now: a stopped clock due before it stopped was
    due before now, so its arrival is at or before that cut-off (the one instant of
    ``rules.resolution_cutoff``). The rest (about a third of the waiting tickets of
    the demo desks) cannot be late, and are no longer read, converted and walked."""
    untriaged = and_(_T.c.status == _text(Status.NEW), _T.c.created_at < _at("new_before"))
    paused = and_(
        _T.c.status == _text(Status.WAITING_CLIENT),
        _T.c.updated_at < _at("now"),
        _T.c.priority.is_not(None),
        _T.c.resolved_at.is_(None),
        _T.c.created_at <= _at("late_latest"),
        _late_at_now(priorities),
        _T.c.created_at < _T.c.updated_at,
    )
    # By ticket number, as the SQL-counted checks list theirs: the rules keep the first.
    return select(*_ROW_FACTS).where(_OPEN, or_(untriaged, paused)).order_by(_T.c.id)


def _resolution_cutoffs(now: datetime, ctx: HealthContext) -> dict[str, datetime]:
    """The latest arrival past its resolution target at ``now``, per priority name."""
    by_minutes: dict[int, datetime] = {}
    cutoffs: dict[str, datetime] = {}
    fallback = ctx.sla.targets["medium"].resolution
    named = [(name, t.resolution) for name, t in ctx.sla.targets.items()]
    for name, minutes in [*named, ("", fallback)]:
        if minutes not in by_minutes:
            by_minutes[minutes] = rules.resolution_cutoff(now, minutes, ctx.calendar)
        cutoffs[name] = by_minutes[minutes]
    return cutoffs


#: How far back the stopped clocks' lookup timeline reaches; older arrivals (rare: a
#: ticket waiting on the client for over a year) are walked, exactly, one by one.
TIMELINE_DAYS = 400


def _timeline(rows: list[TicketFacts], now: datetime, ctx: HealthContext) -> DueTimeline | None:
    """One lookup timeline for the waiting tickets' due moments: laying out the windows
    once and two binary searches per ticket, against a calendar walk per ticket."""
    if not rows:
        return None
    first = max(min(r.created_at for r in rows), now - timedelta(days=TIMELINE_DAYS))
    return _day_timeline(ctx.calendar, first.astimezone(UTC).date(), now.astimezone(UTC).date())


@lru_cache(maxsize=4)
def _day_timeline(calendar: BusinessCalendar, first: date, last: date) -> DueTimeline:
    """The timeline from midnight (UTC) of ``first`` to past the end of ``last``, laid out
    once per calendar and day rather than at every refresh (a pure function of its
    arguments: the calendar is the policy read in this transaction, so an edited one is
    another key). Starting earlier than the oldest ticket changes no due moment: a
    lookup counts business time from the ticket's arrival, whatever the span's start.
    """
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    # Laid out past now (timeline_for adds months): a due moment beyond the timeline
    # is walked, and the tickets not yet late are exactly the ones whose is ahead.
    return timeline_for(calendar, start, end)


def _split_ids(text: str | None) -> list[int]:
    """The ids of a comma-separated list of integers, ascending. Read as one JSON array:
    the C parser takes about half the time of int() per id, and a refresh at 100k
    tickets reads some 2,700 of them (up to ``max_ids`` a check). The list is sorted
    in place, in one pass when the database joined them in order already."""
    if not text:
        return []
    ids: list[int] = json.loads(f"[{text}]")
    ids.sort()
    return ids


def _ticket_checks(
    session: Session, checks: tuple[str, ...], now: datetime, ctx: HealthContext
) -> dict[str, CheckResult]:
    """The ticket checks and the time-entry check among ``checks``, in one statement
    (plus one for the rows the calendar decides), inside the caller's transaction."""
    t = ctx.thresholds
    results: dict[str, CheckResult] = {}
    exact = tuple(c for c in checks if c in EXACT or c == "time_entries_pending_approval")
    cutoffs = _resolution_cutoffs(now, ctx)
    priorities = tuple(name for name in ctx.sla.targets)
    if exact:
        params: dict[str, Any] = {
            "now": now,
            "quiet_waiting": rules.business_days_cutoff(now, t.waiting_business_days, ctx.calendar),
            "quiet_escalated": rules.business_days_cutoff(
                now, t.escalated_business_days, ctx.calendar
            ),
            "silent_since": rules.business_days_cutoff(now, t.note_business_days, ctx.calendar),
            "large_hours": t.large_estimate_hours,
            "late_other": cutoffs[""],
            "late_latest": max(cutoffs.values()),
            "max_ids": t.max_ids,
        }
        params.update({_priority_key(priorities, name): cutoffs[name] for name in priorities})
        row = connection_for(session).execute(_statement(priorities, exact), params).one()
        values = iter(row)
        for check_id in exact:
            if check_id == "time_entries_pending_approval":
                tickets, entries, hours, ids = (next(values) for _ in range(4))
                entries = int(entries or 0)  # a sum of counts: numeric on PostgreSQL
                results[check_id] = rules.pending_approval(
                    tickets, entries, float(hours or 0), _split_ids(ids), ctx
                )
                continue
            ids = _split_ids(next(values))
            results[check_id] = rules.counted(check_id, len(ids), ids, ctx)
    wanted = {"untriaged_past_first_response", "past_resolution_target"} & set(checks)
    if wanted:
        params = {
            "now": now,
            "new_before": now - timedelta(minutes=ctx.sla.untriaged_first_response()),
            "late_latest": max(cutoffs.values()),
            "late_other": cutoffs[""],
        }
        params.update({_priority_key(priorities, name): cutoffs[name] for name in priorities})
        found = connection_for(session).execute(_by_calendar(priorities), params)
        # Split by status as they are read (the query returns new and waiting-on-client
        # tickets only): one pass over the rows, no enum lookup per row.
        new: list[TicketFacts] = []
        waiting: list[TicketFacts] = []
        new_status = Status.NEW.value
        for row in found:
            (new if row[1] == new_status else waiting).append(TicketFacts(*row))
        if "untriaged_past_first_response" in wanted:
            results["untriaged_past_first_response"] = rules.untriaged_past_first_response(
                new, now, ctx
            )
        if "past_resolution_target" in wanted:
            paused = rules.past_resolution_target(waiting, now, ctx, _timeline(waiting, now, ctx))
            running = results["past_resolution_target"]
            ids = sorted([*running.ticket_ids, *paused.ticket_ids])
            results["past_resolution_target"] = rules.counted(
                "past_resolution_target", running.count + paused.count, ids, ctx
            )
    return results


# -- utilisation so far this week -------------------------------------------------------


@lru_cache(maxsize=8)
def _billable_query(count: int):
    """Billable hours per technician over [start, end), built once per number of
    technicians: building it cost more than running it on (tech_id, started_at,
    billable, hours), and an expanding IN of their ids was rendered into the SQL again
    at every refresh (one parameter per id instead, as availability's statements)."""
    billable = case((_TE.c.billable.is_(True), _TE.c.hours), else_=0.0)
    return (
        select(_TE.c.tech_id, func.sum(billable))
        .where(
            tech_ids_in(_TE.c.tech_id, count),
            _TE.c.started_at >= bindparam("start", type_=_TE.c.started_at.type),
            _TE.c.started_at < bindparam("end", type_=_TE.c.started_at.type),
        )
        .group_by(_TE.c.tech_id)
    )


def _tech_weeks(
    session: Session, now: datetime, policy: ShopPolicy | None = None
) -> list[TechWeek]:
    """Billable hours this week (as the utilisation report sums and rounds them) against
    the working hours that have passed so far: the rest of the week is treated as away,
    so Monday's numbers are judged on Monday's hours, not on the whole week's.

    Inside the caller's transaction: the staff from the policy it read (``policy``),
    one aggregate of this week's billable hours per technician, and one query for
    every technician's absences. Only what the check reads: not the whole utilisation
    report, whose full-week hours and absences it would then compute a second time.
    """
    staff = read_staff(session, policy)
    zone = staff.zone
    # The week of the utilisation report: the one running now on the shop's clock.
    week = IsoWeek.containing(utcnow().astimezone(zone).date())
    start, end = week.bounds(zone)
    ids = staff.tech_ids
    sums = dict(
        connection_for(session)
        .execute(_billable_query(len(ids)), {**tech_id_params(ids), "start": start, "end": end})
        .all()
    )
    holidays = closed_dates(staff.holidays, week.monday, week.sunday)
    away_by_tech = absences_by_tech(session, ids, start, end)
    rows: list[TechWeek] = []
    for tech in staff.techs:
        away = [(a.start, a.end) for a in away_by_tech[tech.id or 0]]
        # Night shifts may run past Sunday midnight; a day beyond the week covers them.
        away.append((max(now, start), end + timedelta(days=1)))
        so_far = available_hours(working_hours(tech), zone, week, holidays=holidays, away=away)
        rows.append(TechWeek(tech.name, round(float(sums.get(tech.id) or 0), 2), so_far))
    return rows


# -- running the checks -----------------------------------------------------------------


def _run_in(
    session: Session, checks: tuple[str, ...], now: datetime, thresholds: HealthThresholds | None
) -> dict[str, CheckResult]:
    """``checks`` inside the caller's read transaction, with the thresholds and policy read
    in it too: one consistent picture of the desk, one transaction per refresh."""
    # The policy and the thresholds' settings in one statement.
    policy, stored = load_policy_with(session, _THRESHOLD_KEYS)
    ctx = _context(policy, thresholds or _thresholds_read(stored))
    results = _ticket_checks(session, checks, now, ctx)
    if "technician_utilization" in checks:
        weeks = _tech_weeks(session, now, policy)
        results["technician_utilization"] = rules.technician_utilization(weeks, ctx)
    return results


def run_check(
    desk: Desk,
    check_id: str,
    *,
    now: datetime | None = None,
    thresholds: HealthThresholds | None = None,
) -> CheckResult:
    """One check by its id (see rules.health.CHECK_IDS)."""
    if check_id not in rules.TITLES:
        raise InvalidInput(
            f"unknown health check {check_id!r}; use one of: {', '.join(rules.CHECK_IDS)}"
        )
    with desk.db.read() as session:
        return _run_in(session, (check_id,), now or utcnow(), thresholds)[check_id]


def run_checks(
    desk: Desk,
    *,
    now: datetime | None = None,
    thresholds: HealthThresholds | None = None,
) -> list[CheckResult]:
    """Every check, in CHECK_IDS order, in one short read transaction (each query is
    bounded by candidates, see the module docstring; utilisation by the technicians)."""
    with desk.db.read() as session:
        results = _run_in(session, rules.CHECK_IDS, now or utcnow(), thresholds)
    return [results[c] for c in rules.CHECK_IDS]


def tickets_of(desk: Desk, result: CheckResult, *, limit: int = 200) -> list[queries.TicketRow]:
    """The offending tickets of a result as list rows, oldest first, at most ``limit``."""
    ids = list(result.ticket_ids[:limit])
    with desk.db.read() as session:
        return queries.tickets_by_ids(session, ids)
