"""The roster: who can take work now, and how loaded each technician already is.

``tech_loads`` is the shared fact-gathering for the roster panel and for the
suggestions (services/suggestions.py), read inside the caller's transaction with a
fixed number of bounded, indexed queries for the whole desk (each names the active
technicians, so it runs on a (tech_id, ...) index), not a few per technician.

Free hours today = the rest of today's shift, minus booked service calls, minus
out-of-office, minus the estimates of tickets queued and ready to work (assigned or
in progress; waiting and on-hold tickets do not eat today's time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, func
from sqlmodel import Session, col, select

from dispatch_tui.rules.holidays import closed_dates
from dispatch_tui.rules.schedule import Absence
from dispatch_tui.rules.utilization import FLAG_TEXT, Flag, Thresholds
from dispatch_tui.rules.workhours import clip, merge, subtract, total_hours, working_intervals
from dispatch_tui.services import timesheets
from dispatch_tui.services.availability import (
    Staff,
    absences_by_tech,
    absences_within,
    read_staff,
    tech_id_params,
    tech_ids_in,
    working_hours,
)
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.settings import DEFAULT_TIMEZONE, TIMEZONE, parse_timezone, read_setting
from dispatch_tui.store.core import connection_for
from dispatch_tui.store.models import OPEN_STATUSES, ServiceCall, Status, Ticket
from dispatch_tui.store.queries import DEFAULT_LIMIT
from dispatch_tui.store.types import utcnow

_OPEN = [s.value for s in OPEN_STATUSES]
#: Queued work that competes for today's hours.
_READY = [Status.ASSIGNED.value, Status.IN_PROGRESS.value]
#: Longest service call; calls that started this long before now may still be running.
_MAX_CALL = timedelta(hours=24)


@dataclass(frozen=True)
class TechLoad:
    id: int
    name: str
    tier: int
    skills: tuple[str, ...]
    on_shift: bool
    away_now: bool
    away_reason: str
    on_call_now: bool
    #: In words, for the roster: "working until 17:00", "off shift", "out of office: ...".
    status: str
    open_tickets: int
    queued_hours: float
    free_hours_today: float

    @property
    def working_now(self) -> bool:
        return self.on_shift and not self.away_now


@dataclass(frozen=True)
class RosterRow:
    load: TechLoad
    billable_hours: float
    available_hours: float
    utilization: float | None
    flag: Flag

    @property
    def flag_text(self) -> str:
        return FLAG_TEXT[self.flag]


@dataclass(frozen=True)
class Roster:
    week: str
    target: float
    rows: list[RosterRow]


def shop_zone(session: Session) -> ZoneInfo:
    return parse_timezone(read_setting(session, TIMEZONE, DEFAULT_TIMEZONE))


def tech_loads(
    session: Session,
    now: datetime | None = None,
    staff: Staff | None = None,
    week_away: tuple[datetime, datetime, dict[int, list[Absence]]] | None = None,
) -> list[TechLoad]:
    """Every active technician's availability and load at ``now``; ``staff`` when the
    caller has read it already in this transaction; ``week_away`` (start, end, answer)
    when it has read every technician's absences over a window (the roster: this
    week), from which today's are taken when they can be (``absences_within``)."""
    now = now or utcnow()
    staff = staff or read_staff(session)
    zone = staff.zone
    today = now.astimezone(zone).date()
    day_end = datetime.combine(today + timedelta(days=1), time(), tzinfo=zone)
    closed = closed_dates(staff.holidays, today - timedelta(days=1), today)
    ids = staff.tech_ids
    counts = _open_counts(session, ids)
    away_by_tech = None
    if week_away is not None:
        week_start, week_end, week_answer = week_away
        away_by_tech = absences_within(week_answer, week_start, week_end, now, day_end)
    if away_by_tech is None:
        away_by_tech = absences_by_tech(session, ids, now, day_end)
    calls_by_tech = _calls(session, ids, now, day_end)
    loads = []
    for tech in staff.techs:
        tech_id = tech.id or 0
        # Yesterday too: a night shift that began yesterday may still be running.
        shifts = working_intervals(
            working_hours(tech), zone, today - timedelta(days=1), today, closed=closed
        )
        current = [(a, b) for a, b in shifts if a <= now < b]
        left = clip(shifts, now, max([day_end, *(b for _, b in current)]))
        away = away_by_tech[tech_id]
        away_now = next((a for a in away if a.start <= now < a.end), None)
        calls = calls_by_tech[tech_id]
        on_call = next(((a, b) for a, b in calls if a <= now < b), None)
        open_count, ready_hours = counts.get(tech_id, (0, 0.0))
        free = total_hours(subtract(left, [*calls, *((a.start, a.end) for a in away)]))
        free = max(0.0, free - ready_hours)
        if away_now is not None:
            status = "out of office" + (f": {away_now.reason}" if away_now.reason else "")
        elif current and on_call is not None:
            status = f"on a call until {on_call[1].astimezone(zone):%H:%M}"
        elif current:
            status = f"working until {current[0][1].astimezone(zone):%H:%M}"
        elif today in closed:
            status = "holiday"
        else:
            status = "off shift"
        loads.append(
            TechLoad(
                id=tech_id,
                name=tech.name,
                tier=tech.tier,
                skills=tuple(s for s in tech.skills.split(",") if s),
                on_shift=bool(current),
                away_now=away_now is not None,
                away_reason=away_now.reason if away_now else "",
                on_call_now=on_call is not None,
                status=status,
                open_tickets=open_count,
                queued_hours=round(ready_hours, 2),
                free_hours_today=round(free, 2),
            )
        )
    return loads


