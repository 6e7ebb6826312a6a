"""The Dispatch screen from the keyboard: suggestions (top key and a digit), bulk assign,
escalation, a client update, and a technician's queue. Waits on workers, never sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live_helpers import settle as settle_rounds
from live_helpers import until
from sqlmodel import col, select
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot

from dispatch_tui.app import DispatchApp
from dispatch_tui.screens.dispatch import DispatchScreen
from dispatch_tui.screens.dispatch_parts.queue_view import TechQueueView
from dispatch_tui.services import dispatch, dispatch_board
from dispatch_tui.services.availability import set_working_hours
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.technicians import add_technician
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.services.triage import triage_ticket
from dispatch_tui.store import Database
from dispatch_tui.store.models import AuditEvent, Note, Ticket

SIZE = (120, 40)
NETWORK = {
    "ticket_type": "incident",
    "category": "network",
    "subcategory": "vpn",
    "impact": "high",
    "urgency": "medium",
    "estimate_hours": 1.0,
    "required_skill": "network",
}
DESKTOP = {**NETWORK, "category": "hardware", "subcategory": "printer", "required_skill": "desktop"}


@pytest.fixture
def board_db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "d.db"
    database = Database(path, create=True)
    desk = Desk(database, "tester")
    for name, tier, skills in (
        ("Dana Reyes", 2, "network"),
        ("Ava Chen", 1, "desktop"),
        ("Elena Novak", 3, "servers"),
    ):
        add_technician(desk, name=name, tier=tier, skills=skills)
        set_working_hours(
            desk, name, days="mon,tue,wed,thu,fri,sat,sun", start="00:00", end="23:59"
        )
    for summary, fields in (
        ("VPN drops", NETWORK),
        ("Printer jams", DESKTOP),
        ("Scanner offline", DESKTOP),
        ("Label printer", DESKTOP),
    ):
        ticket = add_ticket(desk, client="Acme Dental", contact="Jo Park", summary=summary)
        triage_ticket(desk, ticket.id or 0, **fields)
    yield path
    database.dispose()


def read(path: Path, action):  # type: ignore[no-untyped-def]
    database = Database(path)
    try:
        with database.read() as session:
            return action(session)
    finally:
        database.dispose()


def owners(path: Path) -> dict[str, str | None]:
    from dispatch_tui.store.models import Technician

    def go(session):  # type: ignore[no-untyped-def]
        names = {t.id: t.name for t in session.exec(select(Technician)).all()}
        return {t.summary: names.get(t.assigned_tech_id) for t in session.exec(select(Ticket))}

    return read(path, go)


async def settle(app: DispatchApp, pilot: Pilot) -> None:
    await settle_rounds(app, pilot, rounds=4)


def screen(app: DispatchApp) -> DispatchScreen:
    assert isinstance(app.screen, DispatchScreen)
    return app.screen


async def select_summary(app: DispatchApp, pilot: Pilot, summary: str) -> None:
    """Move the cursor with the arrow keys to the ticket with this summary, and wait
    for its suggestions (they are worked out once the cursor rests)."""
    for _ in range(10):
        item = screen(app).selected()
        if item is not None and item.ticket.summary == summary:
            ticket_id = item.ticket.id or 0
            await until(pilot, lambda t=ticket_id: t in screen(app)._ranked)
            await settle(app, pilot)
            return
        await pilot.press("down")
        await settle(app, pilot)
    raise AssertionError(f"{summary!r} not on the board")


async def test_dispatch_a_triaged_queue_with_suggestions_from_the_keyboard(
    board_db: Path,
) -> None:
    seen: list[Message] = []
    app = DispatchApp(board_db, actor="Alice")
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(app, pilot)
        assert app.current_mode == "dispatch"
        board = screen(app)
        # The top suggestion for the network incident is the technician with the skill.
        await select_summary(app, pilot, "VPN drops")
        ranked = board._ranked[board.selected().ticket.id]
        assert ranked[0].name == "Dana Reyes" and "has the network skill" in ranked[0].reasons
        await pilot.press("a")
        await settle(app, pilot)
        assert owners(board_db)["VPN drops"] == "Dana Reyes"

        # A digit picks another suggestion: 2 on the printer goes to the second-ranked tech.
        await select_summary(app, pilot, "Printer jams")
        second = board._ranked[board.selected().ticket.id][1].name
        await pilot.press("2")
        await settle(app, pilot)
        assert owners(board_db)["Printer jams"] == second

        # Mark the last two and bulk-assign them to the top suggestion, in one go.
        await select_summary(app, pilot, "Scanner offline")
        await pilot.press("space")  # marks and moves down to the label printer
        await pilot.press("space")
        await settle(app, pilot)
        assert len(board._marks) == 2
        await pilot.press("b")
        await settle(app, pilot)
        after = owners(board_db)
        assert after["Scanner offline"] == after["Label printer"] == "Ava Chen"
        bulk = read(
            board_db,
            lambda s: s.exec(
                select(AuditEvent.detail).where(col(AuditEvent.detail).contains("bulk"))
            ).all(),
        )
        assert len(bulk) == 2
        assert board.work_table.row_count == 0
        errors = [m for m in seen if isinstance(m, Notify) and m.notification.severity == "error"]
        assert errors == []


async def test_escalate_and_log_a_client_update_in_a_few_keys(board_db: Path) -> None:
    app = DispatchApp(board_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select_summary(app, pilot, "VPN drops")
        ticket_id = screen(app).selected().ticket.id
        await pilot.press("e")
        await pilot.pause()
        await pilot.press(*"needs firewall admin", "enter")
        await settle(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"tech calls by noon", "enter")
        await settle(app, pilot)
        ticket = read(board_db, lambda s: s.get(Ticket, ticket_id))
        assert (ticket.escalated, ticket.escalated_to) == (True, "tier3")
        notes = read(
            board_db,
            lambda s: s.exec(select(Note.kind, Note.body).where(Note.ticket_id == ticket_id)).all(),
        )
        assert ("client", "tech calls by noon") in notes
        actions = read(
            board_db,
            lambda s: s.exec(
                select(AuditEvent.action).where(AuditEvent.entity_id == ticket_id)
            ).all(),
        )
        assert "ticket.escalate" in actions and "ticket.note" in actions
        # The row shows the update's age now, and the sort key cycles to "client update".
        assert screen(app).selected().last_client_update is not None
        await pilot.press("o")
        await pilot.pause()
        assert "client update" in str(screen(app)._sort)


async def test_technician_queue_reorders_from_the_keyboard(board_db: Path) -> None:
    from dispatch_tui.services import dispatch

    database = Database(board_db)
    desk = Desk(database, "tester")
    ids = [t for t in read(board_db, lambda s: s.exec(select(Ticket.id)).all())]
    dispatch.assign_many(desk, ids[1:], "Ava Chen")
    database.dispose()
    app = DispatchApp(board_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("tab")  # to the roster: Ava Chen is first by name
        await pilot.press("t")
        await settle(app, pilot)
        assert isinstance(app.screen, TechQueueView)
        await pilot.press("down", "left_square_bracket")
        await settle(app, pilot)

        def order(session):  # type: ignore[no-untyped-def]
            return session.exec(
                select(Ticket.id)
                .where(col(Ticket.id).in_(ids[1:]))
                .order_by(col(Ticket.queue_position))
            ).all()

        assert read(board_db, order) == [ids[2], ids[1], ids[3]]
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, DispatchScreen)


async def test_suggestions_follow_a_resting_cursor_and_assign_keys_never_go_stale(
    board_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows passed while an arrow key is held are not ranked; the ticket the cursor
    rests on is, and an assign key pressed before that ranks it at once instead of
    using the previous ticket's list."""
    import dispatch_tui.screens.dispatch as dispatch_screen

    app = DispatchApp(board_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        board = screen(app)
        first = board.selected()
        assert first is not None
        await until(pilot, lambda: (first.ticket.id or 0) in board._ranked)
        ranked: list[int] = []
        original = board._suggest

        def counting(ticket_id: int) -> None:
            ranked.append(ticket_id)
            original(ticket_id)

        board._suggest = counting  # type: ignore[method-assign]
        # Pilot waits between keys; a long rest stands for keys faster than the rest.
        monkeypatch.setattr(dispatch_screen, "SUGGEST_SETTLE_SECONDS", 60.0)
        await pilot.press("down", "down")
        assert ranked == []
        resting = board.selected()
        assert resting is not None and resting.ticket.summary != first.ticket.summary
        # The assign key asks for the resting ticket's ranking now, not the old list.
        await pilot.press("a")
        assert ranked == [resting.ticket.id]
        await until(pilot, lambda: (resting.ticket.id or 0) in board._ranked)
        await settle(app, pilot)
        assert owners(board_db)[resting.ticket.summary] is None
        # Once the cursor rests, the ticket under it is ranked without any key.
        monkeypatch.setattr(dispatch_screen, "SUGGEST_SETTLE_SECONDS", 0.08)
        await pilot.press("up")
        await until(pilot, lambda: len(ranked) == 2)
        assert ranked[1] == board.selected().ticket.id


def shown_ids(app: DispatchApp) -> list[int]:
    return [int(key.value or 0) for key in screen(app).work_table.rows]


def cursor_id(app: DispatchApp) -> int | None:
    item = screen(app).selected()
    return None if item is None else item.ticket.id


def work_caption(app: DispatchApp) -> str:
    return str(screen(app).work_table.border_title)


async def test_the_work_list_pages_through_every_ticket_from_the_keyboard(
    board_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of two: the four triaged tickets of board_db make two pages, and a fifth
    # a third.
    monkeypatch.setattr(dispatch_board, "PAGE_SIZE", 2)
    database = Database(board_db)
    try:
        desk = Desk(database, "tester")
        extra = add_ticket(desk, client="Acme Dental", contact="Jo Park", summary="Mouse dead")
        triage_ticket(desk, extra.id or 0, **DESKTOP)
        with database.read() as session:
            queue = [t.id for t, _, _ in dispatch_board.unassigned_work(session, 100)]
    finally:
        database.dispose()
    assert len(queue) == 5
    app = DispatchApp(board_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert shown_ids(app) == queue[:2]
        assert "Triaged, unassigned: 5, showing 1-2." in work_caption(app)
        # Down past the last row: the next page, the cursor on its first row.
        await pilot.press("down", "down")
        await settle(app, pilot)
        assert shown_ids(app) == queue[2:4] and cursor_id(app) == queue[2]
        assert "showing 3-4" in work_caption(app)
        # Page down on the last row turns the page too; on the last page it stays.
        await pilot.press("pagedown")
        await settle(app, pilot)
        assert cursor_id(app) == queue[3]
        await pilot.press("pagedown")
        await settle(app, pilot)
        assert shown_ids(app) == queue[4:] and cursor_id(app) == queue[4]
        assert "showing 5-5" in work_caption(app)
        await pilot.press("down")
        await settle(app, pilot)
        assert shown_ids(app) == queue[4:] and cursor_id(app) == queue[4]
        # Up past the first row: the previous page, the cursor on its last row.
        await pilot.press("up")
        await settle(app, pilot)
        assert shown_ids(app) == queue[2:4] and cursor_id(app) == queue[3]
        await pilot.press("up", "up")
        await settle(app, pilot)
        assert shown_ids(app) == queue[:2] and cursor_id(app) == queue[1]
        assert "showing 1-2" in work_caption(app)
        # The assign key works on a later page as on the first.
        await pilot.press("down")
        await settle(app, pilot)
        await until(pilot, lambda: queue[2] in screen(app)._ranked)
        await pilot.press("a")
        await settle(app, pilot)
        await until(pilot, lambda: queue[2] not in shown_ids(app))
        assert shown_ids(app) == [queue[3], queue[4]]
        assert "Triaged, unassigned: 4, showing 3-4." in work_caption(app)


async def test_a_colleagues_assignment_keeps_the_page_and_the_cursor(
    board_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatch_board, "PAGE_SIZE", 2)
    app = DispatchApp(board_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        first_page = shown_ids(app)
        await pilot.press("down", "down", "down")
        await settle(app, pilot)
        second_page = shown_ids(app)
        assert cursor_id(app) == second_page[1]
        # Another dispatcher takes a ticket from the first page: live refresh reads
        # this page again, which still holds the same tickets, the cursor on its own.
        database = Database(board_db)
        try:
            dispatch.assign_ticket(Desk(database, "Bob"), first_page[0], "Dana Reyes")
        finally:
            database.dispose()
        await until(pilot, lambda: "Triaged, unassigned: 3" in work_caption(app))
        assert shown_ids(app) == second_page and cursor_id(app) == second_page[1]
        assert "showing 2-3" in work_caption(app)


async def test_the_record_follows_a_resting_cursor_and_acting_shows_it_first(
    board_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows passed while an arrow key is held do not repaint the record; the ticket the
    cursor rests on shows, and a key that acts on the ticket shows its record first."""
    import dispatch_tui.screens.dispatch as dispatch_screen
    from dispatch_tui.screens.dispatch_parts.record import TriageRecord

    def record(board: DispatchScreen) -> str:
        return str(board.query_one("#record", TriageRecord).render())

    app = DispatchApp(board_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        board = screen(app)
        first = board.selected()
        assert first is not None
        assert f"#{first.ticket.id}  {first.ticket.summary}" in record(board)
        # Pilot waits between keys; a long rest stands for keys faster than the rest.
        monkeypatch.setattr(dispatch_screen, "RECORD_SETTLE_SECONDS", 60.0)
        await pilot.press("down", "down")
        resting = board.selected()
        assert resting is not None and resting.ticket.id != first.ticket.id
        assert f"#{first.ticket.id}  " in record(board)
        # Escalating names the ticket under the cursor, and its record shows at once.
        await pilot.press("e")
        await settle(app, pilot)
        assert f"#{resting.ticket.id}  {resting.ticket.summary}" in record(board)
        await pilot.press("escape")
        await settle(app, pilot)
        # Once the cursor rests, the record follows without any key.
        monkeypatch.setattr(dispatch_screen, "RECORD_SETTLE_SECONDS", 0.05)
        await pilot.press("up")
        above = board.selected()
        assert above is not None
        await until(pilot, lambda: f"#{above.ticket.id}  {above.ticket.summary}" in record(board))
