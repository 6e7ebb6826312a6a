"""Dashboard queries rewritten for speed (issue 9) give what the straightforward ones did.

The reference functions are the queries the services ran before, kept here so the
equivalence is checked on a seeded demo desk at many moments, bucket bounds included.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import case, func
from sqlmodel import col, select

from dispatch_tui import demo
from dispatch_tui.services import Desk, reports
from dispatch_tui.store import Database
from dispatch_tui.store.models import OPEN_STATUSES, Ticket

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def demo_desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    path = tmp_path_factory.mktemp("dashboard-queries") / "demo.db"
    desk = Desk(Database(path, create=True), "tester")
    demo.generate(desk, tickets=400, seed=7, now=NOW)
    return desk


def _ref_aging(desk: Desk, now: datetime) -> list[reports.AgeBucket]:
    # Aging as it was computed: a CASE over every open ticket, grouped.
    whens = [
        (col(Ticket.created_at) > now - timedelta(days=bound), label)
        for label, bound in reports.AGE_BUCKETS
        if bound is not None
    ]
    bucket = case(*whens, else_=reports.AGE_BUCKETS[-1][0])
    with desk.db.read() as session:
        counts = dict(
            session.exec(
                select(bucket, func.count())
                .where(col(Ticket.status).in_([s.value for s in OPEN_STATUSES]))
                .group_by(bucket)
            ).all()
        )
    return [reports.AgeBucket(label, counts.get(label, 0)) for label, _ in reports.AGE_BUCKETS]


def _aging_moments(desk: Desk) -> list[datetime]:
    # Now, later and earlier moments, and moments that put an open ticket's arrival
    # exactly on a bucket's bound (strictly after the bound is the newer bucket).
    with desk.db.read() as session:
        created = session.exec(
            select(Ticket.created_at)
            .where(col(Ticket.status).in_([s.value for s in OPEN_STATUSES]))
            .order_by(col(Ticket.id))
            .limit(3)
        ).all()
    on_bounds = [
        c.replace(tzinfo=UTC) + timedelta(days=bound) + timedelta(microseconds=us)
        for c in created
        for _, bound in reports.AGE_BUCKETS
        if bound is not None
        for us in (-1, 0, 1)
    ]
    return [
        NOW,
        *(NOW + timedelta(days=d) for d in (-60, -10, -2, 1, 5, 20, 40, 400)),
        *on_bounds,
    ]


def test_aging_by_index_ranges_matches_the_grouped_case(demo_desk: Desk) -> None:
    for now in _aging_moments(demo_desk):
        got = reports.open_ticket_aging(demo_desk, now=now)
        assert got == _ref_aging(demo_desk, now), now
    buckets = reports.open_ticket_aging(demo_desk, now=NOW + timedelta(days=5))
    assert sum(1 for b in buckets if b.count) >= 3, "the demo should fill several buckets"


def test_aging_on_an_empty_desk(desk: Desk) -> None:
    assert reports.open_ticket_aging(desk, now=NOW) == [
        reports.AgeBucket(label, 0) for label, _ in reports.AGE_BUCKETS
    ]


@pytest.mark.sqlite_only
def test_aging_counts_read_ranges_of_the_status_created_index(demo_desk: Desk) -> None:
    with demo_desk.db.read() as session:
        conn = session.connection()
        compiled = reports._aging_query().compile(conn)
        bounds = tuple(NOW.isoformat(" ") for _ in compiled.positiontup or ())
        plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", bounds)]
    # Either index that leads with (status, created_at): schema 6's partial one over the
    # open statuses is the smaller, and SQLite may take it.
    ranges = [
        p
        for p in plan
        if re.search(r"ix_ticket_(status_created|open_health) \(status=\? AND created_at>\?\)", p)
    ]
    assert len(ranges) == len(reports.AGE_BUCKETS) - 1, plan
    assert not any("TEMP B-TREE" in p or p.startswith("SCAN ticket") for p in plan), plan


# -- health checks: the stopped clocks' timeline, laid out once per calendar and day -------


def _calendars():
    from dispatch_tui.rules.sla import BusinessCalendar

    return [
        BusinessCalendar(),
        # Working hours that span midnight UTC: the timeline starts inside a window.
        BusinessCalendar.from_names(
            "Pacific/Auckland",
            {d: ("08:00", "18:00") for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
            [date(2026, 12, 25), date(2026, 11, 10)],
        ),
        BusinessCalendar.from_names("America/Los_Angeles", {"mon": ("09:30", "16:00")}),
    ]


@pytest.mark.parametrize("calendar", _calendars(), ids=["default", "auckland", "one-day"])
def test_the_day_timeline_gives_the_calendar_walks_due_moments(calendar) -> None:
    import random

    from dispatch_tui.rules.sla import add_business_minutes
    from dispatch_tui.services import health

    rng = random.Random(7)
    now = datetime(2026, 11, 23, 16, 14, 48, 304909, tzinfo=UTC)
    first = now - timedelta(days=90, hours=5)
    timeline = health._day_timeline(calendar, first.date(), now.date())
    # The same object for the same calendar and days: laid out once, whatever the hour.
    assert health._day_timeline(calendar, first.date(), now.date()) is timeline
    # ... and laid out for that calendar: another policy is another key.
    assert timeline.calendar == calendar
    for _ in range(400):
        start = first + timedelta(microseconds=rng.randrange(int((now - first) / _US)))
        minutes = rng.choice([1, 59, 60, 240, 480, 600, 2400, 9600, 24000])
        assert timeline.due(start, minutes) == add_business_minutes(start, minutes, calendar)
    # Midnight of the first day itself, and arrivals right at the day's edges.
    for start in (
        datetime(first.year, first.month, first.day, tzinfo=UTC),
        now.replace(hour=23, minute=59, second=59, microsecond=999999),
    ):
        assert timeline.due(start, 480) == add_business_minutes(start, 480, calendar)


_US = timedelta(microseconds=1)


def test_stopped_clocks_follow_a_working_hours_edit(demo_desk: Desk) -> None:
    # The timeline is keyed by the calendar read in the check's transaction: new
    # working hours give new due moments at once, as the walk over rows does.
    from dispatch_tui.rules import health as rules
    from dispatch_tui.rules.health import TicketFacts
    from dispatch_tui.services import health, settings

    def walked(now: datetime) -> set[int]:
        with demo_desk.db.read() as session:
            policy = settings.load_policy(session)
            ctx = health._context(policy, health._thresholds_in(session))
            rows = [
                TicketFacts(*r) for r in session.connection().execute(select(*health._FACT_COLUMNS))
            ]
        return set(rules.past_resolution_target(rows, now, ctx).ticket_ids)

    now = NOW + timedelta(days=3)
    before = health.run_checks(
        demo_desk, now=now, thresholds=rules.HealthThresholds(max_ids=10_000)
    )
    late = {r.id: r for r in before}["past_resolution_target"]
    assert set(late.ticket_ids) == walked(now)
    with demo_desk.db.write() as session:
        settings.write_setting(
            session, "tester", settings.WORKING_HOURS, {"mon": ["10:00", "11:00"]}
        )
    try:
        after = health.run_checks(
            demo_desk, now=now, thresholds=rules.HealthThresholds(max_ids=10_000)
        )
        moved = {r.id: r for r in after}["past_resolution_target"]
        assert set(moved.ticket_ids) == walked(now)
        assert moved.ticket_ids != late.ticket_ids, "an hour a week should change who is late"
    finally:
        with demo_desk.db.write() as session:
            settings.write_setting(session, "tester", settings.WORKING_HOURS, None)
