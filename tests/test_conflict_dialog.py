"""The edit-conflict dialog: a dispatcher edits a ticket, someone else saves it first,
and the save opens a dialog naming the other dispatcher, when, and what changed.
Re-apply saves the edit on top of the new version; discard loads the stored ticket;
nothing is ever retried without a key press. Plus the pure merge behind re-apply."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from live_helpers import SIZE, add, as_actor, settle, until
from textual.pilot import Pilot
from textual.widgets import Input, Static

from dispatch_tui.app import DispatchApp
from dispatch_tui.screens.triage import TriageScreen
from dispatch_tui.screens.triage_merge import changed_fields, rebase
from dispatch_tui.screens.triage_state import Draft
from dispatch_tui.screens.widgets.conflict_dialog import ConflictDialog
from dispatch_tui.screens.widgets.triage_panel import TriagePanel
from dispatch_tui.services.tickets import get_ticket
from dispatch_tui.services.triage import update_triage_fields
from dispatch_tui.store import Database


@pytest.fixture
def desk_file(tmp_path: Path) -> Path:
    path = tmp_path / "shared.db"
    Database(path, create=True).dispose()
    return path


def stored(path: Path, ticket_id: int):  # noqa: ANN201 - a Ticket
    return as_actor(path, "observer", lambda d: get_ticket(d, ticket_id).ticket)


async def edit_then_conflict(app: DispatchApp, pilot: Pilot[None], path: Path, ticket: int) -> None:
    """Alice fills the panel; Bob saves the same ticket; Alice presses ctrl+s."""
    await settle(app, pilot)
    assert isinstance(app.screen, TriageScreen)
    await pilot.press("i", "3", "5", "c", *"network", "tab", *"vpn", "tab", *"1.5", "tab")
    await pilot.press(*"network", "escape")
    await settle(app, pilot)
    as_actor(
        path,
        "Bob",
        lambda d: update_triage_fields(d, ticket, summary="VPN down for everyone", impact="low"),
    )
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(app.screen, ConflictDialog))


def dialog_text(app: DispatchApp) -> str:
    return " ".join(str(w.render()) for w in app.screen.query(Static))


async def test_the_dialog_says_who_when_and_what(desk_file: Path) -> None:
    ticket = add(desk_file, "VPN drops", hours_ago=1)
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await edit_then_conflict(app, pilot, desk_file, ticket)
        dialog = app.screen
        assert isinstance(dialog, ConflictDialog)
        assert dialog.who == "Bob"
        text = dialog_text(app)
        assert "changed by Bob at" in text
        when = stored(desk_file, ticket).updated_at.astimezone(UTC)
        assert when.strftime("%Y-%m-%d %H:%M") in text  # the test desk runs on UTC
        changes = {c.label: c for c in dialog.changes}
        assert set(changes) == {"Summary", "Impact"}
        assert (changes["Summary"].before, changes["Summary"].now) == (
            "VPN drops",
            "VPN down for everyone",
        )
        # Both changed the impact: re-applying would put Alice's over Bob's; it says so.
        assert changes["Impact"].now == "low" and changes["Impact"].mine == "high"
        assert changes["Impact"].clash and not changes["Summary"].clash
        assert stored(desk_file, ticket).status == "new"  # nothing saved

        # Escape decides later: still nothing saved, values kept, and ctrl+s asks again.
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, TriageScreen)
        assert app.screen.query_one("#f-skill", Input).value == "network"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConflictDialog))
        assert stored(desk_file, ticket).status == "new"


async def test_reapply_saves_my_edit_on_top_of_theirs(desk_file: Path) -> None:
    ticket = add(desk_file, "VPN drops", hours_ago=1)
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await edit_then_conflict(app, pilot, desk_file, ticket)
        version = stored(desk_file, ticket).version
        await pilot.press("r")
        await until(pilot, lambda: stored(desk_file, ticket).status == "triaged")
        saved = stored(desk_file, ticket)
        # Bob's summary stays (Alice never touched it); Alice's values are on top.
        assert saved.summary == "VPN down for everyone"
        assert (saved.impact, saved.category, saved.required_skill) == (
            "high",
            "network",
            "network",
        )
        assert saved.version == version + 1 and saved.updated_by == "Alice"


async def test_discard_loads_the_stored_ticket(desk_file: Path) -> None:
    ticket = add(desk_file, "VPN drops", hours_ago=1)
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await edit_then_conflict(app, pilot, desk_file, ticket)
        await pilot.press("d")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TriageScreen)
        panel = screen.query_one("#panel", TriagePanel)
        await until(pilot, lambda: panel.draft is not None)
        assert panel.draft is not None
        assert panel.draft.version == stored(desk_file, ticket).version
        assert screen.query_one("#f-summary", Input).value == "VPN down for everyone"
        assert screen.query_one("#f-skill", Input).value == ""
        assert panel.draft.impact == "low"
        # Nothing was saved by discarding.
        assert stored(desk_file, ticket).status == "new"


def draft(**values: object) -> Draft:
    base = Draft(ticket_id=7, version=1, created_at=datetime(2025, 3, 4, tzinfo=UTC))
    for name, value in values.items():
        setattr(base, name, value)
    return base


def test_rebase_keeps_my_changes_and_takes_theirs_elsewhere() -> None:
    base = draft(summary="VPN", loaded_summary="VPN", impact="medium", category="")
    current = draft(
        version=2, summary="VPN down", loaded_summary="VPN down", impact="low", skill="net"
    )
    mine = draft(summary="VPN", loaded_summary="VPN", impact="high", category="network", note="x")
    merged = rebase(mine, base, current)
    assert merged.version == 2
    assert merged.summary == "VPN down" and merged.loaded_summary == "VPN down"
    assert (merged.impact, merged.category, merged.skill, merged.note) == (
        "high",
        "network",
        "net",
        "x",
    )
    labels = [c.label for c in changed_fields(base, current, mine)]
    assert labels == ["Summary", "Impact", "Skill"]
