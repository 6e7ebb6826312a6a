"""The health service's SQL pre-filters hand the rules the right candidates.

Default calendar: UTC, Monday to Friday 08:00-17:00; 2 February 2026 is a Monday.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dispatch_tui.errors import InvalidInput
from dispatch_tui.rules.health import CHECK_IDS
from dispatch_tui.services import Desk, health
from dispatch_tui.store.models import Client, Note, ServiceCall, Technician, Ticket, TimeEntry


def utc(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 2, day, hour, minute, tzinfo=UTC)


NOW = utc(4, 12)  # Wednesday noon


@pytest.fixture
def troubled(desk: Desk) -> dict[str, int]:
    """One offender per ticket check, plus a healthy twin where it matters."""
    made: dict[str, int] = {}
    with desk.db.write() as session:
        client, tech = Client(name="Pinecrest"), Technician(name="Ava")
        session.add_all([client, tech])
        session.flush()

        def add(name: str, **kw) -> Ticket:
            kw.setdefault("created_at", utc(2, 9))
            kw.setdefault("updated_at", kw["created_at"])
            row = Ticket(client_id=client.id, summary=name, **kw)
            session.add(row)
            session.flush()
            made[name] = row.id
            return row

        add("untriaged", status="new", created_at=utc(4, 10))
        add("fresh_new", status="new", created_at=utc(4, 11, 30))
        add("waiting", status="waiting_client", created_at=utc(2, 9))
        quiet_but_noted = add("waiting_noted", status="waiting_vendor")
        session.add(Note(ticket_id=quiet_but_noted.id, body="chased", created_at=utc(3, 15)))
        booked = add("booked", status="assigned", priority="low", engaged_at=utc(2, 10))
        session.add(
            ServiceCall(
                ticket_id=booked.id, tech_id=tech.id, starts_at=utc(3, 9), ends_at=utc(3, 11)
            )
        )
        session.add(Note(ticket_id=booked.id, body="visited", created_at=utc(3, 11)))
        ahead = add("booked_ahead", status="assigned", estimate_hours=6, priority="low")
        session.add(
            ServiceCall(
                ticket_id=ahead.id, tech_id=tech.id, starts_at=utc(5, 9), ends_at=utc(5, 15)
            )
        )
        add("on_hold", status="on_hold", due_at=NOW, priority="low")
        add("large", status="triaged", estimate_hours=5, priority="low")
        late = add(
            "late",
            status="in_progress",
            priority="critical",
            created_at=utc(3, 9),
            engaged_at=utc(3, 9, 30),
            updated_at=utc(4, 11),
        )
        session.add(Note(ticket_id=late.id, body="on it", created_at=utc(3, 10)))
        add(
            "escalated",
            status="in_progress",
            escalated=True,
            priority="low",
            created_at=utc(3, 9),
            updated_at=utc(3, 9),
        )
        add("resolved", status="resolved", resolved_at=utc(3, 9), priority="low")
        add(
            "silent",
            status="in_progress",
            priority="low",
            engaged_at=utc(2, 10),
            updated_at=utc(4, 11),
        )
        entry_ticket = add("timed", status="resolved", priority="low", resolved_at=utc(3, 9))
        session.add(Note(ticket_id=entry_ticket.id, kind="resolution", body="done"))
        session.add(
            TimeEntry(
                ticket_id=entry_ticket.id,
                tech_id=tech.id,
                started_at=utc(3, 8),
                hours=1.5,
                created_at=utc(3, 9),
            )
        )
    return made


def test_each_check_finds_its_offender(desk: Desk, troubled: dict[str, int]) -> None:
    results = {r.id: r for r in health.run_checks(desk, now=NOW)}
    assert list(results) == list(CHECK_IDS)
    found = {check: set(r.ticket_ids) for check, r in results.items()}
    t = troubled
    assert found["untriaged_past_first_response"] == {t["untriaged"]}
    # Monday 09:00 to Wednesday 12:00 is 21 business hours; the noted one was touched Tuesday.
    assert found["waiting_no_activity"] == {t["waiting"]}
    assert found["booked_no_future_call"] == {t["booked"]}
    assert found["on_hold_no_future_due"] == {t["on_hold"]}
    assert found["large_not_booked"] == {t["large"]}
    assert found["past_resolution_target"] == {t["late"]}
    assert found["escalated_untouched"] == {t["escalated"]}
    assert found["resolved_without_resolution_note"] == {t["resolved"]}
    assert found["no_notes_after_a_day"] == {t["silent"]}
    assert found["time_entries_pending_approval"] == {t["timed"]}
    assert results["time_entries_pending_approval"].detail == "1 entries, 1.5 hours to approve"


def test_tickets_of_a_result_come_back_as_rows(desk: Desk, troubled: dict[str, int]) -> None:
    result = health.run_check(desk, "large_not_booked", now=NOW)
    rows = health.tickets_of(desk, result)
    assert [(r.id, r.summary) for r in rows] == [(troubled["large"], "large")]


def test_thresholds_are_shop_settings(desk: Desk, troubled: dict[str, int]) -> None:
    health.set_thresholds(desk, waiting_business_days=3)
    assert health.load_thresholds(desk).waiting_business_days == 3
    assert health.run_check(desk, "waiting_no_activity", now=NOW).count == 0
    with pytest.raises(InvalidInput, match="unknown health threshold"):
        health.set_thresholds(desk, nonsense=1)
    with pytest.raises(InvalidInput, match="above 0"):
        health.set_thresholds(desk, large_estimate_hours=-1)


def test_an_empty_desk_is_clean(desk: Desk) -> None:
    assert all(r.clean for r in health.run_checks(desk, now=NOW + timedelta(days=1)))


def test_unknown_check_is_refused(desk: Desk) -> None:
    with pytest.raises(InvalidInput, match="unknown health check"):
        health.run_check(desk, "nope")


# -- exact SQL cut-offs equal the per-ticket calendar walk on a demo desk ----------------

DEMO_NOW = datetime(2026, 2, 4, 18, 17, tzinfo=UTC)  # Wednesday, midday in Chicago


def _walked(desk: Desk, now: datetime) -> dict[str, set[int]]:
    """The business-time checks as they were decided before the cut-offs: every ticket
    read, and add_business_minutes walked for each one."""
    from sqlmodel import select

    from dispatch_tui.rules.health import OPEN, WAITING, HealthThresholds, business_days_passed
    from dispatch_tui.rules.sla import add_business_minutes
    from dispatch_tui.services.settings import load_policy

    t = HealthThresholds()
    with desk.db.read() as session:
        policy = load_policy(session)
        tickets = session.exec(select(Ticket)).all()
        notes = session.exec(select(Note.ticket_id, Note.created_at)).all()
        times = session.exec(select(TimeEntry.ticket_id, TimeEntry.created_at)).all()
        booked = set(session.exec(select(ServiceCall.ticket_id)).all())
    cal = policy.calendar
    last: dict[int, datetime] = {}
    for ticket_id, at in [*notes, *times]:
        last[ticket_id] = max(at, last.get(ticket_id, at))
    noted = {(ticket_id, at) for ticket_id, at in notes}
    kinds = ("waiting", "escalated", "silent", "late", "large")
    found: dict[str, set[int]] = {k: set() for k in kinds}
    for r in tickets:
        large = (r.estimate_hours or 0) > t.large_estimate_hours
        if r.status in OPEN and large and r.id not in booked:
            found["large"].add(r.id)
        activity = max(r.updated_at, last.get(r.id, r.updated_at))
        if r.status in WAITING and business_days_passed(
            activity, now, t.waiting_business_days, cal
        ):
            found["waiting"].add(r.id)
        if (
            r.escalated
            and r.status in OPEN
            and business_days_passed(activity, now, t.escalated_business_days, cal)
        ):
            found["escalated"].add(r.id)
        if (
            r.status in OPEN
            and r.engaged_at is not None
            and not any(i == r.id and at >= r.engaged_at for i, at in noted)
            and business_days_passed(r.engaged_at, now, t.note_business_days, cal)
        ):
            found["silent"].add(r.id)
        if r.status in OPEN and r.priority is not None and r.resolved_at is None:
            targets = policy.sla.targets.get(r.priority) or policy.sla.targets["medium"]
            until = min(now, r.updated_at) if r.status == "waiting_client" else now
            due = add_business_minutes(r.created_at, targets.resolution, cal)
            if until > r.created_at and due < until:
                found["late"].add(r.id)
    return found


def test_business_time_checks_equal_the_calendar_walk_on_a_demo_desk(desk: Desk) -> None:
    from dispatch_tui import demo

    demo.generate(desk, tickets=1500, now=DEMO_NOW)
    walked = _walked(desk, DEMO_NOW)
    got = {r.id: r for r in health.run_checks(desk, now=DEMO_NOW)}
    pairs = {
        "waiting": "waiting_no_activity",
        "escalated": "escalated_untouched",
        "silent": "no_notes_after_a_day",
        "late": "past_resolution_target",
        "large": "large_not_booked",
    }
    for mine, check in pairs.items():
        assert got[check].count == len(walked[mine]), check
        assert set(got[check].ticket_ids) == walked[mine], check
    # The demo desk has offenders of each kind, so the comparison says something.
    assert all(walked[k] for k in ("waiting", "silent", "late", "large"))


def test_fact_columns_are_the_leading_fields_of_ticket_facts() -> None:
    # _stream passes them by position.
    from dataclasses import fields

    from dispatch_tui.rules.health import TicketFacts

    names = tuple(f.name for f in fields(TicketFacts))
    assert names[: len(health._FACT_NAMES)] == health._FACT_NAMES
    assert [c.key for c in health._FACT_COLUMNS] == list(health._FACT_NAMES)


# -- every check equals the straightforward computation over every ticket ---------------


def _straight(desk: Desk, now: datetime, thresholds) -> dict[str, tuple[int, set[int], str]]:
    """Each check's rule applied to every ticket with every fact read from its rows (the
    notes themselves, not the schema 4 flag): no SQL pre-filter, no cut-off, no count."""
    from sqlmodel import select

    from dispatch_tui.rules import health as rules
    from dispatch_tui.rules.health import HealthContext, PendingTime, TicketFacts
    from dispatch_tui.services.settings import load_policy

    with desk.db.read() as session:
        policy = load_policy(session)
        tickets = session.exec(select(Ticket)).all()
        notes = session.exec(select(Note.ticket_id, Note.kind, Note.created_at)).all()
        times = session.exec(select(TimeEntry)).all()
        calls = session.exec(select(ServiceCall.ticket_id, ServiceCall.ends_at)).all()
    ctx = HealthContext(policy.calendar, policy.sla, thresholds)
    notes_of: dict[int, list] = {}
    for i, kind, at in notes:
        notes_of.setdefault(i, []).append((kind, at))
    entries_of: dict[int, list] = {}
    for e in times:
        entries_of.setdefault(e.ticket_id, []).append(e.created_at)
    ends_of: dict[int, list] = {}
    for i, end in calls:
        ends_of.setdefault(i, []).append(end)
    facts = []
    for t in tickets:
        mine = notes_of.get(t.id, [])
        entries = entries_of.get(t.id, [])
        ends = ends_of.get(t.id, [])
        facts.append(
            TicketFacts(
                t.id,
                t.status,
                t.created_at,
                t.updated_at,
                t.priority,
                t.estimate_hours,
                t.due_at,
                t.escalated,
                t.engaged_at,
                t.resolved_at,
                last_note_at=max((at for _, at in mine), default=None),
                last_time_entry_at=max(entries, default=None),
                service_calls=len(ends),
                last_call_end=max((e for e in ends if e is not None), default=None),
                has_resolution_note=any(kind == "resolution" for kind, _ in mine),
                notes_since_engaged=sum(
                    1 for _, at in mine if t.engaged_at is not None and at >= t.engaged_at
                ),
            )
        )
    found = {}
    for check_id, rule in rules.TICKET_CHECKS.items():
        result = rule(facts, now, HealthContext(ctx.calendar, ctx.sla, replace(thresholds)))
        every = rule(
            facts, now, HealthContext(ctx.calendar, ctx.sla, replace(thresholds, max_ids=10**6))
        )
        found[check_id] = (result.count, set(every.ticket_ids), result.detail)
    pending: dict[int, PendingTime] = {}
    for e in times:
        if e.approved_at is None:
            row = pending.setdefault(e.ticket_id, PendingTime(e.ticket_id, 0, 0.0))
            row.entries += 1
            row.hours += e.hours
    result = rules.time_entries_pending_approval(list(pending.values()), ctx)
    found[result.id] = (result.count, set(pending), result.detail)
    return found


def _more_trouble(desk: Desk) -> None:
    """Offenders the demo desk lacks: resolved without a note, untriaged for long, booked
    with every call over, and tickets waiting on the client since before and after their
    resolution target ran out."""
    with desk.db.write() as session:
        client_id = session.exec(select_one_client()).first()
        tech_id = session.exec(select_one_tech()).first()

        def add(**kw) -> Ticket:
            kw.setdefault("updated_at", kw["created_at"])
            row = Ticket(client_id=client_id, summary="extra", **kw)
            session.add(row)
            session.flush()
            return row

        for day in (1, 2):
            add(status="resolved", created_at=utc(day, 9), resolved_at=utc(3, 9), priority="low")
        add(status="new", created_at=utc(3, 9))
        booked = add(status="assigned", priority="high", created_at=utc(2, 9))
        session.add(
            ServiceCall(
                ticket_id=booked.id, tech_id=tech_id, starts_at=utc(3, 9), ends_at=utc(3, 10)
            )
        )
        # Critical, 4 business hours: due 13:00 on Monday 2 February.
        add(
            status="waiting_client",
            priority="critical",
            created_at=utc(2, 9),
            updated_at=utc(2, 12),
        )
        add(
            status="waiting_client",
            priority="critical",
            created_at=utc(2, 9),
            updated_at=utc(2, 14),
        )
        # A priority the policy no longer names is judged as medium.
        add(status="in_progress", priority="legacy", created_at=utc(1, 9))
        add(status="waiting_client", priority="legacy", created_at=utc(1, 9), updated_at=utc(3, 9))


def select_one_client():
    from sqlmodel import select

    return select(Client.id).limit(1)


def select_one_tech():
    from sqlmodel import select

    return select(Technician.id).limit(1)


@pytest.mark.parametrize(("max_ids", "targets"), [(1000, None), (3, None), (1000, "custom")])
def test_every_check_equals_the_rules_over_every_ticket_on_a_demo_desk(
    desk: Desk, max_ids: int, targets: str | None
) -> None:
    from dispatch_tui import demo
    from dispatch_tui.rules.health import HealthThresholds
    from dispatch_tui.services.settings import SLA_TARGETS, write_setting

    demo.generate(desk, tickets=1500, now=DEMO_NOW)
    _more_trouble(desk)
    if targets:
        # Two priorities sharing a target, and medium (the fallback) moved.
        custom = {
            "low": {"resolution": 480},
            "high": {"resolution": 480},
            "medium": {"resolution": 300},
        }
        with desk.db.write() as session:
            write_setting(session, "tester", SLA_TARGETS, custom)
    thresholds = HealthThresholds(max_ids=max_ids)
    for now in (DEMO_NOW, DEMO_NOW + timedelta(hours=15), DEMO_NOW + timedelta(days=4)):
        expected = _straight(desk, now, thresholds)
        got = {r.id: r for r in health.run_checks(desk, now=now, thresholds=thresholds)}
        for check_id, (count, ids, detail) in expected.items():
            result = got[check_id]
            assert (result.count, result.detail) == (count, detail), (check_id, now)
            # The first max_ids offenders by ticket number; the count is always whole.
            assert list(result.ticket_ids) == sorted(ids)[:max_ids], (check_id, now)
            single = health.run_check(desk, check_id, now=now, thresholds=thresholds)
            assert single == result, check_id
        offenders = [c for c, (count, _, _) in expected.items() if count > max_ids]
        if max_ids == 3:
            assert offenders, "the comparison should cover a truncated list"
    counts = {c: n for c, (n, _, _) in _straight(desk, DEMO_NOW, HealthThresholds()).items()}
    assert all(counts[c] for c in counts if c != "on_hold_no_future_due"), counts


# -- ticket.resolution_noted (schema 4) stays exact on every write path ------------------


def _noted_flags(desk: Desk) -> tuple[dict[int, bool], set[int]]:
    """Each ticket's flag, and the tickets that have a resolution note."""
    from sqlmodel import select

    with desk.db.read() as session:
        flags = dict(session.exec(select(Ticket.id, Ticket.resolution_noted)).all())
        noted = set(session.exec(select(Note.ticket_id).where(Note.kind == "resolution")).all())
    return {k: bool(v) for k, v in flags.items()}, noted


