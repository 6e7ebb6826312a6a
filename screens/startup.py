"""What shows before the desk opens: a loading screen, or why the database cannot be used."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import LoadingIndicator, Static

from dispatch_tui.screens.widgets.key_bar import KeyBar
from dispatch_tui.textsafe import plain

#: The refresh interval of Textual's LoadingIndicator (it sets this on mount).
SPIN_SECONDS = 1 / 16
#: Seconds of opening before the spinner shows. Opening a local file takes a fraction
#: of that; a spinner flashing for it would only redraw the screen ~16 times a second
#: while the opening worker needs the interpreter to itself.
SPINNER_DELAY_SECONDS = 0.4


class StartupScreen(Screen[None]):
    """Shown while a worker opens (and possibly migrates) the database file."""

    TITLE = "Opening"
    CSS_PATH = "startup.tcss"

    def __init__(self, source: str) -> None:
        super().__init__()
        self._source = source

    def compose(self) -> ComposeResult:
        with Vertical(id="startup"):
            yield Static(Text(f"Opening {plain(self._source)}"), classes="message")
            # The spinner's place, kept so the message does not move when it comes.
            yield Vertical(id="spinner")
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_timer(SPINNER_DELAY_SECONDS, self._spin)

    def _spin(self) -> None:
        # Not once the desk is open: this screen then stays, hidden, under the sections.
        if self.app.screen is self:
            self.query_one("#spinner", Vertical).mount(LoadingIndicator())

    def on_screen_suspend(self) -> None:
        # Once the desk is open this screen stays under the sections (it is the default
        # mode's), and its spinner would go on waking the app 16 times a second for
        # nothing on screen, also in the middle of every key. It spins only while shown.
        for indicator in self.query(LoadingIndicator):
            indicator.auto_refresh = None

    def on_screen_resume(self) -> None:
        for indicator in self.query(LoadingIndicator):
            indicator.auto_refresh = SPIN_SECONDS


class DatabaseErrorScreen(Screen[None]):
    """The database cannot be used: say why and how to fix it, never a traceback."""

    TITLE = "Cannot open the database"
    CSS_PATH = "startup.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "app.quit", "Quit", show=False, id="error.quit"),
    ]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="db-error"):
            yield Static(Text("Cannot open the database", style="bold"), classes="title")
            yield Static(Text(plain(self.message)), classes="message")
            yield Static(Text("Press q to quit."), classes="hint")
        yield KeyBar()
