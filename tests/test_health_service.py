"""The health service's SQL pre-filters hand the rules the right candidates.

Default calendar: UTC, Monday to Friday 08:00-17:00; 2 February 2026 is a Monday.
"""

from __future__ import annotations

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
