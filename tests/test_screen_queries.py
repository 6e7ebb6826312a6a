"""Screen queries (issue 9): the batched queries return what the per-technician ones did,
the schema-2 indexes arrive by migration, and the counts run on them.

The reference functions below are the per-technician queries the services ran before
they were batched, kept here so the equivalence is checked on a seeded demo desk.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, col, select

from dispatch_tui import demo
from dispatch_tui.rules.holidays import closed_dates
from dispatch_tui.services import (
    Desk,
    dispatch_board,
    followup,
    roster,
    settings,
    sla,
    timesheets,
)
from dispatch_tui.services.availability import (
    absences,
    absences_by_tech,
    absences_within,
    add_out_of_office,
    read_staff,
)
from dispatch_tui.store import Database, queries, schema
from dispatch_tui.store.models import OPEN_STATUSES, ServiceCall, Status, Ticket
from dispatch_tui.store.types import utcnow

NOW = datetime.now(UTC).replace(microsecond=0)
OPEN = [s.value for s in OPEN_STATUSES]
READY = [Status.ASSIGNED.value, Status.IN_PROGRESS.value]
NEW_INDEXES = {
    "ix_ticket_status_due",
    "ix_ticket_status_tech_estimate",
    "ix_ticket_created_type_priority",
    "ix_service_call_start",
}


@pytest.fixture(scope="module")
def demo_desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    path = tmp_path_factory.mktemp("screen-queries") / "demo.db"
    db = Database(path, create=True)
    desk = Desk(db, "tester")
    demo.generate(desk, tickets=400, seed=7, now=NOW)
    # Absences that overlap "now" and the week, so the batched reads have rows to find.
    with db.read() as session:
        ids = read_staff(session).tech_ids
    add_out_of_office(desk, ids[0], NOW - timedelta(hours=1), NOW + timedelta(hours=3))
    add_out_of_office(desk, ids[0], NOW + timedelta(hours=5), NOW + timedelta(days=1))
    add_out_of_office(desk, ids[1], NOW - timedelta(days=3), NOW + timedelta(days=2))
    return desk


def _moments() -> list[datetime]:
    # Now, and times over the next days, when the demo's service calls are booked.
    return [NOW, *(NOW + timedelta(days=d, hours=h) for d in (1, 3, 7) for h in (0, 5))]


# -- the per-technician queries the services ran before -----------------------------------


def _ref_open_counts(session: Session, tech_id: int) -> tuple[int, float]:
    rows = session.exec(
        select(Ticket.status, func.count(), func.sum(Ticket.estimate_hours))
        .where(Ticket.assigned_tech_id == tech_id, col(Ticket.status).in_(OPEN))
        .group_by(Ticket.status)
    ).all()
    return sum(n for _, n, _ in rows), sum(float(h or 0) for s, _, h in rows if s in READY)


def _ref_calls(session: Session, tech_id: int, start: datetime, end: datetime) -> list:
    from dispatch_tui.rules.workhours import clip, merge

    rows = session.exec(
        select(ServiceCall.starts_at, ServiceCall.ends_at).where(
            ServiceCall.tech_id == tech_id,
            col(ServiceCall.starts_at) < end,
            col(ServiceCall.starts_at) >= start - timedelta(hours=24),
            col(ServiceCall.ends_at) > start,
        )
    ).all()
    return merge(clip(((a, b) for a, b in rows), start, end))


# -- equivalence ---------------------------------------------------------------------------


def test_open_counts_in_one_query_match_the_per_technician_ones(demo_desk: Desk) -> None:
    with demo_desk.db.read() as session:
        ids = read_staff(session).tech_ids
        batched = roster._open_counts(session, ids)
        expected = {tech_id: _ref_open_counts(session, tech_id) for tech_id in ids}
    assert batched.keys() == expected.keys()
    for tech_id, (count, hours) in expected.items():
        assert batched[tech_id][0] == count
        assert batched[tech_id][1] == pytest.approx(hours)
    assert sum(count for count, _ in batched.values()) > 0


def test_calls_of_every_technician_match_the_per_technician_query(demo_desk: Desk) -> None:
    found = 0
    with demo_desk.db.read() as session:
        ids = read_staff(session).tech_ids
        for moment in _moments():
            end = moment + timedelta(days=1)
            batched = roster._calls(session, ids, moment, end)
            for tech_id in ids:
                assert batched[tech_id] == _ref_calls(session, tech_id, moment, end)
                found += len(batched[tech_id])
    assert found > 0


def test_absences_of_every_technician_match_the_per_technician_query(demo_desk: Desk) -> None:
    found = 0
    with demo_desk.db.read() as session:
        ids = read_staff(session).tech_ids
        for moment in _moments():
            for span in (timedelta(hours=6), timedelta(days=8)):
                batched = absences_by_tech(session, ids, moment, moment + span)
                for tech_id in ids:
                    assert batched[tech_id] == absences(session, tech_id, moment, moment + span)
                    found += len(batched[tech_id])
        assert absences_by_tech(session, [], NOW, NOW + timedelta(days=1)) == {}
    assert found > 0


def test_absences_taken_from_a_wider_read_match_their_own_query(demo_desk: Desk) -> None:
    # The roster reads the week's absences once and takes today's from them: the same
    # lists as today's own query, for windows inside the week, on every side of the
    # demo's absences; a window not inside, or a technician at the cap, reads again.
    from dispatch_tui.rules.schedule import Absence
    from dispatch_tui.services.availability import ABSENCE_LIMIT

    found = 0
    with demo_desk.db.read() as session:
        ids = read_staff(session).tech_ids
        wide_start, wide_end = NOW - timedelta(days=4), NOW + timedelta(days=4)
        wide = absences_by_tech(session, ids, wide_start, wide_end)
        for start in (wide_start, NOW - timedelta(hours=2), NOW, NOW + timedelta(hours=4)):
            for span in (timedelta(minutes=30), timedelta(hours=6), timedelta(days=2)):
                taken = absences_within(wide, wide_start, wide_end, start, start + span)
                assert taken == absences_by_tech(session, ids, start, start + span)
                found += sum(len(rows) for rows in taken.values())
        assert absences_within(wide, wide_start, wide_end, NOW, wide_end + timedelta(1)) is None
        assert absences_within(wide, wide_start, wide_end, wide_start - timedelta(1), NOW) is None
    assert found > 0
    crowded = {1: [Absence(i, NOW, NOW + timedelta(hours=1), "") for i in range(ABSENCE_LIMIT)]}
    assert absences_within(crowded, wide_start, wide_end, NOW, NOW + timedelta(hours=1)) is None


def test_roster_with_shared_absences_matches_separate_reads(demo_desk: Desk) -> None:
    # The roster's loads and utilisation use one read of the week's absences; both are
    # what reading them separately gives, at moments with and without an absence.
    with demo_desk.db.read() as session:
        staff = read_staff(session)
        for moment in (NOW, NOW + timedelta(hours=2), NOW + timedelta(hours=6)):
            panel = roster.roster_in(session, moment, staff)
            assert [row.load for row in panel.rows] == roster.tech_loads(session, moment, staff)
            report = timesheets.utilization_in(session, None, staff)
            assert [(r.available_hours, r.utilization, r.flag) for r in report.rows] == [
                (row.available_hours, row.utilization, row.flag) for row in panel.rows
            ]
        assert any(row.load.away_now for row in roster.roster_in(session, NOW, staff).rows)


def test_roster_reads_the_absences_once(demo_desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    # Today's absences are taken from the week's: the roster reads them in one query.
    # (The week's answer was once passed in the wrong order, so every roster read
    # today's again and still agreed with the separate reads above.)
    reads: list[tuple[datetime, datetime]] = []

    def counted(session: Session, ids: list[int], start: datetime, end: datetime):  # type: ignore[no-untyped-def]
        reads.append((start, end))
        return absences_by_tech(session, ids, start, end)

    monkeypatch.setattr(roster, "absences_by_tech", counted)
    with demo_desk.db.read() as session:
        staff = read_staff(session)
        week = timesheets.current_week(staff.zone)
        for moment in (NOW, NOW + timedelta(hours=2)):
            reads.clear()
            roster.roster_in(session, moment, staff)
            assert reads == [timesheets.absence_window(week, staff.zone)]


def test_utilization_matches_per_technician_sums(demo_desk: Desk) -> None:
    report = timesheets.utilization_report(demo_desk)
    sql = text(
        "SELECT sum(CASE WHEN billable THEN hours ELSE 0 END), sum(hours) FROM time_entry "
        "WHERE tech_id = :t AND started_at >= :s AND started_at < :e"
    )
    with demo_desk.db.read() as session:
        staff = read_staff(session)
        start, end = timesheets.IsoWeek.parse(report.week).bounds(staff.zone)
        conn = session.connection()
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        bounds = {"s": start.astimezone(UTC).strftime(fmt), "e": end.astimezone(UTC).strftime(fmt)}
        for row in report.rows:
            billable, total = conn.execute(sql, {"t": row.tech_id, **bounds}).one()
            assert row.billable_hours == round(float(billable or 0), 2)
            assert row.total_hours == round(float(total or 0), 2)
    assert [r.tech_id for r in report.rows] == staff.tech_ids
    assert sum(r.total_hours for r in report.rows) > 0


def test_remembered_available_hours_follow_edits_to_hours_and_absences(desk: Desk) -> None:
    # The week's available hours are remembered by value: a change of working hours
    # or a new absence, from any connection, is a new key and a new answer.
    from dispatch_tui.rules.utilization import available_hours
    from dispatch_tui.services.availability import set_working_hours, working_hours
    from dispatch_tui.services.technicians import add_technician

    add_technician(desk, name="Dana Reyes", tier=2, skills="network")

    def hours() -> tuple[float, float]:
        report = timesheets.utilization_report(desk)
        with desk.db.read() as session:
            staff = read_staff(session)
            week = timesheets.IsoWeek.parse(report.week)
            start, end = timesheets.absence_window(week, staff.zone)
            away = absences_by_tech(session, staff.tech_ids, start, end)
            tech = staff.techs[0]
            plain = available_hours(
                working_hours(tech),
                staff.zone,
                week,
                holidays=closed_dates(staff.holidays, week.monday, week.sunday),
                away=[(a.start, a.end) for a in away[tech.id or 0]],
            )
        return report.rows[0].available_hours, plain

    seen = [hours()]
    set_working_hours(
        desk, "Dana Reyes", days="mon,tue,wed,thu,fri,sat,sun", start="08:00", end="12:00"
    )
    seen.append(hours())
    week = timesheets.current_week(read_zone_of(desk))
    monday = week.bounds(read_zone_of(desk))[0]
    add_out_of_office(desk, "Dana Reyes", monday, monday + timedelta(days=7), reason="leave")
    seen.append(hours())
    assert [mine for mine, _ in seen] == [plain for _, plain in seen]
    assert len({mine for mine, _ in seen}) == 3 and seen[-1][0] == 0.0


def read_zone_of(desk: Desk):  # type: ignore[no-untyped-def]
    with desk.db.read() as session:
        return read_staff(session).zone


def test_roster_agrees_with_its_parts_and_the_dispatch_screen(demo_desk: Desk) -> None:
    now = utcnow()
    panel = roster.roster(demo_desk, now)
    report = timesheets.utilization_report(demo_desk)
    with demo_desk.db.read() as session:
        loads = roster.tech_loads(session, now)
    assert [row.load for row in panel.rows] == loads
    assert [row.billable_hours for row in panel.rows] == [r.billable_hours for r in report.rows]
    assert panel.week == report.week
    assert dispatch_board.dispatch_data(demo_desk, now).roster == panel
    away = next(row.load for row in panel.rows if row.load.id == loads[0].id)
    assert away.away_now


# -- indexes -------------------------------------------------------------------------------


def _index_names(db: Database) -> set[str]:
    with db.read() as session:
        rows = session.connection().execute(
            text("SELECT name FROM sqlite_master WHERE type = 'index'")
        )
        return {name for (name,) in rows}


@pytest.mark.sqlite_only
def test_a_schema_1_file_gains_the_indexes_and_the_step_can_run_twice(db_path: Path) -> None:
    db = Database(db_path, create=True)
    assert _index_names(db) >= NEW_INDEXES
    with db.write() as session:
        conn = session.connection()
        for name in NEW_INDEXES:
            conn.execute(text(f"DROP INDEX {name}"))
        conn.execute(text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
    db.dispose()
    reopened = Database(db_path)
    try:
        assert _index_names(reopened) >= NEW_INDEXES
        with reopened.write() as session:
            schema.add_screen_query_indexes(session.connection())
        with reopened.read() as session:
            assert schema.read_version(session.connection()) == schema.SCHEMA_VERSION
    finally:
        reopened.dispose()


PLANS = {
    "ix_ticket_status_due": (
        "SELECT count(*) FROM ticket WHERE status IN ('new', 'assigned') "
        "AND due_at IS NOT NULL AND due_at < '2030-01-01'"
    ),
    "ix_ticket_status_tech_estimate": (
        "SELECT assigned_tech_id, count(*) FROM ticket WHERE status IN ('new', 'assigned') "
        "GROUP BY assigned_tech_id"
    ),
    "ix_ticket_created_type_priority": (
        "SELECT ticket_type, priority, count(*) FROM ticket WHERE created_at >= '2020-01-01' "
        "AND created_at < '2020-02-01' GROUP BY ticket_type, priority"
    ),
}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("index", sorted(PLANS))
def test_the_screen_counts_read_only_their_index(demo_desk: Desk, index: str) -> None:
    with demo_desk.db.read() as session:
        conn = session.connection()
        plan = " ".join(row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {PLANS[index]}")))
    assert f"COVERING INDEX {index}" in plan


def test_header_counts_in_one_statement_match_the_separate_counts(demo_desk: Desk) -> None:
    from dispatch_tui.store import queries

    with demo_desk.db.read() as session:
        counts = queries.desk_counts(session, NOW)
        new = session.exec(
            select(func.count(), func.min(Ticket.created_at)).where(
                Ticket.status == Status.NEW.value
            )
        ).one()
        unassigned = session.exec(
            select(func.count()).where(
                Ticket.status == Status.TRIAGED.value, col(Ticket.assigned_tech_id).is_(None)
            )
        ).one()
        overdue = session.exec(
            select(func.count()).where(
                col(Ticket.status).in_(OPEN),
                col(Ticket.due_at).is_not(None),
                col(Ticket.due_at) < NOW,
            )
        ).one()
    assert counts == queries.DeskCounts(new[0], unassigned, overdue, new[1])
    assert counts.untriaged and counts.unassigned and counts.overdue
    assert counts.oldest_untriaged_at is not None and counts.oldest_untriaged_at.tzinfo == UTC


def test_header_counts_on_an_empty_desk(desk: Desk) -> None:
    from dispatch_tui.store import queries

    with desk.db.read() as session:
        assert queries.desk_counts(session, NOW) == queries.DeskCounts(0, 0, 0, None)


def test_utilization_thresholds_read_in_one_query_keep_defaults_and_errors(desk: Desk) -> None:
    from dispatch_tui.errors import InvalidInput
    from dispatch_tui.services.settings import write_setting

    assert timesheets.utilization_thresholds(desk) == timesheets.Thresholds()
    timesheets.set_utilization_thresholds(desk, target=0.8)
    assert timesheets.utilization_thresholds(desk) == timesheets.Thresholds(target=0.8)
    assert timesheets.utilization_report(desk).thresholds.target == 0.8
    with desk.db.write() as session:
        write_setting(session, "tester", timesheets.UTILIZATION_HIGH, "lots")
    with pytest.raises(InvalidInput, match="utilisation settings are unusable"):
        timesheets.utilization_thresholds(desk)


def test_remembered_holidays_match_the_rules_and_follow_edits(demo_desk: Desk) -> None:
    from dispatch_tui.rules.holidays import HolidayRule, closed_dates, holiday_dates
    from dispatch_tui.rules.schedule import named_holidays

    with demo_desk.db.read() as session:
        rules = read_staff(session).holidays
    first, last = NOW.date(), (NOW + timedelta(days=400)).date()
    # The remembered answer is the expansion itself (``__wrapped__``: uncached).
    assert closed_dates(rules, first, last) == closed_dates.__wrapped__(rules, first, last)
    dates = holiday_dates(rules, first, last)
    assert dates == closed_dates.__wrapped__(rules, first, last) and dates
    dates.clear()  # a caller's copy: changing it leaves the remembered answer alone
    assert holiday_dates(rules, first, last) == closed_dates.__wrapped__(rules, first, last)
    names = named_holidays(rules, first, last)
    assert names and set(names) == holiday_dates(rules, first, last)
    names.clear()
    assert named_holidays(rules, first, last)
    # Another dispatcher's new holiday changes the rules, so the key: no stale answer.
    edited = (*rules, HolidayRule("Snow day", day=first))
    assert first in closed_dates(edited, first, last)
    assert first not in closed_dates(rules, first, last) or first in holiday_dates(
        rules, first, last
    )


def test_a_crowded_technician_never_hides_the_next_ones_rows(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batched reads cap rows per technician; when the one query hits its overall
    LIMIT they fall back to a query each, so the next technician still gets theirs."""
    from dispatch_tui.services import availability
    from dispatch_tui.services.technicians import add_technician
    from dispatch_tui.services.tickets import add_ticket

    busy = add_technician(desk, name="Busy", tier=1).id or 0
    other = add_technician(desk, name="Other", tier=1).id or 0
    assert busy < other  # the batched query orders by technician
    for hours in (0, 1, 2):
        add_out_of_office(desk, busy, NOW + timedelta(hours=hours), NOW + timedelta(hours=9))
    add_out_of_office(desk, other, NOW, NOW + timedelta(hours=2))
    ticket = add_ticket(desk, client="Northwind", summary="Server room").id or 0
    with desk.db.write() as session:
        for tech_id, hours in ((busy, 0), (busy, 2), (busy, 4), (other, 1)):
            start = NOW + timedelta(hours=hours)
            session.add(
                ServiceCall(
                    ticket_id=ticket,
                    tech_id=tech_id,
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                )
            )
    monkeypatch.setattr(availability, "ABSENCE_LIMIT", 1)
    monkeypatch.setattr(roster, "DEFAULT_LIMIT", 1)
    end = NOW + timedelta(days=1)
    with desk.db.read() as session:
        away = absences_by_tech(session, [busy, other], NOW, end)
        calls = roster._calls(session, [busy, other], NOW, end)
        assert away == {t: absences(session, t, NOW, end) for t in (busy, other)}
    assert len(away[busy]) == 1 and len(away[other]) == 1
    assert calls[busy] == [(NOW, NOW + timedelta(hours=1))]
    assert calls[other] == [(NOW + timedelta(hours=1), NOW + timedelta(hours=2))]


