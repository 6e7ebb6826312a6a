"""The SLA report from stored met-by moments equals the old all-Python computation.

The reference below is the report as it was before the moments were stored: every
ticket of the span read and judged by ``rules.sla_outcome.outcome`` in float business
minutes. On a demo desk (whole-minute arrivals, so no float boundary cases) the two
must agree group by group and week by week, stamped or not, and after a priority or
policy change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import func, select

from dispatch_tui import demo
from dispatch_tui.rules.priority import PRIORITIES
from dispatch_tui.rules.sla_outcome import BusinessTimeline, outcome
from dispatch_tui.rules.utilization import IsoWeek
from dispatch_tui.services import Desk, reports, settings, sla_stamps, triage
from dispatch_tui.store import sla_tally
from dispatch_tui.store.models import Ticket

NOW = datetime(2026, 3, 18, 19, 41, 7, tzinfo=UTC)  # a Wednesday afternoon in Chicago
CLOCKS = ("first_response", "engagement", "resolution")


def _figures(groups) -> dict[str, tuple]:
    return {
        g.name: (g.tickets, *((t.met, t.missed, t.pending) for t in map(g.tally, CLOCKS)))
        for g in groups
    }


class _Groups:
    """What both reference reports share: every ticket's arrival, priority and three
    moments, read plainly with the policy in force, and the report's groups (by
    priority over the period, all, and by week), named as the report names them."""

    def __init__(self, desk: Desk, first: date, last: date, weeks: int) -> None:
        with desk.db.read() as session:
            self.policy = settings.load_policy(session)
            self.rows = session.exec(
                select(
                    Ticket.created_at,
                    Ticket.priority,
                    Ticket.first_response_at,
                    Ticket.engaged_at,
                    Ticket.resolved_at,
                )
            ).all()
        self.zone = self.policy.calendar.tz
        self.period = reports.Period.of(first, last, self.zone)
        self.weeks = [IsoWeek.containing(last - timedelta(weeks=n)) for n in range(weeks)][::-1]
        self.by_week = {str(w): reports.SlaGroup(str(w)) for w in self.weeks}
        self.by_priority: dict[str, reports.SlaGroup] = {}
        self.everything = reports.SlaGroup("all")

    def of(self, created: datetime, priority: str | None) -> list[reports.SlaGroup]:
        """The groups a ticket that arrived at ``created`` counts in."""
        groups = []
        if self.period.start <= created < self.period.end:
            name = priority or "untriaged"
            groups += [self.by_priority.setdefault(name, reports.SlaGroup(name)), self.everything]
        week = self.by_week.get(str(IsoWeek.containing(created.astimezone(self.zone).date())))
        if week is not None:
            groups.append(week)
        return groups


def _reference(desk: Desk, first: date, last: date, weeks: int, now: datetime):
    """The pre-stored report: (figures by group, figures by week), all in Python."""
    g = _Groups(desk, first, last, weeks)
    policy = g.policy
    start = min(g.period.start, g.weeks[0].bounds(g.zone)[0])
    timeline = BusinessTimeline(policy.calendar, start, now + timedelta(days=30))
    for created, priority, *done in g.rows:
        for group in g.of(created, priority):
            group.tickets += 1
            if priority is None:
                target = policy.sla.untriaged_first_response()
                group.first_response.add(outcome(created, done[0], target, now, timeline))
                continue
            targets = policy.sla.targets.get(priority) or policy.sla.targets["medium"]
            for clock, at in zip(CLOCKS, done, strict=True):
                minutes = getattr(targets, clock)
                group.tally(clock).add(outcome(created, at, minutes, now, timeline))
    order = [*PRIORITIES, "untriaged"]
    ranked = sorted(g.by_priority.values(), key=lambda group: order.index(group.name))
    return _figures([*ranked, g.everything]), _figures(g.by_week.values())


def _assert_equal_to_reference(desk: Desk, now: datetime = NOW) -> None:
    first, last = reports.default_period(settings.shop_timezone(desk), now)
    report = reports.sla_report(desk, now=now)
    groups, weeks = _reference(desk, first, last, reports.TREND_WEEKS, now)
    assert _figures(report.groups) == groups
    assert _figures(report.weeks) == weeks
    assert groups["all"][0] > 100  # the period holds enough tickets to mean something


def _stale(desk: Desk) -> int:
    with desk.db.read() as session:
        stamp = sla_stamps.stamp_of(settings.load_policy(session))
        return session.exec(select(func.count()).where(sla_stamps.stale(stamp))).one()


def test_stored_report_equals_the_python_one_on_a_demo_desk(desk: Desk) -> None:
    demo.generate(desk, tickets=3000, now=NOW)
    assert _stale(desk) == 0  # the demo stamps every ticket: the SQL path is what runs
    _assert_equal_to_reference(desk)
    # Later, with clocks that were running now decided by time alone.
    _assert_equal_to_reference(desk, NOW + timedelta(hours=5))


def test_unstamped_rows_are_judged_live_and_restamp_fills_them(desk: Desk) -> None:
    demo.generate(desk, tickets=3000, now=NOW)
    with desk.db.write() as session:
        session.connection().execute(
            Ticket.__table__.update()
            .where(Ticket.__table__.c.id % 3 == 0)
            .values(sla_basis=None, sla_policy=None, respond_by=None)
        )
    assert _stale(desk) == 1000
    _assert_equal_to_reference(desk)
    assert sla_stamps.restamp(desk, batch=300) == 1000
    assert _stale(desk) == 0
    _assert_equal_to_reference(desk)


@pytest.mark.parametrize(
    ("first", "last", "weeks"),
    [
        # A period that starts and ends mid-week, over the change to daylight time
        # (8 March in Chicago), with a trend longer than it.
        (date(2026, 3, 4), date(2026, 3, 12), 3),
        # A period longer than the trend: the trend's weeks lie inside it.
        (date(2026, 1, 7), date(2026, 3, 17), 2),
        # A short period inside the default trend.
        (date(2026, 3, 16), date(2026, 3, 17), 8),
        # A trend of one week ending before today: clocks still running in it.
        (date(2026, 2, 20), date(2026, 2, 26), 1),
    ],
)
def test_each_stretch_of_the_span_counts_for_its_period_and_week(
    desk: Desk, first: date, last: date, weeks: int
) -> None:
    """The report counts the span one stretch at a time, cut at every week and period
    bound (services/reports.py ``_segments``): periods and trends that do not line up
    with each other must still give the all-Python figures, stamped or not, now and
    hours later."""
    demo.generate(desk, tickets=3000, now=NOW)
    with desk.db.write() as session:
        session.connection().execute(
            Ticket.__table__.update()
            .where(Ticket.__table__.c.id % 5 == 0)
            .values(sla_basis=None, sla_policy=None, respond_by=None)
        )
    for now in (NOW, NOW + timedelta(hours=5)):
        report = reports.sla_report(desk, first, last, weeks=weeks, now=now)
        groups, by_week = _reference(desk, first, last, weeks, now)
        assert _figures(report.groups) == groups
        assert _figures(report.weeks) == by_week
        assert sum(g.tickets for g in report.weeks) > 50


def test_a_report_without_trend_counts_the_period_alone(desk: Desk) -> None:
    demo.generate(desk, tickets=3000, now=NOW)
    first, last = date(2026, 3, 2), date(2026, 3, 15)
    without = reports.sla_report(desk, first, last, weeks=0, now=NOW)
    groups, _weeks = _reference(desk, first, last, 1, NOW)
    assert without.weeks == [] and _figures(without.groups) == groups


def test_a_priority_change_is_never_judged_on_the_old_moments(desk: Desk) -> None:
    demo.generate(desk, tickets=3000, now=NOW)
    with desk.db.read() as session:
        ticket = session.exec(
            select(Ticket)
            .where(
                Ticket.status == "triaged",
                Ticket.priority == "low",
                Ticket.ticket_type == "incident",
            )
            .order_by(Ticket.created_at.desc())
            .limit(1)
        ).one()
    version = ticket.version
    # Triage raises it to critical; its resolution target shrinks from 40 to 4 hours.
    triage.update_triage_fields(desk, ticket.id, impact="high", urgency="high")
    with desk.db.read() as session:
        after = session.get(Ticket, ticket.id)
    assert after.priority == "critical" and after.sla_basis == "critical"
    assert after.resolve_by < ticket.resolve_by and after.version == version + 1
    _assert_equal_to_reference(desk)
    # A writer that changes the priority without stamping: judged live, still right.
    with desk.db.write() as session:
        session.connection().execute(
            Ticket.__table__.update()
            .where(Ticket.__table__.c.id == ticket.id)
            .values(priority="quick_hit")
        )
    assert _stale(desk) == 1
    _assert_equal_to_reference(desk)


def test_a_policy_change_judges_everything_by_the_new_policy(desk: Desk) -> None:
    demo.generate(desk, tickets=3000, now=NOW)
    with desk.db.read() as session:
        recent = session.exec(
            select(func.count()).where(
                Ticket.created_at >= datetime.now(UTC) - timedelta(days=sla_stamps.RECENT_DAYS)
            )
        ).one()
    settings.set_sla_targets(desk, {"medium": {"first_response": 30, "resolution": 600}})
    # The change restamped the tickets the dashboard reads; the rest is judged live.
    assert _stale(desk) == 3000 - recent
    _assert_equal_to_reference(desk)
    assert sla_stamps.restamp(desk) == 3000 - recent
    _assert_equal_to_reference(desk)


def test_catch_up_restamps_history_once_per_policy(desk: Desk) -> None:
    demo.generate(desk, tickets=600, now=NOW)
    settings.set_sla_targets(desk, {"medium": {"first_response": 30, "resolution": 600}})
    behind = _stale(desk)
    assert behind > 0  # the demo's older history, left for a full restamp
    # The first start after the change stamps what the policy change left behind...
    assert sla_stamps.catch_up(desk) == behind
    assert _stale(desk) == 0
    # ...and later starts only read the marker.
    assert sla_stamps.catch_up(desk) == 0
    _assert_equal_to_reference(desk)
    # Another policy change makes the marker old again.
    settings.set_sla_targets(desk, {"medium": {"first_response": 45, "resolution": 700}})
    behind = _stale(desk)
    assert behind > 0
    assert sla_stamps.catch_up(desk) == behind
    assert _stale(desk) == 0


def test_a_holiday_restamps_the_recent_tickets(desk: Desk) -> None:
    from dispatch_tui.services import holidays

    now = datetime.now(UTC)
    demo.generate(desk, tickets=600, now=now)
    holidays.add_holiday(desk, "Snow day", day=(now - timedelta(days=3)).date())
    assert _stale(desk) < 600  # the demo's old history waits for a full restamp
    with desk.db.read() as session:
        stamp = sla_stamps.stamp_of(settings.load_policy(session))
        old = session.exec(
            select(func.count()).where(
                Ticket.created_at >= now - timedelta(days=sla_stamps.RECENT_DAYS),
                sla_stamps.stale(stamp),
            )
        ).one()
    assert old == 0
    _assert_equal_to_reference(desk, now)


def test_an_older_file_gains_the_columns_and_restamp_fills_them(db_target, db, desk: Desk) -> None:
    from sqlalchemy import inspect, text

    from dispatch_tui.store import Database, schema

    demo.generate(desk, tickets=600, now=NOW)
    # Back to the schema before the SLA columns: none of them, no index, the version
    # before that migration (its number may change when branches merge).
    step = next(n for n, f in schema.MIGRATIONS.items() if f is schema.add_sla_due_columns)
    with db.write() as session:
        conn = session.connection()
        sla_tally.suspend(conn)
        conn.execute(text("DROP TABLE sla_tally"))
        for clock in ("response", "engagement", "resolution"):
            conn.execute(text(f"DROP INDEX ix_ticket_running_{clock}"))
        conn.execute(text("DROP INDEX ix_ticket_created"))
        conn.execute(text("CREATE INDEX ix_ticket_created ON ticket (created_at)"))
        for name in ("sla_basis", "sla_policy", "respond_by", "engage_by", "resolve_by"):
            conn.execute(text(f"ALTER TABLE ticket DROP COLUMN {name}"))
        conn.execute(
            text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(step - 1)}
        )
    db.dispose()
    reopened = Database(db_target)
    try:
        with reopened.read() as session:
            conn = session.connection()
            assert schema.read_version(conn) == schema.SCHEMA_VERSION
            indexes = {i["name"] for i in inspect(conn).get_indexes("ticket")}
            columns = {c["name"] for c in inspect(conn).get_columns("ticket")}
        assert "ix_ticket_running_resolution" in indexes and "resolve_by" in columns
        assert not {"ix_ticket_created_sla", "ix_ticket_priority_sla"} & indexes
        migrated = Desk(reopened, "tester")
        assert _stale(migrated) == 600
        _assert_equal_to_reference(migrated)  # judged live until restamped, still right
        assert sla_stamps.restamp(migrated) == 600
        assert _stale(migrated) == 0
        _assert_equal_to_reference(migrated)
    finally:
        reopened.dispose()


@pytest.mark.sqlite_only
def test_restamp_sla_command_fills_a_file(db_path, db, desk: Desk, capsys) -> None:
    import json

    from dispatch_tui.cli.main import run

    demo.generate(desk, tickets=300, now=NOW)
    with db.write() as session:
        session.connection().execute(Ticket.__table__.update().values(sla_policy=None))
    db.dispose()
    assert run(["restamp-sla", "--db", str(db_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"restamped": 300}
    assert _stale(desk) == 0


def _straight_report(desk: Desk, first: date, last: date, weeks: int, now: datetime):
    """The report's figures by the plainest route: every ticket read, its moments
    derived afresh under the policy in force (stored ones ignored) and each clock
    judged by ``rules.sla_due.judge``; groups named and ordered as the report does."""
    from dispatch_tui.rules.sla_due import UNTRIAGED, judge, timeline_for

    g = _Groups(desk, first, last, weeks)
    policy, rows = g.policy, g.rows
    timeline = timeline_for(policy.calendar, min(r[0] for r in rows), max(r[0] for r in rows))
    for created, priority, *done in rows:
        groups = g.of(created, priority)
        due = sla_stamps.due_of(created, priority, policy, timeline)
        moments = (due.respond_by, due.engage_by, due.resolve_by)
        for group in groups:
            group.tickets += 1
            for clock, at, by in zip(CLOCKS, done, moments, strict=True):
                if by is not None:
                    group.tally(clock).add(judge(at, by, now))
    order = [*PRIORITIES, UNTRIAGED]
    ranked = sorted(
        g.by_priority.values(),
        key=lambda group: (
            order.index(group.name) if group.name in order else len(order),
            group.name,
        ),
    )
    return _figures([*ranked, g.everything]), _figures(g.by_week.values())


@pytest.mark.parametrize("zone", ["America/Chicago", "Asia/Kathmandu"])
def test_a_randomised_desk_counts_as_the_straight_reference(desk: Desk, zone: str) -> None:
    """Every case the SQL counts or hands to Python, mixed at random: each priority,
    none, and one no policy knows; events before, exactly at, just after and long after
    their moment, or not yet; moments current, stale, of another priority or missing.
    The report must give the plain per-ticket figures for periods and trends that cut
    weeks mid-way, and with ``now`` exactly at a running clock's moment."""
    import random

    from dispatch_tui.rules.sla_due import timeline_for

    rng = random.Random(9)
    demo.generate(desk, tickets=1500, now=NOW)
    # Kathmandu's offset is 5:45: each week bound cuts an hour, whose minutes are read
    # from ticket rows rather than the tally (store/sla_tally.py, ``cover``).
    settings.set_shop_timezone(desk, zone)
    with desk.db.read() as session:
        policy = settings.load_policy(session)
        rows = session.exec(select(Ticket.id, Ticket.created_at)).all()
    timeline = timeline_for(policy.calendar, min(r[1] for r in rows), max(r[1] for r in rows))
    offsets = [None, -timedelta(minutes=7), timedelta(0), timedelta(microseconds=1)]
    offsets.append(timedelta(hours=30))
    params, running = [], []
    for ticket_id, created in rows:
        priority = rng.choice([*PRIORITIES, None, "urgent", ""])
        due = sla_stamps.due_of(created, priority, policy, timeline)
        done = []
        for by in (due.respond_by, due.engage_by, due.resolve_by):
            offset = rng.choice(offsets)
            # Untriaged: no moment to aim at, and the clock is not judged either way.
            aim = by or due.respond_by
            done.append(None if offset is None else max(created, aim + offset))
            if offset is None and by is not None:
                running.append(by)
        stored = sla_stamps.columns(due)
        state = rng.choice(["current", "current", "current", "other policy", "other", "none"])
        if state == "other policy":
            stored["sla_policy"] = "0000000000000000"
        elif state == "other":
            stored["sla_basis"] = rng.choice(PRIORITIES)
        elif state == "none":
            stored = dict.fromkeys(stored)
        params.append(
            {
                "b_id": ticket_id,
                "b_priority": priority,
                "b_first": done[0],
                "b_engaged": done[1],
                "b_resolved": done[2],
                **{f"b_{k}": v for k, v in stored.items()},
            }
        )
    table = Ticket.__table__
    from sqlalchemy import bindparam

    with desk.db.write() as session:
        session.connection().execute(
            table.update()
            .where(table.c.id == bindparam("b_id"))
            .values(
                priority=bindparam("b_priority"),
                first_response_at=bindparam("b_first"),
                engaged_at=bindparam("b_engaged"),
                resolved_at=bindparam("b_resolved"),
                **{k: bindparam(f"b_{k}") for k in stored},
            ),
            params,
        )
    assert 0 < _stale(desk) < len(rows)
    at_a_moment = max(by for by in running if by <= NOW)
    for first, last, weeks in (
        (date(2026, 2, 19), date(2026, 3, 18), 8),
        (date(2026, 3, 4), date(2026, 3, 12), 3),
        (date(2026, 1, 7), date(2026, 3, 17), 2),
    ):
        for now in (NOW, at_a_moment, NOW + timedelta(hours=5)):
            report = reports.sla_report(desk, first, last, weeks=weeks, now=now)
            groups, by_week = _straight_report(desk, first, last, weeks, now)
            assert _figures(report.groups) == groups
            assert _figures(report.weeks) == by_week
            assert "urgent" in groups and groups["all"][0] > 100


