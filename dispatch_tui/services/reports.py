"""Desk reports for the service manager: SLA performance, priority mix, open ticket
aging and open tickets per technician.

Counts are SQL aggregates (GROUP BY over an index), so their cost does not grow with
what they return. SLA met/missed is business time, which SQL cannot compute: those
tickets (only the period's, on the created_at index) stream in batches through the
pure rule in rules/sla_outcome.py.

Periods are shop-local dates, both ends included; a ticket belongs to the period in
which it arrived.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_
from sqlmodel import col, select

from dispatch_tui.errors import InvalidInput
from dispatch_tui.rules.priority import PRIORITIES
from dispatch_tui.rules.sla import SlaPolicy
from dispatch_tui.rules.sla_outcome import BusinessTimeline, Tally, outcome
from dispatch_tui.rules.utilization import IsoWeek
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.settings import (
    DEFAULT_TIMEZONE,
    TIMEZONE,
    load_policy,
    parse_timezone,
    read_setting,
)
from dispatch_tui.store.models import OPEN_STATUSES, Technician, Ticket
from dispatch_tui.store.queries import DEFAULT_LIMIT
from dispatch_tui.store.types import utcnow

#: Rows fetched per round trip while SLA figures stream through the clock.
BATCH = 1000
#: The longest period a report covers: beyond it the SLA pass would read years of history.
MAX_PERIOD_DAYS = 366
#: Weeks in the SLA trend unless asked otherwise.
TREND_WEEKS = 8
UNTRIAGED = "untriaged"
CLOCKS = ("first_response", "engagement", "resolution")

#: Age buckets of open tickets: label and upper bound in days (None: no bound).
AGE_BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("<1d", 1),
    ("1-3d", 3),
    ("3-7d", 7),
    ("7-30d", 30),
    (">30d", None),
)


@dataclass(frozen=True)
class Period:
    """Shop-local dates, both included, and the UTC instants that bound them."""

    first: date
    last: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, first: date, last: date, zone: ZoneInfo) -> Period:
        if last < first:
            raise InvalidInput(f"the period ends ({last}) before it starts ({first})")
        if (last - first).days + 1 > MAX_PERIOD_DAYS:
            raise InvalidInput(f"a report covers at most {MAX_PERIOD_DAYS} days")
        start = datetime.combine(first, time(), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
        return cls(first, last, start, end)


def default_period(
    zone: ZoneInfo, now: datetime | None = None, days: int = 28
) -> tuple[date, date]:
    """The last four weeks up to today, shop-local."""
    today = (now or utcnow()).astimezone(zone).date()
    return today - timedelta(days=days - 1), today


# -- SLA performance --------------------------------------------------------------------


@dataclass
class SlaGroup:
    """One priority (or the whole desk): ticket count and a tally per clock."""

    name: str
    tickets: int = 0
    first_response: Tally = field(default_factory=Tally)
    engagement: Tally = field(default_factory=Tally)
    resolution: Tally = field(default_factory=Tally)

    def tally(self, clock: str) -> Tally:
        return getattr(self, clock)


@dataclass(frozen=True)
class SlaReport:
    period: Period
    #: One group per priority with tickets, in priority order, then untriaged, then "all".
    groups: list[SlaGroup]
    #: One group per ISO week (oldest first), named like 2026-W10: the trend.
    weeks: list[SlaGroup]


SlaRow = tuple[int, datetime, str | None, datetime | None, datetime | None, datetime | None]


def _sla_batches(desk: Desk, start: datetime, end: datetime) -> Iterator[list[SlaRow]]:
    """The tickets that arrived in [start, end), a batch per short read transaction, so
    the business-time pass never holds a lock another dispatcher's save waits on."""
    after: tuple[datetime, int] | None = None
    while True:
        query = select(
            Ticket.id,
            Ticket.created_at,
            Ticket.priority,
            Ticket.first_response_at,
            Ticket.engaged_at,
            Ticket.resolved_at,
        ).where(col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
        if after is not None:
            # Keyset on (created_at, id): the created_at index serves it at any depth.
            query = query.where(
                or_(
                    col(Ticket.created_at) > after[0],
                    and_(Ticket.created_at == after[0], col(Ticket.id) > after[1]),
                )
            )
        query = query.order_by(col(Ticket.created_at), col(Ticket.id)).limit(BATCH)
        with desk.db.read() as session:
            rows = [tuple(r) for r in session.exec(query).all()]
        if not rows:
            return
        yield rows  # type: ignore[misc]
        if len(rows) < BATCH:
            return
        after = (rows[-1][1], rows[-1][0])


def _score(
    group: SlaGroup, row: SlaRow, now: datetime, timeline: BusinessTimeline, policy: SlaPolicy
) -> None:
    _id, created, priority, first, engaged, resolved = row
    group.tickets += 1
    if priority is None:
        # Untriaged: only first response can be judged, on the strictest target.
        result = outcome(created, first, policy.untriaged_first_response(), now, timeline)
        group.first_response.add(result)
        return
    targets = policy.targets.get(priority) or policy.targets["medium"]
    for clock, done in zip(CLOCKS, (first, engaged, resolved), strict=True):
        group.tally(clock).add(outcome(created, done, getattr(targets, clock), now, timeline))


def sla_report(
    desk: Desk,
    first: date | None = None,
    last: date | None = None,
    *,
    weeks: int = TREND_WEEKS,
    now: datetime | None = None,
) -> SlaReport:
    """Share of tickets whose first response, engagement and resolution met target, by
    priority over the period, and for the whole desk per week over the last ``weeks``
    ISO weeks up to the period's end."""
    now = now or utcnow()
    if not 0 <= weeks <= 53:
        raise InvalidInput("the SLA trend covers 0 to 53 weeks")
    with desk.db.read() as session:
        policy = load_policy(session)
    zone = policy.calendar.tz
    if first is None or last is None:
        default_first, default_last = default_period(zone, now)
        first, last = first or default_first, last or default_last
    period = Period.of(first, last, zone)
    week_list = [IsoWeek.containing(last - timedelta(weeks=n)) for n in range(weeks)][::-1]
    trend_start = week_list[0].bounds(zone)[0] if week_list else period.start
    trend_end = week_list[-1].bounds(zone)[1] if week_list else period.end
    by_priority: dict[str, SlaGroup] = {}
    everything = SlaGroup("all")
    by_week = {str(w): SlaGroup(str(w)) for w in week_list}
    start, end = min(period.start, trend_start), max(period.end, trend_end)
    # Events run up to now (or past the period's end); the timeline covers them too.
    timeline = BusinessTimeline(policy.calendar, start, max(end, now) + timedelta(days=1))
    for batch in _sla_batches(desk, start, end):
        for row in batch:
            created = row[1]
            groups: list[SlaGroup] = []
            if period.start <= created < period.end:
                name = row[2] or UNTRIAGED
                groups += [by_priority.setdefault(name, SlaGroup(name)), everything]
            week = by_week.get(str(IsoWeek.containing(created.astimezone(zone).date())))
            if week is not None:
                groups.append(week)
            for group in groups:
                _score(group, row, now, timeline, policy.sla)
    order = [*PRIORITIES, UNTRIAGED]
    ranked = sorted(
        by_priority.values(),
        key=lambda g: (order.index(g.name) if g.name in order else len(order), g.name),
    )
    return SlaReport(period, [*ranked, everything], list(by_week.values()))


# -- priority distribution --------------------------------------------------------------


@dataclass(frozen=True)
class PriorityCount:
    ticket_type: str
    priority: str
    count: int
    #: Share of this ticket type's tickets in the period.
    share: float


def priority_distribution(
    desk: Desk, first: date | None = None, last: date | None = None, *, now: datetime | None = None
) -> tuple[Period, list[PriorityCount]]:
    """Tickets that arrived in the period by type and priority: a healthy desk peaks at
    medium for incidents and at quick hits for service requests."""
    with desk.db.read() as session:
        # Only the zone, not the whole SLA policy (six settings and the holidays).
        zone = parse_timezone(read_setting(session, TIMEZONE, DEFAULT_TIMEZONE))
        if first is None or last is None:
            default_first, default_last = default_period(zone, now)
            first, last = first or default_first, last or default_last
        period = Period.of(first, last, zone)
        # Reads only ix_ticket_created_type_priority: the period's index entries.
        rows = session.exec(
            select(Ticket.ticket_type, Ticket.priority, func.count())
            .where(col(Ticket.created_at) >= period.start, col(Ticket.created_at) < period.end)
            .group_by(Ticket.ticket_type, Ticket.priority)
        ).all()
    totals: dict[str, int] = {}
    for kind, _priority, count in rows:
        totals[kind or UNTRIAGED] = totals.get(kind or UNTRIAGED, 0) + count
    order = [*PRIORITIES, UNTRIAGED]
    result = [
        PriorityCount(
            kind or UNTRIAGED,
            priority or UNTRIAGED,
            count,
            round(count / totals[kind or UNTRIAGED], 4),
        )
        for kind, priority, count in rows
    ]
    result.sort(
        key=lambda r: (
            r.ticket_type == UNTRIAGED,
            r.ticket_type,
            order.index(r.priority) if r.priority in order else len(order),
        )
    )
    return period, result


# -- open tickets: aging and load -------------------------------------------------------


@dataclass(frozen=True)
class AgeBucket:
    label: str
    count: int


def open_ticket_aging(desk: Desk, *, now: datetime | None = None) -> list[AgeBucket]:
    """Open tickets by how long ago they arrived (wall-clock days), every bucket listed."""
    now = now or utcnow()
    whens = [
        (col(Ticket.created_at) > now - timedelta(days=bound), label)
        for label, bound in AGE_BUCKETS
        if bound is not None
    ]
    bucket = case(*whens, else_=AGE_BUCKETS[-1][0])
    with desk.db.read() as session:
        counts = dict(
            session.exec(
                select(bucket, func.count())
                .where(col(Ticket.status).in_([s.value for s in OPEN_STATUSES]))
                .group_by(bucket)
            ).all()
        )
    return [AgeBucket(label, counts.get(label, 0)) for label, _ in AGE_BUCKETS]


@dataclass(frozen=True)
class TechLoad:
    tech_id: int | None
    #: None for tickets nobody has yet.
    tech: str | None
    open_tickets: int


def open_tickets_per_technician(desk: Desk) -> list[TechLoad]:
    """Open tickets per active technician (zero included), then the unassigned ones."""
    with desk.db.read() as session:
        counts = dict(
            session.exec(
                select(Ticket.assigned_tech_id, func.count())
                .where(col(Ticket.status).in_([s.value for s in OPEN_STATUSES]))
                .group_by(Ticket.assigned_tech_id)
            ).all()
        )
        techs = session.exec(
            select(Technician.id, Technician.name, Technician.active)
            .order_by(col(Technician.name))
            .limit(DEFAULT_LIMIT)
        ).all()
    # Inactive technicians still show when tickets are left on them: those need moving.
    rows = [
        TechLoad(tech_id, name, counts.get(tech_id, 0))
        for tech_id, name, active in techs
        if active or counts.get(tech_id)
    ]
    rows.append(TechLoad(None, None, counts.get(None, 0)))
    return rows