def test_dispatch_board_rows_match_the_orm_tickets_and_their_clocks(demo_desk: Desk) -> None:
    # The board reads plain columns and only the minutes left; the tickets it shows,
    # their order, their fields and their time left are what the ORM objects and the
    # full clocks gave.
    with demo_desk.db.read() as session:
        first, second = session.exec(
            select(Ticket.id)
            .where(col(Ticket.assigned_tech_id).is_(None), Ticket.status == Status.TRIAGED.value)
            .limit(2)
        ).all()
    for ticket_id, text_ in ((first, "called back"), (first, "again"), (second, "mailed")):
        followup.log_client_update(demo_desk, ticket_id, text_)
    now = utcnow()
    data = dispatch_board.dispatch_data(demo_desk, now)
    assert data.tickets, "the demo desk should have triaged, unassigned work"
    with demo_desk.db.read() as session:
        ids = [b.ticket.id for b in data.tickets]
        orm = {t.id: t for t in session.exec(select(Ticket).where(col(Ticket.id).in_(ids)))}
        expected = session.exec(
            select(Ticket.id).where(
                col(Ticket.assigned_tech_id).is_(None), Ticket.status == Status.TRIAGED.value
            )
        ).all()
        policy = settings.load_policy(session)
        assert sorted(ids) == sorted(expected)
        clocks = sla.clocks(policy, list(orm.values()), now)
        for item in data.tickets:
            ticket = orm[item.ticket.id]
            assert item.ticket == dispatch_board.WorkTicket._make(
                getattr(ticket, name) for name in dispatch_board.WorkTicket._fields
            )
            clock = clocks[item.ticket.id]
            assert item.minutes_left == (None if clock is None else clock.minutes_left)
        # Read with the rows now; the separate grouped query gave the same.
        updates = followup.last_client_updates(session, ids)
        assert len(updates) >= 2
        assert {b.ticket.id: b.last_client_update for b in data.tickets} == {
            i: updates.get(i) for i in ids
        }
    assert data.tickets == sorted(data.tickets, key=dispatch_board.order_key)


