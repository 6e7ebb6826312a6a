"""The roster: who can take work now, and how loaded each technician already is.

``tech_loads`` is the shared fact-gathering for the roster panel and for the
suggestions (services/suggestions.py), read inside the caller's transaction with a
fixed number of bounded, indexed queries per technician (the desk has about ten).

Free hours today = the rest of today's shift, minus booked service calls, minus
out-of-office, minus the estimates of tickets queued and ready to work (assigned or
in progress; waiting and on-hold tickets do not eat today's time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from dispatch_tui.rules.holidays import holiday_dates
from dispatch_tui.rules.utilization import FLAG_TEXT, Flag
from dispatch_tui.rules.workhours import clip, merge, subtract, total_hours, working_intervals
from dispatch_tui.services import timesheets
from dispatch_tui.services.availability import absences, working_hours
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.holidays import load_holiday_rules
from dispatch_tui.services.settings import DEFAULT_TIMEZONE, TIMEZONE, parse_timezone, read_setting
from dispatch_tui.store.models import OPEN_STATUSES, ServiceCall, Status, Technician, Ticket
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


def tech_loads(session: Session, now: datetime | None = None) -> list[TechLoad]:
    """Every active technician's availability and load at ``now``."""
    now = now or utcnow()
    zone = shop_zone(session)
    today = now.astimezone(zone).date()
    day_end = datetime.combine(today + timedelta(days=1), time(), tzinfo=zone)
    closed = holiday_dates(load_holiday_rules(session), today - timedelta(days=1), today)
    techs = session.exec(
        select(Technician)
        .where(col(Technician.active).is_(True))
        .order_by(col(Technician.name))
        .limit(DEFAULT_LIMIT)
    ).all()
    ids = [t.id or 0 for t in techs]
    counts = _open_counts(session, ids)
    loads = []
    for tech in techs:
        tech_id = tech.id or 0
        # Yesterday too: a night shift that began yesterday may still be running.
        shifts = working_intervals(
            working_hours(tech), zone, today - timedelta(days=1), today, closed=closed
        )
        current = [(a, b) for a, b in shifts if a <= now < b]
        left = clip(shifts, now, max([day_end, *(b for _, b in current)]))
        away = absences(session, tech_id, now, day_end)
        away_now = next((a for a in away if a.start <= now < a.end), None)
        calls = _calls(session, tech_id, now, day_end)
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
    """Open tickets and ready-to-work estimate hours per technician: one query per
    technician on (assigned_tech_id, status, ...), so the cost follows their queue,
    never the size of the whole ticket table."""
    found: dict[int, tuple[int, float]] = {}
    for tech_id in ids:
        rows = session.exec(
            select(Ticket.status, func.count(), func.sum(Ticket.estimate_hours))
            .where(Ticket.assigned_tech_id == tech_id, col(Ticket.status).in_(_OPEN))
            .group_by(Ticket.status)
        ).all()
        count = sum(n for _, n, _ in rows)
        hours = sum(float(h or 0) for status, _, h in rows if status in _READY)
        found[tech_id] = (count, hours)
    return found


def _calls(
    session: Session, tech_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    rows = session.exec(
        select(ServiceCall.starts_at, ServiceCall.ends_at)
        .where(
            ServiceCall.tech_id == tech_id,
            col(ServiceCall.starts_at) < end,
            col(ServiceCall.starts_at) >= start - _MAX_CALL,
            col(ServiceCall.ends_at) > start,
        )
        .limit(DEFAULT_LIMIT)
    ).all()
    return merge(clip(((a, b) for a, b in rows), start, end))


def roster(desk: Desk, now: datetime | None = None) -> Roster:
    """The roster panel: loads, and this week's billable utilisation against the target.

    Utilisation comes from the timesheet report (its own short read) so the roster and
    ``report utilization`` can never disagree.
    """
    with desk.db.read() as session:
        loads = tech_loads(session, now)
    report = timesheets.utilization_report(desk)
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
