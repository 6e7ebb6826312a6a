"""Intake (F2): record a request while the caller is still on the line.

The form is on the left, the latest tickets on the right, so the dispatcher sees
each one land. Saving runs on a worker: the database may be busy with another
dispatcher's write, and typing the next call must not wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from dispatch_tui.errors import DispatchError
from dispatch_tui.screens.base import DeskScreen
from dispatch_tui.screens.cells import cell, short_time
from dispatch_tui.screens.when import parse_received
from dispatch_tui.screens.widgets.confirm import ConfirmScreen
from dispatch_tui.screens.widgets.desk_header import error_line
from dispatch_tui.screens.widgets.intake_form import IntakeForm, IntakeValues
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.services import intake_views, views
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store import StoreError
from dispatch_tui.store.queries import TicketRow
from dispatch_tui.textsafe import one_line

#: Narrow on purpose: the list sits beside the form and is there to show what landed.
COLUMNS = [
    ("#", 5),
    ("Received", 12),
    ("Client", 14),
    ("Summary", None),
]

SAVE_GROUP = "intake-save"


@dataclass(frozen=True)
class Capture:
    """A form's values, read and checked on the UI thread, ready for a worker."""

    values: IntakeValues
    received_at: datetime


class IntakeScreen(DeskScreen):
    TITLE = "Intake"
    CSS_PATH = "intake.tcss"
    AUTO_FOCUS = "#client"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save ticket", id="intake.save"),
    ]

    class Saved(Message):
        def __init__(self, ticket_id: int, client: str) -> None:
            super().__init__()
            self.ticket_id = ticket_id
            self.client = client

    class SaveFailed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    class ClientIsNew(Message):
        """The client name matches nobody: ask before creating a client by a typo."""

        def __init__(self, capture: Capture) -> None:
            super().__init__()
            self.capture = capture

    def __init__(self) -> None:
        super().__init__()
        self._saving = False
        self._select_after_load: int | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="form-pane"):
                yield Static("New request", classes="caption")
                yield IntakeForm(self._client_lookup, self._contact_lookup, id="form")
                yield Static(
                    Text("ctrl+s save · tab takes a completion · a new client asks first"),
                    classes="hint",
                )
            with Vertical(id="recent-pane"):
                yield Static("Latest tickets, newest first", classes="caption")
                yield KeyedTable(COLUMNS, id="recent")

    # -- completions (run on a thread by the suggesters) ----------------------------------

    def _client_lookup(self, value: str, _context: str) -> str | None:
        return intake_views.suggest_client(self.desk, value)

    def _contact_lookup(self, value: str, client: str) -> str | None:
        return intake_views.suggest_contact(self.desk, client, value)

    # -- the recent list ------------------------------------------------------------------

    @property
    def form(self) -> IntakeForm:
        return self.query_one("#form", IntakeForm)

    @property
    def recent(self) -> KeyedTable:
        return self.query_one("#recent", KeyedTable)

    def loading_widgets(self) -> list[Widget]:
        return [self.recent]

    def fetch(self, desk: Desk) -> list[TicketRow]:
        return views.recent_tickets(desk, limit=100)

    def show(self, data: list[TicketRow]) -> None:
        zone = self.shop_zone
        self.recent.show_rows(
            [
                (
                    row.id,
                    [
                        cell(row.id),
                        short_time(row.created_at, zone),
                        cell(row.client),
                        cell(row.summary),
                    ],
                )
                for row in data
            ]
        )
        if self._select_after_load is not None and self.recent.row_count:
            key = str(self._select_after_load)
            self._select_after_load = None
            if key in {row_key.value for row_key in self.recent.rows}:
                self.recent.move_cursor(row=self.recent.get_row_index(key))

    # -- saving -------------------------------------------------------------------------------

    def action_save(self) -> None:
        if self._saving:
            return
        values = self.form.values()
        if not values.client:
            self._refuse("Type the client first.", "#client")
            return
        if not values.summary:
            self._refuse("Type a one-line summary.", "#summary")
            return
        try:
            received = parse_received(values.received, self.shop_zone, datetime.now(UTC))
        except DispatchError as exc:
            self._refuse(error_line(exc), "#received")
            return
        self._saving = True
        self._save(Capture(values, received), create_client=False)

    def _refuse(self, message: str, field: str) -> None:
        self.notify(message, title="Not saved", severity="warning", markup=False)
        self.query_one(field).focus()

    @work(thread=True, exclusive=True, group=SAVE_GROUP, exit_on_error=False)
    def _save(self, capture: Capture, *, create_client: bool) -> None:
        values = capture.values
        try:
            if not create_client and not intake_views.client_known(self.desk, values.client):
                self.post_message(self.ClientIsNew(capture))
                return
            ticket = add_ticket(
                self.desk,
                client=values.client,
                summary=values.summary,
                contact=values.contact or None,
                channel=values.channel,
                description=values.description,
                received_at=capture.received_at,
            )
        except (StoreError, DispatchError) as exc:
            self.post_message(self.SaveFailed(error_line(exc)))
            return
        self.post_message(self.Saved(ticket.id or 0, values.client))

    @on(ClientIsNew)
    def _ask_new_client(self, message: ClientIsNew) -> None:
        capture = message.capture

        def answered(yes: bool | None) -> None:
            if yes:
                self._save(capture, create_client=True)
            else:
                self._saving = False
                self.form.client_input.focus()

        name = one_line(capture.values.client)
        self.app.push_screen(
            ConfirmScreen(f"No client is called {name!r}. Create it and save the ticket?"),
            answered,
        )

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self._saving = False
        self.form.clear()
        self.notify(
            f"Ticket #{message.ticket_id} recorded for {one_line(message.client)}",
            title="Saved",
            markup=False,
        )
        self._select_after_load = message.ticket_id
        self.reload()

    @on(SaveFailed)
    def _save_failed(self, message: SaveFailed) -> None:
        # The form keeps every value: fix the one named and press ctrl+s again.
        self._saving = False
        self.notify(message.error, title="Not saved", severity="error", markup=False)

    @on(Worker.StateChanged)
    def _save_crashed(self, event: Worker.StateChanged) -> None:
        # A bug in saving still ends in a notification and a usable form.
        if event.worker.group == SAVE_GROUP and event.state == WorkerState.ERROR:
            self._saving = False
            self.notify(
                error_line(event.worker.error), title="Not saved", severity="error", markup=False
            )
