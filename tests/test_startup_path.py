"""What start-up does before the first section shows, and what it no longer does twice.

The first section's data is read by the worker that opens the desk and shown before
the section's first frame; later showings load as before, once per showing. Pilot
tests, no sleeps but the spinner's own delay.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_helpers import SIZE, add, settle, until
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Input, LoadingIndicator

from dispatch_tui import app as app_module
from dispatch_tui.app import DispatchApp
from dispatch_tui.screens import startup
from dispatch_tui.screens.dispatch import DispatchScreen
from dispatch_tui.screens.startup import StartupScreen
from dispatch_tui.screens.triage import TriageScreen
from dispatch_tui.screens.widgets.desk_header import DeskHeader
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.screens.widgets.triage_panel import TriagePanel
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.technicians import add_technician
from dispatch_tui.store import Database, StoreError


@pytest.fixture
def desk_db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "t.db"
    database = Database(path, create=True)
    add_technician(Desk(database, "tester"), name="Dana Reyes", tier=2, skills="network")
    yield path
    database.dispose()


class Counter:
    """Counts calls of a function; ``counting`` is the function to install in its place
    (a plain function, so it binds as a method where the original did)."""

    def __init__(self, function: Any) -> None:
        self.calls = 0

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return function(*args, **kwargs)

        self.counting = counting


async def test_first_section_shows_the_data_read_with_the_desk(
    desk_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = add(desk_db, "Printer offline")
    # Read once, by the opening worker; the section's own load (reload) does not run.
    fetches = Counter(TriageScreen.fetch)
    monkeypatch.setattr(TriageScreen, "fetch", staticmethod(fetches.counting))
    reloads = Counter(TriageScreen.reload)
    monkeypatch.setattr(TriageScreen, "reload", reloads.counting)
    details = Counter(TriageScreen._load_detail)
    monkeypatch.setattr(TriageScreen, "_load_detail", details.counting)
    frames: list[str] = []
    original_refresh = Screen._compositor_refresh

    def compositor_refresh(screen: Screen[Any]) -> None:
        frames.append(type(screen).__name__)
        original_refresh(screen)

    monkeypatch.setattr(Screen, "_compositor_refresh", compositor_refresh)
    shown: list[bool] = []
    original_show = TriageScreen.show

    def show(screen: TriageScreen, data: Any) -> None:
        # Shown before the screen's first frame was drawn.
        shown.append("TriageScreen" not in frames)
        original_show(screen, data)

    monkeypatch.setattr(TriageScreen, "show", show)
    app = DispatchApp(desk_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        queue = app.screen.query_one("#queue", KeyedTable)
        assert [key.value for key in queue.rows] == [str(ticket)]
        assert (fetches.calls, reloads.calls) == (1, 0)
        assert shown == [True]
        assert not queue.loading
        # The panel too: the first ticket was read with the queue, not loaded after it.
        assert details.calls == 0
        panel = app.screen.query_one("#panel", TriagePanel)
        assert panel.draft is not None and panel.draft.ticket_id == ticket
        assert panel.query_one("#f-summary", Input).value == "Printer offline"


async def test_first_section_is_filled_laid_out_and_its_rows_measured_at_once(
    desk_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(desk_db, "A summary long enough to be cut to the width of the queue " * 3)
    original_show = TriageScreen.show
    seen: list[tuple[int, int]] = []

    def show(screen: TriageScreen, data: Any) -> None:
        original_show(screen, data)
        queue = screen.query_one("#queue", KeyedTable)
        # Laid out already: the summary is cut to the table's width as it is filled,
        # not again once the table learns it; and its rows are measured (header + 1).
        seen.append((queue.scrollable_content_region.width, queue.virtual_size.height))

    monkeypatch.setattr(TriageScreen, "show", show)
    app = DispatchApp(desk_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        queue = app.screen.query_one("#queue", KeyedTable)
        assert seen == [(queue.scrollable_content_region.width, 2)]
        assert seen[0][0] > 0
        summary = queue.get_row_at(0)[-1]
        assert summary.plain.endswith("…")


async def test_an_empty_first_queue_does_not_keep_the_focus(
    desk_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(desk_db, "Printer offline")
    original_fetch = TriageScreen.fetch

    def triaged_meanwhile(desk: Desk) -> Any:
        # Counted as waiting when the desk opened, triaged by someone before the read.
        data = original_fetch(desk)
        return type(data)([], 0, data.policy, data.skills, {})

    monkeypatch.setattr(TriageScreen, "fetch", staticmethod(triaged_meanwhile))
    app = DispatchApp(desk_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, TriageScreen)
        queue = app.screen.query_one("#queue", KeyedTable)
        # Hidden as the data shows, after Textual focused it: the focus goes with it
        # (when the data was shown before the first layout, the hidden queue kept it).
        assert not queue.display
        assert app.screen.focused is None


async def test_a_later_showing_loads_again_once(
    desk_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(desk_db, "Printer offline")
    # This test is about what showing a section reads, so nothing else may load one
    # while it counts. On a loaded machine (3 of 6 parallel runs failed) two things did:
    # the "being triaged" claim, whose commit 0.3 s after Triage shows its ticket makes
    # Triage reload as a colleague's claim would, so no claim is written here; and a
    # quiet reload Triage had queued at start-up, still running after F4, so its loads
    # are counted only from the key that shows it again.
    monkeypatch.setattr(app_module, "CLAIM_SETTLE_SECONDS", 3600.0)
    app = DispatchApp(desk_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        dispatch_fetches = Counter(DispatchScreen.fetch)
        monkeypatch.setattr(DispatchScreen, "fetch", dispatch_fetches.counting)
        # A new mode's screen is resumed twice by Textual; one load is enough.
        await pilot.press("f4")
        await settle(app, pilot)
        assert dispatch_fetches.calls == 1
        triage_fetches = Counter(TriageScreen.fetch)
        monkeypatch.setattr(TriageScreen, "fetch", staticmethod(triage_fetches.counting))
        # Shown again after being hidden: a colleague may have changed things.
        await pilot.press("f3")
        await settle(app, pilot)
        assert triage_fetches.calls == 1
        await pilot.press("f4")
        await settle(app, pilot)
        assert dispatch_fetches.calls == 2


async def test_a_failed_read_ahead_leaves_the_section_to_load_itself(
    desk_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = add(desk_db, "Printer offline")

    def locked(cls: type[TriageScreen], desk: Desk) -> Any:
        raise StoreError("the file is locked")

    monkeypatch.setattr(TriageScreen, "read_ahead", classmethod(locked))
    app = DispatchApp(desk_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.current_mode == "triage"
        queue = app.screen.query_one("#queue", KeyedTable)
        assert [key.value for key in queue.rows] == [str(ticket)]


async def test_new_screens_are_not_restyled_or_their_css_reparsed_on_first_resume(
    desk_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(desk_db, "Printer offline")
    resumes: list[tuple[str, bool]] = []
    original_resume = Screen._on_screen_resume

    def resume(screen: Screen[Any], event: Any) -> None:
        resumes.append((type(screen).__name__, event.refresh_styles))
        original_resume(screen, event)

    monkeypatch.setattr(Screen, "_on_screen_resume", resume)
    app = DispatchApp(desk_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        refreshes = Counter(app.refresh_css)
        monkeypatch.setattr(app, "refresh_css", refreshes.counting)
        await pilot.press("f4")
        await settle(app, pilot)
        assert refreshes.calls == 0
        await pilot.press("f3")
        await settle(app, pilot)
    first = [(name, restyle) for name, restyle in resumes if name != "StartupScreen"]
    # Triage and Dispatch as each is created (twice each), then Triage shown again.
    assert first[:4] == [
        ("TriageScreen", False),
        ("TriageScreen", False),
        ("DispatchScreen", False),
        ("DispatchScreen", False),
    ]
    assert first[4:] == [("TriageScreen", True)]


async def test_a_section_css_is_parsed_alone_into_the_rules_a_full_parse_gives(
    desk_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(desk_db, "Printer offline")
    app = DispatchApp(desk_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        stylesheet = app.stylesheet
        reparses = Counter(stylesheet.reparse)
        monkeypatch.setattr(stylesheet, "reparse", reparses.counting)
        await pilot.press("f4")
        await settle(app, pilot)
        assert isinstance(app.screen, DispatchScreen)
        # Textual would have parsed every source again for the new screen's file.
        assert reparses.calls == 0
        assert any(path.endswith("dispatch.tcss") for path, _ in stylesheet.source)
        kept = [_rule(rule) for rule in stylesheet.rules]
        monkeypatch.undo()
        stylesheet.reparse()
        assert [_rule(rule) for rule in stylesheet.rules] == kept


def _rule(rule: Any) -> tuple[Any, ...]:
    # Layouts compare by identity, so the values by their repr.
    values = sorted((name, repr(value)) for name, value in rule.styles.get_rules().items())
    return (rule.selectors, values, rule.is_default_rules, rule.tie_breaker)


def test_tables_build_their_pydantic_validators_on_first_use_not_at_import() -> None:
    # A fresh interpreter: in this one, other tests may have used the models already.
    script = (
        "from sqlmodel import SQLModel\n"
        "from dispatch_tui.store import models\n"
        "tables = [m.class_ for m in SQLModel._sa_registry.mappers]\n"
        # sla_tally is a plain Core table, with no class to build (store/models.py).
        "plain = {'sla_tally'}\n"
        "assert len(tables) == len(set(SQLModel.metadata.tables) - plain), tables\n"
        "assert not [t for t in tables if t.__pydantic_complete__], 'built at import'\n"
        "ticket = models.Ticket(client_id=1, summary='Printer offline')\n"
        "assert ticket.model_dump()['summary'] == 'Printer offline'\n"
        "assert models.Ticket.model_validate({'client_id': 2, 'summary': 'x'}).client_id == 2\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


async def test_sla_catch_up_starts_after_the_first_section_is_up(
    desk_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(desk_db, "Printer offline")
    started_over: list[str] = []

    def catch_up(app: App[Any], desk: Desk) -> None:
        started_over.append(type(app.screen).__name__)

    monkeypatch.setattr(app_module.background_jobs, "catch_up_sla", catch_up)
    app = DispatchApp(desk_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
    assert started_over == ["TriageScreen"]


def test_objects_loaded_before_the_first_app_are_left_out_of_collections(
    desk_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "_FROZEN", False)
    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    DispatchApp(desk_db, actor="Alice")
    DispatchApp(desk_db, actor="Alice")
    # Once per process: frozen objects are never freed.
    assert frozen == [True]


class OpeningApp(App[None]):
    def compose(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.push_screen(StartupScreen("shop.db"))


async def test_opening_shows_a_spinner_only_when_it_takes_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two openings, not one timed against a 0.2 s delay: on a loaded machine the
    # first pause alone could outlast that delay and fail the test.
    monkeypatch.setattr(startup, "SPINNER_DELAY_SECONDS", 60.0)
    app = OpeningApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StartupScreen)
        assert not app.screen.query(LoadingIndicator)
    monkeypatch.setattr(startup, "SPINNER_DELAY_SECONDS", 0.05)
    app = OpeningApp()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query(LoadingIndicator))


async def test_first_header_shows_the_counts_read_as_the_desk_opened(
    desk_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(desk_db, "Printer offline")
    fetches = Counter(DeskHeader._fetch_counts)
    monkeypatch.setattr(DeskHeader, "_fetch_counts", fetches.counting)
    at_mount: list[tuple[str, int]] = []
    original_mount = DeskHeader.on_mount

    def on_mount(header: DeskHeader) -> None:
        original_mount(header)
        # Later reads (its timer, others' commits) may follow; none as it mounts.
        shown = header.counts.plain
        at_mount.append((shown, fetches.calls))

    monkeypatch.setattr(DeskHeader, "on_mount", on_mount)
    app = DispatchApp(desk_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        # Only the first header: the next section's reads its own as it mounts.
        await pilot.press("f4")
        await settle(app, pilot)
    (first, first_fetches), (_, later_fetches) = at_mount
    assert " 1 new" in first
    assert first_fetches == 0
    assert later_fetches > first_fetches
