"""Claims in the triage queue: others' claims read "being triaged by NAME" in the row
itself; the ticket in this dispatcher's panel is claimed, and released on moving on,
on saving, on leaving the section and on quitting. Claims never block a save."""

from __future__ import annotations

from pathlib import Path

import pytest
from live_helpers import SIZE, add, as_actor, queue, row_text, settle, until
from textual.pilot import Pilot

from dispatch_tui.app import DispatchApp
from dispatch_tui.screens.claim_keeper import ClaimKeeper
from dispatch_tui.screens.help import HelpScreen
from dispatch_tui.screens.triage import TriageScreen
from dispatch_tui.services.claims import Claim, active_claims, claim
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.tickets import get_ticket
from dispatch_tui.store import Database

HOSTILE = "[bold]Eve[/bold]\x1b[31m"


@pytest.fixture
def desk_file(tmp_path: Path) -> Path:
    path = tmp_path / "shared.db"
    Database(path, create=True).dispose()
    return path


def claims_on(path: Path, ids: list[int]) -> dict[int, Claim]:
    return as_actor(path, "observer", lambda d: active_claims(d, ids))


def holders(path: Path, ids: list[int]) -> dict[int, str]:
    return {t: c.holder for t, c in claims_on(path, ids).items()}


async def open_triage(app: DispatchApp, pilot: Pilot[None]) -> TriageScreen:
    await settle(app, pilot)
    assert isinstance(app.screen, TriageScreen)
    return app.screen


async def test_someone_elses_claim_shows_in_the_queue_row(desk_file: Path) -> None:
    first = add(desk_file, "Printer offline", hours_ago=2)
    second = add(desk_file, "VPN drops", hours_ago=1)
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await open_triage(app, pilot)
        assert "being triaged" not in row_text(app, second)

        # Bob opens the second ticket on his machine; Alice's queue says so by itself.
        as_actor(desk_file, "Bob", lambda d: claim(d, second))
        await until(pilot, lambda: "being triaged by Bob" in row_text(app, second))
        assert "VPN drops" in row_text(app, second)
        # Alice's own claim (on the first, in her panel) is not announced to herself.
        assert "being triaged" not in row_text(app, first)

        # It informs, never blocks: Alice can open Bob's ticket and sees who has it.
        await pilot.press("n")
        await settle(app, pilot)
        head = str(app.screen.query_one("#ticket-head").render())
        assert "being triaged by Bob" in head
        assert holders(desk_file, [second]) == {second: "Bob"}


async def test_a_holders_name_is_shown_literally(desk_file: Path) -> None:
    ticket = add(desk_file, "Call back", hours_ago=1)
    add(desk_file, "Another", hours_ago=2)  # Alice's panel opens this one
    as_actor(desk_file, HOSTILE, lambda d: claim(d, ticket))
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await open_triage(app, pilot)
        await until(pilot, lambda: "being triaged by [bold]Eve[/bold]" in row_text(app, ticket))


async def test_the_selected_ticket_is_claimed_and_released_on_moving_and_quitting(
    desk_file: Path,
) -> None:
    ids = [add(desk_file, f"Call {n}", hours_ago=3 - n) for n in range(3)]
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_triage(app, pilot)
        assert queue(app).current_key == str(ids[0])
        await until(pilot, lambda: holders(desk_file, ids) == {ids[0]: "Alice"})

        await pilot.press("n")
        await until(pilot, lambda: holders(desk_file, ids) == {ids[1]: "Alice"})

        # Leaving the section releases; coming back claims again.
        await pilot.press("f4")
        await until(pilot, lambda: holders(desk_file, ids) == {})
        await pilot.press("f3")
        await until(pilot, lambda: holders(desk_file, ids) == {ids[1]: "Alice"})
        # A dialog over the queue keeps the ticket open, even through a live reload.
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        as_actor(desk_file, "Bob", lambda d: claim(d, ids[2]))
        await until(pilot, lambda: "being triaged by Bob" in triage_row(screen, ids[2]))
        assert app.claims is not None and app.claims.wanted == ids[1]
        assert holders(desk_file, ids) == {ids[1]: "Alice", ids[2]: "Bob"}
    # Quitting releases: nobody else sees Alice on it after she closed the app.
    assert holders(desk_file, ids) == {ids[2]: "Bob"}


async def test_saving_releases_the_claim(desk_file: Path) -> None:
    only = add(desk_file, "Laptop won't boot", hours_ago=1)
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await open_triage(app, pilot)
        await until(pilot, lambda: holders(desk_file, [only]) == {only: "Alice"})
        await pilot.press("i", "2", "5", "c", *"hardware", "tab", "tab", *"2", "tab")
        await pilot.press(*"desktop", "ctrl+s")
        await settle(app, pilot)
        await until(pilot, lambda: as_status(desk_file, only) == "triaged")
        await until(pilot, lambda: holders(desk_file, [only]) == {})


def triage_row(screen: TriageScreen, ticket_id: int) -> str:
    return " ".join(c.plain for c in screen.queue.get_row(str(ticket_id)))


def as_status(path: Path, ticket_id: int) -> str:
    return as_actor(path, "observer", lambda d: get_ticket(d, ticket_id).ticket.status)


def test_keeper_leaves_someone_elses_claim_alone(desk_file: Path) -> None:
    ticket = add(desk_file, "Call", hours_ago=1)
    bob = Desk(Database(desk_file), "Bob")
    alice = Desk(Database(desk_file), "Alice")
    try:
        claim(bob, ticket)
        keeper = ClaimKeeper(alice)
        assert keeper.want(ticket)
        keeper.sync()
        assert keeper.held is None  # Bob's, and it stays Bob's
        keeper.release_all()
        assert holders(desk_file, [ticket]) == {ticket: "Bob"}
    finally:
        bob.db.dispose()
        alice.db.dispose()
