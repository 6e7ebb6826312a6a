"""The commonest sections stay light (issue 9).

Every widget on a screen is a message queue that Textual styles when it mounts and
visits while a key is handled, so Triage and Dispatch keep a widget budget; nothing
hidden behind them keeps waking the app; and a move of the focus repaints what it
moved between, not every line of the screen.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from live_helpers import SIZE, add, settle, until
from textual.widgets import Input, LoadingIndicator, Static

from dispatch_tui.app import DispatchApp
from dispatch_tui.screens.dispatch import DispatchScreen
from dispatch_tui.screens.startup import StartupScreen
from dispatch_tui.screens.triage import TriageScreen
from dispatch_tui.screens.widgets.desk_header import DeskHeader
from dispatch_tui.screens.widgets.triage_panel import TriagePanel
from dispatch_tui.store import Database

#: Widgets a section mounts, itself included. Before issue 9's widget work: Triage
#: 57 (a Horizontal, a Label and a field per panel row), Dispatch 20.
TRIAGE_BUDGET = 30
DISPATCH_BUDGET = 12


@pytest.fixture
def desk_file(tmp_path: Path) -> Path:
    path = tmp_path / "shared.db"
    Database(path, create=True).dispose()
    return path


def widgets(screen: object) -> int:
    assert isinstance(screen, (TriageScreen, DispatchScreen))
    return len(list(screen.walk_children(with_self=True)))


async def test_triage_and_dispatch_keep_their_widget_budget(desk_file: Path) -> None:
    add(desk_file, "Printer offline", hours_ago=2)
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TriageScreen)
        panel = screen.query_one("#panel", TriagePanel)
        await until(pilot, lambda: panel.draft is not None)
        assert widgets(screen) <= TRIAGE_BUDGET
        # What the panel draws without a widget per label and choice is all there.
        text = "\n".join(str(s.render()) for s in panel.query(Static))
        for shown in ("Summary", "Client", "Contact", "Type", "Impact", "Urgency"):
            assert shown in text
        for shown in ("Priority", "Category", "Subcategory", "Skill", "Due", "Note"):
            assert shown in text
        assert "1 low  2 medium  3 high" in text and "set impact and urgency" in text
        await pilot.press("3", "6")
        choices = str(panel.query_one("#choices", Static).render())
        assert "critical" in choices.splitlines()[-1] or "high" in choices.splitlines()[-1]
        assert len(panel.query(Input)) == 9
        # The notice that takes the queue's place is mounted when first needed.
        assert not screen.query("#gate-open")
        await pilot.press("slash", *"zzz")
        await pilot.pause()
        gate = screen.query_one("#gate-open", Static)
        assert gate.display and "No waiting ticket matches 'zzz'" in str(gate.render())
        assert not panel.display
        await pilot.press("escape")
        await pilot.pause()
        assert not gate.display and panel.display

        await pilot.press("f4")
        await settle(app, pilot)
        assert isinstance(app.screen, DispatchScreen)
        assert widgets(app.screen) <= DISPATCH_BUDGET
        # The captions are the panes' border titles now.
        assert "Triaged, unassigned: 0" in (app.screen.work_table.border_title or "")
        assert "Roster" in (app.screen.query_one("#roster").border_title or "")
        assert app.screen.query_one(DeskHeader).title_text.plain == "Dispatch"


async def test_the_start_up_spinner_stops_once_a_section_covers_it(desk_file: Path) -> None:
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert not isinstance(app.screen, StartupScreen)
        stack = app._screen_stacks.get(app.DEFAULT_MODE, [])
        startup = [s for s in stack if isinstance(s, StartupScreen)]
        assert startup, "the start-up screen stays under the sections"
        for indicator in startup[0].query(LoadingIndicator):
            assert indicator.auto_refresh is None


async def test_a_focus_move_repaints_its_two_widgets_not_the_screen(desk_file: Path) -> None:
    add(desk_file, "Printer offline", hours_ago=2)
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TriageScreen)
        await until(pilot, lambda: screen.query_one("#panel", TriagePanel).draft is not None)
        await pilot.pause()
        screen.set_focus(screen.query_one("#f-summary", Input))
        dirty = screen._compositor._dirty_regions
        assert screen.size.region not in dirty and not screen._repaint_required
        await pilot.pause()
        assert app.focused is screen.query_one("#f-summary", Input)


async def test_a_cursor_move_marks_only_the_tables_own_box(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # DataTable marks a row as wide as its columns; where they run past the table's edge
    # (the Dispatch work list) the mark reached the panel beside it, which the screen
    # then repainted at every cursor move (screens/widgets/keyed_table.py).
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.containers import Horizontal
    from textual.geometry import Region
    from textual.widget import Widget

    from dispatch_tui.screens.widgets.keyed_table import KeyedTable

    class Narrow(App[None]):
        CSS = "#work { width: 40; }"

        def compose(self) -> ComposeResult:
            with Horizontal():
                yield KeyedTable([("A", 30), ("B", 30), ("C", 30)], id="work")
                yield Static("beside", id="beside")

    marked: list[tuple[Widget, tuple[Region, ...]]] = []
    refresh = Widget.refresh

    def spy(self: Widget, *regions: Region, **options: bool) -> Widget:
        marked.append((self, regions))
        return refresh(self, *regions, **options)

    app = Narrow()
    async with app.run_test(size=(80, 20)) as pilot:
        table = app.query_one(KeyedTable)
        table.show_rows([(n, [Text("a"), Text("b"), Text("c")]) for n in range(5)])
        table.focus()
        await pilot.pause()
        monkeypatch.setattr(Widget, "refresh", spy)
        await pilot.press("down")
        box = Region(0, 0, *table.outer_size)
        rows = [r for widget, regions in marked if widget is table for r in regions]
        assert rows and all(box.contains_region(r) for r in rows), rows
        assert table.cursor_row == 1


async def test_rows_shown_before_the_first_layout_are_cut_to_the_table_once_laid_out() -> None:
    # DataTable never narrows a column for an edited cell: rows filled before the table
    # had a width kept their full-length summaries' width, and the table scrolled
    # sideways (with a scroll bar) although every summary was cut to fit.
    from rich.text import Text
    from textual.app import App, ComposeResult

    from dispatch_tui.screens.widgets.keyed_table import KeyedTable

    rows = [(n, [Text(str(n)), Text("a very long summary " * 4)]) for n in range(5)]

    class Early(App[None]):
        CSS = "KeyedTable { width: 40; }"

        def compose(self) -> ComposeResult:
            yield KeyedTable([("#", 3), ("Summary", None)])

        def on_mount(self) -> None:
            self.query_one(KeyedTable).show_rows(rows)

    app = Early()
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        table = app.query_one(KeyedTable)
        assert table.row_count == 5
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert str(table.get_row_at(0)[1]).endswith("…")