def test_a_current_stamp_on_a_priority_no_policy_knows_still_counts(desk: Desk) -> None:
    # SQL counts the known priorities and untriaged; a value outside them (a renamed
    # policy entry) goes to Python even when its moments are current.
    demo.generate(desk, tickets=600, now=NOW)
    with desk.db.write() as session:
        session.connection().execute(
            Ticket.__table__.update()
            .where(Ticket.__table__.c.id % 4 == 0, Ticket.__table__.c.priority == "low")
            .values(priority="P9")
        )
    sla_stamps.restamp(desk)
    assert _stale(desk) == 0
    first, last = reports.default_period(settings.shop_timezone(desk), NOW)
    report = reports.sla_report(desk, now=NOW)
    groups, weeks = _straight_report(desk, first, last, reports.TREND_WEEKS, NOW)
    assert _figures(report.groups) == groups and _figures(report.weeks) == weeks
    assert groups["P9"][0] > 0


@pytest.mark.sqlite_only
def test_the_counts_read_tally_ranges_and_running_clock_ranges(desk: Desk) -> None:
    """Finished clocks come from ranges of the tally's key, running ones from one range
    of their clock's partial index per priority and stretch: no ticket row, no sort."""
    from dispatch_tui.services import sla_counts

    demo.generate(desk, tickets=300, now=NOW)
    bounds = [NOW - timedelta(days=d, hours=5) for d in (30, 20, 10, 0)]
    stretches = list(zip(bounds, bounds[1:], strict=False))
    plans = []
    with desk.db.read() as session:
        conn = session.connection()
        every = tuple(
            (i, j, k)
            for i in range(len(stretches))
            for j in range(len(sla_counts.BASES))
            for k in range(3)
            if k == 0 or sla_counts.BASES[j] is not None
        )
        for statement in (
            sla_counts._tally_sums(("d", "h", "h", "d")),
            sla_counts._pending(len(stretches), every),
        ):
            compiled = statement.compile(dialect=conn.dialect)
            args = tuple(NOW if "stamp" not in k else "x" for k in compiled.positiontup)
            sql = f"EXPLAIN QUERY PLAN {compiled}"
            plans.append([row[-1] for row in conn.exec_driver_sql(sql, args)])
    tally, running = plans
    reads = [p for p in tally if "sla_tally" in p]
    assert len(reads) == 4
    assert all("(grain=? AND starts_at>? AND starts_at<?)" in p for p in reads)
    ranges = [p for p in running if "ix_ticket_running_" in p]
    # Untriaged asks for a NULL or an empty priority: two ranges.
    assert len(ranges) == len(stretches) * (3 * len(PRIORITIES) + 2)
    assert all("created_at>? AND created_at<?" in p for p in ranges)
    assert not any("TEMP B-TREE" in p or "SCAN ticket" in p for p in running)


