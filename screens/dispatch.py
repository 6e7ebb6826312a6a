"""Dispatch (F4): the triaged, unassigned work in the order it should go out, the selected
ticket's triage record, ranked technicians with reasons, and the roster.

One key assigns the top suggestion, digits pick another; marked tickets go out
together in one transaction. Escalation and client updates take a key, a line of
text and enter. Every read and write runs on a worker; services decide, the screen
shows what they said (EditConflict, GateClosed, InvalidInput) as notifications.

While any ticket is new the triage gate is closed: a banner says how many wait and
which key goes to Triage, and the assign key only explains. The service refuses
too (inside its write transaction); the screen just says so before anyone tries.

The work list holds one page of the queue (``dispatch_board.PAGE_SIZE``, 50 tickets),
not the whole queue: every refresh (live refresh runs one whenever a colleague saves)
reads, clocks and draws only that page, so its cost does not grow with the queue.
Moving the cursor down past the last row (down, or page down on the last row) shows
the next page with the cursor on its first row; up past the first row shows the
previous page with the cursor on its last. The caption says how many tickets wait in
all and which of them are shown ("Triaged, unassigned: 401, showing 51-100"); a single
page says only the total. Pages follow each other in
the queue's order (priority, then arrival, which for tickets triage released is SLA
time left; see services/dispatch_board.py) and are found by key, so a page read again
after assignments follows on from the one before it and no ticket is ever out of
reach. The other sort orders (``o``) sort the page shown. Marks belong to the page: a
mark on a ticket that leaves the page is dropped, as when its ticket is assigned.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Static

from dispatch_tui.errors import DispatchError, EditConflict, GateClosed
from dispatch_tui.rules.gate import GateState
from dispatch_tui.rules.suggest import Suggestion
from dispatch_tui.screens.base import DeskScreen
from dispatch_tui.screens.dispatch_parts.paged_table import PagedTable
from dispatch_tui.screens.dispatch_parts.prompt import TextPrompt
from dispatch_tui.screens.dispatch_parts.queue_view import TechQueueView
from dispatch_tui.screens.dispatch_parts.record import TriageRecord
from dispatch_tui.screens.dispatch_parts.roster_rows import ROSTER_COLUMNS, roster_rows
from dispatch_tui.screens.dispatch_parts.rows import WORK_COLUMNS, SortBy, sort_tickets, work_row
from dispatch_tui.screens.dispatch_parts.suggestion_list import MAX_PICK, SuggestionList
from dispatch_tui.screens.rest_timer import RestTimer
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.screens.widgets.quiet_update import show_text
from dispatch_tui.services import dispatch, followup, suggestions
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.dispatch import gate_state
from dispatch_tui.services.dispatch_board import BoardTicket, DispatchData, PageKey, dispatch_data
from dispatch_tui.store import StoreError
from dispatch_tui.store.queries import DeskCounts
from dispatch_tui.textsafe import one_line

if TYPE_CHECKING:
    from dispatch_tui.app import DispatchApp

#: The suggestions follow the cursor once it has rested this long: ranking every
#: technician (a worker reading the roster and the ticket) for each row passed while
#: an arrow key is held was most of the cost of a key, for lists nobody read. The
#: assign keys never use a stale ranking: they look up the ticket under the cursor, and
#: a ranking still pending starts at once (see ``action_pick``).
SUGGEST_SETTLE_SECONDS = 0.08


#: The record (beside the list) follows the cursor once it has rested this long: ten
#: lines of a ticket repainted for every row passed while an arrow key is held were
#: most of a cursor move's cost, for records nobody read. A key that acts on the
#: ticket under the cursor shows its record first (see ``_acting_on``).
RECORD_SETTLE_SECONDS = 0.08


#: Notification titles for the refusals a dispatcher can act on.
REFUSAL_TITLES: dict[type[Exception], str] = {
    GateClosed: "Gate closed",
    EditConflict: "Changed by someone else",
}


def caption(widget: Widget, text: str) -> None:
    """Show ``text`` (literally) as the widget's caption, its border title; a caption
    set again unchanged repaints nothing (setting a border title repaints the widget)."""
    if getattr(widget, "_caption", None) != text:
        widget._caption = text  # type: ignore[attr-defined]
        widget.border_title = Text(text)


class _PageRead(NamedTuple):
    """A page read by ``fetch``, with the page turn it was read for."""

    turns: int
    data: DispatchData


class DispatchScreen(DeskScreen):
    TITLE = "Dispatch"
    CSS_PATH = "dispatch.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "assign", "Assign top", id="dispatch.assign"),
        *(
            Binding(str(n), f"pick({n})", f"Assign #{n}", show=False, id=f"dispatch.pick_{n}")
            for n in range(1, MAX_PICK + 1)
        ),
        Binding("space", "mark", "Mark", id="dispatch.mark"),
        Binding("b", "bulk_assign", "Bulk assign", id="dispatch.bulk_assign"),
        Binding("e", "escalate('tier3')", "Escalate", id="dispatch.escalate"),
        Binding(
            "E", "escalate('manager')", "To manager", show=False, id="dispatch.escalate_manager"
        ),
        Binding("c", "client_update", "Client update", id="dispatch.client_update"),
        Binding("o", "sort", "Sort", id="dispatch.sort"),
        Binding("t", "tech_queue", "Tech queue", id="dispatch.tech_queue"),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: Unknown until the first check; treated as closed, the safe side.
        self.gate: GateState | None = None
        self._data: DispatchData | None = None
        self._items: list[BoardTicket] = []
        self._marks: set[int] = set()
        self._sort = SortBy.PRIORITY
        #: Ranked technicians per ticket id, for this load of the board.
        self._ranked: dict[int, list[Suggestion]] = {}
        #: The ranking waiting for the cursor to rest (see SUGGEST_SETTLE_SECONDS).
        self._suggest_rest = RestTimer(self, self._rank_selected)
        self._record_rest = RestTimer(self, self._show_record)
        #: The page shown: it starts after this key (None: the first page).
        self._after: PageKey | None = None
        #: Set while the previous page is asked for: it ends before this key.
        self._back_from: PageKey | None = None
        #: Bumped by every page turn, so a load of the page left behind is not shown.
        self._page_turns = 0
        #: Where the cursor goes once a turned page shows: "first" or "last" row.
        self._land: str | None = None

    def compose_body(self) -> ComposeResult:
        # Captions are the border titles of what they caption, not widgets of their own:
        # every widget is visited at each key and styled at each mount (see
        # DispatchScreen.tcss), and this screen's keys are the dispatcher's commonest.
        yield Static(id="gate-banner")
        with Horizontal(id="top-row"):
            yield PagedTable(WORK_COLUMNS, id="queue")
            with VerticalScroll(id="suggestions-scroll"):
                yield SuggestionList(id="suggestions")
        with Horizontal(id="bottom-row"):
            yield TriageRecord(id="record")
            yield KeyedTable(ROSTER_COLUMNS, id="roster")

    def loading_widgets(self) -> list[Widget]:
        return [self.query_one("#queue"), self.query_one("#roster")]

    @property
    def work_table(self) -> PagedTable:
        return self.query_one("#queue", PagedTable)

    def key_for(self, binding_id: str, default: str) -> str:
        return cast("DispatchApp", self.app).key_display(binding_id, default)

    # -- the triage gate --------------------------------------------------------------------

    def on_mount(self) -> None:
        caption(self.query_one("#suggestions-scroll"), "Suggested technicians, best first")
        caption(self.query_one("#roster"), "Roster: now, open, queued h, utilisation (target 75%)")
        # No gate poll of its own: the header reads the same count every 2 s and on
        # every change, and hands it over (counts_read).
        self._check_gate()
        self.work_table.focus()

    def reload(self) -> None:
        # On F4 and ctrl+r too: the banner must be right the moment the screen shows.
        super().reload()
        self._check_gate()

    def counts_read(self, counts: DeskCounts) -> None:
        """The header read the desk counts: a ticket recorded by anyone closes the gate,
        and the banner says so as fast as the header's counts do."""
        self.show_gate(GateState(counts.untriaged))

    @work(thread=True, exclusive=True, group="dispatch-gate", exit_on_error=False)
    def _check_gate(self) -> None:
        try:
            state = gate_state(self.desk)
        except (StoreError, DispatchError):
            return  # the header reports an unreadable file; the banner keeps its last word
        self.app.call_from_thread(self.show_gate, state)

    def show_gate(self, state: GateState) -> None:
        self.gate = state
        banner = self.query_one("#gate-banner", Static)
        banner.display = not state.open
        if not state.open:
            key = self.key_for("screen.triage", "f3")
            noun = "ticket waits" if state.untriaged == 1 else "tickets wait"
            show_text(
                banner,
                Text.assemble(
                    ("Gate closed: ", "bold"),
                    f"{state.untriaged} {noun} for triage. Triage all before dispatching any: "
                    "press ",
                    (key, "bold reverse"),
                    " to triage.",
                ),
            )

    def _gate_says_no(self) -> bool:
        """Explain and refuse while the gate is closed; the service checks again anyway."""
        if self.gate is not None and self.gate.open:
            return False
        waiting = self.gate.untriaged if self.gate else "Some"
        key = self.key_for("screen.triage", "f3")
        self.notify(
            f"{waiting} new tickets must be triaged before any is assigned. "
            f"Press {key} to triage them.",
            title="Gate closed",
            severity="warning",
            markup=False,
        )
        return True

    # -- loading and showing ----------------------------------------------------------------

    @classmethod
    def read_ahead(cls, desk: Desk) -> DispatchData:
        return dispatch_data(desk)

    def fetch(self, desk: Desk) -> _PageRead:
        # Read on the UI thread's latest page request; ``show`` drops the answer if the
        # page was turned again meanwhile.
        turns, after, back_from = self._page_turns, self._after, self._back_from
        return _PageRead(turns, dispatch_data(desk, after=after, back_from=back_from))

    def show(self, data: DispatchData | _PageRead) -> None:
        if isinstance(data, _PageRead):
            if data.turns != self._page_turns:
                return  # a load of a page left behind; the page turned to is loading
            data = data.data
        # The page as read: the previous page's start, or an earlier one when every
        # ticket from here on was taken meanwhile (see dispatch_data).
        self._after, self._back_from = data.after, None
        self._data = data
        self._ranked.clear()
        present = {b.ticket.id for b in data.tickets}
        self._marks &= present
        self.show_gate(data.gate)
        self._show_work()
        caption(
            self.query_one("#roster"),
            f"Roster {data.roster.week}, billable utilisation target {data.roster.target:.0%}",
        )
        self.query_one("#roster", KeyedTable).show_rows(roster_rows(data.roster))
        land, self._land = self._land, None
        if land is not None and self.work_table.row_count:
            self.work_table.move_cursor(row=0 if land == "first" else self.work_table.row_count - 1)
        self._selection_changed()

    @on(PagedTable.Turn, "#queue")
    def _turn(self, event: PagedTable.Turn) -> None:
        """The next or previous page, when there is one; the cursor lands on the row
        next to the one it left, in the queue's order."""
        event.stop()
        data = self._data
        if data is None:
            return
        if event.step > 0 and data.next_after is not None:
            self._after, self._back_from, self._land = data.next_after, None, "first"
        elif event.step < 0 and data.after is not None:
            self._back_from, self._land = data.after, "last"
        else:
            return
        self._page_turns += 1
        self._load()

    def _show_work(self) -> None:
        if self._data is None:
            return
        now = datetime.now(UTC)
        self._items = sort_tickets(self._data.tickets, self._sort)
        marked = f", {len(self._marks)} marked" if self._marks else ""
        data = self._data
        shown = ""
        if self._items and len(self._items) < data.waiting:
            first = data.before + 1
            shown = f", showing {first}-{first + len(self._items) - 1}"
        caption(
            self.work_table,
            f"Triaged, unassigned: {data.waiting}{shown}{marked}. Sorted by {self._sort}.",
        )
        self.work_table.show_rows(
            [(b.ticket.id, work_row(b, b.ticket.id in self._marks, now)) for b in self._items]
        )

    def selected(self) -> BoardTicket | None:
        key = self.work_table.current_key
        return next((b for b in self._items if str(b.ticket.id) == key), None)

    @on(DataTable.RowHighlighted, "#queue")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._selection_changed(rest=True)

    def _selection_changed(self, *, rest: bool = False) -> None:
        """Show the record and the suggestions of the ticket under the cursor; with
        ``rest`` (a cursor move), show its record and rank it only once the cursor rests
        there."""
        item = self.selected()
        if rest:
            self._record_rest.arm(RECORD_SETTLE_SECONDS)
        else:
            self._show_record()
        panel = self.query_one("#suggestions", SuggestionList)
        assign_key = self.key_for("dispatch.assign", "a")
        if item is None:
            self._suggest_rest.cancel()
            panel.show([], assign_key)
            return
        ticket_id = item.ticket.id or 0
        if ticket_id in self._ranked:
            self._suggest_rest.cancel()
            panel.show(self._ranked[ticket_id], assign_key)
            return
        panel.show(None, assign_key)
        if rest:
            # Each move pushes the rest back; the timer is not restarted per key.
            self._suggest_rest.arm(SUGGEST_SETTLE_SECONDS)
        else:
            self._suggest_rest.cancel()
            self._suggest(ticket_id)

    def _show_record(self) -> None:
        self._record_rest.cancel()
        self.query_one("#record", TriageRecord).show(
            self.selected(), self.shop_zone, datetime.now(UTC)
        )

    def _acting_on(self) -> BoardTicket | None:
        """The ticket under the cursor, its record shown now if the cursor just moved."""
        if self._record_rest.pending:
            self._show_record()
        return self.selected()

    def _rank_selected(self) -> None:
        """Start ranking the ticket under the cursor now, unless it is ranked already."""
        self._suggest_rest.cancel()
        item = self.selected()
        if item is not None and (item.ticket.id or 0) not in self._ranked:
            self._suggest(item.ticket.id or 0)

    @work(thread=True, exclusive=True, group="dispatch-suggest", exit_on_error=False)
    def _suggest(self, ticket_id: int) -> None:
        try:
            ranked = suggestions.suggest_for(self.desk, ticket_id).suggestions
        except (StoreError, DispatchError) as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        self.app.call_from_thread(self._suggested, ticket_id, ranked)

    def _suggested(self, ticket_id: int, ranked: list[Suggestion]) -> None:
        self._ranked[ticket_id] = ranked
        item = self.selected()
        if item is not None and item.ticket.id == ticket_id:
            self.query_one("#suggestions", SuggestionList).show(
                ranked, self.key_for("dispatch.assign", "a")
            )

    # -- acting -----------------------------------------------------------------------------

    def _act(self, done: str, action: Callable[[Desk], Any]) -> None:
        """Run a service call on a worker; say what happened; reload the board."""
        self._run_action(done, action)

    @work(thread=True, group="dispatch-act", exit_on_error=False)
    def _run_action(self, done: str, action: Callable[[Desk], Any]) -> None:
        try:
            action(self.desk)
        except (StoreError, DispatchError) as exc:
            self.app.call_from_thread(self._refused, exc)
            self.app.call_from_thread(self.reload)
            return
        self.app.call_from_thread(self._acted, done)

    def _acted(self, done: str) -> None:
        self.notify(done, markup=False)
        self.reload()

    def _refused(self, exc: Exception) -> None:
        title = next((t for kind, t in REFUSAL_TITLES.items() if isinstance(exc, kind)), "Not done")
        self.notify(one_line(str(exc)), title=title, severity="error", markup=False)

    def action_assign(self) -> None:
        self.action_pick(1)

    def action_pick(self, number: int) -> None:
        """Assign the marked tickets (or the highlighted one) to suggestion ``number``."""
        if self._gate_says_no():
            return
        item = self._acting_on()
        if item is None:
            self.notify("Nothing waiting for a technician.", markup=False)
            return
        ranked = self._ranked.get(item.ticket.id or 0)
        if ranked is None:
            if self._suggest_rest.pending:
                # The cursor has not rested yet: rank this ticket now, not in 80 ms.
                self._rank_selected()
            self.notify("Still working out the suggestions; try again in a moment.", markup=False)
            return
        if not 1 <= number <= min(len(ranked), MAX_PICK):
            self.notify(f"There is no suggestion {number}.", severity="warning", markup=False)
            return
        choice = ranked[number - 1]
        if self._marks:
            self._assign_marked(choice)
            return
        ticket = item.ticket
        self._act(
            f"#{ticket.id} assigned to {choice.name}",
            lambda d: dispatch.assign_ticket(
                d, ticket.id or 0, choice.tech_id, expect_version=ticket.version
            ),
        )

    def action_bulk_assign(self) -> None:
        if not self._marks:
            key = self.key_for("dispatch.mark", "space")
            self.notify(f"Mark tickets with {key} first.", severity="warning", markup=False)
            return
        self.action_pick(1)

    def _assign_marked(self, choice: Suggestion) -> None:
        # In the order shown: that is the order they join the technician's queue.
        chosen = [b.ticket for b in self._items if b.ticket.id in self._marks]
        ids = [t.id or 0 for t in chosen]
        versions = {t.id or 0: t.version for t in chosen}
        self._marks.clear()
        self._act(
            f"{len(ids)} tickets assigned to {choice.name}",
            lambda d: dispatch.assign_many(d, ids, choice.tech_id, expect_versions=versions),
        )

    def action_mark(self) -> None:
        item = self.selected()
        if item is None:
            return
        ticket_id = item.ticket.id or 0
        self._marks.symmetric_difference_update({ticket_id})
        self._show_work()
        if self.work_table.cursor_row < self.work_table.row_count - 1:
            self.work_table.move_cursor(row=self.work_table.cursor_row + 1)

    def action_sort(self) -> None:
        self._sort = self._sort.next()
        self._show_work()

    def action_escalate(self, to: str) -> None:
        item = self._acting_on()
        if item is None:
            return
        ticket = item.ticket
        where = followup.TARGET_NAMES.get(to, to)

        def escalate(reason: str | None) -> None:
            if reason:
                self._act(
                    f"#{ticket.id} escalated to {where}",
                    lambda d: followup.escalate(
                        d, ticket.id or 0, reason=reason, to=to, expect_version=ticket.version
                    ),
                )

        self.app.push_screen(
            TextPrompt(
                f"Escalate #{ticket.id} {ticket.summary} to {where}: why?",
                "the reason, e.g. needs domain admin rights",
                "escalate",
            ),
            escalate,
        )

    def action_client_update(self) -> None:
        item = self._acting_on()
        if item is None:
            return
        ticket_id = item.ticket.id or 0

        def log(text: str | None) -> None:
            if text:
                self._act(
                    f"client update logged on #{ticket_id}",
                    lambda d: followup.log_client_update(d, ticket_id, text),
                )

        self.app.push_screen(
            TextPrompt(
                f"What did you tell {item.client} about #{ticket_id}?",
                "e.g. a technician calls before noon",
                "log the update",
            ),
            log,
        )

    def action_tech_queue(self) -> None:
        if self._data is None or not self._data.roster.rows:
            return
        techs = [(r.load.id, r.load.name) for r in self._data.roster.rows]
        key = self.query_one("#roster", KeyedTable).current_key
        index = next((i for i, (tech_id, _) in enumerate(techs) if str(tech_id) == key), 0)

        def closed(changed: bool | None) -> None:
            if changed:
                self.reload()

        self.app.push_screen(TechQueueView(techs, index), closed)