def _unnoted(desk: Desk) -> set[int]:
    return set(health.run_check(desk, "resolved_without_resolution_note").ticket_ids)


def test_a_resolution_note_from_any_writer_sets_the_flag_and_nothing_else(desk: Desk) -> None:
    from dispatch_tui.services import followup

    with desk.db.write() as session:
        client = Client(name="Pinecrest")
        session.add(client)
        session.flush()
        rows = [
            Ticket(client_id=client.id, summary=f"t{n}", status="resolved", resolved_at=utc(3))
            for n in range(3)
        ]
        session.add_all(rows)
    first, second, third = (r.id for r in rows)
    assert _unnoted(desk) == {first, second, third}
    with desk.db.read() as session:
        before = session.get(Ticket, first)
        version, updated = before.version, before.updated_at

    followup.add_note(desk, first, kind="internal", text="called them")
    followup.log_client_update(desk, first, "told them")
    assert _unnoted(desk) == {first, second, third}
    followup.add_note(desk, first, kind="resolution", text="replaced the PSU")
    assert _unnoted(desk) == {second, third}
    with desk.db.read() as session:
        after = session.get(Ticket, first)
        # A note is not an edit: nobody's open ticket goes stale because of it.
        assert (after.version, after.updated_at) == (version, updated)
    # Any ORM insert, e.g. a script with its own session.
    with desk.db.write() as session:
        session.add(Note(ticket_id=second, kind="resolution", body="rebooted"))
    assert _unnoted(desk) == {third}
    # Reopened and resolved again: the note is still there, so is the flag.
    for status in ("in_progress", "resolved"):
        with desk.db.write() as session:
            ticket = session.get(Ticket, first)
            ticket.status = status
            session.add(ticket)
    assert _unnoted(desk) == {third}
    flags, noted = _noted_flags(desk)
    assert {t for t, on in flags.items() if on} == noted == {first, second}


