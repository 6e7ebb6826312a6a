"""The header on every screen: where you are, who you are, which file, and what waits."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from dispatch_tui.errors import DispatchError
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


class DeskHeader(Widget, can_focus=False):
    """Title, dispatcher and database on the left; live desk counts on the right.

    One widget drawing the three parts, not a row of three Statics: every widget on
    a screen is visited at each key and styled at each mount, and the header is on
    every screen. Only what changes (the counts, every 2 s) repaints it, in place.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"desk-header--title", "desk-header--who"}
    DEFAULT_CSS = """
    DeskHeader {
        height: 1;
        dock: top;
        background: $panel;
        color: $foreground;
        text-wrap: nowrap;
        .desk-header--title { text-style: bold; background: $primary; }
        .desk-header--who { color: $text-muted; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._last_error: str | None = None
        self.title_text = Text()
        self.who_text = Text()
        self.counts = Text("…")

    def _read_labels(self) -> None:
        # Read once the header is in its screen (the title is the screen's).
        app = cast("DispatchApp", self.app)
        desk = app.desk
        who = f"{desk.actor}  ·  {desk.db.path}" if desk else app.actor
        self.title_text = Text(one_line(self.screen.title or ""))
        self.who_text = Text(one_line(who))

    def render(self) -> Text:
        """' Title ' then ' who' on the left, ' counts ' on the right; who is cut first."""
        title = Text.assemble(" ", self.title_text, " ")
        title.stylize(self.get_component_rich_style("desk-header--title"))
        counts = Text.assemble(" ", self.counts, " ")
        who = Text.assemble(" ", self.who_text)
        who.stylize(self.get_component_rich_style("desk-header--who"))
        room = max(0, self.size.width - title.cell_len - counts.cell_len)
        who.truncate(room, pad=True)
        return Text.assemble(title, who, counts, no_wrap=True, overflow="crop")

    def on_mount(self) -> None:
        self._read_labels()
        self.set_interval(REFRESH_SECONDS, self.refresh_counts)
        # The first section's header shows the counts read as the desk opened, rather
        # than "…" and a read of its own a moment later.
        counts = cast("DispatchApp", self.app).take_opening_counts()
        if counts is None:
            self.refresh_counts()
        else:
            self.counts = counts_text(counts)

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
        self._set_counts(counts_text(counts))
        # The section may show more of the same figures (Dispatch's gate banner): one
        # read every 2 s for both, not one each.
        counts_read = getattr(self.screen, "counts_read", None)
        if counts_read is not None:
            counts_read(counts)

    def _set_counts(self, text: Text) -> None:
        # Every 2 s on every screen: a repaint of this line only, and only on a change.
        if text.plain != self.counts.plain or text.spans != self.counts.spans:
            self.counts = text
            self.refresh()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "desk-counts" and event.state == WorkerState.ERROR:
            self._show_error(error_line(event.worker.error))

    def _show_error(self, message: str) -> None:
        self._set_counts(Text("counts unavailable", style="italic"))
        # Polling repeats every 2 s; tell the dispatcher once, not every time.
        if message != self._last_error:
            self._last_error = message
            self.notify(
                message, title="Cannot read the desk counts", severity="error", markup=False
            )
