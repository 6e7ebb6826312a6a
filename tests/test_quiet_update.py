"""show_text: a Static's new text is painted without a screen layout when its size stays,
and with one when it changes (so nothing is ever cut off or left with a gap)."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from dispatch_tui.screens.widgets.quiet_update import show_text


class Panels(App[None]):
    CSS = """
    #fixed { height: 1; }
    #auto { height: auto; }
    #capped { height: auto; max-height: 2; }
    #narrow { width: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("one line"), id="fixed")
        yield Static(Text("one line"), id="auto")
        yield Static(Text("a\nb"), id="capped")
        yield Static(Text("abc"), id="narrow")


def layouts(app: App[None]) -> list[int]:
    """Counts the screen layouts from now on, in a list the test reads later."""
    count = [0]
    screen = app.screen
    original = screen._refresh_layout

    def counting(*args: object, **kwargs: object) -> None:
        count[0] += 1
        original(*args, **kwargs)  # type: ignore[arg-type]

    screen._refresh_layout = counting  # type: ignore[method-assign]
    return count


async def shown(app: App[None], widget_id: str) -> str:
    screen: Screen[None] = app.screen
    return str(screen.query_one(f"#{widget_id}", Static).render())


async def test_same_size_text_is_painted_without_a_layout() -> None:
    app = Panels()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        count = layouts(app)
        for widget_id in ("fixed", "auto"):
            show_text(app.query_one(f"#{widget_id}", Static), Text("another line"))
        show_text(app.query_one("#capped", Static), Text("c\nd\ne"))  # clipped to 2 anyway
        await pilot.pause()
        assert count[0] == 0
        assert await shown(app, "fixed") == "another line"
        assert await shown(app, "auto") == "another line"
        assert app.query_one("#capped").size.height == 2


async def test_a_change_of_size_still_lays_the_screen_out() -> None:
    app = Panels()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        count = layouts(app)
        show_text(app.query_one("#auto", Static), Text("three\nlines\nnow"))
        show_text(app.query_one("#narrow", Static), Text("much wider"))
        await pilot.pause()
        assert count[0] >= 1
        assert app.query_one("#auto").size.height == 3
        assert app.query_one("#narrow").size.width == len("much wider")


async def test_the_same_text_again_is_not_repainted() -> None:
    app = Panels()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        widget = app.query_one("#fixed", Static)
        show_text(widget, Text("one line"))
        assert not widget._repaint_required
        show_text(widget, Text("one line", style="bold"))  # a style is a change
        assert widget._repaint_required