def test_the_demo_desk_sets_the_flag_with_its_notes(desk: Desk) -> None:
    from dispatch_tui import demo

    demo.generate(desk, tickets=800, now=DEMO_NOW)
    flags, noted = _noted_flags(desk)
    assert noted and {t for t, on in flags.items() if on} == noted


@pytest.mark.sqlite_only
def test_the_cli_note_command_sets_the_flag(db_path, desk: Desk) -> None:
    from helpers import cli

    with desk.db.write() as session:
        client = Client(name="Pinecrest")
        session.add(client)
        session.flush()
        ticket = Ticket(client_id=client.id, summary="x", status="resolved", resolved_at=utc(3))
        session.add(ticket)
    assert _unnoted(desk) == {ticket.id}
    done = cli(
        "ticket", "note", str(ticket.id), "--kind", "resolution", "--text", "fixed", db=db_path
    )
    assert done.returncode == 0, done.stderr
    assert _unnoted(desk) == set()


def test_an_older_file_gains_the_flag_from_its_notes(db_target, db, desk: Desk) -> None:
    from sqlalchemy import inspect, text

    from dispatch_tui import demo
    from dispatch_tui.store import Database, schema

    demo.generate(desk, tickets=600, now=DEMO_NOW)
    _more_trouble(desk)
    expected = _unnoted(desk)
    assert expected
    # Back to schema 3: no flag, none of its indexes, the narrow (status, created_at).
    step = next(n for n, f in schema.MIGRATIONS.items() if f is schema.add_resolution_noted)
    with db.write() as session:
        conn = session.connection()
        for name in ("ix_ticket_noted_status", "ix_ticket_status_created"):
            conn.execute(text(f"DROP INDEX {name}"))
        conn.execute(text("CREATE INDEX ix_ticket_status_created ON ticket (status, created_at)"))
        conn.execute(text("ALTER TABLE ticket DROP COLUMN resolution_noted"))
        conn.execute(
            text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(step - 1)}
        )
    db.dispose()
    reopened = Database(db_target)
    try:
        migrated = Desk(reopened, "tester")
        for _ in range(2):  # and once more: every step is safe to repeat
            with reopened.read() as session:
                conn = session.connection()
                assert schema.read_version(conn) == schema.SCHEMA_VERSION
                indexes = {
                    i["name"]: i["column_names"] for i in inspect(conn).get_indexes("ticket")
                }
            assert indexes["ix_ticket_noted_status"] == ["resolution_noted", "status"]
            # Schema 4's (status, engaged_at) is gone again: schema 6 replaced it.
            assert "ix_ticket_status_engaged" not in indexes
            assert indexes["ix_ticket_status_created"] == [
                "status",
                "created_at",
                "priority",
                "resolved_at",
            ]
            flags, noted = _noted_flags(migrated)
            assert {t for t, on in flags.items() if on} == noted
            assert _unnoted(migrated) == expected
            with reopened.write() as session:
                schema.add_resolution_noted(session.connection())
    finally:
        reopened.dispose()


