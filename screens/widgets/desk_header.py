"""The header on every screen: where you are, who you are, which file, and what waits."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from dispatch_tui.errors import DispatchError
from dispatch_tui.screens.widgets.quiet_update import show_text
from dispatch_tui.services.tickets import desk_counts
from dispatch_tui.store import StoreError
from dispatch_tui.store.queries import DeskCounts
from dispatch_tui.textsafe import one_line

if TYPE_CHECKING:
    from dispatch_tui.app import DispatchApp

#: Seconds between count refreshes: other dispatchers share the file, so the
#: counts change without this app doing anything.
REFRESH_SECONDS = 2.0


def error_line(error: BaseException | None) -> str:
    """One line for a notification; store errors already are user-facing sentences."""
    if error is None:
        return "unknown error"
    text = str(error).strip().splitlines()
    return one_line(text[0]) if text else type(error).__name__


def counts_text(counts: DeskCounts) -> Text:
    """ "3 new  1 unassigned  0 overdue", with what needs attention standing out."""
    text = Text()
    parts = (
        ("new", counts.untriaged),
        ("unassigned", counts.unassigned),
        ("overdue", counts.overdue),
    )
    for index, (label, value) in enumerate(parts):
        if index:
            text.append("  ")
        # New and overdue tickets are the ones a dispatcher must act on now.
        urgent = value > 0 and label != "unassigned"
        text.append(f" {value} ", style="bold reverse" if urgent else "bold")
        text.append(label)
    return text


class DeskHeader(Horizontal):
    """Title, dispatcher and database on the left; live desk counts on the right."""

    DEFAULT_CSS = """
    DeskHeader {
        height: 1;
        dock: top;
        background: $panel;
        color: $foreground;
    }
    DeskHeader #title { width: auto; padding: 0 1; text-style: bold; background: $primary; }
    DeskHeader #who { width: 1fr; padding: 0 1; color: $text-muted; }
    DeskHeader #counts { width: auto; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._last_error: str | None = None
        self._counted = False

    def compose(self) -> ComposeResult:
        app = cast("DispatchApp", self.app)
        desk = app.desk
        who = f"{desk.actor}  ·  {desk.db.path}" if desk else app.actor
        yield Static(Text(one_line(self.screen.title or "")), id="title")
        yield Static(Text(one_line(who)), id="who")
        # The first section's header shows the counts read as the desk opened, rather
        # than "…" and a read of its own a moment later.
        counts = app.take_opening_counts()
        self._counted = counts is not None
        yield Static(counts_text(counts) if counts is not None else Text("…"), id="counts")

    def on_mount(self) -> None:
        self.set_interval(REFRESH_SECONDS, self.refresh_counts)
        if not self._counted:
            self.refresh_counts()

    def refresh_counts(self) -> None:
        # Screens of other modes stay mounted; only the visible one should poll.
        if self.screen.is_active and cast("DispatchApp", self.app).desk is not None:
            self._fetch_counts()

    @work(thread=True, exclusive=True, group="desk-counts", exit_on_error=False)
    def _fetch_counts(self) -> None:
        desk = cast("DispatchApp", self.app).desk
        if desk is None:
            return
        try:
            counts = desk_counts(desk)
        except (StoreError, DispatchError) as exc:
            self.app.call_from_thread(self._show_error, error_line(exc))
            return
        self.app.call_from_thread(self._show_counts, counts)

    def _show_counts(self, counts: DeskCounts) -> None:
        self._last_error = None
        # Every 2 s on every screen: repaint in place unless the width changes.
        show_text(self.query_one("#counts", Static), counts_text(counts))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "desk-counts" and event.state == WorkerState.ERROR:
            self._show_error(error_line(event.worker.error))

    def _show_error(self, message: str) -> None:
        show_text(self.query_one("#counts", Static), Text("counts unavailable", style="italic"))
        # Polling repeats every 2 s; tell the dispatcher once, not every time.
        if message != self._last_error:
            self._last_error = message
            self.notify(
                message, title="Cannot read the desk counts", severity="error", markup=False
            )
