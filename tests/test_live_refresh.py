"""Live refresh: another PROCESS commits a ticket, and the running app shows it without
a key press, within the bound, with the cursor still on the ticket it was on.
Also: the watcher is polled off the UI thread and closed on exit."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
from live_helpers import SIZE, add, as_actor, queue, queue_keys, row_text, settle, until

from dispatch_tui.app import DispatchApp
from dispatch_tui.screens.triage import TriageScreen
from dispatch_tui.screens.widgets.desk_header import DeskHeader
from dispatch_tui.services.triage import update_triage_fields
from dispatch_tui.store import Database

#: What the other dispatcher's process runs: its own interpreter, its own connection.
#: The ticket is older than the others, so it sorts first and shifts every row down.
OTHER_PROCESS = """
import sys, time
from datetime import UTC, datetime, timedelta
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store import Database

db = Database(sys.argv[1])
ticket = add_ticket(
    Desk(db, "Bob"), client="Globex", summary="Server room too hot",
    received_at=datetime.now(UTC) - timedelta(hours=10),
)
committed = time.time()  # the commit is done when add_ticket returns
db.dispose()
print(ticket.id, committed)
"""


@pytest.fixture
def desk_file(tmp_path: Path) -> Path:
    path = tmp_path / "shared.db"
    Database(path, create=True).dispose()
    return path


async def run_other_process(path: Path) -> tuple[int, float]:
    """Run the other dispatcher's process; its ticket id and when it committed (epoch s)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        OTHER_PROCESS,
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    ticket_id, committed = out.decode().split()
    return int(ticket_id), float(committed)


def counts(app: DispatchApp) -> str:
    return app.screen.query_one(DeskHeader).counts.plain


async def test_another_process_commit_shows_without_a_key_press(desk_file: Path) -> None:
    ids = [add(desk_file, f"Call {n}", hours_ago=5 - n) for n in range(3)]
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, TriageScreen)
        await pilot.press("n")  # the cursor on the second ticket
        assert queue(app).current_key == str(ids[1])
        await until(pilot, lambda: "3" in counts(app))

        new_id, committed = await run_other_process(desk_file)
        await until(pilot, lambda: str(new_id) in queue_keys(app))
        latency = time.time() - committed
        print(f"\nlive refresh latency: {latency:.2f} s")

        assert queue_keys(app) == [str(new_id), *map(str, ids)]
        # The row above moved everything down; the cursor stayed on its ticket.
        assert queue(app).current_key == str(ids[1])
        await until(pilot, lambda: " 4 " in counts(app))


async def test_a_slow_poll_never_stacks_up_or_blocks_the_screen(
    desk_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(desk_file, "Call", hours_ago=1)
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        live = app.live
        assert live is not None
        started: list[float] = []
        release = asyncio.Event()
        loop = asyncio.get_running_loop()

        def stuck_poll() -> None:
            # A share that stopped answering: the poll thread waits, the UI must not.
            started.append(time.monotonic())
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=10)

        monkeypatch.setattr(live, "_poll", stuck_poll)
        for _ in range(3):
            live.tick()
        await until(pilot, lambda: started)
        await pilot.press("n")  # keys still work while the poll hangs
        await pilot.pause()
        assert len(started) == 1, "a second poll started while the first hung"
        release.set()
        await settle(app, pilot)


async def test_the_watcher_is_closed_on_exit(desk_file: Path) -> None:
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.live is not None
        watcher = app.live._watcher
    with pytest.raises(AssertionError, match="closed"):
        watcher.poll()


async def test_a_save_of_our_own_keeps_the_typed_draft_of_another_ticket(
    desk_file: Path,
) -> None:
    first = add(desk_file, "First", hours_ago=2)
    second = add(desk_file, "Second", hours_ago=1)
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TriageScreen)
        await pilot.press("c", *"netw", "escape")  # typed into the first ticket's draft
        await settle(app, pilot)
        assert screen.session.drafts[first].category == "netw"

        # Another dispatcher edits the second ticket: the app reloads by itself...
        as_actor(
            desk_file, "Bob", lambda d: update_triage_fields(d, second, summary="Second, reworded")
        )
        await until(pilot, lambda: "reworded" in row_text(app, second))
        # ...and what Alice typed is still there, cursor and all.
        assert screen.session.drafts[first].category == "netw"
        assert queue(app).current_key == str(first)


async def test_sections_reload_for_audited_changes_not_for_bare_claims(tmp_path: Path) -> None:
    from dispatch_tui.screens.dashboard import DashboardScreen
    from dispatch_tui.store.changes import ChangeEvent, Changes

    path = tmp_path / "desk.db"
    Database(path, create=True).dispose()
    app = DispatchApp(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f6")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        loads: list[int] = []
        screen._load = lambda: loads.append(1)  # type: ignore[method-assign]
        # A claim renewal commits but writes no audit event: nothing this screen shows.
        screen.live_changed([Changes(changed=True)])
        assert loads == []
        event = ChangeEvent(1, "2026-11-23 09:00:00", "Bob", "ticket.create", "ticket", 7, "")
        screen.live_changed([Changes(changed=True, events=[event])])
        screen.live_changed([Changes(changed=True, truncated=True)])
        assert loads == [1, 1]
