"""A DataTable whose rows are keyed by record id and refreshed by diff, not rebuilt."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import ClassVar, Self

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.widgets import DataTable

#: One row: its key (a ticket or technician id) and its cells, in column order.
RowData = tuple[Hashable, Sequence[Text]]


class KeyedTable(DataTable[Text]):
    """Row-cursor table for lists of records.

    DataTable's own movement bindings have no ids, so they could not be remapped;
    they are redeclared here with ids (vim.toml maps j/k onto them).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False, id="table.cursor_up"),
        Binding("down", "cursor_down", "Down", show=False, id="table.cursor_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("home,ctrl+home", "scroll_top", "First row", show=False, id="table.first"),
        Binding("end,ctrl+end", "scroll_bottom", "Last row", show=False, id="table.last"),
        Binding("enter", "select_cursor", "Open", show=False, id="table.select"),
    ]

    def __init__(self, columns: Sequence[tuple[str, int | None]], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._column_spec = list(columns)
        self._last_rows: list[tuple[str, Sequence[Text]]] = []
        self._shown_width = 0

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for label, width in self._column_spec:
            self.add_column(label, width=width, key=label)

    def on_resize(self) -> None:
        # The flexible column is cut to the width there is, so it changes with the window.
        if self._last_rows and self.scrollable_content_region.width != self._shown_width:
            self.show_rows(self._last_rows)

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        """Refresh, with the regions to repaint cut to the table's own box.

        DataTable marks a row as wide as its columns, and where they run past the
        table's edge (the Dispatch work list scrolls sideways) the mark reaches into
        what lies beside it: the screen then repainted the suggestions panel, its
        scroll bars and every container around at each cursor move, about a third of
        the move's cost. Nothing outside the table's box is the table's to paint.
        """
        if regions:
            box = Region(0, 0, *self.outer_size)
            regions = tuple(clipped for r in regions if (clipped := r.intersection(box)))
            if not regions:
                # Everything marked lay outside the box: nothing of this table changed
                # that can be seen. Refreshing with no region would repaint it all.
                return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _fit(self, cells: Sequence[Text]) -> Sequence[Text]:
        """Cut the one column declared without a width to what the table has left, so
        long summaries end in an ellipsis instead of pushing the table sideways."""
        flex = [i for i, (_, width) in enumerate(self._column_spec) if width is None]
        available = self.scrollable_content_region.width
        if len(flex) != 1 or available <= 0:
            return cells
        fixed = sum(width or 0 for _, width in self._column_spec)
        room = max(12, available - fixed - 2 * self.cell_padding * len(self._column_spec))
        index = flex[0]
        if cells[index].cell_len <= room:
            return cells
        cut = cells[index].copy()
        cut.truncate(room, overflow="ellipsis")
        return [*cells[:index], cut, *cells[index + 1 :]]

    @property
    def current_key(self) -> str | None:
        """The key (record id as text: DataTable keys are strings) under the cursor."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def show_rows(self, rows: Sequence[RowData]) -> None:
        """Make the table hold exactly ``rows``, keeping the cursor on the same record.

        When the order of the records that stay is unchanged and new ones only come
        at the end (the usual refresh), rows are updated in place; otherwise the
        table is rebuilt. Either way the cursor follows its record, not its index.
        """
        keep = self.current_key
        self._last_rows = [(str(key), cells) for key, cells in rows]
        # Cut to another width (the first layout, a resize): the table is rebuilt with
        # its columns, because DataTable widens a column to its longest cell and never
        # narrows it again for an edited cell. Rows shown before the first layout were
        # not cut at all, and their width stayed: the Dispatch work list ran 24 columns
        # past its edge, with a scroll bar and a sideways scroll it was cut to avoid.
        refit = self.scrollable_content_region.width != self._shown_width
        self._shown_width = self.scrollable_content_region.width
        keyed = [(key, self._fit(cells)) for key, cells in self._last_rows]
        wanted = {key for key, _ in keyed}
        present = [row_key.value for row_key in self.rows]
        staying = [key for key in present if key in wanted]
        in_place = not refit and [key for key, _ in keyed[: len(staying)]] == staying
        column_keys = [label for label, _ in self._column_spec]
        with self.app.batch_update():
            if in_place:
                for key in present:
                    if key not in wanted:
                        self.remove_row(key)
                for key, cells in keyed[: len(staying)]:
                    for column, value in zip(column_keys, cells, strict=True):
                        if self.get_cell(key, column) != value:
                            self.update_cell(key, column, value)
                for key, cells in keyed[len(staying) :]:
                    self.add_row(*cells, key=key)
            else:
                self.clear(columns=refit)
                if refit:
                    self._add_columns()
                for key, cells in keyed:
                    self.add_row(*cells, key=key)
            if keep is not None and keep in wanted:
                self.move_cursor(row=self.get_row_index(keep))
        self._measure_new_rows()

    def _measure_new_rows(self) -> None:
        """Measure the rows just added now, rather than when the table is next idle.

        DataTable measures new rows in its idle handler, which comes after the next
        frame: a table filled before its screen's first frame was drawn without its
        rows measured, then laid out and drawn again (about a sixth of showing the
        first section). Private DataTable state, read with defaults: a Textual that
        renames it only loses the saving, never the rows.
        """
        if not getattr(self, "_require_update_dimensions", False):
            return
        new_rows = getattr(self, "_new_rows", None)
        update = getattr(self, "_update_dimensions", None)
        if not isinstance(new_rows, set) or not callable(update):
            return
        self._require_update_dimensions = False
        measured = new_rows.copy()
        new_rows.clear()
        update(measured)
