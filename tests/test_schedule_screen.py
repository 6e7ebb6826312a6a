"""The Schedule screen (F5) driven from the keyboard only: book, move, lengthen, cancel,
a refused conflict and its override, the week view, and literal client text.

The database is built with the services, the shop's zone is fixed and "today" is pinned
to a future Tuesday, so every slot and stored time is known in advance. No sleeps.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from live_helpers import settle, until
from schedule_desk import CHICAGO, TODAY
from sqlmodel import col, select
from textual.pilot import Pilot
from textual.widgets import Static

from dispatch_tui.app import DispatchApp
from dispatch_tui.screens.schedule import ScheduleScreen
from dispatch_tui.screens.schedule_parts.grid import ScheduleGrid
from dispatch_tui.screens.schedule_parts.layout import View
from dispatch_tui.screens.schedule_parts.reason import ReasonScreen
from dispatch_tui.screens.widgets.confirm import ConfirmScreen
from dispatch_tui.services import schedule
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store.models import AuditEvent, ServiceCall, Ticket
from dispatch_tui.textsafe import plain

pytestmark = pytest.mark.usefixtures("pinned_schedule_today")

SIZE = (120, 40)
HOSTILE = "[bold]x[/bold] \x1b[31mred"


def at(hour: int, minute: int = 0, day: date = TODAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO)


def long_ticket(desk: Desk, summary: str, hours: float, client: str = "Harbor Dental") -> int:
    """An assigned ticket estimated at ``hours``: over 4 h it belongs on the schedule."""
    ticket_id = add_ticket(desk, client=client, summary=summary).id or 0
    # Triage and assignment have their own screens and tests; here only the outcome matters.
    with desk.db.write() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.estimate_hours, ticket.status = hours, "assigned"
        session.add(ticket)
    return ticket_id


def calls(desk: Desk) -> list[ServiceCall]:
    with desk.db.read() as session:
        return list(session.exec(select(ServiceCall).order_by(col(ServiceCall.id))).all())


def actions(desk: Desk) -> list[str]:
    with desk.db.read() as session:
        rows = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.action).startswith("service_call."))
            .order_by(col(AuditEvent.id))
        ).all()
        return [row.action for row in rows]


def span(call: ServiceCall) -> tuple[datetime, datetime]:
    return call.starts_at.astimezone(CHICAGO), call.ends_at.astimezone(CHICAGO)


async def open_schedule(app: DispatchApp, pilot: Pilot) -> ScheduleGrid:
    await settle(app, pilot)
    await pilot.press("f5")
    await settle(app, pilot)
    assert isinstance(app.screen, ScheduleScreen)
    grid = app.screen.query_one(ScheduleGrid)
    assert grid.has_focus
    return grid


def status(app: DispatchApp) -> str:
    return str(app.screen.query_one("#status", Static).render())


def grid_call_ids(app: DispatchApp) -> set[int]:
    """The calls the Schedule board has drawn from its last load."""
    board = app.screen.query_one(ScheduleGrid).board
    return {call.id for call in board.calls} if board else set()


def grid_text(grid: ScheduleGrid) -> str:
    return "\n".join(grid.render_line(y).text for y in range(grid.size.height))


async def pick_first_ticket(app: DispatchApp, pilot: Pilot) -> None:
    await pilot.press("tab", "enter")
    await pilot.pause()


async def test_book_move_lengthen_and_cancel_from_the_keyboard(
    schedule_shop: tuple[Path, Desk],
) -> None:
    path, desk = schedule_shop
    ticket = long_ticket(desk, "Server migration", 5)
    app = DispatchApp(path, actor="dispatcher")
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_schedule(app, pilot)
        # The cursor starts on the morning of the pinned day, on the first technician.
        assert grid.cursor is not None
        assert (grid.cursor.lane.name, grid.cursor.slot.start) == ("Ava Chen", at(8))

        await pick_first_ticket(app, pilot)
        assert grid.has_focus
        await pilot.press("right", "right", "right", "right", "b")
        await settle(app, pilot)
        [call] = calls(desk)
        assert (call.ticket_id, call.tech_id, call.firm) == (ticket, 1, True)
        assert span(call) == (at(10), at(15))
        assert call.created_by == "dispatcher"
        assert actions(desk) == ["service_call.book"]
        assert "Booked call" in status(app)

        await pilot.press("shift+right")
        await settle(app, pilot)
        [call] = calls(desk)
        assert span(call) == (at(10, 30), at(15, 30))
        # The cursor moved with the call, so the next key acts on it again.
        assert grid.cursor is not None and grid.cursor.calls

        await pilot.press("shift+down")
        await settle(app, pilot)
        [call] = calls(desk)
        assert call.tech_id == 2 and span(call) == (at(10, 30), at(15, 30))
        assert grid.cursor is not None and grid.cursor.lane.name == "Ben Ortiz"

        await pilot.press("plus")
        await settle(app, pilot)
        [call] = calls(desk)
        assert span(call) == (at(10, 30), at(16))

        await pilot.press("f")
        await settle(app, pilot)
        assert calls(desk)[0].firm is False

        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert calls(desk) == []
        assert actions(desk) == [
            "service_call.book",
            "service_call.move",
            "service_call.move",
            "service_call.resize",
            "service_call.tentative",
            "service_call.cancel",
        ]


async def test_a_conflict_is_refused_with_its_reason_and_the_override_records_why(
    schedule_shop: tuple[Path, Desk],
) -> None:
    path, desk = schedule_shop
    first = long_ticket(desk, "Server migration", 5)
    second = long_ticket(desk, "Firewall upgrade", 6, client="Pine Legal")
    first_call = schedule.book_call(desk, first, "Ava Chen", at(10), 5).call.id
    app = DispatchApp(path, actor="dispatcher")
    async with app.run_test(size=SIZE) as pilot:
        await open_schedule(app, pilot)
        await pick_first_ticket(app, pilot)  # the first booked already left the list
        assert app.screen.picked is not None and app.screen.picked.id == second
        await pilot.press("right", "right", "right", "right", "right", "right", "b")
        await settle(app, pilot)
        assert len(calls(desk)) == 1
        assert f"cannot book ticket #{second}" in status(app)
        assert "overlaps" in status(app) or f"#{first}" in status(app)

        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, ReasonScreen)
        await pilot.press(*"quick remote check", "enter")
        await settle(app, pilot)
        booked = calls(desk)[1]
        assert booked.ticket_id == second and span(booked) == (at(11), at(17))
        assert booked.override_reason == "quick remote check"
        assert actions(desk) == ["service_call.book", "service_call.book"]
        with desk.db.read() as session:
            event = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
            assert event is not None and "booked over" in event.detail

        # Keys act on the call drawn on top (the later one); still clashing, a move is
        # refused too, and overriding it saves the new reason. The board must show the
        # new call first: the save's reload can land after settle() under load.
        await until(pilot, lambda: grid_call_ids(app) == {first_call, booked.id})
        await pilot.press("shift+left")
        await settle(app, pilot)
        assert span(calls(desk)[1]) == (at(11), at(17))
        assert f"cannot move call #{booked.id}" in status(app)
        await pilot.press("o")
        await pilot.pause()
        await pilot.press(*"client asked", "enter")
        await settle(app, pilot)
        moved = calls(desk)[1]
        assert span(moved) == (at(10, 30), at(16, 30))
        assert moved.override_reason == "client asked"


async def test_week_view_toggles_and_pages(schedule_shop: tuple[Path, Desk]) -> None:
    path, desk = schedule_shop
    ticket = long_ticket(desk, "Server migration", 5)
    schedule.book_call(desk, ticket, "Ben Ortiz", at(9, day=date(2030, 3, 14)), 5)
    app = DispatchApp(path)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_schedule(app, pilot)
        assert grid.view is View.DAY and len(grid.slots) == 28
        await pilot.press("w")
        await settle(app, pilot)
        assert grid.view is View.WEEK
        assert [s.day for s in grid.slots][0] == date(2030, 3, 11)
        assert grid.cursor is not None and grid.cursor.slot.day == TODAY
        assert f"#{ticket} 09h" in grid_text(grid)  # a day cell is narrow: cut, not wrapped
        await pilot.press("pagedown")
        await settle(app, pilot)
        assert grid.slots[0].day == date(2030, 3, 18)
        await pilot.press("t", "w")
        await settle(app, pilot)
        assert grid.view is View.DAY and grid.slots[0].day == TODAY


async def test_client_text_on_the_board_is_literal(schedule_shop: tuple[Path, Desk]) -> None:
    path, desk = schedule_shop
    ticket = long_ticket(desk, HOSTILE, 5, client="[red]Evil[/red] Corp")
    schedule.book_call(desk, ticket, "Ava Chen", at(8), 5)
    app = DispatchApp(path)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_schedule(app, pilot)
        text = grid_text(grid)
        assert f"#{ticket} [red]Evil[/red]" in text
        assert plain(HOSTILE)[:16] in text
        assert "\x1b" not in text
        under = str(app.screen.query_one("#under-cursor", Static).render())
        assert "[bold]x[/bold]" in under
