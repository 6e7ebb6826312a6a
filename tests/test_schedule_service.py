"""Scheduling, availability and time-entry services on a real database file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from dispatch_tui.errors import EditConflict, InvalidInput, NotFound, ScheduleConflict
from dispatch_tui.rules.schedule import ConflictKind
from dispatch_tui.rules.utilization import Flag
from dispatch_tui.services import Desk, availability, holidays, schedule, timesheets
from dispatch_tui.services.settings import set_shop_timezone
from dispatch_tui.services.technicians import add_technician
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store.models import AuditEvent, ServiceCall, Ticket

CHICAGO = ZoneInfo("America/Chicago")


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CHICAGO)


def events(desk: Desk, action: str) -> list[AuditEvent]:
    with desk.db.read() as session:
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
            ).all()
        )


def set_estimate(desk: Desk, ticket_id: int, hours: float, status: str = "assigned") -> None:
    with desk.db.write() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.estimate_hours, ticket.status = hours, status
        session.add(ticket)


@pytest.fixture
def shop(desk: Desk) -> Desk:
    set_shop_timezone(desk, "America/Chicago")
    add_technician(desk, name="Ava Chen", tier=2)
    add_technician(desk, name="Ben Ortiz", tier=1)
    for summary in ("Server migration", "New laptop", "Firewall upgrade"):
        add_ticket(desk, client="Harbor Dental", summary=summary)
    return desk


# -- booking ------------------------------------------------------------------------------


def test_booking_a_free_slot_saves_the_call_and_audits_it(shop: Desk) -> None:
    booking = schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 10), 2)
    call = booking.call
    assert booking.overridden == []
    assert (call.tech, call.client, call.summary, call.hours) == (
        "Ava Chen",
        "Harbor Dental",
        "Server migration",
        2,
    )
    assert call.starts_at == datetime(2026, 3, 10, 15, tzinfo=UTC) and call.firm
    assert call.override_reason is None and call.created_by == "tester"
    [event] = events(shop, "service_call.book")
    assert event.entity_id == call.id and "Ava Chen 2026-03-10 10:00-12:00" in event.detail


def test_a_tentative_call_is_saved_as_tentative(shop: Desk) -> None:
    assert not schedule.book_call(shop, 1, "ava chen", at(2026, 3, 10, 10), 1, firm=False).call.firm


def test_an_overlapping_booking_is_refused_naming_the_clash(shop: Desk) -> None:
    schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 10), 2)
    with pytest.raises(ScheduleConflict) as caught:
        schedule.book_call(shop, 2, "Ava Chen", at(2026, 3, 10, 9), 2)
    assert str(caught.value) == (
        "cannot book ticket #2 for Ava Chen 2026-03-10 09:00-11:00: "
        "overlaps call #1 for ticket #1, 10:00-12:00"
    )
    assert len(schedule.list_calls(shop, at(2026, 3, 10, 0), at(2026, 3, 11, 0))) == 1
    # Another technician is free at that time.
    assert schedule.book_call(shop, 2, "Ben Ortiz", at(2026, 3, 10, 9), 2).call.tech == "Ben Ortiz"


def test_an_override_needs_a_reason_and_records_it(shop: Desk) -> None:
    schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 10), 2)
    with pytest.raises(InvalidInput, match="needs a reason"):
        schedule.book_call(shop, 2, "Ava Chen", at(2026, 3, 10, 11), 0.5, allow_conflict=True)
    booking = schedule.book_call(
        shop,
        2,
        "Ava Chen",
        at(2026, 3, 10, 11),
        0.5,
        allow_conflict=True,
        override_reason="quick call during the remote migration",
    )
    assert booking.call.override_reason == "quick call during the remote migration"
    assert [c.kind for c in booking.overridden] == [ConflictKind.OVERLAP]
    assert "booked over: overlaps call #1" in events(shop, "service_call.book")[-1].detail


def test_holiday_out_of_office_and_hours_are_checked(shop: Desk) -> None:
    holidays.add_holiday(shop, "Company offsite", day=date(2026, 3, 12))
    availability.add_out_of_office(
        shop, "Ava Chen", at(2026, 3, 11, 0), at(2026, 3, 11, 12), reason="dentist"
    )
    with pytest.raises(ScheduleConflict, match="holiday Company offsite"):
        schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 12, 9), 1)
    with pytest.raises(ScheduleConflict, match="out-of-office .*: dentist"):
        schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 11, 9), 1)
    with pytest.raises(ScheduleConflict, match="outside working hours"):
        schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 7), 2)
    availability.set_working_hours(
        shop, "Ava Chen", days="mon,tue,wed,thu,fri", start="06:00", end="15:00"
    )
    assert schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 7), 2).call.hours == 2
    assert events(shop, "technician.hours")[0].detail == "mon,tue,wed,thu,fri 06:00-15:00"


def test_bad_bookings_are_refused(shop: Desk) -> None:
    with pytest.raises(NotFound):
        schedule.book_call(shop, 99, "Ava Chen", at(2026, 3, 10, 10), 1)
    with pytest.raises(NotFound):
        schedule.book_call(shop, 1, "Nobody", at(2026, 3, 10, 10), 1)
    with pytest.raises(InvalidInput):
        schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 10), 0)
    with pytest.raises(InvalidInput):
        schedule.book_call(shop, 1, "Ava Chen", datetime(2026, 3, 10, 10), 1)
    set_estimate(shop, 1, 2, status="closed")
    with pytest.raises(InvalidInput, match="closed"):
        schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 10), 1)


# -- moving, resizing, cancelling -----------------------------------------------------------


def test_move_keeps_the_length_and_audits_before_and_after(shop: Desk) -> None:
    call = schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 10), 2).call
    moved = schedule.move_call(
        shop, call.id, start=at(2026, 3, 11, 13), expected_version=call.version
    )
    assert (moved.call.starts_at, moved.call.hours) == (at(2026, 3, 11, 13), 2)
    assert moved.call.version == call.version + 1
    [event] = events(shop, "service_call.move")
    assert '"starts_at": "2026-03-10T15:00:00+00:00"' in (event.before or "")
    assert '"starts_at": "2026-03-11T18:00:00+00:00"' in (event.after or "")
    to_ben = schedule.move_call(shop, call.id, tech="Ben Ortiz")
    assert to_ben.call.tech == "Ben Ortiz" and to_ben.call.starts_at == at(2026, 3, 11, 13)


def test_a_move_into_a_clash_is_refused_and_a_stale_version_is_an_edit_conflict(shop: Desk) -> None:
    first = schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 10), 2).call
    second = schedule.book_call(shop, 2, "Ava Chen", at(2026, 3, 10, 13), 2).call
    with pytest.raises(ScheduleConflict, match=f"cannot move call #{second.id} .*call #{first.id}"):
        schedule.move_call(shop, second.id, start=at(2026, 3, 10, 11))
    # Nudging a call over its own old slot is no conflict with itself.
    assert schedule.move_call(shop, second.id, start=at(2026, 3, 10, 14)).overridden == []
    with pytest.raises(EditConflict, match="changed since you read it"):
        schedule.move_call(
            shop, second.id, start=at(2026, 3, 10, 15), expected_version=second.version
        )


def test_resize_checks_the_new_length(shop: Desk) -> None:
    call = schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 10), 2).call
    assert schedule.resize_call(shop, call.id, 3).call.ends_at == at(2026, 3, 10, 13)
    with pytest.raises(ScheduleConflict, match="14:00-17:30 lies outside|17:00-17:30 lies outside"):
        schedule.resize_call(shop, call.id, 7.5)
    assert len(events(shop, "service_call.resize")) == 1


def test_cancel_removes_the_call_and_keeps_it_in_the_audit(shop: Desk) -> None:
    call = schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 10), 2).call
    with pytest.raises(EditConflict):
        schedule.cancel_call(shop, call.id, expected_version=call.version + 5)
    schedule.cancel_call(shop, call.id, expected_version=call.version, reason="client postponed")
    with pytest.raises(NotFound):
        schedule.get_call(shop, call.id)
    [event] = events(shop, "service_call.cancel")
    assert "client postponed" in event.detail and '"ticket_id": 1' in (event.before or "")


def test_firm_and_tentative_toggle(shop: Desk) -> None:
    call = schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 10), 2, firm=False).call
    assert schedule.set_call_firm(shop, call.id, True).firm
    assert len(events(shop, "service_call.firm")) == 1


# -- reading ------------------------------------------------------------------------------


def test_list_calls_is_bounded_by_range_and_technician(shop: Desk) -> None:
    schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 10), 2)
    schedule.book_call(shop, 2, "Ben Ortiz", at(2026, 3, 10, 16), 1)
    schedule.book_call(shop, 3, "Ava Chen", at(2026, 3, 11, 9), 1)
    day = schedule.list_calls(shop, at(2026, 3, 10, 0), at(2026, 3, 11, 0))
    assert [c.ticket_id for c in day] == [1, 2]
    ava = schedule.list_calls(shop, at(2026, 3, 9, 0), at(2026, 3, 16, 0), tech="Ava Chen")
    assert [c.ticket_id for c in ava] == [1, 3]
    # A call still running at the start of the range is included.
    assert [
        c.ticket_id for c in schedule.list_calls(shop, at(2026, 3, 10, 11), at(2026, 3, 10, 12))
    ] == [1]
    assert len(schedule.list_calls(shop, at(2026, 3, 9, 0), at(2026, 3, 16, 0), limit=2)) == 2


def test_board_gathers_one_week_for_the_screen(shop: Desk) -> None:
    holidays.add_holiday(shop, "Offsite", day=date(2026, 3, 12))
    availability.add_out_of_office(shop, "Ben Ortiz", at(2026, 3, 9, 8), at(2026, 3, 9, 17))
    schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 10, 10), 2)
    board = schedule.board(shop, date(2026, 3, 9), date(2026, 3, 15))
    assert [lane.name for lane in board.techs] == ["Ava Chen", "Ben Ortiz"]
    assert board.holidays == {date(2026, 3, 12): "Offsite"}
    assert len(board.techs[1].absences) == 1 and len(board.calls) == 1
    assert board.zone == CHICAGO


def test_flags_long_unbooked_and_booked_in_the_past(shop: Desk) -> None:
    set_estimate(shop, 1, 6)  # long, never booked: flagged
    set_estimate(shop, 2, 3)  # short: not flagged
    set_estimate(shop, 3, 8)  # long, then booked in the past only
    assert [t.id for t in schedule.unbooked_long_tickets(shop)] == [1, 3]
    schedule.book_call(shop, 3, "Ava Chen", at(2026, 3, 10, 10), 2)
    assert [t.id for t in schedule.unbooked_long_tickets(shop)] == [1]
    now = at(2026, 3, 11, 9)
    [stale] = schedule.stale_booked_tickets(shop, now=now)
    assert stale.id == 3 and stale.last_call_end == at(2026, 3, 10, 12)
    schedule.book_call(shop, 3, "Ava Chen", at(2026, 3, 12, 10), 2)
    assert schedule.stale_booked_tickets(shop, now=now) == []


# -- time entries and utilisation ---------------------------------------------------------------


def test_time_entries_wait_for_approval(shop: Desk) -> None:
    first = timesheets.add_time_entry(
        shop, 1, "Ava Chen", 1.5, note="Checked backups", started_at=at(2026, 3, 10, 9)
    )
    timesheets.add_time_entry(
        shop, 2, "Ben Ortiz", 0.5, billable=False, started_at=at(2026, 3, 10, 10)
    )
    assert [e.ticket_id for e in timesheets.pending_time_entries(shop)] == [1, 2]
    assert [e.ticket_id for e in timesheets.pending_time_entries(shop, tech="Ben Ortiz")] == [2]
    with pytest.raises(NotFound):
        timesheets.approve_time_entries(shop, [first.id or 0, 99])
    assert timesheets.approve_time_entries(shop, [first.id or 0]) == [first.id]
    assert timesheets.approve_time_entries(shop, [first.id or 0]) == []
    assert [e.ticket_id for e in timesheets.pending_time_entries(shop)] == [2]
    assert len(events(shop, "time_entry.approve")) == 1
    with pytest.raises(InvalidInput):
        timesheets.add_time_entry(shop, 1, "Ava Chen", 75)


def test_utilization_report_for_a_hand_computed_week(shop: Desk) -> None:
    # Week 2026-W11 (Mon 9 - Sun 15 March), Ava 08:00-17:00 Mon-Fri = 45 h available.
    # A holiday on Friday removes 9 h (36 h); Ben is away Monday 08:00-17:00 too (27 h).
    holidays.add_holiday(shop, "Spring day", day=date(2026, 3, 13))
    availability.add_out_of_office(shop, "Ben Ortiz", at(2026, 3, 9, 8), at(2026, 3, 9, 17))
    for day in (9, 10, 11):
        timesheets.add_time_entry(shop, 1, "Ava Chen", 9, started_at=at(2026, 3, day, 8))
    timesheets.add_time_entry(shop, 1, "Ava Chen", 4, billable=False, started_at=at(2026, 3, 12, 8))
    timesheets.add_time_entry(shop, 2, "Ben Ortiz", 9, started_at=at(2026, 3, 10, 8))
    # Outside the week: Sunday evening before it, local time (Monday 03:00 UTC).
    timesheets.add_time_entry(shop, 2, "Ben Ortiz", 5, started_at=at(2026, 3, 8, 22))
    entry_ids = [e.id for e in timesheets.pending_time_entries(shop, tech="Ava Chen")]
    timesheets.approve_time_entries(shop, entry_ids[:1])

    report = timesheets.utilization_report(shop, "2026-W11")
    ava, ben = report.rows
    assert report.week == "2026-W11"
    assert (ava.billable_hours, ava.total_hours, ava.available_hours) == (27, 31, 36)
    assert ava.unapproved_billable_hours == 18
    assert (ava.utilization, ava.flag) == (0.75, Flag.OK)
    assert (ben.billable_hours, ben.available_hours) == (9, 27)
    assert (ben.utilization, ben.flag) == (0.3333, Flag.LOW)


def test_utilization_thresholds_are_shop_settings(shop: Desk) -> None:
    timesheets.add_time_entry(shop, 1, "Ava Chen", 9, started_at=at(2026, 3, 10, 8))
    timesheets.set_utilization_thresholds(shop, low=0.1, target=0.15, high=0.2)
    ava = timesheets.utilization_report(shop, "2026-W11").rows[0]
    assert (ava.utilization, ava.flag) == (0.2, Flag.HIGH)
    with pytest.raises(InvalidInput):
        timesheets.set_utilization_thresholds(shop, low=0.9)
    with pytest.raises(InvalidInput, match="YYYY-Www"):
        timesheets.utilization_report(shop, "March")


def test_nothing_unbounded_is_loaded_for_calls(shop: Desk) -> None:
    # A guard on the range query: a call from long ago never enters a conflict check.
    with shop.db.write() as session:
        session.add(
            ServiceCall(
                ticket_id=1, tech_id=1, starts_at=at(2020, 1, 6, 9), ends_at=at(2020, 1, 6, 10)
            )
        )
    assert schedule.book_call(shop, 2, "Ava Chen", at(2026, 3, 10, 10), 1).overridden == []


def test_two_dispatchers_booking_the_same_slot_cannot_both_win(shop: Desk) -> None:
    # The check runs inside the BEGIN IMMEDIATE write, so the second booking sees the first.
    from concurrent.futures import ThreadPoolExecutor

    other = Desk(shop.db, "second dispatcher")

    def book(args: tuple[Desk, int]):
        who, ticket = args
        try:
            return schedule.book_call(who, ticket, "Ava Chen", at(2026, 3, 10, 10), 2)
        except ScheduleConflict as exc:
            return exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(book, [(shop, 1), (other, 2)]))
    assert sorted(type(r).__name__ for r in results) == ["Booking", "ScheduleConflict"]
    assert len(schedule.list_calls(shop, at(2026, 3, 10, 0), at(2026, 3, 11, 0))) == 1


# -- the list of tickets to book -------------------------------------------------------------


def set_priority(desk: Desk, ticket_id: int, priority: str | None) -> None:
    with desk.db.write() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.priority = priority
        session.add(ticket)


def test_tickets_to_book_names_why_each_is_listed(shop: Desk) -> None:
    now = at(2026, 3, 11, 9)
    set_estimate(shop, 1, 6, status="triaged")  # long, never booked
    set_estimate(shop, 2, 1, status="in_progress")  # short, never booked
    set_estimate(shop, 3, 2)  # booked, but the call is over
    schedule.book_call(shop, 3, "Ben Ortiz", at(2026, 3, 10, 10), 2)
    rows = {t.id: t for t in schedule.tickets_to_book(shop, now=now)}
    assert {i: t.reason for i, t in rows.items()} == {
        1: schedule.BookReason.LONG_UNBOOKED,
        2: schedule.BookReason.NOT_BOOKED,
        3: schedule.BookReason.CALLS_PAST,
    }
    past = rows[3]
    assert (past.client, past.summary, past.estimate_hours) == (
        "Harbor Dental",
        "Firewall upgrade",
        2,
    )
    assert past.last_call_end == at(2026, 3, 10, 12)
    assert (past.assigned_tech, past.assigned_tech_id) == (None, None)

    # A call still to come (or still running) takes the ticket off the list.
    schedule.book_call(shop, 3, "Ava Chen", at(2026, 3, 11, 8, 30), 1)
    schedule.book_call(shop, 1, "Ava Chen", at(2026, 3, 12, 10), 2)
    assert [t.id for t in schedule.tickets_to_book(shop, now=now)] == [2]


def test_tickets_to_book_leaves_out_untriaged_waiting_and_closed_work(shop: Desk) -> None:
    set_estimate(shop, 1, 6, status="new")
    set_estimate(shop, 2, 6, status="waiting_client")
    set_estimate(shop, 3, 6, status="resolved")
    assert schedule.tickets_to_book(shop) == []
    # The flag still counts every open ticket, whatever it waits for.
    assert [t.id for t in schedule.unbooked_long_tickets(shop)] == [1, 2]


def test_tickets_to_book_come_most_urgent_first_then_oldest(shop: Desk) -> None:
    for summary in ("Printer jam", "Mailbox full"):
        add_ticket(shop, client="Pine Legal", summary=summary)
    for ticket_id, priority in (
        (1, "low"),
        (2, None),
        (3, "critical"),
        (4, "medium"),
        (5, "critical"),
    ):
        set_estimate(shop, ticket_id, 1, status="assigned")
        set_priority(shop, ticket_id, priority)
    with shop.db.write() as session:
        # The assigned technician comes along, for the screen's cursor.
        ticket = session.get(Ticket, 4)
        assert ticket is not None
        ticket.assigned_tech_id = 2
        session.add(ticket)
    rows = schedule.tickets_to_book(shop)
    assert [t.id for t in rows] == [3, 5, 4, 1, 2]
    assert (rows[2].assigned_tech, rows[2].assigned_tech_id, rows[2].priority) == (
        "Ben Ortiz",
        2,
        "medium",
    )


def test_tickets_to_book_is_bounded(shop: Desk) -> None:
    for ticket_id in (1, 2, 3):
        set_estimate(shop, ticket_id, 1, status="triaged")
    assert [t.id for t in schedule.tickets_to_book(shop, limit=2)] == [1, 2]
    for bad in (0, 100_000):
        with pytest.raises(InvalidInput, match="limit"):
            schedule.tickets_to_book(shop, limit=bad)


# -- reviewing time entries -------------------------------------------------------------------


def test_billable_is_settled_before_approval_and_audited(shop: Desk) -> None:
    entry = timesheets.add_time_entry(shop, 1, "Ava Chen", 2, started_at=at(2026, 3, 10, 9))
    entry_id = entry.id or 0
    row = timesheets.set_billable(shop, entry_id, False, expected_version=entry.version)
    assert row.billable is False and row.version == entry.version + 1
    [event] = events(shop, "time_entry.billable")
    assert (event.actor, event.entity_id) == ("tester", entry_id)
    # Unchanged: no write, no event.
    assert timesheets.set_billable(shop, entry_id, False).version == row.version
    assert len(events(shop, "time_entry.billable")) == 1
    with pytest.raises(EditConflict):
        timesheets.set_billable(shop, entry_id, True, expected_version=entry.version)
    with pytest.raises(NotFound):
        timesheets.set_billable(shop, 99, True)
    timesheets.approve_time_entries(shop, [entry_id])
    with pytest.raises(InvalidInput, match="approved"):
        timesheets.set_billable(shop, entry_id, True)
