"""Schedule (F5): technician calendars, booking service calls and moving them, by keyboard.

The board is drawn by ``ScheduleGrid``; this screen reads the data on a worker thread,
turns key presses into ``Change`` values and runs them on a worker thread too. A change
the service refuses over a conflict is kept, so the override key can run it again
with the dispatcher's reason, which the service records on the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from dispatch_tui.errors import DispatchError, ScheduleConflict
from dispatch_tui.rules.utilization import IsoWeek
from dispatch_tui.screens.base import DeskScreen
from dispatch_tui.screens.schedule_parts import changes, to_book
from dispatch_tui.screens.schedule_parts.changes import Change
from dispatch_tui.screens.schedule_parts.grid import Cursor, ScheduleGrid
from dispatch_tui.screens.schedule_parts.layout import (
    SLOT_MINUTES,
    Slot,
    View,
    booking_start,
    first_day,
    last_day,
    moved_start,
    slot_index_at,
    slots_for,
    step,
)
from dispatch_tui.screens.schedule_parts.panels import flags_text, utilization_text
from dispatch_tui.screens.schedule_parts.reason import ReasonScreen
from dispatch_tui.screens.schedule_parts.timesheets import TimesheetScreen
from dispatch_tui.screens.widgets.confirm import ConfirmScreen
from dispatch_tui.screens.widgets.desk_header import error_line
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.services import schedule
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.schedule import Board, FlaggedTicket
from dispatch_tui.services.timesheets import UtilizationReport, utilization_report
from dispatch_tui.store import StoreError
from dispatch_tui.textsafe import one_line

CHANGE_GROUP = "schedule-change"
#: Tickets read for the pick list and each flag; the oldest come first.
LIST_LIMIT = 50
#: A booking lasts the ticket's estimate, but one call never more than a working day:
#: longer work is booked as several calls.
MAX_BOOKING_HOURS = 8.0
#: Length booked for a ticket without an estimate.
DEFAULT_BOOKING_HOURS = 2.0
#: Where the cursor starts on a day that is not today.
MORNING = time(8, 0)


@dataclass(frozen=True)
class ScheduleData:
    view: View
    anchor: date
    board: Board
    #: Ready work with no call to come, most urgent first, each with why it is listed.
    to_book: list[FlaggedTicket]
    long_unbooked: list[FlaggedTicket]
    stale: list[FlaggedTicket]
    utilization: UtilizationReport


class ScheduleScreen(DeskScreen):
    TITLE = "Schedule"
    CSS_PATH = "schedule.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "book", "Book", id="schedule.book"),
        Binding("o", "override", "Override", id="schedule.override"),
        Binding("shift+left", "move(0, -1)", "Earlier", show=False, id="schedule.earlier"),
        Binding("shift+right", "move(0, 1)", "Later", show=False, id="schedule.later"),
        Binding("shift+up", "move(-1, 0)", "To tech above", show=False, id="schedule.tech_up"),
        Binding("shift+down", "move(1, 0)", "To tech below", show=False, id="schedule.tech_down"),
        Binding("plus,equals_sign", "resize(1)", "Longer", show=False, id="schedule.longer"),
        Binding("minus", "resize(-1)", "Shorter", show=False, id="schedule.shorter"),
        Binding("f", "toggle_firm", "Firm/tentative", id="schedule.firm"),
        Binding("x,delete", "cancel_call", "Cancel call", id="schedule.cancel"),
        Binding("w", "toggle_view", "Day/week", id="schedule.view"),
        Binding(
            "pageup,left_square_bracket", "shift(-1)", "Previous", show=False, id="schedule.prev"
        ),
        Binding(
            "pagedown,right_square_bracket", "shift(1)", "Next", show=False, id="schedule.next"
        ),
        Binding("t", "today", "Today", id="schedule.today"),
        Binding("e", "timesheets", "Time entries", id="schedule.timesheets"),
    ]

    #: Tests pin "today" here; otherwise it is today in the shop's time zone.
    pinned_today: ClassVar[date | None] = None

    class Changed(Message):
        def __init__(self, change: Change, result: str) -> None:
            super().__init__()
            self.change, self.result = change, result

    class Refused(Message):
        """The service refused over a conflict; ``reason`` names the clash."""

        def __init__(self, change: Change, reason: str) -> None:
            super().__init__()
            self.change, self.reason = change, reason

    class ChangeFailed(Message):
        def __init__(self, change: Change | None, error: str) -> None:
            super().__init__()
            self.change, self.error = change, error

    def __init__(self) -> None:
        super().__init__()
        self.view = View.DAY
        self.anchor: date | None = None
        self.picked: FlaggedTicket | None = None
        self.data: ScheduleData | None = None
        #: The last change refused over a conflict, for the override key.
        self.refused: tuple[Change, str] | None = None
        self._saving = False
        #: Set when the columns change meaning (new view or date): the cursor is placed anew.
        self._place_cursor = True

    def compose_body(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="board-pane"):
                yield Static(id="view-title")
                yield ScheduleGrid(id="grid")
                yield Static(id="under-cursor")
                yield Static(id="status")
                yield Static(id="legend")
            with Vertical(id="side-pane"):
                yield Static("To book  (tab here, enter picks)", classes="caption")
                yield KeyedTable(to_book.COLUMNS, id="to-book")
                yield Static(id="to-book-detail")
                yield Static("Flags", classes="caption")
                yield Static(id="flags")
                yield Static("Billable utilisation", classes="caption")
                yield Static(id="utilization")

    @property
    def grid(self) -> ScheduleGrid:
        return self.query_one("#grid", ScheduleGrid)

    def on_mount(self) -> None:
        self.anchor = self.today()
        self.query_one("#legend", Static).update(self.grid.legend())
        self.grid.focus()

    def today(self) -> date:
        return self.pinned_today or datetime.now(self.shop_zone).date()

    def loading_widgets(self) -> list[Widget]:
        # Only the first load: reloading after every edit should not flash the board.
        return [self.grid] if self.data is None else []

    # -- loading --------------------------------------------------------------------------

    def fetch(self, desk: Desk) -> ScheduleData:
        view, anchor = self.view, self.anchor or self.today()
        board = schedule.board(desk, first_day(view, anchor), last_day(view, anchor))
        return ScheduleData(
            view,
            anchor,
            board,
            schedule.tickets_to_book(desk, limit=LIST_LIMIT),
            schedule.unbooked_long_tickets(desk, limit=LIST_LIMIT),
            schedule.stale_booked_tickets(desk, limit=LIST_LIMIT),
            utilization_report(desk, IsoWeek.containing(anchor)),
        )

    def show(self, data: ScheduleData) -> None:
        if (data.view, data.anchor) != (self.view, self.anchor):
            return  # the dispatcher moved on while this was read; a newer load follows
        self.data = data
        slots = slots_for(data.view, data.anchor, data.board)
        column = self.grid.column
        if self._place_cursor:
            self._place_cursor = False
            column = self._start_column(data, slots)
        self.grid.show_board(data.board, data.view, slots, column)
        table = self.query_one("#to-book", KeyedTable)
        table.show_rows([(t.id, to_book.row_cells(t)) for t in data.to_book])
        self._describe_to_book(table.current_key)
        if self.picked and self.picked.id not in {t.id for t in data.to_book}:
            self.picked = None
        zone = data.board.zone
        self.query_one("#flags", Static).update(flags_text(data.long_unbooked, data.stale, zone))
        self.query_one("#utilization", Static).update(utilization_text(data.utilization))
        self._show_title()

    def _start_column(self, data: ScheduleData, slots: list[Slot]) -> int:
        """Now, on today's day view; otherwise the morning (or the anchor day on a week)."""
        zone = data.board.zone
        if data.view is View.WEEK:
            return data.anchor.weekday()
        if data.anchor == self.today() and self.pinned_today is None:
            moment = datetime.now(UTC)
        else:
            moment = datetime.combine(data.anchor, MORNING, tzinfo=zone).astimezone(UTC)
        index = slot_index_at(slots, moment)
        if index is None:
            # Before or after the shop's day: start on the morning instead.
            morning = datetime.combine(data.anchor, MORNING, tzinfo=zone).astimezone(UTC)
            index = slot_index_at(slots, morning)
        return index or 0

    def _show_title(self) -> None:
        if self.data is None or self.anchor is None:
            return
        zone = self.data.board.zone
        if self.view is View.DAY:
            title = Text(f"Day  {self.anchor:%a %d %b %Y}", style="bold")
        else:
            monday = first_day(View.WEEK, self.anchor)
            title = Text(f"Week {IsoWeek.containing(monday)}  from {monday:%a %d %b}", style="bold")
        for day, name in sorted(self.data.board.holidays.items()):
            title.append(f"  holiday {day:%a}: {one_line(name)}", style="red")
        if self.picked:
            title.append("  ·  picked ")
            picked = f"#{self.picked.id} {self.picked.client} ({self._hours(self.picked):g} h)"
            title.append(one_line(picked), style="bold reverse")
        title.append(f"  ·  shop time {zone.key}", style="dim")
        self.query_one("#view-title", Static).update(title)

    # -- the cursor and the pick list ----------------------------------------------------

    @on(ScheduleGrid.CursorMoved)
    def _cursor_moved(self, event: ScheduleGrid.CursorMoved) -> None:
        self.query_one("#under-cursor", Static).update(self._describe(event.cursor))

    def _describe(self, cursor: Cursor | None) -> Text:
        if cursor is None or self.data is None:
            return Text("No active technicians: add one with `dispatch-tui tech add`.")
        zone = self.data.board.zone
        start, end = cursor.slot.start.astimezone(zone), cursor.slot.end.astimezone(zone)
        span = f"{start:%a %d %b}" if self.view is View.WEEK else f"{start:%H:%M}-{end:%H:%M}"
        text = Text(one_line(cursor.lane.name), style="bold")
        text.append(f"  {span}  ")
        if not cursor.calls:
            text.append("free", style="dim")
            return text
        for index, call in enumerate(cursor.calls):
            if index:
                text.append("  |  ")
            s, e = call.starts_at.astimezone(zone), call.ends_at.astimezone(zone)
            text.append(f"#{call.ticket_id} {s:%H:%M}-{e:%H:%M} ", style="bold")
            text.append("" if call.firm else "tentative ", style="italic")
            text.append(one_line(f"{call.client}: {call.summary}"))
            if call.override_reason:
                text.append(f"  override: {one_line(call.override_reason)}", style="red")
        text.no_wrap, text.overflow = True, "ellipsis"
        return text

    def _to_book_ticket(self, key: str | None) -> FlaggedTicket | None:
        if self.data is None or key is None:
            return None
        return next((t for t in self.data.to_book if str(t.id) == key), None)

    def _describe_to_book(self, key: str | None) -> None:
        detail = self.query_one("#to-book-detail", Static)
        detail.update(to_book.describe(self._to_book_ticket(key)))

    @on(DataTable.RowHighlighted, "#to-book")
    def _to_book_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._describe_to_book(str(event.row_key.value))

    @on(DataTable.RowSelected, "#to-book")
    def _picked(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.data is None:
            return
        self.picked = self._to_book_ticket(str(event.row_key.value))
        self._show_title()
        self.grid.focus()
        if self.picked:
            self._to_assigned_tech(self.picked)
            self._status(f"Picked #{self.picked.id}: move to a slot and press b to book it.")

    def _to_assigned_tech(self, ticket: FlaggedTicket) -> None:
        """Most bookings go to the technician the ticket is assigned to: start there."""
        ids = [lane.id for lane in self.grid.lanes]
        if ticket.assigned_tech_id in ids:
            self.grid.move_to(ids.index(ticket.assigned_tech_id), self.grid.column)

    def _hours(self, ticket: FlaggedTicket) -> float:
        return min(ticket.estimate_hours or DEFAULT_BOOKING_HOURS, MAX_BOOKING_HOURS)

    def _status(self, message: str, style: str = "") -> None:
        self.query_one("#status", Static).update(Text(one_line(message), style=style))

    # -- view keys ------------------------------------------------------------------------

    def action_toggle_view(self) -> None:
        self.view = View.WEEK if self.view is View.DAY else View.DAY
        if self.view is View.DAY and self.grid.slots and self.anchor is not None:
            # Week back to day: open the day the cursor was on.
            self.anchor = self.grid.slots[self.grid.column].day
        self._new_range()

    def action_shift(self, direction: int) -> None:
        if self.anchor is not None:
            self.anchor += step(self.view) * direction
            self._new_range()

    def action_today(self) -> None:
        self.anchor = self.today()
        self._new_range()

    def _new_range(self) -> None:
        self._place_cursor = True
        self.reload()

    def action_timesheets(self) -> None:
        def closed(changed: bool | None) -> None:
            if changed:
                # Approved or re-marked hours change the utilisation bars.
                self.reload()

        self.app.push_screen(TimesheetScreen(self.desk, self.shop_zone), closed)

    # -- edit keys ------------------------------------------------------------------------

    def _call_under_cursor(self) -> tuple[Cursor, schedule.CallRow] | None:
        cursor = self.grid.cursor
        if cursor is None or not cursor.calls:
            self.notify("No service call under the cursor.", severity="warning", markup=False)
            return None
        # Overlapping calls (booked over a conflict) are drawn in start order, so the
        # latest-starting one is the block the dispatcher sees at the cursor.
        return cursor, cursor.calls[-1]

    def action_book(self) -> None:
        cursor = self.grid.cursor
        if self.picked is None:
            self.notify(
                "Pick a ticket first: tab to the list, enter on the ticket.",
                severity="warning",
                markup=False,
            )
            return
        if cursor is None or self.data is None:
            return
        zone = self.data.board.zone
        start = booking_start(self.view, cursor.lane, cursor.slot, zone)
        ticket = self.picked
        self._run(changes.book(ticket.id, cursor.lane.id, start, self._hours(ticket), zone))

    def action_move(self, rows: int, columns: int) -> None:
        found = self._call_under_cursor()
        if found is None or self.data is None:
            return
        cursor, call = found
        zone = self.data.board.zone
        if rows:
            target = self.grid.row + rows
            if not 0 <= target < len(self.grid.lanes):
                self.notify("No technician there.", severity="warning", markup=False)
                return
            lane = self.grid.lanes[target]
            change = changes.move(call, zone, tech_id=lane.id, follow=(rows, 0))
        else:
            start = moved_start(self.view, call, columns, zone)
            change = changes.move(call, zone, start=start, follow=(0, columns))
        self._run(change)

    def action_resize(self, direction: int) -> None:
        found = self._call_under_cursor()
        if found is None or self.data is None:
            return
        _, call = found
        hours = call.hours + direction * SLOT_MINUTES / 60
        if hours <= 0:
            self.notify(
                "The call is one slot long already; cancel it instead.",
                severity="warning",
                markup=False,
            )
            return
        self._run(changes.resize(call, hours, self.data.board.zone))

    def action_toggle_firm(self) -> None:
        found = self._call_under_cursor()
        if found is not None:
            self._run(changes.set_firm(found[1], not found[1].firm))

    def action_cancel_call(self) -> None:
        found = self._call_under_cursor()
        if found is None or self.data is None:
            return
        call, zone = found[1], self.data.board.zone
        start = call.starts_at.astimezone(zone)
        question = (
            f"Cancel call #{call.id} for ticket #{call.ticket_id} ({call.client}), "
            f"{call.tech} {start:%a %d %b %H:%M}?"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(changes.cancel(call, zone))

        self.app.push_screen(ConfirmScreen(question), answered)

    def action_override(self) -> None:
        if self.refused is None:
            self.notify("Nothing was refused to book over.", severity="warning", markup=False)
            return
        change, reason = self.refused

        def answered(why: str | None) -> None:
            if why:
                self._run(change, allow_conflict=True, override_reason=why)

        self.app.push_screen(
            ReasonScreen(f"{reason}\n\nBook it anyway? The reason is saved on the call."),
            answered,
        )

    # -- running changes ------------------------------------------------------------------

    def _run(
        self, change: Change, *, allow_conflict: bool = False, override_reason: str | None = None
    ) -> None:
        if self._saving:
            self.notify("Still saving the last change.", severity="warning", markup=False)
            return
        self._saving = True
        self._status(f"Saving: {change.what}…", "dim")
        self._apply(change, allow_conflict, override_reason)

    @work(thread=True, exclusive=True, group=CHANGE_GROUP, exit_on_error=False)
    def _apply(self, change: Change, allow_conflict: bool, override_reason: str | None) -> None:
        try:
            result = change.run(self.desk, allow_conflict, override_reason)
        except ScheduleConflict as exc:
            self.post_message(self.Refused(change, error_line(exc)))
            return
        except (StoreError, DispatchError) as exc:
            self.post_message(self.ChangeFailed(change, error_line(exc)))
            return
        self.post_message(self.Changed(change, result))

    @on(Changed)
    def _changed(self, message: Changed) -> None:
        self._saving = False
        self.refused = None
        rows, columns = message.change.follow
        if rows or columns:
            self.grid.move_to(self.grid.row + rows, self.grid.column + columns)
        self._status(message.result, "green")
        self.notify(message.result, markup=False)
        self.reload()

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self._saving = False
        self.refused = (message.change, message.reason)
        # The key comes first: the reason can be longer than the line.
        self._status(f"Refused (o = do it anyway): {message.reason}", "bold red")
        self.notify(message.reason, title="Schedule conflict", severity="error", markup=False)

    @on(ChangeFailed)
    def _failed(self, message: ChangeFailed) -> None:
        self._saving = False
        what = message.change.what if message.change else "change the schedule"
        self._status(f"Could not {what}: {message.error}", "bold red")
        self.notify(message.error, title=f"Could not {what}", severity="error", markup=False)
        # A stale version or a vanished call: show what the file holds now.
        self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A bug in a change still ends in a notification, and the screen stays usable.
        # (Textual also runs DeskScreen's handler, which covers the load worker.)
        if event.worker.group == CHANGE_GROUP and event.state == WorkerState.ERROR:
            self.post_message(self.ChangeFailed(None, error_line(event.worker.error)))
