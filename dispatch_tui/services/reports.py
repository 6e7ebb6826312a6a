"""Desk reports for the service manager: SLA performance, priority mix, open ticket
aging and open tickets per technician.

Counts are SQL aggregates (GROUP BY over an index), so their cost does not grow with
what they return. SLA met/missed is business time, which SQL cannot compute; but each
ticket's met-by moments (rules/sla_due.py) are stored on it, so met/missed becomes a
comparison SQL can count, and only tickets without current moments go through the
rule in Python (see services/sla_stamps.py for when moments are trusted).

Periods are shop-local dates, both ends included; a ticket belongs to the period in
which it arrived.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
)
from sqlmodel import Session, col, select

from dispatch_tui.errors import InvalidInput
from dispatch_tui.rules.priority import PRIORITIES
from dispatch_tui.rules.sla_due import UNTRIAGED, SlaDue, judge, timeline_for
from dispatch_tui.rules.sla_outcome import Tally
from dispatch_tui.rules.utilization import IsoWeek
from dispatch_tui.services import sla_counts, sla_stamps
from dispatch_tui.services.availability import read_zone
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.settings import load_policy
from dispatch_tui.services.sla_counts import ALL_ARRIVALS, BASES
from dispatch_tui.store.core import connection_for
from dispatch_tui.store.models import OPEN_STATUSES, Technician, Ticket, TicketType
from dispatch_tui.store.queries import DEFAULT_LIMIT
from dispatch_tui.store.types import utcnow

#: The longest period a report covers: beyond it the SLA pass would read years of history.
MAX_PERIOD_DAYS = 366
#: Weeks in the SLA trend unless asked otherwise.
TREND_WEEKS = 8
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


def _add_counts(group: SlaGroup, row) -> None:
    """Add a row of ``sla_counts.stretch_sums`` (tickets, then met, pending and judged
    per clock in CLOCKS order) to ``group``."""
    group.tickets += row[0]
    for tally, at in ((group.first_response, 1), (group.engagement, 4), (group.resolution, 7)):
        met, pending, judged = row[at], row[at + 1], row[at + 2]
        tally.met += met
        tally.pending += pending
        tally.missed += judged - met - pending


def _arrived(start: datetime, end: datetime):
    return and_(col(Ticket.created_at) >= start, col(Ticket.created_at) < end)


@dataclass(frozen=True)
class _Segment:
    """A stretch of arrivals that lies wholly in one trend week (or none) and wholly in
    or out of the period, so each of its groups adds to the same report groups."""

    start: datetime
    end: datetime
    week: str | None
    in_period: bool


def _segments(period: Period, bounds: list[tuple[str, datetime, datetime]]) -> list[_Segment]:
    """The period and the trend weeks cut at each of their bounds, in order, keeping
    only the pieces some group counts: at most the weeks plus two pieces of a period
    that starts or ends mid-week."""
    cuts = sorted({period.start, period.end, *(t for _n, lo, hi in bounds for t in (lo, hi))})
    segments = []
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        week = next((name for name, w_lo, w_hi in bounds if w_lo <= lo and hi <= w_hi), None)
        in_period = period.start <= lo and hi <= period.end
        if week is not None or in_period:
            segments.append(_Segment(lo, hi, week, in_period))
    return segments


def _score(group: SlaGroup, row: SlaRow, now: datetime, due: SlaDue) -> None:
    _id, _created, priority, first, engaged, resolved = row
    group.tickets += 1
    group.first_response.add(judge(first, due.respond_by, now))
    if priority is None or due.engage_by is None or due.resolve_by is None:
        # Untriaged: only first response can be judged, on the strictest target.
        return
    group.engagement.add(judge(engaged, due.engage_by, now))
    group.resolution.add(judge(resolved, due.resolve_by, now))


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
    ISO weeks up to the period's end.

    Tickets whose met-by moments are current (services/sla_stamps.py) are counted in
    SQL; the rest (not stamped yet, or stamped under another priority or policy) are
    judged here by the same rule, in the same read transaction, so the figures are
    one consistent picture and always under the policy in force now.
    """
    now = now or utcnow()
    if not 0 <= weeks <= 53:
        raise InvalidInput("the SLA trend covers 0 to 53 weeks")
    by_priority: dict[str, SlaGroup] = {}
    everything = SlaGroup("all")
    with desk.db.read() as session:
        policy = load_policy(session)
        zone = policy.calendar.tz
        if first is None or last is None:
            default_first, default_last = default_period(zone, now)
            first, last = first or default_first, last or default_last
        period = Period.of(first, last, zone)
        week_list = [IsoWeek.containing(last - timedelta(weeks=n)) for n in range(weeks)][::-1]
        bounds = [(str(w), *w.bounds(zone)) for w in week_list]
        by_week = {str(w): SlaGroup(str(w)) for w in week_list}
        stamp = sla_stamps.stamp_of(policy)
        segments = _segments(period, bounds)
        sums = sla_counts.stretch_sums(
            connection_for(session), [(seg.start, seg.end) for seg in segments], stamp, now
        )
        # Per segment: its arrivals less those counted from current moments.
        uncounted = [0] * len(segments)
        for index, basis, tickets, *_counts in sums:
            uncounted[index] += tickets if basis == ALL_ARRIVALS else -tickets
        live: list = []
        if any(uncounted):
            arrived = [
                _arrived(seg.start, seg.end)
                for seg, n in zip(segments, uncounted, strict=True)
                if n
            ]
            # The ids alone first: that subquery is covered by ix_ticket_created, so the
            # planner takes it over another index led by created_at that would make it
            # read every row of the stretch to test the receipt.
            uncounted_ids = select(Ticket.id).where(or_(*arrived), sla_counts.uncounted(stamp))
            live = session.exec(
                select(
                    Ticket.id,
                    Ticket.created_at,
                    Ticket.priority,
                    Ticket.first_response_at,
                    Ticket.engaged_at,
                    Ticket.resolved_at,
                ).where(col(Ticket.id).in_(uncounted_ids))
            ).all()
    for index, basis, *row in sums:
        if basis == ALL_ARRIVALS or not row[0]:
            continue  # no current rows of this basis here: no group for it
        group_name = BASES[basis] or UNTRIAGED
        segment = segments[index]
        if segment.in_period:
            _add_counts(by_priority.setdefault(group_name, SlaGroup(group_name)), row)
            _add_counts(everything, row)
        if segment.week is not None:
            _add_counts(by_week[segment.week], row)
    if live:
        timeline = timeline_for(policy.calendar, segments[0].start, segments[-1].end)
    for row in live:
        created = row[1]
        due = sla_stamps.due_of(created, row[2], policy, timeline, stamp)
        groups: list[SlaGroup] = []
        if period.start <= created < period.end:
            group_name = row[2] or UNTRIAGED
            groups += [by_priority.setdefault(group_name, SlaGroup(group_name)), everything]
        week_group = by_week.get(str(IsoWeek.containing(created.astimezone(zone).date())))
        if week_group is not None:
            groups.append(week_group)
        for group in groups:
            _score(group, tuple(row), now, due)  # type: ignore[arg-type]
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
        zone = read_zone(session)
        if first is None or last is None:
            default_first, default_last = default_period(zone, now)
            first, last = first or default_first, last or default_last
        period = Period.of(first, last, zone)
        rows = _mix_counts(session, period)
    return period, priority_mix(rows)


