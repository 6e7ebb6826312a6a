"""KeyBar, the bottom line of every screen: shows what Textual's Footer showed (shown keys
after the keymap, greyed ones, the palette key on the right), redraws only when that
changes, and a click presses the key."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input

from dispatch_tui.screens.widgets.key_bar import KeyBar


class Desk(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+p", "command_palette", "Commands", show=False, id="app.commands"),
        Binding("f3", "go", "Triage", id="screen.triage"),
        Binding("f5", "hidden", "Hidden", show=False),
        Binding("f4", "greyed", "Greyed", id="greyed"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pressed: list[str] = []

    def compose(self) -> ComposeResult:
        yield Input(id="field")
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "greyed" else True

    def action_go(self) -> None:
        self.pressed.append("go")


def line(app: Desk) -> str:
    return app.query_one(KeyBar).render().plain


async def test_shows_the_keys_the_footer_showed() -> None:
    app = Desk()
    async with app.run_test(size=(80, 5)) as pilot:
        app.set_keymap({"screen.triage": "f9"})
        await pilot.pause()
        bar = app.query_one(KeyBar)
        shown = {k.description: k for k in bar.keys}
        assert "Hidden" not in shown
        assert shown["Triage"].display == "f9"  # after the keymap
        assert not shown["Greyed"].enabled
        assert bar.palette is not None and bar.palette.description == "Commands"
        text = line(app)
        assert " f9 Triage " in text and " f4 Greyed " in text
        assert text.rstrip().endswith("^p Commands")
        assert len(text) == 80


async def test_redraws_only_when_what_it_shows_changes() -> None:
    app = Desk()
    async with app.run_test(size=(80, 5)) as pilot:
        await pilot.pause()
        bar = app.query_one(KeyBar)
        before = bar.keys
        app.screen.refresh_bindings()  # nothing changed
        await pilot.pause()
        assert bar.keys is before
        app.set_keymap({"screen.triage": "f8"})
        await pilot.pause()
        assert bar.keys is not before and "f8 Triage" in line(app)


async def test_a_click_on_a_key_presses_it() -> None:
    app = Desk()
    async with app.run_test(size=(80, 5)) as pilot:
        await pilot.pause()
        line(app)  # the spans are known once drawn
        await pilot.click(KeyBar, offset=(2, 0))
        await pilot.pause()
        assert app.pressed == ["go"]
