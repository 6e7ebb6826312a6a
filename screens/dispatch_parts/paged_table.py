"""The work list: a KeyedTable holding one page of the queue, which asks for the next
page when the cursor moves down past its last row, and for the previous one when it
moves up past its first (the arrow keys, and page down / page up from the last / first
row). Which page comes next is the screen's business; the table only says so."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message

from dispatch_tui.screens.widgets.keyed_table import KeyedTable


class PagedTable(KeyedTable):
    # The same keys and ids as KeyedTable's (keymaps remap them alike), described so
    # the key help says where the other pages are.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "up",
            "cursor_up",
            "Up; previous page from the first row",
            show=False,
            id="table.cursor_up",
        ),
        Binding(
            "down",
            "cursor_down",
            "Down; next page from the last row",
            show=False,
            id="table.cursor_down",
        ),
        Binding(
            "pageup",
            "page_up",
            "Page up; previous page from the first row",
            show=False,
            id="table.page_up",
        ),
        Binding(
            "pagedown",
            "page_down",
            "Page down; next page from the last row",
            show=False,
            id="table.page_down",
        ),
    ]

    class Turn(Message):
        """The cursor was moved past the page's end: ``step`` 1 (down) or -1 (up)."""

        def __init__(self, table: PagedTable, step: int) -> None:
            super().__init__()
            self.table = table
            self.step = step

        @property
        def control(self) -> PagedTable:
            return self.table

    def _at_last(self) -> bool:
        return self.row_count > 0 and self.cursor_row >= self.row_count - 1

    def _at_first(self) -> bool:
        return self.row_count > 0 and self.cursor_row <= 0

    def action_cursor_down(self) -> None:
        if self._at_last():
            self.post_message(self.Turn(self, 1))
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self._at_first():
            self.post_message(self.Turn(self, -1))
        else:
            super().action_cursor_up()

    def action_page_down(self) -> None:
        if self._at_last():
            self.post_message(self.Turn(self, 1))
        else:
            super().action_page_down()

    def action_page_up(self) -> None:
        if self._at_first():
            self.post_message(self.Turn(self, -1))
        else:
            super().action_page_up()
