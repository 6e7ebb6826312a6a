"""The triage session (F3) worked from the keyboard alone: end to end against the
database, bulk apply, repeat-last, filter, refusals that keep the typed values, and
client text shown literally. Waits on workers; never sleeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from live_helpers import settle, until
from sqlmodel import select
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import Input, Static

from dispatch_tui.app import DispatchApp
from dispatch_tui.rules.sla import Clock, ClockState
from dispatch_tui.screens import triage as triage_screen
from dispatch_tui.screens.triage import TriageScreen, clock_text
from dispatch_tui.screens.widgets.conflict_dialog import ConflictDialog
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.screens.widgets.triage_panel import TriagePanel
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.settings import set_shop_timezone
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.services.triage import update_triage_fields
from dispatch_tui.store import Database
from dispatch_tui.store.models import AuditEvent, Ticket
from dispatch_tui.textsafe import plain

SIZE = (120, 40)
HOSTILE = "[bold]x[/] \x1b[31mred"
NOW = datetime.now(UTC)


def with_desk(path: Path, action: Callable[[Desk], Any]) -> Any:
    database = Database(path)
    try:
        return action(Desk(database, "other dispatcher"))
    finally:
        database.dispose()


def add(path: Path, summary: str, hours_ago: float, contact: str | None = "Jo Park") -> int:
    received = datetime.now(UTC) - timedelta(hours=hours_ago)
    ticket = with_desk(
        path,
        lambda d: add_ticket(
            d, client="Acme Dental", contact=contact, summary=summary, received_at=received
        ),
    )
    return ticket.id or 0


@pytest.fixture
def queue_db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "t.db"
    database = Database(path, create=True)
    set_shop_timezone(Desk(database, "tester"), "America/Chicago")
    database.dispose()
    yield path


def tickets(path: Path) -> dict[int, Ticket]:
    def read(desk: Desk) -> dict[int, Ticket]:
        with desk.db.read() as session:
            return {t.id or 0: t for t in session.exec(select(Ticket)).all()}

    return with_desk(path, read)


def audit_actions(path: Path, ticket_id: int) -> list[tuple[str, str]]:
    def read(desk: Desk) -> list[tuple[str, str]]:
        with desk.db.read() as session:
            events = session.exec(
                select(AuditEvent).where(
                    AuditEvent.entity == "ticket", AuditEvent.entity_id == ticket_id
                )
            ).all()
            return [(e.action, e.actor) for e in events]

    return with_desk(path, read)


async def type_text(app: DispatchApp, pilot: Pilot, text: str) -> None:
    await pilot.press(*text)
    await settle(app, pilot)  # completions come from a thread


async def open_triage(app: DispatchApp, pilot: Pilot) -> TriageScreen:
    await settle(app, pilot)
    assert isinstance(app.screen, TriageScreen)
    return app.screen


def queue_keys(screen: TriageScreen) -> list[str]:
    return [key.value or "" for key in screen.query_one("#queue", KeyedTable).rows]


def progress(screen: TriageScreen) -> str:
    return str(screen.query_one("#progress", Static).render())


def notes(seen: list[Message]) -> list[str]:
    return [m.notification.message for m in seen if isinstance(m, Notify)]


async def triage_current(app: DispatchApp, pilot: Pilot, *, kind: str = "i") -> None:
    """One ticket as a dispatcher does it: type, impact, urgency, then the text fields."""
    await pilot.press(kind, "3", "5", "c")
    await type_text(app, pilot, "netw")
    await pilot.press("tab")
    await type_text(app, pilot, "vp")
    await pilot.press("tab")
    await type_text(app, pilot, "1.5")
    await pilot.press("tab")
    await type_text(app, pilot, "network")
    await pilot.press("ctrl+s")
    await settle(app, pilot)


async def test_keyboard_only_session_triages_the_whole_queue(queue_db: Path) -> None:
    ids = [add(queue_db, f"Call {n}", hours_ago=5 - n) for n in range(3)]
    app = DispatchApp(queue_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_triage(app, pilot)
        assert queue_keys(screen) == [str(i) for i in ids]  # oldest first
        assert progress(screen).startswith("0 of 3 triaged, 3 waiting, oldest 5h")

        # The first ticket: its summary rewritten, then the rest.
        await pilot.press("s")
        assert app.focused is screen.query_one("#f-summary")
        await pilot.press("ctrl+u")
        await type_text(app, pilot, "VPN drops every hour")
        await pilot.press("escape")
        await triage_current(app, pilot)
        assert queue_keys(screen) == [str(i) for i in ids[1:]]
        assert progress(screen).startswith("1 of 3 triaged, 2 waiting")

        await triage_current(app, pilot, kind="r")
        await triage_current(app, pilot)

        stored = tickets(queue_db)
        for ticket_id in ids:
            ticket = stored[ticket_id]
            assert ticket.status == "triaged"
            assert ticket.triaged_at is not None and ticket.first_response_at is not None
            assert (ticket.category, ticket.subcategory) == ("network", "vpn")
            assert (ticket.impact, ticket.urgency, ticket.priority) == ("high", "medium", "high")
            assert ticket.estimate_hours == 1.5 and ticket.required_skill == "network"
            assert ("ticket.triage", "Alice") in audit_actions(queue_db, ticket_id)
        assert stored[ids[0]].summary == "VPN drops every hour"
        assert stored[ids[1]].ticket_type == "service_request"

        # The queue is empty: the gate is open and one key goes to Dispatch.
        assert progress(screen).startswith("3 of 3 triaged, 0 waiting")
        gate = screen.query_one("#gate-open", Static)
        assert gate.display and "Gate open" in str(gate.render())
        await pilot.press("ctrl+g")
        await settle(app, pilot)
        assert app.current_mode == "dispatch"


async def test_incomplete_or_refused_confirm_keeps_every_value(queue_db: Path) -> None:
    ticket_id = add(queue_db, "No contact yet", hours_ago=1, contact=None)
    seen: list[Message] = []
    app = DispatchApp(queue_db, actor="Alice")
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await open_triage(app, pilot)
        await pilot.press("i", "2", "6", "c")
        await type_text(app, pilot, "email")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        # Not saved; the cursor waits on the first gap, the typed values stay.
        assert any("still needs contact" in n for n in notes(seen))
        assert app.focused is screen.query_one("#f-contact")
        assert tickets(queue_db)[ticket_id].status == "new"
        assert screen.query_one("#f-category", Input).value == "email"

        # Someone else edits the ticket meanwhile: an edit conflict, values kept.
        await type_text(app, pilot, "Jo Park")
        await pilot.press("escape", "e")
        await type_text(app, pilot, "0.5")
        await pilot.press("tab")
        await type_text(app, pilot, "m365")
        with_desk(queue_db, lambda d: update_triage_fields(d, ticket_id, summary="Changed"))
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        # The conflict dialog (tests/test_conflict_dialog.py) says who; nothing saved.
        dialog = app.screen
        assert isinstance(dialog, ConflictDialog) and dialog.who == "other dispatcher"
        assert tickets(queue_db)[ticket_id].status == "new"
        panel = screen.query_one("#panel", TriagePanel)
        assert panel.draft is not None and panel.draft.skill == "m365"
        # Re-applying, knowingly, saves the kept values on top of their version.
        await pilot.press("r")
        await settle(app, pilot)
        saved = tickets(queue_db)[ticket_id]
        assert saved.status == "triaged" and saved.required_skill == "m365"
        assert saved.priority == "high" and saved.summary == "Changed"


async def test_marked_tickets_take_the_panel_values(queue_db: Path) -> None:
    first = add(queue_db, "Disk alert SRV1", hours_ago=3)
    other = add(queue_db, "Phone call", hours_ago=2)
    second = add(queue_db, "Disk alert SRV2", hours_ago=1)
    app = DispatchApp(queue_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_triage(app, pilot)
        await pilot.press("space", "n", "space")  # marks first, skips other, marks second
        assert "2 marked" in progress(screen)
        await pilot.press("p", "p")  # back on the first: fill its panel
        await pilot.press("i", "1", "4", "c")
        await type_text(app, pilot, "monitoring")
        await pilot.press("tab")
        await type_text(app, pilot, "disk space")
        await pilot.press("tab")
        await type_text(app, pilot, "0.5")
        await pilot.press("tab")
        await type_text(app, pilot, "windows")
        await pilot.press("escape", "b")
        await settle(app, pilot)
        stored = tickets(queue_db)
        for ticket_id in (first, second):
            assert stored[ticket_id].status == "triaged"
            assert stored[ticket_id].subcategory == "disk space"
            assert ("ticket.triage", "Alice") in audit_actions(queue_db, ticket_id)
        assert stored[other].status == "new"
        assert queue_keys(screen) == [str(other)]
        assert progress(screen).startswith("2 of 3 triaged, 1 waiting")


async def test_repeat_last_triage_on_the_next_alert(queue_db: Path) -> None:
    ids = [add(queue_db, f"Backup failed on NAS{n}", hours_ago=3 - n) for n in range(3)]
    app = DispatchApp(queue_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_triage(app, pilot)
        await triage_current(app, pilot)
        await pilot.press("full_stop")
        await settle(app, pilot)
        await pilot.press("full_stop")
        await settle(app, pilot)
        stored = tickets(queue_db)
        assert all(stored[i].status == "triaged" for i in ids)
        assert {stored[i].subcategory for i in ids} == {"vpn"}
        assert progress(screen).startswith("3 of 3 triaged")


async def test_slash_filters_the_queue(queue_db: Path) -> None:
    add(queue_db, "Printer offline", hours_ago=2)
    scanner = add(queue_db, "Scanner jams", hours_ago=1)
    app = DispatchApp(queue_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_triage(app, pilot)
        await pilot.press("slash")
        await type_text(app, pilot, "scan")
        await pilot.press("enter")
        await settle(app, pilot)
        assert queue_keys(screen) == [str(scanner)]
        panel = screen.query_one("#panel", TriagePanel)
        assert panel.draft is not None and panel.draft.ticket_id == scanner
        assert app.focused is screen.query_one("#queue")
        await pilot.press("slash", "escape")
        await settle(app, pilot)
        assert len(queue_keys(screen)) == 2


async def test_client_text_is_literal_in_queue_and_panel(queue_db: Path) -> None:
    ticket_id = add(queue_db, HOSTILE, hours_ago=1)
    app = DispatchApp(queue_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_triage(app, pilot)
        queue = screen.query_one("#queue", KeyedTable)
        summary = queue.get_row(str(ticket_id))[5]
        assert summary.plain == "[bold]x[/] \ufffd[31mred" and summary.spans == []
        panel = screen.query_one("#panel", TriagePanel)
        description = str(panel.query_one("#ticket-description", Static).render())
        assert "\x1b" not in description
        drawn = "\n".join(queue.render_line(y).text for y in range(queue.size.height))
        assert "[bold]x[/]" in drawn and "\x1b" not in drawn
        # The input holds the display-safe copy; unchanged, it is never saved back.
        assert panel.query_one("#f-summary", Input).value == plain(HOSTILE)
        assert panel.draft is not None and "summary" not in panel.draft.all_fields(UTC, NOW)


def test_first_response_clock_turns_yellow_then_red() -> None:
    def state(left: float) -> ClockState:
        return ClockState(Clock.FIRST_RESPONSE, 60, 60 - left, left, None, False)

    assert clock_text(state(40)).style == ""
    assert "yellow" in str(clock_text(state(10)).style)
    breached = clock_text(state(-5), long=True)
    assert "red" in str(breached.style) and breached.plain == "5 min over"


async def test_a_key_right_after_a_move_acts_on_the_ticket_under_the_cursor(
    queue_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The panel follows the cursor once it rests (holding an arrow key must not fill
    # the panel per row); a value key pressed at once must still reach the new ticket.
    # The rest is made long here, so that only the keys themselves can show it.
    monkeypatch.setattr(triage_screen, "SHOW_SETTLE_SECONDS", 60.0)
    first = add(queue_db, "Printer offline", hours_ago=2)
    second = add(queue_db, "Scanner jams", hours_ago=1)
    app = DispatchApp(queue_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_triage(app, pilot)
        await pilot.press("down")  # the second ticket, read for the first time
        await settle(app, pilot)
        await pilot.press("up", "3")  # back to the first, already read: impact high
        panel = screen.panel
        assert panel.draft is not None and panel.draft.ticket_id == first
        assert panel.draft.impact == "high"
        assert screen.session.drafts[second].impact != "high"
        await pilot.press("down", "1")
        assert screen.panel.draft is not None and screen.panel.draft.ticket_id == second
        assert screen.session.drafts[second].impact == "low"
        assert screen.session.drafts[first].impact == "high"
        # A click into the panel right after a move: the field belongs to the new ticket.
        await pilot.press("up")
        await pilot.click("#f-note")
        shown = screen.query_one("#panel", TriagePanel).draft  # not through screen.panel
        assert shown is not None and shown.ticket_id == first


async def test_the_queue_load_reads_every_listed_ticket_for_the_panel(
    queue_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One statement with the queue, not a worker and four reads per cursor move: moving
    # onto a ticket never shown before reads nothing, and the panel shows it as stored.
    first = add(queue_db, "Printer offline", hours_ago=3)
    second = add(queue_db, "Scanner jams", hours_ago=2, contact=None)
    third = add(queue_db, "VPN drops", hours_ago=1)
    details: list[int] = []
    original = TriageScreen._load_detail

    def counting(screen: TriageScreen, ticket_id: int) -> None:
        details.append(ticket_id)
        original(screen, ticket_id)

    monkeypatch.setattr(TriageScreen, "_load_detail", counting)
    app = DispatchApp(queue_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_triage(app, pilot)
        assert set(screen.session.drafts) == {first, second, third}
        await pilot.press("down")
        await settle(app, pilot)
        await until(pilot, lambda: screen.panel.draft is not None)
        panel = screen.panel
        assert panel.draft is not None and panel.draft.ticket_id == second
        assert panel.query_one("#f-summary", Input).value == "Scanner jams"
        assert panel.query_one("#f-client", Input).value == "Acme Dental"
        assert panel.query_one("#f-contact", Input).value == ""
        await pilot.press("down")
        await settle(app, pilot)
        assert screen.panel.draft is not None and screen.panel.draft.ticket_id == third
        assert screen.panel.query_one("#f-contact", Input).value == "Jo Park"
        assert details == []


async def test_another_dispatchers_edit_reaches_a_panel_read_with_the_queue(
    queue_db: Path,
) -> None:
    # The drafts read with the queue follow the stored ticket while nobody typed in them.
    add(queue_db, "Printer offline", hours_ago=2)
    second = add(queue_db, "Scanner jams", hours_ago=1)
    app = DispatchApp(queue_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_triage(app, pilot)
        assert screen.session.drafts[second].summary == "Scanner jams"
        with_desk(queue_db, lambda d: update_triage_fields(d, second, summary="Scanner jams daily"))
        await until(
            pilot,
            lambda: (
                screen.session.drafts.get(second) is not None
                and screen.session.drafts[second].summary == "Scanner jams daily"
            ),
        )
        await pilot.press("down")
        await settle(app, pilot)
        assert screen.panel.query_one("#f-summary", Input).value == "Scanner jams daily"


async def test_showing_a_ticket_looks_up_no_completion(
    queue_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Completions are for typing: filling the panel from a stored ticket asks nothing
    # (each lookup was a worker, the client's and contact's a read of the desk).
    add(queue_db, "Printer offline", hours_ago=2)
    add(queue_db, "Scanner jams", hours_ago=1)
    lookups: list[str] = []
    original = triage_screen.intake_views.suggest_client

    def counting(desk: Desk, value: str) -> str | None:
        lookups.append(value)
        return original(desk, value)

    monkeypatch.setattr(triage_screen.intake_views, "suggest_client", counting)
    app = DispatchApp(queue_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_triage(app, pilot)
        await pilot.press("down")
        await settle(app, pilot)
        await pilot.press("up")
        await settle(app, pilot)
        assert screen.panel.query_one("#f-client", Input).value == "Acme Dental"
        assert lookups == []
        # Typing still completes.
        await pilot.press("a", "ctrl+u")
        await type_text(app, pilot, "acm")
        assert lookups, "typing into the client field looked nothing up"
        await until(pilot, lambda: screen.panel.query_one("#f-client", Input)._suggestion)
        assert screen.panel.query_one("#f-client", Input)._suggestion == "Acme Dental"
