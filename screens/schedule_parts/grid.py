"""The schedule board: technicians as rows, slots as columns, calls drawn as blocks.

One widget drawing ``Strip`` lines (``render_line``) rather than a widget per cell: a
week of ten technicians is hundreds of cells, and only the visible lines are drawn.
Colours come from component classes, so themes restyle the board.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from dispatch_tui.screens.schedule_parts.layout import Shade, Slot, View, calls_in, shade
from dispatch_tui.services.schedule import Board, CallRow, TechLane
from dispatch_tui.textsafe import one_line

#: Columns for the technician's name at the left of each row.
NAME_WIDTH = 13
#: Lines above the technician rows (the time labels).
HEADER_LINES = 1
#: Lines per technician: the call's ticket and client, then its summary.
ROW_LINES = 2

#: How each shade fills an empty cell, so the board reads on a monochrome terminal too.
FILL = {Shade.OFF: " ", Shade.WORK: " ", Shade.AWAY: "╱", Shade.HOLIDAY: "░"}


@dataclass(frozen=True)
class Cursor:
    """What the cursor is on: a technician's lane, a slot, and the calls there."""

    lane: TechLane
    slot: Slot
    slot_index: int
    calls: list[CallRow]


class ScheduleGrid(Widget, can_focus=True):
    """Draws a ``Board``; the cursor moves over technician × slot and stays on the same
    technician and slot when the board is reloaded."""

    DEFAULT_CSS = """
    ScheduleGrid { height: 1fr; width: 1fr; }
    ScheduleGrid > .schedule-grid--header { color: $text-muted; text-style: bold; }
    ScheduleGrid > .schedule-grid--name { color: $foreground; }
    ScheduleGrid > .schedule-grid--off { background: $background; color: $text-disabled; }
    ScheduleGrid > .schedule-grid--work { background: $success 20%; }
    ScheduleGrid > .schedule-grid--away { background: $warning-muted; color: $warning; }
    ScheduleGrid > .schedule-grid--holiday { background: $error-muted; color: $error; }
    ScheduleGrid > .schedule-grid--call { background: $primary; color: $text; }
    ScheduleGrid > .schedule-grid--tentative { background: $primary-muted; color: $text; }
    ScheduleGrid > .schedule-grid--override { background: $error; color: $text; }
    ScheduleGrid > .schedule-grid--cursor { text-style: reverse bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "schedule-grid--header",
        "schedule-grid--name",
        "schedule-grid--off",
        "schedule-grid--work",
        "schedule-grid--away",
        "schedule-grid--holiday",
        "schedule-grid--call",
        "schedule-grid--tentative",
        "schedule-grid--override",
        "schedule-grid--cursor",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "cursor(0, -1)", "Earlier slot", show=False, id="schedule.left"),
        Binding("right", "cursor(0, 1)", "Later slot", show=False, id="schedule.right"),
        Binding("up", "cursor(-1, 0)", "Technician above", show=False, id="schedule.up"),
        Binding("down", "cursor(1, 0)", "Technician below", show=False, id="schedule.down"),
    ]

    class CursorMoved(Message):
        """The cursor is on another cell, or the board under it changed."""

        def __init__(self, grid: ScheduleGrid, cursor: Cursor | None) -> None:
            super().__init__()
            self.grid = grid
            self.cursor = cursor

        @property
        def control(self) -> ScheduleGrid:
            return self.grid

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.board: Board | None = None
        self.view = View.DAY
        self.slots: list[Slot] = []
        self.row = 0
        self.column = 0
        #: First technician row on screen; moves so the cursor row stays visible.
        self._top = 0

    # -- data -----------------------------------------------------------------------------

    def show_board(self, board: Board, view: View, slots: list[Slot], column: int) -> None:
        """Draw ``board``; the cursor stays on the technician it was on, at ``column``."""
        keep = self.lanes[self.row].id if self.lanes else None
        self.board, self.view, self.slots = board, view, slots
        ids = [lane.id for lane in board.techs]
        self.row = ids.index(keep) if keep in ids else min(self.row, max(0, len(ids) - 1))
        self.column = max(0, min(column, len(slots) - 1))
        self._changed()

    @property
    def lanes(self) -> list[TechLane]:
        return self.board.techs if self.board else []

    @property
    def cursor(self) -> Cursor | None:
        if self.board is None or not self.lanes or not self.slots:
            return None
        lane, slot = self.lanes[self.row], self.slots[self.column]
        return Cursor(lane, slot, self.column, calls_in(lane, slot, self.board.calls))

    def move_to(self, row: int, column: int) -> None:
        if not self.lanes or not self.slots:
            return
        self.row = max(0, min(row, len(self.lanes) - 1))
        self.column = max(0, min(column, len(self.slots) - 1))
        self._changed()

    def action_cursor(self, rows: int, columns: int) -> None:
        self.move_to(self.row + rows, self.column + columns)

    def _changed(self) -> None:
        visible = max(1, (self.size.height - HEADER_LINES) // ROW_LINES)
        if self.row < self._top:
            self._top = self.row
        elif self.row >= self._top + visible:
            self._top = self.row - visible + 1
        self.refresh()
        self.post_message(self.CursorMoved(self, self.cursor))

    def on_resize(self) -> None:
        self._changed()

    def legend(self) -> Text:
        """What each shade and block means, in the board's own colours."""
        text = Text()
        for name, label in (
            ("work", "working"),
            ("off", "off"),
            ("away", "away"),
            ("holiday", "holiday"),
            ("call", "firm"),
            ("tentative", "tentative ?"),
            ("override", "override"),
        ):
            swatch = {"away": "╱╱", "holiday": "░░", "off": "· "}.get(name, "  ")
            text.append(swatch, style=self._style(name))
            text.append(f" {label} ")
        return text

    # -- drawing --------------------------------------------------------------------------

    def _style(self, name: str, *, partial: bool = False) -> Style:
        return self.get_component_rich_style(f"schedule-grid--{name}", partial=partial)

    def _slot_width(self) -> int:
        if not self.slots:
            return 1
        return max(1, (self.size.width - NAME_WIDTH) // len(self.slots))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self.board is None:
            return Strip.blank(width)
        if y < HEADER_LINES:
            return self._header(width)
        index, part = divmod(y - HEADER_LINES, ROW_LINES)
        index += self._top
        if index >= len(self.lanes):
            return Strip.blank(width)
        return self._lane_line(self.lanes[index], index, part, width)

    def _header(self, width: int) -> Strip:
        slot_width = self._slot_width()
        style = self._style("header")
        cells: list[tuple[str, Style]] = []
        holidays = self.board.holidays if self.board else {}
        for index, slot in enumerate(self.slots):
            if self.view is View.DAY:
                # Label whole hours only: "06  07  08" reads at two columns a slot.
                label = slot.label[:2] if slot.label.endswith(":00") else ""
                if slot_width >= 5 and label:
                    label = slot.label
            else:
                label = slot.label + ("*" if slot.day in holidays else "")
            text = label[:slot_width].ljust(slot_width)
            cell_style = style + Style(reverse=True) if index == self.column else style
            cells.extend((char, cell_style) for char in text)
        return self._strip(" " * NAME_WIDTH, style, cells, width)

    def _lane_line(self, lane: TechLane, index: int, part: int, width: int) -> Strip:
        assert self.board is not None
        slot_width = self._slot_width()
        fills = {s: self._style(s.value) for s in Shade}
        cells: list[tuple[str, Style]] = []
        for slot in self.slots:
            kind = shade(lane, slot, self.board)
            cells.extend((FILL[kind], fills[kind]) for _ in range(slot_width))
            if kind is Shade.OFF:
                # A dot per slot: off-hours stay visible where colours are few (256, mono).
                cells[-slot_width] = ("·", fills[kind])
        if self.view is View.DAY:
            for call in self._lane_calls(lane):
                self._draw_call(cells, call, lane, part, slot_width)
        else:
            for column, slot in enumerate(self.slots):
                self._draw_day_cell(cells, column, calls_in(lane, slot, self.board.calls), part)
        if index == self.row:
            # Partial: only reverse and bold, so the cell keeps its own colours beneath.
            cursor = self._style("cursor", partial=True)
            start = self.column * slot_width
            for offset in range(start, min(start + slot_width, len(cells))):
                char, style = cells[offset]
                cells[offset] = (char, style + cursor)
        name = one_line(lane.name) if part == 0 else ""
        name_style = self._style("name") + (Style(bold=True) if index == self.row else Style())
        return self._strip(name[: NAME_WIDTH - 1].ljust(NAME_WIDTH), name_style, cells, width)

    def _lane_calls(self, lane: TechLane) -> list[CallRow]:
        assert self.board is not None
        return [c for c in self.board.calls if c.tech_id == lane.id]

    def _draw_call(
        self,
        cells: list[tuple[str, Style]],
        call: CallRow,
        lane: TechLane,
        part: int,
        slot_width: int,
    ) -> None:
        assert self.board is not None
        covered = [i for i, slot in enumerate(self.slots) if call in calls_in(lane, slot, [call])]
        if not covered:
            return
        style = self._call_style(call)
        start, end = covered[0] * slot_width, (covered[-1] + 1) * slot_width
        label = self._call_label(call, part)
        for offset in range(start, end):
            at = offset - start
            cells[offset] = (label[at] if at < len(label) else " ", style)

    def _call_style(self, call: CallRow) -> Style:
        if call.override_reason:
            return self._style("override")
        return self._style("call" if call.firm else "tentative")

    def _draw_day_cell(
        self, cells: list[tuple[str, Style]], column: int, calls: list[CallRow], part: int
    ) -> None:
        """A week cell is one day: one call shows its client and summary; several show
        one call a line, the second line saying how many more there are."""
        if not calls:
            return
        slot_width = self._slot_width()
        if len(calls) == 1:
            call, label = calls[0], self._call_label(calls[0], part)
        elif part == 0:
            call, label = calls[0], self._call_label(calls[0], 0)
        else:
            call = calls[1]
            more = f" +{len(calls) - 2}" if len(calls) > 2 else ""
            label = self._call_label(call, 0) if not more else f"#{call.ticket_id}{more} more"
        style = self._call_style(call)
        start = column * slot_width
        # One column of the day's own shade stays visible, so cells next to each other
        # read as separate days.
        for at in range(slot_width - 1):
            cells[start + at] = (label[at] if at < len(label) else " ", style)

    def _call_label(self, call: CallRow, part: int) -> str:
        """Ticket, client and summary, as much as fits: a block is cut, never wrapped."""
        assert self.board is not None
        if part == 0:
            tentative = "" if call.firm else "?"
            if self.view is View.WEEK:
                # A day cell is narrow: the start hour says more than the client's name.
                start = call.starts_at.astimezone(self.board.zone)
                return one_line(f"#{call.ticket_id}{tentative} {start:%H}h {call.client}")
            return one_line(f"#{call.ticket_id}{tentative} {call.client}")
        return one_line(call.summary)

    def _strip(
        self, name: str, name_style: Style, cells: list[tuple[str, Style]], width: int
    ) -> Strip:
        segments = [Segment(name, name_style)]
        # Runs of one style become one segment: fewer segments, faster terminal output.
        run, run_style = "", None
        for char, style in cells:
            if style == run_style:
                run += char
                continue
            if run:
                segments.append(Segment(run, run_style))
            run, run_style = char, style
        if run:
            segments.append(Segment(run, run_style))
        return Strip(segments).adjust_cell_length(width, self.rich_style)
