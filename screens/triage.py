"""Triage (F3): the session that works every new ticket, oldest first, before any dispatch.

The queue on top carries each ticket's age and first-response clock; the panel
below holds the selected ticket's values. Keys are single letters and digits
while the queue has the focus (see ``BINDINGS``; the panel shows them beside each
field), and ctrl+s confirms from anywhere. Saving runs on a worker, and a refused
save keeps every typed value in the panel.

Keys (defaults): i / r type; 1 2 3 impact low/medium/high; 4 5 6 urgency
low/medium/high; s a o c v e x d m jump to summary, client, contact, category,
subcategory, estimate, skill, due, note; esc back to the queue; n / p next and
previous ticket; space marks, b applies the panel's values to the marked
tickets; . repeats the last triage on this ticket; / filters.

Sharing the desk: the ticket in the panel is claimed for this dispatcher (the App's
ClaimKeeper), and tickets others have open read "being triaged by NAME" in the
queue. Claims only inform; the version check decides. A save refused because
someone else saved first opens the conflict dialog (who, when, what changed) with
re-apply or discard; it never retries by itself. Colleagues' saves arrive by live
refresh, and a draft nobody typed into follows them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker, WorkerState

from dispatch_tui.errors import DispatchError, EditConflict, InvalidInput
from dispatch_tui.rules import sla
from dispatch_tui.rules.triage import describe
from dispatch_tui.screens.base import DeskScreen
from dispatch_tui.screens.cells import age, cell
from dispatch_tui.screens.rest_timer import RestTimer
from dispatch_tui.screens.triage_merge import changed_fields, rebase
from dispatch_tui.screens.triage_state import Draft, Session, format_minutes, progress_text
from dispatch_tui.screens.widgets.confirm import ConfirmScreen
from dispatch_tui.screens.widgets.conflict_dialog import Choice, ConflictDialog
from dispatch_tui.screens.widgets.desk_header import error_line
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.screens.widgets.quiet_update import show_text
from dispatch_tui.screens.widgets.triage_panel import TriagePanel, head_text
from dispatch_tui.services import intake_views
from dispatch_tui.services.claims import Claim
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.tickets import get_ticket
from dispatch_tui.services.triage import apply_to_many, triage_ticket
from dispatch_tui.services.triage_board import QueueItem, TriageData, triage_data
from dispatch_tui.store import StaleRecord, StoreError
from dispatch_tui.store.changes import Changes
from dispatch_tui.textsafe import one_line

if TYPE_CHECKING:
    from dispatch_tui.app import DispatchApp

COLUMNS = [
    ("#", 7),
    ("Waiting", 8),
    ("Response", 9),
    ("Channel", 10),
    ("Client", 22),
    ("Summary", None),
]

#: Below this share of the first-response target left, the clock turns to a warning.
WARNING_SHARE = 0.25
#: Seconds between quiet refreshes: tickets arrive from other dispatchers and the
#: importer, and the clocks move.
REFRESH_SECONDS = 15.0
SAVE_GROUP = "triage-save"
#: The panel shows the ticket under the cursor once the cursor has rested this long:
#: filling the panel (nine fields, the checklist) for every row passed while an arrow
#: key is held was most of the cost of a key. Anything that acts on the panel shows
#: the ticket under the cursor first (see ``panel``), so no key ever reaches a stale one.
SHOW_SETTLE_SECONDS = 0.08
MARK = "●"


def claim_text(claim: Claim | None) -> Text:
    """ "being triaged by Bob  " (the holder's name shown literally), or nothing."""
    if claim is None or claim.mine:
        return Text()
    return Text.assemble((f"being triaged by {one_line(claim.holder)}", "bold yellow"), "  ")


def clock_text(clock: sla.ClockState | None, *, long: bool = False) -> Text:
    """Business time left before the first-response target: plain, then warning, then red."""
    if clock is None:
        return Text("met", style="green")
    left = clock.minutes_left
    style = ""
    if clock.breached:
        style = "bold red"
    elif left < clock.target_minutes * WARNING_SHARE:
        style = "bold yellow"
    if long:
        shown = (
            f"{format_minutes(-left)} over" if clock.breached else f"{format_minutes(left)} left"
        )
    else:
        shown = format_minutes(left)
    return Text(shown, style=style)


class TriageScreen(DeskScreen):
    TITLE = "Triage"
    CSS_PATH = "triage.tcss"
    # Single keys act on the queue; a text field holding the focus would swallow them.
    AUTO_FOCUS = "#queue"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "confirm", "Confirm triage", id="triage.confirm"),
        Binding("slash", "filter", "Filter", id="triage.filter"),
        Binding("space", "mark", "Mark", id="triage.mark"),
        Binding("b", "apply_marked", "Apply to marked", id="triage.apply_marked"),
        Binding("full_stop", "repeat", "Repeat last", id="triage.repeat"),
        Binding("ctrl+g", "go_dispatch", "Go to Dispatch", id="triage.go_dispatch"),
        Binding("escape", "back", "Back to the queue", show=False, id="triage.back"),
        Binding("n", "move(1)", "Next ticket", show=False, id="triage.next_ticket"),
        Binding("p", "move(-1)", "Previous ticket", show=False, id="triage.previous_ticket"),
        Binding(
            "i",
            "choose('ticket_type', 'incident')",
            "Type: incident",
            show=False,
            id="triage.incident",
        ),
        Binding(
            "r",
            "choose('ticket_type', 'service_request')",
            "Type: service request",
            show=False,
            id="triage.request",
        ),
        Binding("1", "choose('impact', 'low')", "Impact low", show=False, id="triage.impact_low"),
        Binding(
            "2",
            "choose('impact', 'medium')",
            "Impact medium",
            show=False,
            id="triage.impact_medium",
        ),
        Binding(
            "3", "choose('impact', 'high')", "Impact high", show=False, id="triage.impact_high"
        ),
        Binding(
            "4", "choose('urgency', 'low')", "Urgency low", show=False, id="triage.urgency_low"
        ),
        Binding(
            "5",
            "choose('urgency', 'medium')",
            "Urgency medium",
            show=False,
            id="triage.urgency_medium",
        ),
        Binding(
            "6", "choose('urgency', 'high')", "Urgency high", show=False, id="triage.urgency_high"
        ),
        Binding("s", "jump('summary')", "Edit summary", show=False, id="triage.field_summary"),
        Binding("a", "jump('client')", "Edit client", show=False, id="triage.field_client"),
        Binding("o", "jump('contact')", "Edit contact", show=False, id="triage.field_contact"),
        Binding("c", "jump('category')", "Edit category", show=False, id="triage.field_category"),
        Binding(
            "v",
            "jump('subcategory')",
            "Edit subcategory",
            show=False,
            id="triage.field_subcategory",
        ),
        Binding("e", "jump('estimate')", "Edit estimate", show=False, id="triage.field_estimate"),
        Binding("x", "jump('skill')", "Edit required skill", show=False, id="triage.field_skill"),
        Binding("d", "jump('due')", "Edit due date", show=False, id="triage.field_due"),
        Binding("m", "jump('note')", "Edit note", show=False, id="triage.field_note"),
    ]

    class DetailLoaded(Message):
        def __init__(self, draft: Draft) -> None:
            super().__init__()
            self.draft = draft

    class Triaged(Message):
        def __init__(self, ticket_ids: list[int], shared: dict[str, Any], detail: str) -> None:
            super().__init__()
            self.ticket_ids = ticket_ids
            self.shared = shared
            self.detail = detail

    class Refused(Message):
        """The service said no; the message says why."""

        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    class Conflicted(Message):
        """Someone else saved the ticket first; ``current`` is it as stored now."""

        def __init__(
            self, sent: Draft, current: Draft, who: str, when: datetime, error: str
        ) -> None:
            super().__init__()
            self.sent = sent
            self.current = current
            self.who = who
            self.when = when
            self.error = error

    class ClientIsNew(Message):
        def __init__(self, draft: Draft) -> None:
            super().__init__()
            self.draft = draft

    def __init__(self) -> None:
        super().__init__()
        self.session = Session()
        self._data: TriageData | None = None
        self._filter = ""
        self._saving = False
        self._defaults = {b.id: b.key for b in Binding.make_bindings(self.BINDINGS) if b.id}
        #: The row highlighted but not shown in the panel yet (see SHOW_SETTLE_SECONDS).
        self._show_rest = RestTimer(self, lambda: self._select(self.queue.current_key))

    # -- layout -----------------------------------------------------------------------------

    def key(self, binding_id: str) -> str:
        """The key shown for one of this screen's bindings, after the user's keymap."""
        app = cast("DispatchApp", self.app)
        return app.key_display(binding_id, self._defaults.get(binding_id, "?"))

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="bar"):
            yield Static(id="progress")
            yield Input(placeholder="/ filters the queue", compact=True, id="filter")
        yield KeyedTable(COLUMNS, id="queue")
        yield TriagePanel(self._client_lookup, self._contact_lookup, self.key, id="panel")
        # The "gate open" notice (#gate-open) is mounted the first time it is needed: a
        # widget hidden for the whole session still costs every key (see TriagePanel).

    def on_mount(self) -> None:
        self.set_interval(REFRESH_SECONDS, self._quiet_refresh)
        self.queue.focus()

    def _client_lookup(self, value: str, _context: str) -> str | None:
        return intake_views.suggest_client(self.desk, value)

    def _contact_lookup(self, value: str, client: str) -> str | None:
        return intake_views.suggest_contact(self.desk, client, value)

    @property
    def queue(self) -> KeyedTable:
        return self.query_one("#queue", KeyedTable)

    @property
    def panel(self) -> TriagePanel:
        """The panel, showing the ticket under the cursor (a pending show happens now)."""
        self._show_now()
        return self._panel()

    def _panel(self) -> TriagePanel:
        return self.query_one("#panel", TriagePanel)

    def loading_widgets(self) -> list[Widget]:
        return [self.queue]

    # -- loading ------------------------------------------------------------------------

    @classmethod
    def read_ahead(cls, desk: Desk) -> TriageData:
        return cls.fetch(desk)

    @staticmethod
    def fetch(desk: Desk) -> TriageData:
        # Static: it reads the desk alone, so the App can read it before the screen exists.
        return triage_data(desk)

    def live_changed(self, changes: list[Changes]) -> None:
        if self._saving:
            # A read racing our own save could bring the ticket back for a moment;
            # the save reloads when it is done.
            return
        actor = self.desk.actor
        theirs = {
            event.entity_id
            for batch in changes
            for event in batch.events
            if event.entity == "ticket" and event.actor != actor and event.entity_id
        }
        for ticket_id in theirs:
            # A draft nobody typed into follows the stored ticket; one with typing stays
            # as typed, and the version check will ask at save.
            if self.session.untouched(ticket_id):
                self.session.forget(ticket_id)
                if self.panel.draft is not None and self.panel.draft.ticket_id == ticket_id:
                    self.panel.draft = None
        self._load()

    def on_screen_suspend(self) -> None:
        # Claims say who has a ticket open; in another section, nobody here has. A
        # dialog over this screen (help, the conflict dialog) keeps the ticket open.
        if self not in self.app.screen_stack:
            self._hold(None)

    def _hold(self, ticket_id: int | None) -> None:
        cast("DispatchApp", self.app).hold_ticket(ticket_id)

    def _quiet_refresh(self) -> None:
        # No loading indicator: a list that flickers every 15 s is worse than one
        # that updates in place.
        if self.is_active and not self._saving:
            self._load()

    def show(self, data: TriageData) -> None:
        self._data = data
        self.session.forget_gone({item.row.id for item in data.items})
        for ticket_id, found in data.tickets.items():
            # A draft already open stays as it is (typed into, or forgotten by live
            # refresh when someone else changed its ticket, and so read again here).
            if ticket_id not in self.session.drafts:
                self.session.open(
                    Draft.from_ticket(found.ticket, found.client, found.contact, self.shop_zone)
                )
        self.panel.set_policy(
            self.shop_zone, data.policy.priority, data.policy.categories, data.skills
        )
        self._redraw()

    def _visible(self) -> list[QueueItem]:
        if self._data is None:
            return []
        words = self._filter.casefold().split()
        if not words:
            return list(self._data.items)
        found = []
        for item in self._data.items:
            row = item.row
            haystack = f"#{row.id} {row.client} {row.summary} {row.channel}".casefold()
            if all(word in haystack for word in words):
                found.append(item)
        return found

    def _cells(self, item: QueueItem, now: datetime) -> list[Text]:
        row = item.row
        marked = row.id in self.session.marked
        claims = self._data.claims if self._data is not None else {}
        # In front of the summary, so the flexible column cuts the summary, not the name.
        summary = claim_text(claims.get(row.id)).append_text(cell(row.summary))
        return [
            cell(f"{MARK if marked else ' '} {row.id}", "bold" if marked else ""),
            age(row.created_at, now),
            clock_text(item.clock),
            cell(row.channel),
            cell(row.client),
            summary,
        ]

    def _redraw(self) -> None:
        """Queue, progress line, and the panel or the gate-open notice, from ``_data``."""
        now = datetime.now(UTC)
        visible = self._visible()
        self.queue.show_rows([(item.row.id, self._cells(item, now)) for item in visible])
        self._render_progress(now)
        empty = self._data is not None and not self._data.items
        self.queue.display = not empty
        self.panel.display = bool(visible)
        gate = self._gate_notice(needed=empty or not visible)
        if gate is not None and empty:
            gate.update(
                Text.assemble(
                    ("Gate open: ", "bold green"),
                    "every ticket is triaged, so dispatching may start.\n\n",
                    ("Press ", ""),
                    (self.key("triage.go_dispatch"), "bold"),
                    " to go to Dispatch.",
                )
            )
        elif gate is not None and not visible:
            gate.update(Text(f"No waiting ticket matches {one_line(self._filter)!r}."))
        self.refresh_bindings()
        self._select(self.queue.current_key)

    def _gate_notice(self, *, needed: bool) -> Static | None:
        """The notice that takes the queue's place, shown when ``needed``; None while it
        was never needed (it is mounted then, once)."""
        found = self.query("#gate-open")
        if found:
            gate = cast(Static, found.first())
        elif needed:
            gate = Static(id="gate-open")
            self.mount(gate, after="#panel")
        else:
            return None
        gate.display = needed
        return gate

    def _render_progress(self, now: datetime) -> None:
        if self._data is None:
            return
        items = self._data.items
        oldest = (
            int((now - min(i.row.created_at for i in items)).total_seconds() // 60)
            if items
            else None
        )
        text = Text(progress_text(self.session, self._data.waiting, oldest), style="bold")
        if self.session.marked:
            text.append(f"   {len(self.session.marked)} marked", style="bold reverse")
        if self._filter:
            shown = len(self._visible())
            text.append(f"   filter: {shown} shown", style="italic")
        show_text(self.query_one("#progress", Static), text)

    # -- the selected ticket -----------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#queue")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is None or int(key) not in self.session.drafts:
            # Not read yet: start reading it now, so a value key pressed right after the
            # move finds it loaded as soon as it would have before.
            self._select(key)
            return
        # The claim at once (the App lets it settle before writing); the panel once the
        # cursor rests.
        self._hold(int(key) if self in self.app.screen_stack else None)
        self._show_rest.arm(SHOW_SETTLE_SECONDS)

    def on_descendant_focus(self, _event: events.DescendantFocus) -> None:
        # A click into the panel right after a cursor move: the panel must hold the
        # ticket under the cursor before anything is typed into it.
        self._show_now()

    def _show_now(self) -> None:
        """Show the ticket under the cursor now if a cursor move left it pending."""
        if self._show_rest.pending:
            self._select(self.queue.current_key)

    def _item(self, ticket_id: int) -> QueueItem | None:
        if self._data is None:
            return None
        return next((i for i in self._data.items if i.row.id == ticket_id), None)

    def _head(self, draft: Draft) -> Text:
        item = self._item(draft.ticket_id)
        clock = clock_text(item.clock if item else None, long=True)
        waiting = age(draft.created_at).plain
        head = head_text(draft, self.shop_zone, waiting, clock)
        claim = self._data.claims.get(draft.ticket_id) if self._data is not None else None
        if claim is not None:
            head.append("  ").append_text(claim_text(claim))
        return head

    def _select(self, key: str | None) -> None:
        self._show_rest.cancel()
        # In view, even under a dialog: the ticket is still open on this desk.
        in_view = self in self.app.screen_stack
        self._hold(int(key) if key is not None and in_view else None)
        panel = self._panel()
        if key is None:
            panel.draft = None
            return
        ticket_id = int(key)
        current = panel.draft
        if current is not None and current.ticket_id == ticket_id:
            panel.set_head(self._head(current))
            return
        draft = self.session.drafts.get(ticket_id)
        if draft is not None:
            panel.show_draft(draft, self._head(draft))
            return
        panel.draft = None
        panel.set_head(Text(f"Loading #{ticket_id}…", style="dim"))
        self._load_detail(ticket_id)

    @work(thread=True, group="triage-detail", exit_on_error=False)
    def _load_detail(self, ticket_id: int) -> None:
        try:
            detail = get_ticket(self.desk, ticket_id)
        except (StoreError, DispatchError) as exc:
            self.post_message(self.Refused(error_line(exc)))
            return
        draft = Draft.from_ticket(detail.ticket, detail.client, detail.contact, self.shop_zone)
        self.post_message(self.DetailLoaded(draft))

    @on(DetailLoaded)
    def _detail_loaded(self, message: DetailLoaded) -> None:
        draft = self.session.open(message.draft)
        if self.queue.current_key == str(draft.ticket_id) and self.panel.draft is None:
            self.panel.show_draft(draft, self._head(draft))

    # -- keys: moving around ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "go_dispatch":
            return self._data is not None and not self._data.items
        return True

    def action_back(self) -> None:
        filter_input = self.query_one("#filter", Input)
        if self.focused is filter_input:
            filter_input.value = ""
        self.queue.focus()

    def action_move(self, delta: int) -> None:
        if self.queue.row_count:
            row = max(0, min(self.queue.row_count - 1, self.queue.cursor_row + delta))
            self.queue.move_cursor(row=row)
        self.queue.focus()

    def action_jump(self, attribute: str) -> None:
        if self.panel.draft is not None:
            self.panel.focus_field(attribute)

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value
        self._redraw()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.queue.focus()

    @on(DataTable.RowSelected, "#queue")
    def _open(self) -> None:
        # Enter on a ticket starts on its summary, the first thing to rewrite.
        self.action_jump("summary")

    def action_go_dispatch(self) -> None:
        self.app.switch_mode("dispatch")

    # -- keys: values -------------------------------------------------------------------

    def action_choose(self, name: str, value: str) -> None:
        self.panel.choose(name, value)

    def action_mark(self) -> None:
        key = self.queue.current_key
        if key is None:
            return
        self.session.toggle_mark(int(key))
        self._redraw()
        self.action_move(1)

    # -- saving -------------------------------------------------------------------------------

    def _begin(self) -> Draft | None:
        draft = self.panel.draft
        if draft is None or self._saving:
            return None
        return draft

    def action_confirm(self) -> None:
        draft = self._begin()
        if draft is not None:
            self._confirm(draft)

    def _confirm(self, draft: Draft) -> None:
        now = datetime.now(UTC)
        gaps = draft.missing(self.shop_zone, now)
        if gaps:
            # Said here, with the cursor on the first gap, rather than by the service.
            self.notify(
                f"#{draft.ticket_id} still needs {describe(gaps)}.",
                title="Not yet",
                severity="warning",
                markup=False,
            )
            self._focus_gap(gaps[0])
            return
        try:
            fields = draft.all_fields(self.shop_zone, now)
        except InvalidInput as exc:
            self.notify(error_line(exc), title="Not saved", severity="error", markup=False)
            return
        self._saving = True
        self._save_one(draft.copy(), fields, check_client=draft.client_changed())

    def _focus_gap(self, gap: str) -> None:
        attribute = {
            "client_id": "client",
            "contact_id": "contact",
            "estimate_hours": "estimate",
            "required_skill": "skill",
            "due_at": "due",
        }.get(gap, gap)
        if attribute in ("summary", "client", "contact", "category", "estimate", "skill", "due"):
            self.panel.focus_field(attribute)

    @work(thread=True, exclusive=True, group=SAVE_GROUP, exit_on_error=False)
    def _save_one(self, draft: Draft, fields: dict[str, Any], *, check_client: bool) -> None:
        desk = self.desk
        try:
            if check_client and not intake_views.client_known(desk, draft.client):
                self.post_message(self.ClientIsNew(draft))
                return
            ticket = triage_ticket(
                desk,
                draft.ticket_id,
                expect_version=draft.version,
                note=draft.note.strip() or None,
                **fields,
            )
        except (EditConflict, StaleRecord) as exc:
            self._report_conflict(desk, draft, error_line(exc))
            return
        except (StoreError, DispatchError) as exc:
            self.post_message(self.Refused(error_line(exc)))
            return
        priority = (ticket.priority or "").replace("_", " ")
        self.post_message(
            self.Triaged(
                [draft.ticket_id], draft.shared(), f"#{draft.ticket_id} triaged: {priority}"
            )
        )

    @on(ClientIsNew)
    def _ask_new_client(self, message: ClientIsNew) -> None:
        draft = message.draft

        def answered(yes: bool | None) -> None:
            if not yes:
                self._saving = False
                self.panel.focus_field("client")
                return
            try:
                fields = draft.all_fields(self.shop_zone, datetime.now(UTC))
            except InvalidInput as exc:
                self._saving = False
                self.notify(error_line(exc), title="Not saved", severity="error", markup=False)
                return
            self._save_one(draft, fields, check_client=False)

        self.app.push_screen(
            ConfirmScreen(f"No client is called {one_line(draft.client)!r}. Create it and triage?"),
            answered,
        )

    def action_repeat(self) -> None:
        draft = self._begin()
        if draft is None:
            return
        if self.session.last is None:
            self.notify("Nothing to repeat yet: triage one ticket first.", markup=False)
            return
        draft.take(self.session.last)
        self.panel.show_draft(draft, self._head(draft))
        self.action_confirm()

    def action_apply_marked(self) -> None:
        draft = self._begin()
        if draft is None or self._data is None:
            return
        waiting = {item.row.id: item.row.version for item in self._data.items}
        ids = [t for t in waiting if t in self.session.marked]
        if not ids:
            self.notify(
                f"Mark tickets with {self.key('triage.mark')} first.",
                title="Nothing marked",
                markup=False,
            )
            return
        try:
            shared = draft.shared_fields(self.shop_zone, datetime.now(UTC))
        except InvalidInput as exc:
            self.notify(error_line(exc), title="Not saved", severity="error", markup=False)
            return
        if not shared:
            self.notify("Set type, category, impact, urgency... first.", markup=False)
            return
        self._saving = True
        self._save_many(ids, shared, {t: waiting[t] for t in ids}, draft.shared())

    @work(thread=True, exclusive=True, group=SAVE_GROUP, exit_on_error=False)
    def _save_many(
        self,
        ids: list[int],
        shared: dict[str, Any],
        versions: dict[int, int],
        typed: dict[str, Any],
    ) -> None:
        try:
            apply_to_many(self.desk, ids, shared, mark_triaged=True, expect_versions=versions)
        except (StoreError, DispatchError) as exc:
            self.post_message(self.Refused(error_line(exc)))
            return
        noun = "ticket" if len(ids) == 1 else "tickets"
        self.post_message(self.Triaged(ids, typed, f"{len(ids)} marked {noun} triaged"))

    @on(Triaged)
    def _triaged(self, message: Triaged) -> None:
        self._saving = False
        self.session.done(message.ticket_ids, message.shared)
        gone = set(message.ticket_ids)
        # On to the next ticket in queue order after the one just worked, as a nurse
        # takes the next patient: not wherever the cursor index happens to land.
        visible = [item.row.id for item in self._visible()]
        current = self.queue.current_key
        after = (
            visible[visible.index(int(current)) :] if current and int(current) in visible else []
        )
        following = next((t for t in after if t not in gone), None)
        if following is None:
            following = next((t for t in reversed(visible) if t not in gone), None)
        if self._data is not None:
            kept = [i for i in self._data.items if i.row.id not in gone]
            waiting = max(0, self._data.waiting - len(self._data.items) + len(kept))
            self._data = replace(self._data, items=kept, waiting=waiting)
        if self.panel.draft is not None and self.panel.draft.ticket_id in message.ticket_ids:
            self.panel.draft = None
        self.notify(message.detail, title="Triaged", markup=False)
        self._redraw()
        if following is not None and str(following) in {k.value for k in self.queue.rows}:
            self.queue.move_cursor(row=self.queue.get_row_index(str(following)))
        self.queue.focus()
        # Others may have added tickets meanwhile; the clocks moved too.
        self._load()

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        # Every typed value stays in the panel; only the error is new.
        self._saving = False
        self.notify(message.error, title="Not saved", severity="error", markup=False, timeout=10)

    # -- edit conflicts -------------------------------------------------------------------

    def _report_conflict(self, desk: Desk, sent: Draft, error: str) -> None:
        """(Worker thread.) Read the ticket as stored now, for the dialog's diff."""
        try:
            detail = get_ticket(desk, sent.ticket_id)
        except (StoreError, DispatchError) as exc:
            # Deleted, or the file went away: nothing to compare with; say both.
            self.post_message(self.Refused(f"{error} ({error_line(exc)})"))
            return
        current = Draft.from_ticket(detail.ticket, detail.client, detail.contact, self.shop_zone)
        who = detail.ticket.updated_by or "someone"
        self.post_message(self.Conflicted(sent, current, who, detail.ticket.updated_at, error))

    @on(Conflicted)
    def _conflicted(self, message: Conflicted) -> None:
        self._saving = False
        ticket_id = message.current.ticket_id
        # The objects as they are now: a reload while the dialog is open may drop them
        # from the session (the ticket left the queue), and the answer still applies.
        mine = self.session.drafts.get(ticket_id, message.sent)
        base = self.session.bases.get(ticket_id, message.sent)
        current = message.current
        when = message.when.astimezone(self.shop_zone).strftime("%Y-%m-%d %H:%M")

        def answered(choice: Choice | None) -> None:
            self._resolve_conflict(choice, mine, base, current)

        self.app.push_screen(
            ConflictDialog(ticket_id, message.who, when, changed_fields(base, current, mine)),
            answered,
        )

    def _resolve_conflict(
        self, choice: Choice | None, mine: Draft, base: Draft, current: Draft
    ) -> None:
        ticket_id = current.ticket_id
        showing = self.panel.draft is not None and self.panel.draft.ticket_id == ticket_id
        if choice == "reapply":
            merged = rebase(mine, base, current)
            self.session.drafts[ticket_id] = merged
            self.session.bases[ticket_id] = current.copy()
            if showing:
                self.panel.show_draft(merged, self._head(merged))
            # The dispatcher asked for this save; it runs the same checks as ctrl+s and
            # carries the new version, so a third save in between asks again.
            self._confirm(merged)
        elif choice == "discard":
            self.session.forget(ticket_id)
            if showing:
                self.panel.draft = None
                self._select(self.queue.current_key)
            self.notify(
                f"Your edit of #{ticket_id} was discarded; the panel shows the stored ticket.",
                title="Discarded",
                markup=False,
            )
            self._load()
        else:
            self.notify(
                f"Your values are kept; {self.key('triage.confirm')} shows the conflict again.",
                title="Not saved",
                severity="warning",
                markup=False,
            )

    @on(Worker.StateChanged)
    def _save_crashed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == SAVE_GROUP and event.state == WorkerState.ERROR:
            self._saving = False
            self.notify(
                error_line(event.worker.error), title="Not saved", severity="error", markup=False
            )
