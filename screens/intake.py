"""Intake: the most recent tickets as they arrive. Issue 3 adds recording a request here."""

from __future__ import annotations

from dispatch_tui.screens.base import DeskScreen
from dispatch_tui.screens.cells import cell, local_time
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.store.queries import TicketRow
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from dispatch_tui.services import views
from dispatch_tui.services.desk import Desk

COLUMNS = [
    ("#", 6),
    ("Received", 16),
    ("Channel", 10),
    ("Client", 22),
    ("Status", 14),
    ("Summary", None),
]


class IntakeScreen(DeskScreen):
    TITLE = "Intake"
    CSS_PATH = "intake.tcss"

    def compose_body(self) -> ComposeResult:
        yield Static("Latest tickets, newest first", classes="caption")
        yield KeyedTable(COLUMNS, id="recent")

    @property
    def recent(self) -> KeyedTable:
        return self.query_one("#recent", KeyedTable)

    def loading_widgets(self) -> list[Widget]:
        return [self.recent]

    def fetch(self, desk: Desk) -> list[TicketRow]:
        return views.recent_tickets(desk)

    def show(self, data: list[TicketRow]) -> None:
        self.recent.show_rows(
            [
                (
                    row.id,
                    [
                        cell(row.id),
                        local_time(row.created_at),
                        cell(row.channel),
                        cell(row.client),
                        cell(row.status),
                        cell(row.summary),
                    ],
                )
                for row in data
            ]
        )