def _ref_policy(session: Session) -> settings.ShopPolicy:
    # load_policy as it was: one read_setting per key.
    from dispatch_tui.rules import triage as triage_rules
    from dispatch_tui.rules.priority import PriorityPolicy
    from dispatch_tui.rules.sla import BusinessCalendar
    from dispatch_tui.services.holidays import load_holiday_rules

    read = settings.read_setting
    zone = settings.parse_timezone(read(session, settings.TIMEZONE, settings.DEFAULT_TIMEZONE))
    hours = read(session, settings.WORKING_HOURS)
    default = PriorityPolicy()
    return settings.ShopPolicy(
        calendar=BusinessCalendar.from_names(zone, hours, load_holiday_rules(session)),
        sla=settings.build_sla(read(session, settings.SLA_TARGETS, {})),
        priority=settings.build_priority(
            read(session, settings.PRIORITY_MATRIX, default.matrix),
            read(session, settings.QUICK_HIT_HOURS, default.quick_hit_hours),
        ),
        categories=triage_rules.validate_categories(
            read(session, settings.CATEGORIES, triage_rules.DEFAULT_CATEGORIES)
        ),
    )


def test_policy_read_in_one_query_matches_the_per_key_reads(desk: Desk) -> None:
    with desk.db.read() as session:
        assert settings.load_policy(session) == _ref_policy(session)  # all defaults
    settings.set_shop_timezone(desk, "America/Chicago")
    settings.set_working_hours(desk, {"mon": ("07:30", "16:00"), "sat": ("09:00", "12:00")})
    settings.set_sla_targets(desk, {"high": {"engagement": 90}})
    settings.set_priority_policy(desk, quick_hit_hours=0.75)
    settings.set_categories(desk, {"email": ["outlook"], "network": []})
    with desk.db.read() as session:
        policy = settings.load_policy(session)
        assert policy == _ref_policy(session)
    assert policy.calendar.tz.key == "America/Chicago"
    assert policy.sla.targets["high"].engagement == 90
    assert policy.priority.quick_hit_hours == 0.75


