"""The Schedule screen's list of tickets to book and its time-entry review, keyboard only.

Like test_schedule_screen: the database is built with the services, the shop's zone is
fixed and "today" is pinned to a future Tuesday. No sleeps: each step waits for the
workers and lets their messages land.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from live_helpers import settle
from schedule_desk import CHICAGO, TODAY
from sqlmodel import col, select
from textual.pilot import Pilot
from textual.widgets import Static

from dispatch_tui.app import DispatchApp
from dispatch_tui.screens.schedule import ScheduleScreen
from dispatch_tui.screens.schedule_parts.grid import ScheduleGrid
from dispatch_tui.screens.schedule_parts.timesheets import TimesheetScreen
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.services import timesheets
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store.models import AuditEvent, ServiceCall, Ticket, TimeEntry

pytestmark = pytest.mark.usefixtures("pinned_schedule_today")

SIZE = (120, 40)
HOSTILE = "[bold]x[/bold] \x1b[31mred"


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(TODAY.year, TODAY.month, TODAY.day, hour, minute, tzinfo=CHICAGO)


def ready_ticket(
    desk: Desk,
    summary: str,
    *,
    status: str,
    priority: str | None,
    estimate: float | None = None,
    tech_id: int | None = None,
    client: str = "Harbor Dental",
) -> int:
    """A ticket as triage and dispatch leave it; those screens have their own tests."""
    ticket_id = add_ticket(desk, client=client, summary=summary).id or 0
    with desk.db.write() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.status, ticket.priority = status, priority
        ticket.estimate_hours, ticket.assigned_tech_id = estimate, tech_id
        session.add(ticket)
    return ticket_id


def audit_actions(desk: Desk, prefix: str) -> list[tuple[str, str, int | None]]:
    with desk.db.read() as session:
        rows = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.action).startswith(prefix))
            .order_by(col(AuditEvent.id))
        ).all()
        return [(row.action, row.actor, row.entity_id) for row in rows]


async def open_schedule(app: DispatchApp, pilot: Pilot) -> ScheduleScreen:
    await settle(app, pilot)
    await pilot.press("f5")
    await settle(app, pilot)
    assert isinstance(app.screen, ScheduleScreen)
    return app.screen


def text_of(screen: object, selector: str) -> str:
    assert hasattr(screen, "query_one")
    return str(screen.query_one(selector, Static).render())


def column(table: KeyedTable, label: str) -> list[str]:
    return [str(table.get_cell(row.value, label)) for row in table.rows]


async def test_a_triaged_ticket_without_a_call_is_listed_and_booked(
    schedule_shop: tuple[Path, Desk],
) -> None:
    path, desk = schedule_shop
    triaged = ready_ticket(
        desk, HOSTILE, status="triaged", priority="low", tech_id=2, client="[red]Evil[/red] Corp"
    )
    urgent = ready_ticket(desk, "Server down", status="assigned", priority="critical", estimate=6)
    ready_ticket(desk, "Waiting on parts", status="waiting_client", priority="critical")
    app = DispatchApp(path, actor="dispatcher")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_schedule(app, pilot)
        table = screen.query_one("#to-book", KeyedTable)
        # Most urgent first; waiting work is not ready to book.
        assert [row.value for row in table.rows] == [str(urgent), str(triaged)]
        assert column(table, "Why") == ["over 4 h", "unbooked"]
        assert column(table, "Client: summary")[1].startswith("[red]Evil[/red] Co")

        await pilot.press("tab", "down")
        await pilot.pause()
        detail = text_of(screen, "#to-book-detail")
        assert f"#{triaged} not booked" in detail and "Ben Ortiz" in detail

        await pilot.press("enter")
        await pilot.pause()
        grid = screen.query_one(ScheduleGrid)
        assert grid.has_focus and screen.picked is not None and screen.picked.id == triaged
        # Picked with a technician assigned: the cursor went to that technician's row.
        assert grid.cursor is not None and grid.cursor.lane.name == "Ben Ortiz"
        assert grid.cursor.slot.start == at(8)

        await pilot.press("b")
        await settle(app, pilot)
        with desk.db.read() as session:
            [call] = session.exec(select(ServiceCall)).all()
        # No estimate: the default length.
        assert (call.ticket_id, call.tech_id) == (triaged, 2)
        assert (call.starts_at, call.ends_at) == (at(8), at(10))
        assert [row.value for row in table.rows] == [str(urgent)]
        assert screen.picked is None


async def test_pending_time_entries_are_reviewed_and_approved_from_the_keyboard(
    schedule_shop: tuple[Path, Desk],
) -> None:
    path, desk = schedule_shop
    ticket = ready_ticket(desk, "Server down", status="in_progress", priority="high")
    started = datetime.now(UTC) - timedelta(days=2)
    first = timesheets.add_time_entry(
        desk, ticket, "Ava Chen", 1.5, note=HOSTILE, started_at=started
    )
    second = timesheets.add_time_entry(
        desk, ticket, "Ben Ortiz", 0.5, started_at=started + timedelta(hours=2)
    )
    app = DispatchApp(path, actor="dispatcher")
    async with app.run_test(size=SIZE) as pilot:
        schedule_screen = await open_schedule(app, pilot)
        before = schedule_screen.data

        await pilot.press("e")
        await settle(app, pilot)
        review = app.screen
        assert isinstance(review, TimesheetScreen)
        table = review.query_one("#timesheets-table", KeyedTable)
        assert [row.value for row in table.rows] == [str(first.id), str(second.id)]
        assert column(table, "Technician") == ["Ava Chen", "Ben Ortiz"]
        assert column(table, "Bill") == ["yes", "yes"]
        start = started.astimezone(CHICAGO)
        assert column(table, "Start")[0] == f"{start:%d %b %H:%M}"
        # The note is client-facing text: shown as typed, never as markup.
        assert "[bold]x[/bold]" in text_of(review, "#timesheets-detail")

        # Space marks the first and moves on; b makes the second non-billable.
        await pilot.press("space")
        await pilot.pause()
        assert review.marked == {first.id} and table.current_key == str(second.id)
        await pilot.press("b")
        await settle(app, pilot)
        assert column(table, "Bill") == ["yes", "no"]

        # a approves the marked entry only.
        await pilot.press("a")
        await settle(app, pilot)
        assert [row.value for row in table.rows] == [str(second.id)]
        # Nothing marked any more: a approves the entry under the cursor.
        await pilot.press("a")
        await settle(app, pilot)
        assert table.row_count == 0

        with desk.db.read() as session:
            entries = session.exec(select(TimeEntry).order_by(col(TimeEntry.id))).all()
            assert [(e.approved_by, e.billable) for e in entries] == [
                ("dispatcher", True),
                ("dispatcher", False),
            ]
            assert all(e.approved_at is not None for e in entries)
        assert audit_actions(desk, "time_entry.") == [
            ("time_entry.create", "tester", first.id),
            ("time_entry.create", "tester", second.id),
            ("time_entry.billable", "dispatcher", second.id),
            ("time_entry.approve", "dispatcher", first.id),
            ("time_entry.approve", "dispatcher", second.id),
        ]

        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is schedule_screen
        # Back on the board, the utilisation bars were read again.
        assert schedule_screen.data is not None and schedule_screen.data is not before