# -- ticket.last_note_at (schema 6) stays exact on every write path ----------------------


def _last_notes(desk: Desk) -> tuple[dict[int, tuple[bool, datetime | None]], dict[int, datetime]]:
    """Each ticket's (known, last_note_at), and each ticket's latest note from the notes."""
    from sqlmodel import func, select

    with desk.db.read() as session:
        stored = session.exec(select(Ticket.id, Ticket.last_note_known, Ticket.last_note_at))
        columns = {i: (bool(known), at) for i, known, at in stored.all()}
        latest = session.exec(
            select(Note.ticket_id, func.max(Note.created_at)).group_by(Note.ticket_id)
        ).all()
    return columns, dict(latest)


def _assert_exact(desk: Desk) -> None:
    columns, latest = _last_notes(desk)
    for ticket_id, (known, at) in columns.items():
        if known:
            assert at == latest.get(ticket_id), ticket_id


def test_a_note_from_any_writer_moves_last_note_at_and_nothing_else(desk: Desk) -> None:
    from dispatch_tui.services import followup, triage

    with desk.db.write() as session:
        client = Client(name="Pinecrest")
        session.add(client)
        session.flush()
        rows = [
            Ticket(client_id=client.id, summary=f"t{n}", status="in_progress", priority="low")
            for n in range(2)
        ]
        rows.append(Ticket(client_id=client.id, summary="intake", status="new"))
        session.add_all(rows)
    first, second, fresh = (r.id for r in rows)
    columns, _ = _last_notes(desk)
    # A new ticket has no notes, and that is known.
    assert columns[first] == columns[fresh] == (True, None)
    with desk.db.read() as session:
        before = session.get(Ticket, first)
        version, updated = before.version, before.updated_at

    written = [
        followup.add_note(desk, first, kind="internal", text="called them"),
        followup.log_client_update(desk, first, "told them"),
    ]
    columns, _ = _last_notes(desk)
    assert columns[first] == (True, written[-1].created_at)
    with desk.db.read() as session:
        after = session.get(Ticket, first)
        # A note is not an edit: nobody's open ticket goes stale because of it.
        assert (after.version, after.updated_at) == (version, updated)
    followup.escalate(desk, second, reason="needs tier 3")
    triage.update_triage_fields(desk, fresh, note="asked for the asset tag", impact="low")
    # Any ORM insert, e.g. a script with its own session; dated in the past, it does not
    # move the latest note back.
    with desk.db.write() as session:
        session.add(Note(ticket_id=first, body="late entry", created_at=utc(1, 9)))
        session.add(Note(ticket_id=second, body="from the phone log", created_at=utc(28, 9)))
    columns, latest = _last_notes(desk)
    assert columns[first] == (True, written[-1].created_at)
    assert columns[second] == (True, latest[second]) and latest[second] > utc(28, 9)
    assert columns[fresh] == (True, latest[fresh])
    _assert_exact(desk)