def test_remembered_policy_follows_every_write_even_from_another_connection(desk: Desk) -> None:
    # The policy built from unchanged stored values is the same object (remembered);
    # any edit, through the services or as raw SQL on the file from elsewhere, is
    # a new key, so the next read builds the new policy and is never stale.
    from dispatch_tui.services.holidays import add_holiday

    with desk.db.read() as session:
        first = settings.load_policy(session)
        assert settings.load_policy(session) is first
    settings.set_sla_targets(desk, {"high": {"engagement": 90}})
    with desk.db.read() as session:
        after_sla = settings.load_policy(session)
        assert after_sla.sla.targets["high"].engagement == 90
        assert after_sla == _ref_policy(session)
    add_holiday(desk, "Snow day", day=NOW.date())
    with desk.db.read() as session:
        after_holiday = settings.load_policy(session)
        assert "Snow day" in [r.name for r in after_holiday.calendar.holiday_rules]
        assert after_holiday == _ref_policy(session)
    # Another process's write: the setting's text changes under the same key.
    other = Database(desk.db.path)
    try:
        with other.write() as session:
            session.connection().execute(
                text("UPDATE setting SET value = :v WHERE key = :k"),
                {"v": '{"high": {"engagement": 45}}', "k": settings.SLA_TARGETS},
            )
    finally:
        other.dispose()
    with desk.db.read() as session:
        edited = settings.load_policy(session)
        assert edited.sla.targets["high"].engagement == 45
        assert edited == _ref_policy(session)
    # A policy edited in this transaction and not committed is seen by this reader.
    with desk.db.write() as session:
        settings.write_setting(session, "tester", settings.QUICK_HIT_HOURS, 2.5)
        assert settings.load_policy(session).priority.quick_hit_hours == 2.5
    # Back to stored values seen before: the policy built then, equal to a fresh build.
    settings.set_sla_targets(desk, {"high": {"engagement": 90}})
    with desk.db.read() as session:
        assert settings.load_policy(session) == _ref_policy(session)


