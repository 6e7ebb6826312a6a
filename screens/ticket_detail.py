"""A ticket's fields and notes in a modal, read-only, every client text shown literally.

Any screen can open it with a ticket id: ``push_screen(TicketDetailScreen(42))``.
It reads the ticket on a worker thread, so a locked shared file never freezes the
terminal, and closes with escape.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from dispatch_tui.errors import DispatchError
from dispatch_tui.screens.widgets.desk_header import error_line
from dispatch_tui.services.tickets import get_ticket
from dispatch_tui.store import StoreError
from dispatch_tui.store.queries import TicketDetail
from dispatch_tui.textsafe import one_line, plain

if TYPE_CHECKING:
    from dispatch_tui.app import DispatchApp

DETAIL_GROUP = "ticket-detail"


def _when(moment: datetime | None, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%a %d %b %Y %H:%M") if moment else "—"


def _words(value: str | None) -> str:
    return one_line(value).replace("_", " ") if value else "—"


def detail_text(detail: TicketDetail, zone: tzinfo) -> Text:
    """The ticket as a dispatcher reads it: who, what state, which clocks, then notes."""
    t = detail.ticket
    text = Text()
    contact = one_line(detail.contact) if detail.contact else "—"
    if detail.contact_email:
        contact += f" <{one_line(detail.contact_email)}>"
    escalated = (
        f"yes, to {one_line(t.escalated_to)}"
        if t.escalated and t.escalated_to
        else ("yes" if t.escalated else "no")
    )
    impact_urgency = f"impact {_words(t.impact)}, urgency {_words(t.urgency)}"
    fields = [
        ("Client", one_line(detail.client)),
        ("Contact", contact),
        ("Channel", _words(t.channel)),
        ("Status", _words(t.status)),
        ("Type", _words(t.ticket_type)),
        ("Priority", f"{_words(t.priority)}  ({impact_urgency})"),
        ("Category", " / ".join(one_line(c) for c in (t.category, t.subcategory) if c) or "—"),
        ("Estimate", f"{t.estimate_hours:g} h" if t.estimate_hours is not None else "—"),
        ("Skill", _words(t.required_skill)),
        ("Technician", one_line(detail.assigned_tech) if detail.assigned_tech else "—"),
        ("Escalated", escalated),
        ("Due", _when(t.due_at, zone)),
        ("Arrived", _when(t.created_at, zone)),
        ("Triaged", _when(t.first_response_at, zone)),
        ("Engaged", _when(t.engaged_at, zone)),
        ("Resolved", _when(t.resolved_at, zone)),
        ("Updated", f"{_when(t.updated_at, zone)} by {one_line(t.updated_by) or '—'}"),
    ]
    for label, value in fields:
        text.append(f"{label:<11}", style="bold")
        text.append(value)
        text.append("\n")
    description = plain(t.description).strip()
    if description:
        text.append("\nDescription\n", style="bold underline")
        text.append(description)
        text.append("\n")
    text.append(f"\nNotes ({len(detail.notes)})\n", style="bold underline")
    if not detail.notes:
        text.append("none yet\n", style="dim")
    for note in detail.notes:
        text.append(f"{_when(note.created_at, zone)}  {one_line(note.author)}", style="bold")
        text.append(f"  {note.kind}\n", style="dim")
        text.append(plain(note.body).strip())
        text.append("\n\n")
    text.rstrip()
    return text


class TicketDetailScreen(ModalScreen[None]):
    """One ticket, read-only."""

    CSS_PATH = "ticket_detail.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="detail.close"),
    ]

    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        self.ticket_id = ticket_id

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Static(Text(f"Ticket #{self.ticket_id}", style="bold"), id="detail-title")
            with VerticalScroll(id="detail-body"):
                yield Static(id="detail-fields")
            yield Static(Text("esc closes", style="dim"), id="detail-hint")

    def on_mount(self) -> None:
        self.query_one("#detail-body").loading = True
        self._load()

    @work(thread=True, exclusive=True, group=DETAIL_GROUP, exit_on_error=False)
    def _load(self) -> None:
        app = cast("DispatchApp", self.app)
        assert app.desk is not None
        try:
            detail = get_ticket(app.desk, self.ticket_id)
        except (StoreError, DispatchError) as exc:
            self.app.call_from_thread(self._failed, error_line(exc))
            return
        self.app.call_from_thread(self._show, detail)

    def _show(self, detail: TicketDetail) -> None:
        zone = cast("DispatchApp", self.app).shop_zone
        title = Text(f"#{detail.ticket.id}  ", style="bold")
        title.append(one_line(detail.ticket.summary), style="bold")
        self.query_one("#detail-title", Static).update(title)
        self.query_one("#detail-fields", Static).update(detail_text(detail, zone))
        body = self.query_one("#detail-body")
        body.loading = False
        body.focus()

    def _failed(self, message: str) -> None:
        self.query_one("#detail-body").loading = False
        self.query_one("#detail-fields", Static).update(Text(message, style="red"))
        self.notify(message, title=f"Cannot open #{self.ticket_id}", severity="error", markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == DETAIL_GROUP and event.state == WorkerState.ERROR:
            self._failed(error_line(event.worker.error))