def test_a_ticket_whose_notes_are_not_known_is_judged_from_its_notes(desk: Desk) -> None:
    """Rows the schema 6 migration left alone: last_note_at is not read, even when wrong,
    until the next note makes the row known again."""
    from sqlalchemy import update

    from dispatch_tui.services import followup

    with desk.db.write() as session:
        client = Client(name="Pinecrest")
        session.add(client)
        session.flush()

        def add(**kw) -> int:
            row = Ticket(client_id=client.id, summary="x", created_at=utc(2, 9), **kw)
            row.updated_at = row.created_at
            session.add(row)
            session.flush()
            return row.id

        silent = add(status="in_progress", engaged_at=utc(2, 10))
        noted = add(status="in_progress", engaged_at=utc(2, 10))
        session.add(Note(ticket_id=noted, body="on site", created_at=utc(2, 11)))
        waiting = add(status="waiting_vendor")
        chased = add(status="waiting_vendor")
        session.add(Note(ticket_id=chased, body="chased", created_at=utc(3, 15)))
    expected = {c: health.run_check(desk, c, now=NOW) for c in CHECK_IDS}
    assert expected["no_notes_after_a_day"].ticket_ids == (silent,)
    assert expected["waiting_no_activity"].ticket_ids == (waiting,)
    table = Ticket.__table__
    for wrong in (None, utc(1, 9), utc(9, 9)):
        with desk.db.write() as session:
            session.exec(update(table).values(last_note_known=False, last_note_at=wrong))
        assert {c: health.run_check(desk, c, now=NOW) for c in CHECK_IDS} == expected, wrong
    followup.add_note(desk, silent, kind="internal", text="still on it")
    columns, latest = _last_notes(desk)
    assert columns[silent] == (True, latest[silent])
    assert not columns[noted][0]
    assert health.run_check(desk, "no_notes_after_a_day", now=NOW).count == 0