def _ref_tech_weeks(desk: Desk, now: datetime) -> list:
    # The utilisation health check's facts as they were read: the report in its own
    # transaction, then the policy, the holidays and a query per technician's absences.
    from dispatch_tui.rules.health import TechWeek
    from dispatch_tui.rules.holidays import holiday_dates
    from dispatch_tui.rules.utilization import IsoWeek, available_hours
    from dispatch_tui.services.availability import working_hours
    from dispatch_tui.services.holidays import load_holiday_rules
    from dispatch_tui.store.models import Technician

    report = timesheets.utilization_report(desk)
    week = IsoWeek.parse(report.week)
    with desk.db.read() as session:
        zone = settings.load_policy(session).calendar.tz
        start, end = week.bounds(zone)
        holidays = holiday_dates(load_holiday_rules(session), week.monday, week.sunday)
        techs = {t.id: t for t in session.exec(select(Technician)).all()}
        rows = []
        for row in report.rows:
            away = [(a.start, a.end) for a in absences(session, row.tech_id, start, end)]
            away.append((max(now, start), end + timedelta(days=1)))
            hours = working_hours(techs[row.tech_id])
            so_far = available_hours(hours, zone, week, holidays=holidays, away=away)
            rows.append(TechWeek(row.tech, row.billable_hours, so_far))
    return rows


