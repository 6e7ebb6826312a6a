"""What every top-level screen shares: header, footer, and loading its data off the UI thread."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar, cast
from zoneinfo import ZoneInfo

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from dispatch_tui.errors import DispatchError
from dispatch_tui.screens.widgets.desk_header import DeskHeader, error_line
from dispatch_tui.screens.widgets.key_bar import KeyBar
from dispatch_tui.services.desk import Desk
from dispatch_tui.store import StoreError
from dispatch_tui.store.changes import Changes
from dispatch_tui.store.queries import DeskCounts

if TYPE_CHECKING:
    from dispatch_tui.app import DispatchApp

LOAD_GROUP = "screen-load"
#: ``read_ahead``'s answer for a section whose data cannot be read before it exists.
NOT_READ: Any = object()
#: Commits seldom come alone (a save, its audit event, a claim): changes seen within
#: this many seconds of the first one make one reload, not several.
LIVE_DEBOUNCE_SECONDS = 0.25


def add_screen_css(screen: Screen[Any]) -> None:
    """Add ``screen``'s CSS files to the App's stylesheet, parsing only them.

    Textual loads a screen's CSS_PATH as the screen is installed, and then re-parses
    every source it holds from scratch (``Stylesheet.reparse``, for new variables):
    Textual's own widgets, the App's, every screen's so far. Its parse cache lives on
    the stylesheet that reparse throws away, so the sources are parsed once more as
    the section's widgets mount (about a third of switching to the first section on
    the bench machine). ``Stylesheet.parse`` gives the same rules in the same order,
    reading the unchanged sources from that cache; and with the files present
    Textual's own loading finds nothing new to do. Existing nodes are restyled as
    Textual does after loading, since the new rules may reach them.
    """
    app = screen.app
    stylesheet = app.stylesheet
    added = False
    for path in screen.css_path:
        if not stylesheet.has_source(str(path), ""):
            stylesheet.read(path)
            added = True
    if added:
        stylesheet.parse()
        stylesheet.update(app)


class DeskScreen(Screen[None]):
    """A section of the desk (one per App mode).

    Subclasses set ``TITLE`` and ``CSS_PATH``, yield their body from ``compose_body``,
    read their data in ``fetch`` (called on a worker thread: do database work there,
    never touch widgets) and display it in ``show`` (called on the UI thread).

    Live refresh: when anyone commits, the App calls ``desk_changed`` on the visible
    section; after a short debounce ``live_changed`` runs, which by default fetches
    again without a loading indicator (``show`` must keep the cursor and anything
    typed). Override ``live_changed`` to be choosier.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "reload", "Refresh", id="desk.refresh"),
    ]
    # Textual's Screen repaints every line of the screen when the focus moves (its
    # ``focused`` reactive repaints). Here the widgets that gain and lose the focus
    # repaint themselves (their :focus styles, the table's cursor colours) and the key
    # bar follows the bindings, so moving the focus (opening a ticket in Triage, esc
    # back to the queue) repaints those, not the whole screen. Only the repaint changes:
    # the focus itself, its watcher and the bindings work as in Textual.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    # Class-level defaults (replaced per instance on first use), so that subclasses
    # with their own __init__ need nothing extra for live refresh.
    _live_pending: tuple[Changes, ...] = ()
    _live_timer: Timer | None = None
    #: Shown (resumed) and not hidden (suspended) since.
    _resumed = False

    class Loaded(Message):
        """``fetch`` finished; carries its result to the UI thread."""

        def __init__(self, data: Any) -> None:
            super().__init__()
            self.data = data

    class Failed(Message):
        """``fetch`` raised; carries the one-line reason."""

        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A new screen gets its styles as it mounts, from the stylesheet as it is now.
        # Textual counts it as stale instead (its count starts below the App's) and
        # re-parses all CSS and restyles the whole App for it, twice on a mode's first
        # switch; marking it current skips that. A theme change later still reaches it:
        # the App then restyles every screen in the stack.
        # A private Textual counter: read with a default, so a Textual that renames it
        # only loses the saving, never the screen.
        with contextlib.suppress(RuntimeError):  # no App yet (a test building it bare)
            add_screen_css(self)
            current = getattr(self.app, "_css_update_count", None)
            if isinstance(current, int):
                self._css_update_count = current

    def post_message(self, message: Message) -> bool:
        if isinstance(message, events.ScreenResume) and not self.is_mounted:
            # Textual resumes a mode's screen as it creates it, before it is composed,
            # and the resume restyles every widget on the screen once it arrives. The
            # widgets are styled as they mount, after the screen's CSS is loaded, so
            # that pass (twice: the mode starts, then is switched to) redoes the same
            # work for the first frame. A later resume (the screen was hidden) still
            # restyles: the theme may have changed meanwhile.
            message.refresh_styles = False
        return super().post_message(message)

    @property
    def desk(self) -> Desk:
        desk = cast("DispatchApp", self.app).desk
        # The App only switches to a DeskScreen after the database opened.
        assert desk is not None
        return desk

    @property
    def shop_zone(self) -> ZoneInfo:
        """The shop's time zone: times on screen are shop time, not the machine's."""
        return cast("DispatchApp", self.app).shop_zone

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        yield from self.compose_body()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def loading_widgets(self) -> list[Widget]:
        """Widgets that show a loading indicator while ``fetch`` runs."""
        return []

    def fetch(self, desk: Desk) -> Any:
        return None

    @classmethod
    def read_ahead(cls, desk: Desk) -> Any:
        """What ``fetch`` would return, read before the screen exists (on a worker
        thread), or ``NOT_READ``: the default, for sections whose ``fetch`` depends on
        the screen's own state. The App reads the first section's data this way on
        the worker that opens the desk (see ``DispatchApp.take_read_ahead``)."""
        return NOT_READ

    # -- live refresh -------------------------------------------------------------------

    def desk_changed(self, changes: Changes) -> None:
        """Someone committed (called by the App on the visible section)."""
        self._live_pending = (*self._live_pending, changes)
        for header in self.query(DeskHeader):
            header.refresh_counts()
        if self._live_timer is None:
            self._live_timer = self.set_timer(LIVE_DEBOUNCE_SECONDS, self._live_due)

    def _live_due(self) -> None:
        self._live_timer = None
        pending, self._live_pending = list(self._live_pending), ()
        if pending:
            self.live_changed(pending)

    def live_changed(self, changes: list[Changes]) -> None:
        """Reload quietly: a list that blinks a spinner at every colleague's save is
        worse than one that updates in place.

        Every service that changes what a section shows writes an audit event, so a
        commit without one (a "being triaged" claim, renewed every 20 s by each
        dispatcher) changes nothing here; only Triage, which shows claims, reloads on
        those (it overrides this). Skipping them spares the Dashboard a full re-read.
        """
        if any(batch.events or batch.truncated for batch in changes):
            self._load()

    def show(self, data: Any) -> None:
        pass

    def counts_read(self, counts: DeskCounts) -> None:
        """The header read the desk counts (every 2 s and after any change); a section
        that shows one of them too takes it from here instead of reading it again."""

    # -- loading ------------------------------------------------------------------------

    def on_screen_resume(self) -> None:
        if self._resumed:
            # Textual resumes a mode's new screen twice (as the mode starts and as it is
            # switched to): one load is enough.
            return
        self._resumed = True
        ahead = cast("DispatchApp", self.app).take_read_ahead(self)
        if ahead is not NOT_READ:
            # Shown right after Textual's own handling of this resume, which lays the
            # screen out, and before anything is painted: the first frame shows the
            # data, and the tables know their width as they are filled (fitting a
            # table before that meant fitting and laying it out again after the first
            # frame). The same path as a finished load.
            self.call_next(self.on_desk_screen_loaded, self.Loaded(ahead))
            return
        # Another dispatcher may have changed things while this screen was hidden.
        self.reload()

    def on_screen_suspend(self) -> None:
        self._resumed = False

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        for widget in self.loading_widgets():
            widget.loading = True
        self._load()

    @work(thread=True, exclusive=True, group=LOAD_GROUP, exit_on_error=False)
    def _load(self) -> None:
        try:
            data = self.fetch(self.desk)
        except (StoreError, DispatchError) as exc:
            # Expected (a locked or vanished file): the message is the advice.
            self.post_message(self.Failed(error_line(exc)))
            return
        self.post_message(self.Loaded(data))

    def on_desk_screen_loaded(self, message: Loaded) -> None:
        message.stop()
        self._done_loading()
        self.show(message.data)

    def on_desk_screen_failed(self, message: Failed) -> None:
        message.stop()
        self._done_loading()
        self.notify(
            message.error, title=f"Cannot load {self.title}", severity="error", markup=False
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A bug in fetch: still a one-line notification, and the screen stays usable.
        if event.worker.group == LOAD_GROUP and event.state == WorkerState.ERROR:
            self.post_message(self.Failed(error_line(event.worker.error)))

    def _done_loading(self) -> None:
        for widget in self.loading_widgets():
            widget.loading = False