@pytest.mark.sqlite_only
def test_a_schema_6_file_gains_the_tally_and_the_steps_run_twice(db_path, db, desk: Desk) -> None:
    from sqlalchemy import text

    from dispatch_tui.store import Database, schema

    demo.generate(desk, tickets=600, now=NOW)
    before = reports.sla_report(desk, now=NOW)
    with db.write() as session:
        conn = session.connection()
        sla_tally.suspend(conn)
        conn.execute(text("DROP TABLE sla_tally"))
        for clock in ("response", "engagement", "resolution"):
            conn.execute(text(f"DROP INDEX ix_ticket_running_{clock}"))
        conn.execute(text("DROP INDEX ix_ticket_created"))
        conn.execute(text("CREATE INDEX ix_ticket_created ON ticket (created_at)"))
        conn.execute(
            text(
                "CREATE INDEX ix_ticket_created_sla ON ticket (created_at, sla_policy, "
                "sla_basis, priority, first_response_at, respond_by, engaged_at, engage_by, "
                "resolved_at, resolve_by)"
            )
        )
        step = next(n for n, f in schema.MIGRATIONS.items() if f is schema.reorder_sla_index)
        conn.execute(
            text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(step - 1)}
        )
    db.dispose()
    reopened = Database(db_path)
    try:

        def indexes() -> dict[str, list[str]]:
            with reopened.read() as session:
                rows = session.connection().exec_driver_sql("PRAGMA index_list(ticket)")
                names = [row[1] for row in rows]
                return {
                    name: [
                        r[2]
                        for r in session.connection().exec_driver_sql(f"PRAGMA index_info({name})")
                    ]
                    for name in names
                }

        def tally() -> list:
            with reopened.read() as session:
                return (
                    session.connection()
                    .exec_driver_sql("SELECT * FROM sla_tally ORDER BY 1, 2, 3, 4, 5")
                    .all()
                )

        found = indexes()
        assert not {"ix_ticket_created_sla", "ix_ticket_priority_sla"} & set(found)
        wanted = Ticket.__table__.indexes
        names = [
            "ix_ticket_created",
            *(f"ix_ticket_running_{c}" for c in ("response", "resolution")),
        ]
        for name in names:
            model = next(i for i in wanted if i.name == name)
            assert found[name] == [c.name for c in model.columns]
        counted = tally()
        assert sum(row.tickets for row in counted if row.grain == "d") == 600
        with reopened.write() as session:
            schema.reorder_sla_index(session.connection())
            schema.add_sla_tally(session.connection())
        assert indexes() == found and tally() == counted
        with reopened.read() as session:
            assert schema.read_version(session.connection()) == schema.SCHEMA_VERSION
        migrated = Desk(reopened, "tester")
        after = reports.sla_report(migrated, now=NOW)
        assert _figures(after.groups) == _figures(before.groups)
        assert _figures(after.weeks) == _figures(before.weeks)
        with reopened.write() as session:  # the triggers came with it
            conn = session.connection()
            conn.execute(text("UPDATE ticket SET priority = NULL WHERE id < 50"))
            untriaged = conn.execute(text("SELECT count(*) FROM ticket WHERE priority IS NULL"))
            expected = untriaged.scalar()
        hours = tally()
        assert sum(r.tickets for r in hours if r.grain == "h" and r.priority == "") == expected
    finally:
        reopened.dispose()