def priority_mix(rows: Iterable[tuple[str | None, str | None, int]]) -> list[PriorityCount]:
    """(type, priority, count) rows as the dashboard shows them: each with its share of
    its type, untriaged last, priorities in matrix order."""
    rows = list(rows)
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
    return result


#: The (type, priority) pairs triage can set, and None for not set yet.
_MIX_PAIRS = tuple(
    (kind, priority)
    for kind in (*(t.value for t in TicketType), None)
    for priority in (*PRIORITIES, None)
)


def _is(column, value):
    return col(column).is_(None) if value is None else column == value


@lru_cache(maxsize=1)
def _mix_query() -> Select:
    """The period's arrivals in all, and for each pair triage can set, in one statement.

    Each pair is one range of ix_ticket_type_priority_created (type, priority, then
    created_at), and the total one range of ix_ticket_created: no GROUP BY, whose sort
    of every arrival in the period cost ten times the counting at a million tickets.
    """
    in_period = (
        col(Ticket.created_at) >= bindparam("start"),
        col(Ticket.created_at) < bindparam("end"),
    )
    total = select(func.count()).select_from(Ticket).where(*in_period).scalar_subquery()
    pairs = [
        select(func.count())
        .select_from(Ticket)
        .where(_is(Ticket.ticket_type, kind), _is(Ticket.priority, priority), *in_period)
        .scalar_subquery()
        for kind, priority in _MIX_PAIRS
    ]
    return select(total, *pairs)