def test_the_demo_desk_sets_last_note_at_with_its_notes(desk: Desk) -> None:
    from dispatch_tui import demo

    demo.generate(desk, tickets=800, now=DEMO_NOW)
    columns, latest = _last_notes(desk)
    assert all(known for known, _ in columns.values())
    assert {i: at for i, (_, at) in columns.items() if at is not None} == latest


@pytest.mark.sqlite_only
def test_the_cli_note_command_moves_last_note_at(db_path, desk: Desk) -> None:
    from helpers import cli

    with desk.db.write() as session:
        client = Client(name="Pinecrest")
        session.add(client)
        session.flush()
        ticket = Ticket(client_id=client.id, summary="x", status="in_progress")
        session.add(ticket)
    done = cli("ticket", "note", str(ticket.id), "--text", "rang them", db=db_path)
    assert done.returncode == 0, done.stderr
    columns, latest = _last_notes(desk)
    assert columns[ticket.id] == (True, latest[ticket.id])


@pytest.mark.parametrize("shuffled", [False, True])
def test_every_check_equals_the_rules_with_notes_not_known(desk: Desk, shuffled: bool) -> None:
    """A demo desk where the stored latest notes of some tickets are not known (and wrong,
    so a read of them would show): the checks still equal the rules over the notes."""
    import random

    from sqlalchemy import update

    from dispatch_tui import demo
    from dispatch_tui.rules.health import HealthThresholds

    demo.generate(desk, tickets=1500, now=DEMO_NOW)
    _more_trouble(desk)
    table = Ticket.__table__
    with desk.db.write() as session:
        ids = sorted(session.exec(select_ids()).all())
        chosen = random.Random(9).sample(ids, len(ids) // 2) if shuffled else ids
        session.exec(
            update(table)
            .where(table.c.id.in_(chosen))
            .values(last_note_known=False, last_note_at=DEMO_NOW + timedelta(days=30))
        )
    thresholds = HealthThresholds()
    for now in (DEMO_NOW, DEMO_NOW + timedelta(days=4)):
        expected = _straight(desk, now, thresholds)
        got = {r.id: r for r in health.run_checks(desk, now=now, thresholds=thresholds)}
        for check_id, (count, ids_, detail) in expected.items():
            result = got[check_id]
            assert (result.count, result.detail) == (count, detail), (check_id, now)
            assert list(result.ticket_ids) == sorted(ids_), (check_id, now)


def select_ids():
    from sqlmodel import select

    return select(Ticket.id)


def test_a_schema_5_file_gains_last_note_at_for_its_open_tickets(db_target, db, desk) -> None:
    from sqlalchemy import inspect, text

    from dispatch_tui import demo
    from dispatch_tui.store import Database, schema

    demo.generate(desk, tickets=600, now=DEMO_NOW)
    _more_trouble(desk)
    expected = {
        now: {r.id: r for r in health.run_checks(desk, now=now)}
        for now in (DEMO_NOW, DEMO_NOW + timedelta(days=4))
    }
    # Back to schema 5: no columns, the narrow time-entry indexes, (status, engaged_at).
    step = next(n for n, f in schema.MIGRATIONS.items() if f is schema.track_last_note)
    with db.write() as session:
        conn = session.connection()
        for name in (
            "ix_ticket_open_health",
            "ix_time_entry_ticket_created",
            "ix_time_entry_pending_hours",
            "ix_service_call_ticket_end",
        ):
            conn.execute(text(f"DROP INDEX {name}"))
        conn.execute(text("CREATE INDEX ix_service_call_ticket ON service_call (ticket_id)"))
        conn.execute(text("CREATE INDEX ix_ticket_status_engaged ON ticket (status, engaged_at)"))
        conn.execute(text("CREATE INDEX ix_time_entry_ticket ON time_entry (ticket_id)"))
        conn.execute(
            text("CREATE INDEX ix_time_entry_pending ON time_entry (approved_at, ticket_id)")
        )
        conn.execute(text("ALTER TABLE ticket DROP COLUMN last_note_at"))
        conn.execute(text("ALTER TABLE ticket DROP COLUMN last_note_known"))
        conn.execute(
            text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(step - 1)}
        )
    db.dispose()
    reopened = Database(db_target)
    try:
        migrated = Desk(reopened, "tester")
        for _ in range(2):  # and once more: every step is safe to repeat
            with reopened.read() as session:
                conn = session.connection()
                assert schema.read_version(conn) == schema.SCHEMA_VERSION
                names = {i["name"] for i in inspect(conn).get_indexes("ticket")}
                for other in ("time_entry", "service_call"):
                    names |= {i["name"] for i in inspect(conn).get_indexes(other)}
                statuses = dict(session.exec(select_statuses()).all())
            assert set(schema._SCHEMA_6_INDEXES) <= names
            assert not names & set(schema._WIDENED_6)
            columns, latest = _last_notes(migrated)
            open_ = {"new", "triaged", "assigned", "in_progress", "waiting_client"}
            open_ |= {"waiting_vendor", "on_hold"}
            # Only the open tickets were read; history is left for its notes to answer.
            assert {i for i, (known, _) in columns.items() if known} == {
                i for i, s in statuses.items() if s in open_
            }
            _assert_exact(migrated)
            for now, results in expected.items():
                assert {r.id: r for r in health.run_checks(migrated, now=now)} == results
            with reopened.write() as session:
                schema.track_last_note(session.connection())
    finally:
        reopened.dispose()


def select_statuses():
    from sqlmodel import select

    return select(Ticket.id, Ticket.status)


def test_the_first_ids_are_read_back_in_order_whatever_order_they_were_joined_in() -> None:
    # The statement's comma-separated first ids: parsed as one JSON array, then sorted.
    assert health._split_ids(None) == []
    assert health._split_ids("") == []
    assert health._split_ids("7") == [7]
    assert health._split_ids("10,9,1000001,2") == [2, 9, 10, 1000001]
    assert health._split_ids(",".join(map(str, range(1000, 0, -1)))) == list(range(1, 1001))