@pytest.mark.sqlite_only
def test_unstamped_new_tickets_are_found_from_the_arrival_index(desk: Desk) -> None:
    # New tickets are not stamped before triage, so a desk nearly always has a few: the
    # query that finds them tests the receipt on ix_ticket_created's entries, reading
    # only the rows that fail it, and asks only for the stretches that hold them.
    from sqlalchemy import event

    demo.generate(desk, tickets=600, now=NOW)
    with desk.db.write() as session:
        session.connection().execute(
            Ticket.__table__.update()
            .where(Ticket.__table__.c.created_at >= NOW - timedelta(hours=20))
            .values(sla_basis=None, sla_policy=None, respond_by=None)
        )
    assert 0 < _stale(desk) < 100
    seen: list[tuple[str, tuple]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, parameters))

    event.listen(desk.db.engine, "before_cursor_execute", keep)
    try:
        report = reports.sla_report(desk, now=NOW)
    finally:
        event.remove(desk.db.engine, "before_cursor_execute", keep)
    first, last = reports.default_period(settings.shop_timezone(desk), NOW)
    assert (_figures(report.groups), _figures(report.weeks)) == _straight_report(
        desk, first, last, reports.TREND_WEEKS, NOW
    )
    live = [(s, p) for s, p in seen if s.lstrip().startswith("SELECT ticket.id")]
    assert len(live) == 1
    statement, parameters = live[0]
    with desk.db.read() as session:
        plan = " ".join(
            row[-1]
            for row in session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters
            )
        )
    assert "COVERING INDEX ix_ticket_created " in plan and "SCAN" not in plan
    # Only the stretch of today's arrivals is asked for, not the eight weeks.
    assert statement.count("ticket.created_at >=") == 1
