"""Intake (F2) as a dispatcher on the phone uses it: keyboard only, no sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from live_helpers import settle
from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from dispatch_tui.app import DispatchApp
from dispatch_tui.errors import InvalidInput
from dispatch_tui.screens.intake import IntakeScreen
from dispatch_tui.screens.when import parse_due, parse_received
from dispatch_tui.screens.widgets.confirm import ConfirmScreen
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.settings import set_shop_timezone
from dispatch_tui.services.tickets import add_ticket, get_ticket
from dispatch_tui.store import Database
from dispatch_tui.store.models import Client, Ticket

SIZE = (120, 40)
CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def intake_db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "t.db"
    database = Database(path, create=True)
    desk = Desk(database, "tester")
    set_shop_timezone(desk, "America/Chicago")
    # A known client with a known contact, already triaged away (status irrelevant here).
    add_ticket(desk, client="Acme Dental", contact="Jo Park", summary="Earlier call")
    yield path
    database.dispose()


def tickets(path: Path) -> list[Ticket]:
    database = Database(path)
    try:
        with database.read() as session:
            return list(session.exec(select(Ticket).order_by(Ticket.id)).all())
    finally:
        database.dispose()


def client_names(path: Path) -> list[str]:
    database = Database(path)
    try:
        with database.read() as session:
            return sorted(c.name for c in session.exec(select(Client)).all())
    finally:
        database.dispose()


async def type_text(app: DispatchApp, pilot: Pilot, text: str) -> None:
    await pilot.press(*text)
    # Completions arrive from a thread; wait for them as a person would see them.
    await settle(app, pilot)


async def open_intake(app: DispatchApp, pilot: Pilot) -> IntakeScreen:
    await settle(app, pilot)
    await pilot.press("f2")
    await settle(app, pilot)
    assert isinstance(app.screen, IntakeScreen)
    return app.screen


async def test_a_phone_ticket_with_completions_and_no_mouse(intake_db: Path) -> None:
    app = DispatchApp(intake_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(app, pilot)
        assert app.focused is screen.query_one("#client")
        await type_text(app, pilot, "acm")
        await pilot.press("tab")
        await type_text(app, pilot, "jo")
        await pilot.press("tab")
        await type_text(app, pilot, "Printer jams on tray 2")
        await pilot.press("ctrl+s")
        await settle(app, pilot)

        saved = tickets(intake_db)[-1]
        assert saved.summary == "Printer jams on tray 2"
        assert saved.status == "new" and saved.channel == "phone"
        detail = get_ticket(Desk(Database(intake_db), "x"), saved.id or 0)
        assert (detail.client, detail.contact) == ("Acme Dental", "Jo Park")
        # Ready for the next call: empty, cursor on client, and the ticket in the list.
        for name in ("#client", "#contact", "#summary", "#received"):
            assert screen.query_one(name, Input).value == ""
        assert app.focused is screen.query_one("#client")
        recent = screen.query_one("#recent", KeyedTable)
        assert recent.current_key == str(saved.id)
        assert recent.get_row(str(saved.id))[3].plain == "Printer jams on tray 2"


async def test_a_new_client_is_created_only_after_yes(intake_db: Path) -> None:
    app = DispatchApp(intake_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(app, pilot)
        await type_text(app, pilot, "Zenith Law")
        await pilot.press("tab", "tab")
        await type_text(app, pilot, "New starter needs a laptop")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(app, pilot)
        # Declined: nothing saved, nothing lost.
        assert app.screen is screen
        assert len(tickets(intake_db)) == 1
        assert screen.query_one("#summary", Input).value == "New starter needs a laptop"

        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert client_names(intake_db) == ["Acme Dental", "Zenith Law"]
        assert tickets(intake_db)[-1].summary == "New starter needs a laptop"
        assert screen.query_one("#client", Input).value == ""


async def test_received_at_is_shop_time_and_a_bad_one_keeps_the_form(intake_db: Path) -> None:
    app = DispatchApp(intake_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(app, pilot)
        await type_text(app, pilot, "Acme Dental")
        await pilot.press("tab", "tab")
        await type_text(app, pilot, "Called about VPN")
        screen.query_one("#received", Input).focus()
        await type_text(app, pilot, "25:99")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert len(tickets(intake_db)) == 1
        assert screen.query_one("#summary", Input).value == "Called about VPN"
        assert app.focused is screen.query_one("#received")

        earlier = (datetime.now(UTC) - timedelta(hours=2)).astimezone(CHICAGO)
        await pilot.press(*["backspace"] * 5)
        await type_text(app, pilot, earlier.strftime("%Y-%m-%d %H:%M"))
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        saved = tickets(intake_db)[-1]
        assert saved.summary == "Called about VPN"
        assert saved.created_at.astimezone(CHICAGO).strftime("%H:%M") == earlier.strftime("%H:%M")


async def test_description_and_hostile_text_stay_literal(intake_db: Path) -> None:
    hostile = "[bold]x[/] \x1b[31mred"
    app = DispatchApp(intake_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(app, pilot)
        await type_text(app, pilot, "Acme Dental")
        await pilot.press("tab", "tab")
        screen.query_one("#summary", Input).value = hostile
        await pilot.press("tab")
        assert app.focused is screen.query_one("#description", TextArea)
        await type_text(app, pilot, "Line one")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        saved = tickets(intake_db)[-1]
        assert saved.description == "Line one"
        recent = screen.query_one("#recent", KeyedTable)
        summary = recent.get_row(str(saved.id))[3]
        assert summary.plain == "[bold]x[/] \ufffd[31mred" and summary.spans == []
        drawn = "\n".join(recent.render_line(y).text for y in range(recent.size.height))
        assert "[bold]x[/]" in drawn and "\x1b" not in drawn


def test_typed_times_read_as_shop_time() -> None:
    now = datetime(2025, 3, 4, 6, 30, tzinfo=UTC)  # 00:30 in Chicago
    assert parse_received("", CHICAGO, now) == now
    # "23:50" typed after midnight is last night, not tonight.
    late = parse_received("23:50", CHICAGO, now)
    assert late.astimezone(CHICAGO).isoformat() == "2025-03-03T23:50:00-06:00"
    with pytest.raises(InvalidInput, match="future"):
        parse_received("2025-03-05 09:00", CHICAGO, now)
    with pytest.raises(InvalidInput, match="cannot read"):
        parse_received("yesterday-ish", CHICAGO, now)
    due = parse_due("+2d", CHICAGO, now)
    assert due is not None and due.astimezone(CHICAGO).isoformat() == "2025-03-06T17:00:00-06:00"
    assert parse_due("", CHICAGO, now) is None
    day = parse_due("2025-03-10", CHICAGO, now)
    assert day is not None and day.astimezone(CHICAGO).hour == 17