@lru_cache(maxsize=1)
def _mix_grouped_query() -> Select:
    return (
        select(Ticket.ticket_type, Ticket.priority, func.count())
        .where(
            col(Ticket.created_at) >= bindparam("start"),
            col(Ticket.created_at) < bindparam("end"),
        )
        .group_by(Ticket.ticket_type, Ticket.priority)
    )


def _mix_counts(session: Session, period: Period) -> list[tuple[str | None, str | None, int]]:
    """(type, priority, count) of every pair with arrivals in the period.

    The pairs triage can set are counted one index range each; should the total say
    some arrivals carry anything else (an imported value), the period is grouped in
    full instead, so every pair present is counted either way.
    """
    bounds = {"start": period.start, "end": period.end}
    conn = connection_for(session)
    total, *counts = conn.execute(_mix_query(), bounds).one()
    if total == sum(counts):
        return [(*pair, n) for pair, n in zip(_MIX_PAIRS, counts, strict=True) if n]
    return [tuple(row) for row in conn.execute(_mix_grouped_query(), bounds)]


# -- open tickets: aging and load -------------------------------------------------------


@dataclass(frozen=True)
class AgeBucket:
    label: str
    count: int


#: The open statuses as SQL string constants (fixed, plain words): the aging statement
#: then needs no per-run expansion of its IN list.
_OPEN_TEXT = [literal_column(f"'{s.value}'") for s in OPEN_STATUSES]


@lru_cache(maxsize=1)
def _aging_query():
    """One row: the open tickets, then how many arrived after each bucket's bound
    (``since_0`` for the newest bucket on), built once per process.

    Each count after a bound is one range of ``(status, created_at)`` index entries,
    whatever columns that index carries after those two. The grouped CASE it replaces
    judged every open ticket's arrival against each bound and sorted the labels in a
    temporary b-tree: about twice SQLite's time at 1M tickets, plus building an ORM
    select per refresh, which cost more than SQLite's own work at 1k."""
    t = Ticket.__table__  # type: ignore[attr-defined]
    open_ = t.c.status.in_(_OPEN_TEXT)
    total = select(func.count()).where(open_).scalar_subquery()
    since = [
        select(func.count())
        .where(open_, t.c.created_at > bindparam(f"since_{i}", type_=t.c.created_at.type))
        .scalar_subquery()
        for i in range(len(_age_bounds()))
    ]
    return select(total, *since)


def _age_bounds() -> list[float]:
    """The buckets' bounds in days, newest first; only the last bucket is open-ended."""
    bounds = [float(bound or 0) for _, bound in AGE_BUCKETS[:-1]]
    assert AGE_BUCKETS[-1][1] is None and bounds == sorted(bounds) and 0 not in bounds
    return bounds


def open_ticket_aging(desk: Desk, *, now: datetime | None = None) -> list[AgeBucket]:
    """Open tickets by how long ago they arrived (wall-clock days), every bucket listed.

    A ticket is in the first bucket whose bound it arrived after (newer than ``bound``
    days), else in the last: with the bounds growing, a bucket's count is the open
    tickets that arrived after its bound less those that arrived after the one before.
    """
    now = now or utcnow()
    params = {f"since_{i}": now - timedelta(days=b) for i, b in enumerate(_age_bounds())}
    with desk.db.read() as session:
        total, *after = connection_for(session).execute(_aging_query(), params).one()
    # Arrived after each bound, cumulative; the open-ended last bucket takes the rest.
    cumulative = [*after, total]
    counts = [n - (cumulative[i - 1] if i else 0) for i, n in enumerate(cumulative)]
    return [AgeBucket(label, n) for (label, _), n in zip(AGE_BUCKETS, counts, strict=True)]


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
