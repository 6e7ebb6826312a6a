"""Reviewing time entries from the Schedule screen: the dispatcher approves them.

A modal over the board: pending entries, oldest first; space marks, ``a`` approves the
marked ones (or the one under the cursor), ``b`` flips billable before approving. Every
read and write runs on a worker thread; failures are notifications, shown literally.
It dismisses with whether anything changed, so the board reloads its utilisation bars.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from dispatch_tui.errors import DispatchError
from dispatch_tui.screens.cells import cell, short_time
from dispatch_tui.screens.widgets.desk_header import error_line
from dispatch_tui.screens.widgets.key_bar import KeyBar
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.services import timesheets
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.timesheets import EntryRow
from dispatch_tui.store import StoreError
from dispatch_tui.textsafe import one_line

LOAD_GROUP = "timesheets-load"
CHANGE_GROUP = "timesheets-change"
#: Entries read at once; the oldest come first, and approving makes room for the next.
PENDING_LIMIT = 200

COLUMNS: list[tuple[str, int | None]] = [
    ("✓", 1),
    ("Technician", 14),
    ("Ticket", 6),
    ("Start", 12),
    ("Hours", 5),
    ("Bill", 4),
    ("Note", None),
]

#: Runs one change on the worker thread: the line to show afterwards, and the ids approved.
Change = Callable[[Desk], tuple[str, list[int]]]


def entry_cells(entry: EntryRow, marked: bool, zone: ZoneInfo) -> list[Text]:
    return [
        cell("✓" if marked else "", "bold green"),
        cell(entry.tech),
        cell(f"#{entry.ticket_id}"),
        short_time(entry.started_at, zone),
        cell(f"{entry.hours:g}"),
        cell("yes" if entry.billable else "no", "" if entry.billable else "yellow"),
        cell(entry.note),
    ]


def describe(entry: EntryRow | None) -> Text:
    """The ticket and the whole note of the entry under the cursor (the column cuts it)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if entry is None:
        text.append("No time entries wait for approval.", style="dim")
        return text
    text.append(f"#{entry.ticket_id} ", style="bold")
    text.append(one_line(f"{entry.client}: {entry.summary}"))
    if entry.note:
        text.append("  note: ", style="dim")
        text.append(one_line(entry.note))
    return text


