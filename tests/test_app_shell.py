"""The Textual shell as a dispatcher meets it: which section opens, the F-keys, help,
the palette, literal client text and an unusable database. Pilot tests, no sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from live_helpers import settle
from rich.text import Text
from textual.command import CommandPalette
from textual.widgets import DataTable

from dispatch_tui.app import DispatchApp
from dispatch_tui.screens.help import HelpScreen
from dispatch_tui.screens.startup import DatabaseErrorScreen
from dispatch_tui.screens.widgets.desk_header import DeskHeader
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.technicians import add_technician
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store import Database
from dispatch_tui.textsafe import plain

SIZE = (120, 40)
HOSTILE = "[bold]x[/bold] \x1b[31mred"


@pytest.fixture
def shell_db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "t.db"
    database = Database(path, create=True)
    desk = Desk(database, "tester")
    add_technician(desk, name="Dana Reyes", tier=2, skills="network,m365")
    yield path
    database.dispose()


def add(path: Path, summary: str, *, hours_ago: float = 0, client: str = "Acme Dental") -> int:
    database = Database(path)
    try:
        received = datetime.now(UTC) - timedelta(hours=hours_ago)
        ticket = add_ticket(
            Desk(database, "tester"), client=client, summary=summary, received_at=received
        )
        return ticket.id or 0
    finally:
        database.dispose()


async def test_opens_on_triage_when_tickets_wait(shell_db: Path) -> None:
    newest = add(shell_db, "Printer offline", hours_ago=1)
    oldest = add(shell_db, "Cannot log in", hours_ago=5)
    app = DispatchApp(shell_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.current_mode == "triage"
        assert app.screen.title == "Triage"
        queue = app.screen.query_one("#queue", KeyedTable)
        # Oldest first: the order triage must be worked in.
        assert [key.value for key in queue.rows] == [str(oldest), str(newest)]


async def test_opens_on_dispatch_when_nothing_waits(shell_db: Path) -> None:
    app = DispatchApp(shell_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.current_mode == "dispatch"
        roster = app.screen.query_one("#roster", KeyedTable)
        assert roster.get_row_at(0)[0].plain == "Dana Reyes"


async def test_function_keys_switch_sections(shell_db: Path) -> None:
    app = DispatchApp(shell_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for key, mode, title in [
            ("f2", "intake", "Intake"),
            ("f3", "triage", "Triage"),
            ("f4", "dispatch", "Dispatch"),
            ("f5", "schedule", "Schedule"),
            ("f6", "dashboard", "Dashboard"),
        ]:
            await pilot.press(key)
            await settle(app, pilot)
            assert app.current_mode == mode
            assert app.screen.title == title
            header = app.screen.query_one(DeskHeader)
            assert header.title_text.plain == title
            assert str(header.render()).startswith(f" {title} ")


async def test_header_shows_dispatcher_file_and_counts(shell_db: Path) -> None:
    add(shell_db, "Printer offline")
    app = DispatchApp(shell_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        header = app.screen.query_one(DeskHeader)
        who, counts = header.who_text.plain, header.counts.plain
        assert "Alice" in who and str(shell_db.name) in who
        # All of it drawn, on one line, counts on the right.
        line = str(header.render())
        assert "Alice" in line and line.rstrip().endswith(counts)
        assert "1 new" in counts and "0 unassigned" in counts and "0 overdue" in counts


async def test_help_lists_active_bindings_and_escape_closes(shell_db: Path) -> None:
    app = DispatchApp(shell_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#help-keys", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert ["f3", "Triage", "screen.triage"] in rows
        assert ["^q", "Quit", "app.quit"] in rows
        assert any(row[2] == "desk.refresh" for row in rows)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.title == "Dispatch"


async def test_command_palette_reaches_a_section(shell_db: Path) -> None:
    app = DispatchApp(shell_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert CommandPalette.is_open(app)
        await pilot.press(*"go to schedule")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.current_mode == "schedule"


async def test_client_text_is_shown_literally(shell_db: Path) -> None:
    ticket_id = add(shell_db, HOSTILE, client="[red]Evil[/red] Corp")
    app = DispatchApp(shell_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        queue = app.screen.query_one("#queue", KeyedTable)
        row = queue.get_row(str(ticket_id))
        summary, client = row[5], row[4]
        assert isinstance(summary, Text)
        assert summary.plain == plain(HOSTILE) == "[bold]x[/bold] \ufffd[31mred"
        assert summary.spans == []
        assert client.plain == "[red]Evil[/red] Corp"
        # And on screen: the brackets are drawn, not interpreted, and no ESC reaches the terminal.
        drawn = "\n".join(queue.render_line(y).text for y in range(queue.size.height))
        assert "[bold]x[/bold]" in drawn
        assert "\x1b" not in drawn


async def test_refresh_keeps_the_cursor_on_its_ticket(shell_db: Path) -> None:
    add(shell_db, "First", hours_ago=3)
    second = add(shell_db, "Second", hours_ago=2)
    app = DispatchApp(shell_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        queue = app.screen.query_one("#queue", KeyedTable)
        queue.focus()
        await pilot.press("down")
        assert queue.current_key == str(second)
        add(shell_db, "Older", hours_ago=9)
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert queue.row_count == 3
        assert queue.current_key == str(second)


async def test_keymap_moves_a_binding(shell_db: Path) -> None:
    app = DispatchApp(shell_db, actor="Alice", keymap={"screen.intake": "f9"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        assert app.current_mode == "dispatch"
        await pilot.press("f9")
        await settle(app, pilot)
        assert app.current_mode == "intake"


@pytest.mark.parametrize("kind", ["missing folder", "not a database"])
async def test_unusable_database_shows_an_error_screen(tmp_path: Path, kind: str) -> None:
    if kind == "missing folder":
        path = tmp_path / "nowhere" / "t.db"
    else:
        path = tmp_path / "t.db"
        path.write_bytes(b"this is a spreadsheet, not a database" * 100)
    app = DispatchApp(path, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, DatabaseErrorScreen)
        assert app.desk is None
        message = app.screen.message
        assert str(path.parent if kind == "missing folder" else path) in message
        assert "\n" not in message and "Traceback" not in message
        # Sections need a database: the F-keys do nothing here, and q quits.
        await pilot.press("f3")
        assert isinstance(app.screen, DatabaseErrorScreen)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_section_keys_work_from_inside_a_text_area(shell_db: Path) -> None:
    from textual.widgets import TextArea

    app = DispatchApp(shell_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        app.screen.query_one("#description", TextArea).focus()
        await pilot.press("f6")
        await settle(app, pilot)
        assert app.current_mode == "dashboard"
