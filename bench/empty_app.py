"""The floor: an empty Textual app importing what dispatch-tui imports.

Start-up is measured against it with a header and footer only; keys against the same
kinds of table the desk shows, with as many rows, so the ratio isolates what the
app itself adds to Textual.
"""

from __future__ import annotations

from typing import ClassVar

# Imported for their import cost only: the app pays it before its first screen.
import dateutil.tz  # noqa: F401
import platformdirs  # noqa: F401
import rich  # noqa: F401
import sqlmodel  # noqa: F401
import typer  # noqa: F401
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Static

COLUMNS = ["#", "Waiting", "Received", "Channel", "Client", "Summary"]


class Detail(ModalScreen[None]):
    """What "open a ticket" costs at least: a screen with a line of text."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Close")]

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def compose(self) -> ComposeResult:
        yield Static(Text(self.label))


class EmptyApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        # The floor for "set a field": change one cell of the selected row.
        Binding("i", "set_field", "Impact"),
    ]

    def __init__(self, rows: int = 0) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield Header()
        if self.rows:
            yield DataTable(cursor_type="row", zebra_stripes=True, id="queue")
        yield Footer()

    def on_mount(self) -> None:
        if not self.rows:
            return
        table = self.query_one(DataTable)
        for label in COLUMNS:
            table.add_column(label, key=label)
        for n in range(self.rows):
            table.add_row(
                *(Text(f"{label} {n}") for label in COLUMNS[:-1]),
                Text(f"Printer on floor {n % 9} jams every page"),
                key=str(n),
            )
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.push_screen(Detail(f"ticket {event.row_key.value}"))

    def action_set_field(self) -> None:
        table = self.query_one(DataTable)
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        table.update_cell(row_key, "Channel", Text("high"))