class TimesheetScreen(ModalScreen[bool]):
    """Pending time entries to approve. Dismisses with True when anything was saved."""

    DEFAULT_CSS = """
    TimesheetScreen { align: center middle; }
    TimesheetScreen > Vertical {
        width: 104; max-width: 95%; height: 80%;
        border: thick $accent; background: $panel; padding: 0 1;
    }
    TimesheetScreen #timesheets-title { height: 1; text-style: bold; }
    TimesheetScreen #timesheets-table { height: 1fr; }
    TimesheetScreen #timesheets-detail,
    TimesheetScreen #timesheets-status { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "mark", "Mark", id="timesheets.mark"),
        Binding("a", "approve", "Approve", id="timesheets.approve"),
        Binding("b", "toggle_billable", "Billable", id="timesheets.billable"),
        Binding("escape", "close", "Close", id="timesheets.close"),
    ]

    class Loaded(Message):
        def __init__(self, entries: list[EntryRow]) -> None:
            super().__init__()
            self.entries = entries

    class Saved(Message):
        def __init__(self, result: str, approved: list[int]) -> None:
            super().__init__()
            self.result, self.approved = result, approved

    class Failed(Message):
        def __init__(self, title: str, error: str, *, reload: bool) -> None:
            super().__init__()
            self.title, self.error, self.reload = title, error, reload

    def __init__(self, desk: Desk, zone: ZoneInfo) -> None:
        super().__init__()
        self.desk, self.zone = desk, zone
        self.entries: dict[str, EntryRow] = {}
        self.marked: set[int] = set()
        #: Something was saved: the board's utilisation is out of date.
        self.changed = False
        self._saving = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(id="timesheets-title")
            yield KeyedTable(COLUMNS, id="timesheets-table")
            yield Static(id="timesheets-detail")
            yield Static(id="timesheets-status")
        yield KeyBar()

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#timesheets-table", KeyedTable)

    def on_mount(self) -> None:
        self.table.loading = True
        self.table.focus()
        self._show_title(0)
        self._load()

    # -- reading --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group=LOAD_GROUP, exit_on_error=False)
    def _load(self) -> None:
        try:
            entries = timesheets.pending_time_entries(self.desk, limit=PENDING_LIMIT)
        except (StoreError, DispatchError) as exc:
            self.post_message(self._load_failed(error_line(exc)))
            return
        self.post_message(self.Loaded(entries))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.table.loading = False
        self.entries = {str(e.id): e for e in message.entries}
        # A mark on an entry someone else approved meanwhile would approve nothing.
        self.marked &= {e.id for e in message.entries}
        self._show_rows()
        self._show_title(len(message.entries))

    def _show_rows(self) -> None:
        self.table.show_rows(
            [
                (key, entry_cells(entry, entry.id in self.marked, self.zone))
                for key, entry in self.entries.items()
            ]
        )
        self._describe(self.table.current_key)

    def _show_title(self, count: int) -> None:
        title = Text(f"Time entries waiting for approval: {count}")
        if count >= PENDING_LIMIT:
            title.append(f" (the oldest {PENDING_LIMIT}; approve to see more)", style="dim")
        if self.marked:
            title.append(f"  ·  {len(self.marked)} marked", style="bold green")
        title.append(f"  ·  shop time {self.zone.key}", style="dim")
        self.query_one("#timesheets-title", Static).update(title)

    def _describe(self, key: str | None) -> None:
        entry = self.entries.get(key) if key is not None else None
        self.query_one("#timesheets-detail", Static).update(describe(entry))

    @on(DataTable.RowHighlighted, "#timesheets-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._describe(str(event.row_key.value))

    def _selected(self) -> EntryRow | None:
        key = self.table.current_key
        entry = self.entries.get(key) if key is not None else None
        if entry is None:
            self.notify("No time entry under the cursor.", severity="warning", markup=False)
        return entry

    def _status(self, message: str, style: str = "") -> None:
        self.query_one("#timesheets-status", Static).update(Text(one_line(message), style=style))

    # -- keys -----------------------------------------------------------------------------

    def action_mark(self) -> None:
        entry = self._selected()
        if entry is None:
            return
        self.marked ^= {entry.id}
        self._show_rows()
        self._show_title(len(self.entries))
        # Marking runs down the list, like marking mail.
        self.table.action_cursor_down()

    def action_approve(self) -> None:
        if self.marked:
            ids = sorted(self.marked)
        else:
            entry = self._selected()
            if entry is None:
                return
            ids = [entry.id]

        def run(desk: Desk) -> tuple[str, list[int]]:
            approved = timesheets.approve_time_entries(desk, ids)
            skipped = len(ids) - len(approved)
            text = f"Approved {len(approved)} time entr{'y' if len(approved) == 1 else 'ies'}"
            if skipped:
                text += f" ({skipped} were already approved)"
            return text, approved

        self._run(f"approve {len(ids)} time entries", run)

    def action_toggle_billable(self) -> None:
        entry = self._selected()
        if entry is None:
            return
        billable = not entry.billable

        def run(desk: Desk) -> tuple[str, list[int]]:
            timesheets.set_billable(desk, entry.id, billable, expected_version=entry.version)
            kind = "billable" if billable else "not billable"
            return f"Time entry #{entry.id} (ticket #{entry.ticket_id}) is {kind}", []

        self._run(f"change time entry #{entry.id}", run)

    def action_close(self) -> None:
        self.dismiss(self.changed)

    # -- writing --------------------------------------------------------------------------

    def _run(self, what: str, run: Change) -> None:
        if self._saving:
            self.notify("Still saving the last change.", severity="warning", markup=False)
            return
        self._saving = True
        self._status(f"Saving: {what}…", "dim")
        self._apply(what, run)

    @work(thread=True, group=CHANGE_GROUP, exit_on_error=False)
    def _apply(self, what: str, run: Change) -> None:
        try:
            result, approved = run(self.desk)
        except (StoreError, DispatchError) as exc:
            self.post_message(self.Failed(f"Could not {what}", error_line(exc), reload=True))
            return
        self.post_message(self.Saved(result, approved))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self._saving = False
        self.changed = True
        self.marked -= set(message.approved)
        self._status(message.result, "green")
        self.notify(message.result, markup=False)
        self._load()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._saving = False
        self.table.loading = False
        self._status(f"{message.title}: {message.error}", "bold red")
        self.notify(message.error, title=message.title, severity="error", markup=False)
        if message.reload:
            # A stale version or an entry approved elsewhere: show what the file holds now.
            self._load()

    def _load_failed(self, error: str) -> Failed:
        # Reloading after a failed load would only fail again: the dispatcher closes and
        # reopens the dialog once the file is back.
        return self.Failed("Cannot load time entries", error, reload=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A bug in a worker still ends in a notification, and the dialog stays usable.
        if event.state != WorkerState.ERROR:
            return
        if event.worker.group == LOAD_GROUP:
            self.post_message(self._load_failed(error_line(event.worker.error)))
        elif event.worker.group == CHANGE_GROUP:
            error = error_line(event.worker.error)
            self.post_message(self.Failed("Could not save", error, reload=True))
