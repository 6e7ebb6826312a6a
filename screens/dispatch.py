"""Dispatch: unassigned triaged tickets beside the technician roster. Issue 4 adds assigning."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch_tui.screens.base import DeskScreen
from dispatch_tui.screens.cells import age, cell
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static

from dispatch_tui.services import views
from dispatch_tui.services.desk import Desk

QUEUE_COLUMNS = [
    ("#", 6),
    ("Waiting", 8),
    ("Priority", 9),
    ("Est h", 5),
    ("Client", 18),
    ("Summary", None),
]
ROSTER_COLUMNS = [("Technician", 14), ("Tier", 4), ("Skills", None)]


class DispatchScreen(DeskScreen):
    TITLE = "Dispatch"
    CSS_PATH = "dispatch.tcss"

    def compose_body(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="queue-pane"):
                yield Static("Triaged, unassigned, oldest first", classes="caption")
                yield KeyedTable(QUEUE_COLUMNS, id="queue")
            with Vertical(id="roster-pane"):
                yield Static("Technicians", classes="caption")
                yield KeyedTable(ROSTER_COLUMNS, id="roster")

    def loading_widgets(self) -> list[Widget]:
        return [self.query_one("#queue"), self.query_one("#roster")]

    def fetch(self, desk: Desk) -> views.DispatchBoard:
        return views.dispatch_board(desk)

    def show(self, data: views.DispatchBoard) -> None:
        now = datetime.now(UTC)
        self.query_one("#queue", KeyedTable).show_rows(
            [
                (
                    row.id,
                    [
                        cell(row.id),
                        age(row.created_at, now),
                        cell(row.priority or "—"),
                        cell("" if row.estimate_hours is None else f"{row.estimate_hours:g}"),
                        cell(row.client),
                        cell(row.summary),
                    ],
                )
                for row in data.queue
            ]
        )
        self.query_one("#roster", KeyedTable).show_rows(
            [
                (tech.id, [cell(tech.name), cell(tech.tier), cell(tech.skills.replace(",", ", "))])
                for tech in data.technicians
            ]
        )
