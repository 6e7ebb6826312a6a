"""A technician's ordered "ready to engage" queue: see it, reorder it, reassign or
unassign with a reason, escalate. Every change goes through a service on a worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from dispatch_tui.errors import DispatchError
from dispatch_tui.screens.cells import cell
from dispatch_tui.screens.dispatch_parts.prompt import TextPrompt
from dispatch_tui.screens.widgets.key_bar import KeyBar
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.services import dispatch, followup, queues, suggestions
from dispatch_tui.services.desk import Desk
from dispatch_tui.store import StoreError
from dispatch_tui.textsafe import one_line

if TYPE_CHECKING:
    from dispatch_tui.app import DispatchApp

QUEUE_COLUMNS = [
    ("Pos", 3),
    ("#", 5),
    ("Priority", 9),
    ("Status", 14),
    ("Est h", 5),
    ("Client", 18),
    ("Summary", None),
]


class TechQueueView(ModalScreen[bool]):
    """Dismisses with True when anything changed, so the board reloads."""

    DEFAULT_CSS = """
    TechQueueView { align: center middle; }
    TechQueueView > Vertical {
        width: 110; height: 30; border: thick $accent; background: $panel;
    }
    TechQueueView #queue-title { padding: 0 1; text-style: bold; }
    TechQueueView KeyedTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "move(-1)", "Sooner", id="dispatch.queue_sooner"),
        Binding("right_square_bracket", "move(1)", "Later", id="dispatch.queue_later"),
        Binding("r", "reassign", "Reassign", id="dispatch.queue_reassign"),
        Binding("u", "unassign", "Unassign", id="dispatch.queue_unassign"),
        Binding("e", "escalate", "Escalate", id="dispatch.queue_escalate"),
        Binding("n", "tech(1)", "Next tech", id="dispatch.queue_next_tech"),
        Binding("p", "tech(-1)", "Prev tech", id="dispatch.queue_prev_tech"),
        Binding("escape,q", "close", "Close", id="dispatch.queue_close"),
    ]

    def __init__(self, techs: list[tuple[int, str]], index: int) -> None:
        super().__init__()
        self._techs = techs
        self._index = index
        self._queue: queues.TechQueue | None = None
        self._changed = False

    @property
    def desk(self) -> Desk:
        desk = cast("DispatchApp", self.app).desk
        assert desk is not None
        return desk

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(id="queue-title")
            yield KeyedTable(QUEUE_COLUMNS, id="tech-queue")
            yield KeyBar()

    def on_mount(self) -> None:
        self.load()

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#tech-queue", KeyedTable)

    def load(self) -> None:
        self.table.loading = True
        self._fetch(self._techs[self._index][0])

    @work(thread=True, exclusive=True, group="tech-queue", exit_on_error=False)
    def _fetch(self, tech_id: int) -> None:
        try:
            found = queues.tech_queue(self.desk, tech_id)
        except (StoreError, DispatchError) as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._show, found)

    def _failed(self, message: str) -> None:
        self.table.loading = False
        self.notify(one_line(message), severity="error", markup=False)

    def _show(self, found: queues.TechQueue) -> None:
        self._queue = found
        self.table.loading = False
        self.query_one("#queue-title", Static).update(
            Text(
                f"{one_line(found.tech)}: {len(found.rows)} open, {found.hours:g} h estimated, "
                "in the order to work them"
            )
        )
        self.table.show_rows(
            [
                (
                    r.id,
                    [
                        cell(r.position),
                        cell(r.id),
                        cell((r.priority or "—").replace("_", " ") + (" ⇑" if r.escalated else "")),
                        cell(r.status),
                        cell("" if r.estimate_hours is None else f"{r.estimate_hours:g}"),
                        cell(r.client),
                        cell(r.summary),
                    ],
                )
                for r in found.rows
            ]
        )

    def _selected(self) -> queues.QueueRow | None:
        key = self.table.current_key
        if self._queue is None or key is None:
            return None
        return next((r for r in self._queue.rows if str(r.id) == key), None)

    def _change(self, done: str, action: Callable[[Desk], Any]) -> None:
        self._run(done, action)

    @work(thread=True, group="tech-queue-change", exit_on_error=False)
    def _run(self, done: str, action: Callable[[Desk], Any]) -> None:
        try:
            action(self.desk)
        except (StoreError, DispatchError) as exc:
            self.app.call_from_thread(
                self.notify, one_line(str(exc)), severity="error", markup=False
            )
            return
        self.app.call_from_thread(self._after, done)

    def _after(self, done: str) -> None:
        self._changed = True
        if done:
            self.notify(done, markup=False)
        self.load()

    def action_move(self, step: int) -> None:
        row = self._selected()
        if row is None:
            return
        self._change(
            "",
            lambda d: queues.move_in_queue(d, row.id, direction=step, expect_version=row.version),
        )
        target = row.position - 1 + step
        rows = self._queue.rows if self._queue else []
        if 0 <= target < len(rows):
            # Keep the cursor on the moved ticket once the queue reloads.
            self.table.move_cursor(row=target)

    def action_reassign(self) -> None:
        row = self._selected()
        if row is None:
            return

        def reassign(desk: Desk) -> None:
            # The ranking leaves out the ticket's current technician.
            ranked = suggestions.suggest_for(desk, row.id).suggestions
            best = next((s for s in ranked if s.available), None)
            if best is None:
                raise DispatchError("no other technician can take it now")
            dispatch.reassign(desk, row.id, best.tech_id, reason=reason_box[0])

        reason_box: list[str] = []

        def with_reason(reason: str | None) -> None:
            if reason:
                reason_box.append(reason)
                self._change(f"#{row.id} reassigned to the best-suited technician", reassign)

        self.app.push_screen(
            TextPrompt(
                f"Reassign #{row.id} {row.summary} to the top suggestion: why?",
                "e.g. needs tier 3, Dana is off sick",
                "reassign",
            ),
            with_reason,
        )

    def action_unassign(self) -> None:
        row = self._selected()
        if row is None:
            return

        def with_reason(reason: str | None) -> None:
            if reason:
                self._change(
                    f"#{row.id} is back on the dispatch board",
                    lambda d: dispatch.unassign_ticket(
                        d, row.id, reason=reason, expect_version=row.version
                    ),
                )

        self.app.push_screen(
            TextPrompt(
                f"Take #{row.id} {row.summary} back to the board: why?",
                "e.g. client cancelled",
                "unassign",
            ),
            with_reason,
        )

    def action_escalate(self) -> None:
        row = self._selected()
        if row is None:
            return

        def with_reason(reason: str | None) -> None:
            if reason:
                self._change(
                    f"#{row.id} escalated to tier 3",
                    lambda d: followup.escalate(d, row.id, reason=reason, to="tier3"),
                )

        self.app.push_screen(
            TextPrompt(
                f"Escalate #{row.id} {row.summary} to tier 3: why?", "the reason", "escalate"
            ),
            with_reason,
        )

    def action_tech(self, step: int) -> None:
        self._index = (self._index + step) % len(self._techs)
        self.table.clear()
        self.load()

    def action_close(self) -> None:
        self.dismiss(self._changed)