def test_utilisation_check_facts_in_one_transaction_match_the_per_technician_reads(
    demo_desk: Desk,
) -> None:
    from dispatch_tui.services import health

    available = 0.0
    # Later moments leave more of the week's working hours behind them.
    for now in (NOW, NOW + timedelta(hours=5), NOW + timedelta(days=3), NOW + timedelta(days=7)):
        with demo_desk.db.read() as session:
            weeks = health._tech_weeks(session, now)
        assert weeks == _ref_tech_weeks(demo_desk, now)
        available += sum(w.available_hours for w in weeks)
    assert available > 0


def test_staff_from_the_policy_matches_the_staff_read(desk: Desk) -> None:
    # The Dispatch screen builds the roster's staff from the policy it read just before.
    from dispatch_tui.services.holidays import add_holiday

    settings.set_shop_timezone(desk, "Europe/London")
    add_holiday(desk, "Boxing Day", rrule="FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=26")
    add_holiday(desk, "Closed for the move", day=NOW.date() + timedelta(days=3))
    with desk.db.read() as session:
        staff = read_staff(session)
        assert read_staff(session, settings.load_policy(session)) == staff
    assert staff.zone.key == "Europe/London" and len(staff.holidays) == 2


# -- schema 5: indexes and the reads that use them ------------------------------------------


def _ref_priority_mix(desk: Desk, first, last) -> tuple:
    # The priority mix as it was computed: one GROUP BY over the period, then shares
    # and the order the dashboard shows.
    from dispatch_tui.services import reports

    with desk.db.read() as session:
        period = reports.Period.of(first, last, settings.load_policy(session).calendar.tz)
        rows = session.exec(
            select(Ticket.ticket_type, Ticket.priority, func.count())
            .where(col(Ticket.created_at) >= period.start, col(Ticket.created_at) < period.end)
            .group_by(Ticket.ticket_type, Ticket.priority)
        ).all()
    # Shares and order are the same pure function; what changed is the counting.
    return period, reports.priority_mix(rows)


def _periods() -> list[tuple]:
    today = NOW.date()
    return [
        (today - timedelta(days=27), today),
        (today, today),
        (today - timedelta(days=3), today - timedelta(days=1)),
        (today - timedelta(days=365), today),
        (today + timedelta(days=1), today + timedelta(days=9)),
    ]


def test_priority_mix_by_pair_ranges_matches_the_grouped_count(demo_desk: Desk) -> None:
    from dispatch_tui.services import reports

    for first, last in _periods():
        assert reports.priority_distribution(demo_desk, first, last) == _ref_priority_mix(
            demo_desk, first, last
        )
    _, rows = reports.priority_distribution(demo_desk, *_periods()[3])
    assert {r.ticket_type for r in rows} >= {"incident", "service_request", "untriaged"}