def _open_counts(session: Session, ids: list[int]) -> dict[int, tuple[int, float]]:
    """Open tickets and ready-to-work estimate hours per technician, in one query.

    It reads only ix_ticket_status_tech_estimate (status, assigned_tech_id,
    estimate_hours): a range per open status and technician, never a ticket row, so
    the cost follows the open queues and not the size of the ticket table.
    """
    found: dict[int, tuple[int, float]] = {tech_id: (0, 0.0) for tech_id in ids}
    if not ids:
        return found
    rows = connection_for(session).execute(_open_counts_query(len(ids)), tech_id_params(ids)).all()
    for tech_id, status, count, hours in rows:
        open_count, ready_hours = found[tech_id]
        if status in _READY:
            ready_hours += float(hours or 0)
        found[tech_id] = (open_count + count, ready_hours)
    return found


# Statements are built once and run as Core on the session's connection (see
# services/availability.py): SQLAlchemy then reuses their compiled form. Technicians are
# named by a parameter each (``tech_ids_in``) and the statuses are fixed parameters: no
# expanding IN to render again at every run.


@lru_cache(maxsize=8)
def _open_counts_query(count: int) -> Select:
    return (
        select(
            Ticket.assigned_tech_id, Ticket.status, func.count(), func.sum(Ticket.estimate_hours)
        )
        .where(
            tech_ids_in(Ticket.assigned_tech_id, count),
            col(Ticket.status).in_([bindparam(f"open{i}", s) for i, s in enumerate(_OPEN)]),
        )
        .group_by(Ticket.assigned_tech_id, Ticket.status)
    )


def _calls(
    session: Session, ids: list[int], start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each technician's booked time in [start, end), merged, from one query on
    ix_service_call_tech_start (a bounded range per technician)."""
    if not ids:
        return {}
    limit = DEFAULT_LIMIT * len(ids)
    window = {"start": start, "end": end, "since": start - _MAX_CALL}
    conn = connection_for(session)
    rows = conn.execute(_calls_query(len(ids)), {**window, **tech_id_params(ids), "n": limit}).all()
    if len(rows) >= limit:
        # One technician's calls could crowd out the next one's: a query each, with
        # the per-technician bound it always had.
        rows = [
            row
            for tech_id in ids
            for row in conn.execute(
                _calls_query(1), {**window, **tech_id_params([tech_id]), "n": DEFAULT_LIMIT}
            ).all()
        ]
    spans: dict[int, list[tuple[datetime, datetime]]] = {tech_id: [] for tech_id in ids}
    for tech_id, starts_at, ends_at in rows:
        mine = spans[tech_id]
        if len(mine) < DEFAULT_LIMIT:
            mine.append((starts_at, ends_at))
    return {tech_id: merge(clip(found, start, end)) for tech_id, found in spans.items()}


@lru_cache(maxsize=8)
def _calls_query(count: int) -> Select:
    return (
        select(ServiceCall.tech_id, ServiceCall.starts_at, ServiceCall.ends_at)
        .where(
            col(ServiceCall.starts_at) < bindparam("end"),
            col(ServiceCall.starts_at) >= bindparam("since"),
            col(ServiceCall.ends_at) > bindparam("start"),
            tech_ids_in(ServiceCall.tech_id, count),
        )
        .order_by(col(ServiceCall.tech_id), col(ServiceCall.starts_at))
        .limit(bindparam("n"))
    )


def roster(desk: Desk, now: datetime | None = None) -> Roster:
    """The roster panel: loads, and this week's billable utilisation against the target.

    Utilisation comes from the timesheet report's own function, so the roster and
    ``report utilization`` can never disagree.
    """
    with desk.db.read() as session:
        return roster_in(session, now)


def roster_in(
    session: Session,
    now: datetime | None = None,
    staff: Staff | None = None,
    thresholds: Thresholds | None = None,
) -> Roster:
    """``roster`` inside the caller's transaction (the Dispatch screen reads it with
    its board). Loads and utilisation share one read of the technicians, the time
    zone and the holidays, and see the same snapshot; ``staff`` when the caller has
    read them already; ``thresholds`` likewise (the Dispatch screen reads them with
    its policy)."""
    staff = staff or read_staff(session)
    # The week as ``utilization_in`` picks it; its absences are read once here and
    # today's (for the loads) are taken from them: the roster read them twice.
    week = timesheets.current_week(staff.zone)
    start, end = timesheets.absence_window(week, staff.zone)
    away = absences_by_tech(session, staff.tech_ids, start, end)
    loads = tech_loads(session, now, staff, (start, end, away))
    report = timesheets.utilization_in(session, week, staff, away=away, thresholds=thresholds)
    usage = {row.tech_id: row for row in report.rows}
    rows = []
    for load in loads:
        used = usage.get(load.id)
        rows.append(
            RosterRow(
                load,
                used.billable_hours if used else 0.0,
                used.available_hours if used else 0.0,
                used.utilization if used else None,
                used.flag if used else Flag.NO_HOURS,
            )
        )
    return Roster(report.week, report.thresholds.target, rows)
