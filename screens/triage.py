"""Triage: the queue of new tickets, oldest first. Issue 3 adds the triage session."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch_tui.screens.base import DeskScreen
from dispatch_tui.screens.cells import age, cell, local_time
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.store.queries import TicketRow
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from dispatch_tui.services import views
from dispatch_tui.services.desk import Desk

COLUMNS = [
    ("#", 6),
    ("Waiting", 8),
    ("Received", 16),
    ("Channel", 10),
    ("Client", 22),
    ("Summary", None),
]


class TriageScreen(DeskScreen):
    TITLE = "Triage"
    CSS_PATH = "triage.tcss"

    def compose_body(self) -> ComposeResult:
        yield Static("Waiting for triage, oldest first", classes="caption")
        yield KeyedTable(COLUMNS, id="queue")

    @property
    def queue(self) -> KeyedTable:
        return self.query_one("#queue", KeyedTable)

    def loading_widgets(self) -> list[Widget]:
        return [self.queue]

    def fetch(self, desk: Desk) -> list[TicketRow]:
        return views.triage_queue(desk)

    def show(self, data: list[TicketRow]) -> None:
        now = datetime.now(UTC)
        self.queue.show_rows(
            [
                (
                    row.id,
                    [
                        cell(row.id),
                        age(row.created_at, now),
                        local_time(row.created_at, self.shop_zone),
                        cell(row.channel),
                        cell(row.client),
                        cell(row.summary),
                    ],
                )
                for row in data
            ]
        )