def test_priority_mix_counts_values_triage_never_sets(desk: Desk) -> None:
    # An imported value outside the known types and priorities makes the pair counts
    # fall short of the total: the whole period is grouped instead, so it still shows.
    from dispatch_tui.services import reports
    from dispatch_tui.services.tickets import add_ticket

    ids = [add_ticket(desk, client="Northwind", summary=f"t{i}").id for i in range(5)]
    with desk.db.write() as session:
        conn = session.connection()
        for ticket_id, kind, priority in (
            (ids[0], "incident", "P1"),
            (ids[1], "change", "low"),
            (ids[2], "incident", "high"),
            (ids[3], None, "medium"),
        ):
            conn.execute(
                text("UPDATE ticket SET ticket_type = :k, priority = :p WHERE id = :i"),
                {"k": kind, "p": priority, "i": ticket_id},
            )
    today = NOW.date()
    period, rows = reports.priority_distribution(desk, today - timedelta(days=1), today)
    assert (period, rows) == _ref_priority_mix(desk, today - timedelta(days=1), today)
    assert {(r.ticket_type, r.priority) for r in rows} >= {("incident", "P1"), ("change", "low")}


SCHEMA_5_INDEXES = {
    "ix_ticket_tech_status_priority": (
        "ticket",
        "assigned_tech_id, status, queue_position, priority, created_at",
        "ix_ticket_tech_status",
        "assigned_tech_id, status, queue_position",
    ),
    "ix_ticket_client_created_tech": (
        "ticket",
        "client_id, created_at, assigned_tech_id",
        "ix_ticket_client_created",
        "client_id, created_at",
    ),
    "ix_ticket_type_priority_created": ("ticket", "ticket_type, priority, created_at", None, None),
    "ix_time_entry_tech_start_hours": (
        "time_entry",
        "tech_id, started_at, billable, hours, approved_at",
        "ix_time_entry_tech_start",
        "tech_id, started_at",
    ),
}


@pytest.mark.sqlite_only
def test_a_schema_3_file_gains_the_wider_indexes_and_the_step_can_run_twice(
    db_path: Path,
) -> None:
    db = Database(db_path, create=True)
    names = _index_names(db)
    assert names >= set(SCHEMA_5_INDEXES)
    assert not names & {old for _, _, old, _ in SCHEMA_5_INDEXES.values() if old}
    # Back to schema 3's indexes.
    with db.write() as session:
        conn = session.connection()
        for name, (table, _, old, old_columns) in SCHEMA_5_INDEXES.items():
            conn.execute(text(f"DROP INDEX {name}"))
            if old:
                conn.execute(text(f"CREATE INDEX {old} ON {table} ({old_columns})"))
        conn.execute(text("UPDATE meta SET value = '3' WHERE key = 'schema_version'"))
    db.dispose()
    reopened = Database(db_path)
    try:
        names = _index_names(reopened)
        assert names >= set(SCHEMA_5_INDEXES)
        assert not names & {old for _, _, old, _ in SCHEMA_5_INDEXES.values() if old}
        with reopened.write() as session:
            schema.widen_screen_indexes(session.connection())
        assert _index_names(reopened) == names
        with reopened.read() as session:
            assert schema.read_version(session.connection()) == schema.SCHEMA_VERSION
    finally:
        reopened.dispose()


SCHEMA_5_PLANS = {
    # The board picks its work from the index alone (then reads the rows it shows).
    "ix_ticket_tech_status_priority": (
        "SELECT id FROM ticket WHERE assigned_tech_id IS NULL AND status = 'triaged' "
        "ORDER BY CASE priority WHEN 'critical' THEN 0 ELSE 1 END, created_at, id LIMIT 200"
    ),
    "ix_ticket_client_created_tech": (
        "SELECT assigned_tech_id, count(*) FROM ticket WHERE client_id = 1 "
        "AND created_at >= '2026-01-01' AND assigned_tech_id IS NOT NULL "
        "GROUP BY assigned_tech_id"
    ),
    "ix_ticket_type_priority_created": (
        "SELECT count(*) FROM ticket WHERE ticket_type = 'incident' AND priority IS NULL "
        "AND created_at >= '2026-01-01' AND created_at < '2026-02-01'"
    ),
    "ix_time_entry_tech_start_hours": (
        "SELECT tech_id, sum(hours), sum(CASE WHEN billable IS 1 AND approved_at IS NULL "
        "THEN hours ELSE 0 END) FROM time_entry WHERE tech_id IN (1, 2) "
        "AND started_at >= '2026-01-01' AND started_at < '2026-01-08' GROUP BY tech_id"
    ),
}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("index", sorted(SCHEMA_5_PLANS))
def test_the_schema_5_reads_use_only_their_index(demo_desk: Desk, index: str) -> None:
    with demo_desk.db.read() as session:
        conn = session.connection()
        plan = " ".join(
            row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {SCHEMA_5_PLANS[index]}"))
        )
    assert f"COVERING INDEX {index}" in plan


@pytest.mark.parametrize("limit", [1, 5, 17, 200])
def test_board_work_chosen_on_the_index_is_the_first_of_the_ordered_query(
    demo_desk: Desk, limit: int
) -> None:
    # The board picks its tickets in a subquery and sorts the rows in Python; the
    # tickets and their order must be those of the straightforward ordered query.
    from sqlalchemy import case

    from dispatch_tui.rules.priority import PRIORITY_RANK

    rank = case(
        *((Ticket.priority == name, value) for name, value in PRIORITY_RANK.items()),
        else_=len(PRIORITY_RANK),
    )
    with demo_desk.db.read() as session:
        expected = session.exec(
            select(Ticket.id)
            .where(col(Ticket.assigned_tech_id).is_(None), Ticket.status == Status.TRIAGED.value)
            .order_by(rank, col(Ticket.created_at), col(Ticket.id))
            .limit(limit)
        ).all()
        got = dispatch_board.unassigned_work(session, limit)
    assert [ticket.id for ticket, _, _ in got] == list(expected)
    assert len(expected) == min(limit, len(dispatch_board.dispatch_data(demo_desk).tickets))


def test_suggestions_from_plain_columns_match_the_orm_ticket_ranking(demo_desk: Desk) -> None:
    # suggest_for reads the ticket's columns and the client's history as Core rows;
    # ranking the ORM ticket with the history counted from its rows gives the same.
    from dispatch_tui.rules import suggest
    from dispatch_tui.services import suggestions
    from dispatch_tui.store.models import Client

    now = utcnow()
    with demo_desk.db.read() as session:
        ids = session.exec(select(Ticket.id).order_by(col(Ticket.id)).limit(40)).all()
        loads = roster.tech_loads(session, now)
        for ticket_id in ids:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            history: dict[int, int] = {}
            for other in session.exec(
                select(Ticket).where(
                    Ticket.client_id == ticket.client_id,
                    col(Ticket.created_at) >= now - timedelta(days=suggestions.HISTORY_DAYS),
                )
            ):
                if other.assigned_tech_id is not None:
                    tech = other.assigned_tech_id
                    history[tech] = history.get(tech, 0) + 1
            facts = [
                suggestions.tech_facts(load, history)
                for load in loads
                if load.id != ticket.assigned_tech_id
            ]
            expected = suggest.rank(suggestions.ticket_facts(ticket), facts)
            client = session.get(Client, ticket.client_id)
            got = suggestions.suggest_for(demo_desk, ticket_id, now=now)
            assert got == suggestions.Suggestions(ticket_id, client.name, expected)
    assert any(s.client_history for s in got.suggestions) or history == {}


def test_schedule_board_calls_as_core_rows_match_the_orm_calls(demo_desk: Desk) -> None:
    from dispatch_tui.services import schedule
    from dispatch_tui.store.models import Client, Technician

    monday = NOW.date() - timedelta(days=NOW.weekday())
    seen = 0
    for first, last in ((monday, monday + timedelta(days=6)), (NOW.date(), NOW.date())):
        board = schedule.board(demo_desk, first, last)
        start = datetime.combine(first, datetime.min.time(), tzinfo=board.zone)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=board.zone)
        with demo_desk.db.read() as session:
            calls = session.exec(
                select(ServiceCall)
                .where(
                    col(ServiceCall.starts_at) < end,
                    col(ServiceCall.starts_at) >= start - timedelta(hours=schedule.MAX_CALL_HOURS),
                    col(ServiceCall.ends_at) > start,
                )
                .order_by(col(ServiceCall.starts_at), col(ServiceCall.id))
            ).all()
            expected = []
            for call in calls:
                ticket = session.get(Ticket, call.ticket_id)
                tech = session.get(Technician, call.tech_id)
                client = session.get(Client, ticket.client_id)
                expected.append(
                    schedule.CallRow(
                        call.id,
                        call.ticket_id,
                        call.tech_id,
                        tech.name,
                        client.name,
                        ticket.summary,
                        call.starts_at,
                        call.ends_at,
                        call.firm,
                        call.override_reason,
                        call.created_by,
                        call.version,
                    )
                )
        assert board.calls == expected
        seen += len(expected)
    assert seen


def test_tickets_with_names_in_one_statement_match_one_read_per_ticket(demo_desk: Desk) -> None:
    from dispatch_tui.services.tickets import get_ticket

    with demo_desk.db.read() as session:
        ids = list(session.exec(select(Ticket.id).order_by(col(Ticket.id)).limit(60)).all())
        # An id that does not exist is left out.
        rows = queries.tickets_with_names(session, [*ids, 10**9])
    found = {row.ticket.id or 0: row for row in rows}
    assert sorted(found) == sorted(ids)
    for ticket_id in ids:
        one = get_ticket(demo_desk, ticket_id or 0)
        batch = found[ticket_id or 0]
        assert (batch.client, batch.contact) == (one.client, one.contact)
        assert batch.ticket.model_dump() == one.ticket.model_dump()
