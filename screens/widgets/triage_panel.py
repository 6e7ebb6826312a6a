"""The triage panel: one ticket's values, what they add up to, and what is still missing.

It edits a ``Draft`` in place (the screen keeps the drafts), recomputes priority
and the checklist on every change, and never saves: the screen does that.
Client text (summary, description, names) is only ever shown literally.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Input, Static

from dispatch_tui.rules import triage as rules
from dispatch_tui.rules.priority import PriorityPolicy
from dispatch_tui.screens.triage_state import Draft
from dispatch_tui.screens.widgets.completing_input import (
    CompletingInput,
    DeskSuggester,
    ListSuggester,
    Lookup,
    fill,
)
from dispatch_tui.screens.widgets.quiet_update import show_text
from dispatch_tui.textsafe import one_line, plain

#: Input id -> the Draft attribute it edits.
TEXT_FIELDS = {
    "f-summary": "summary",
    "f-client": "client",
    "f-contact": "contact",
    "f-category": "category",
    "f-subcategory": "subcategory",
    "f-estimate": "estimate",
    "f-skill": "skill",
    "f-due": "due",
    "f-note": "note",
}
#: The choices set with single keys, in the order the keys are listed.
CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "ticket_type": (("incident", "incident"), ("service_request", "request")),
    "impact": (("low", "low"), ("medium", "medium"), ("high", "high")),
    "urgency": (("low", "low"), ("medium", "medium"), ("high", "high")),
}
#: The labels of the two columns, top to bottom: (name, binding id of its key or "").
LEFT_LABELS = (
    ("Client", "triage.field_client"),
    ("Contact", "triage.field_contact"),
    ("Type", ""),
    ("Impact", ""),
    ("Urgency", ""),
    ("Priority", ""),
)
RIGHT_LABELS = (
    ("Category", "triage.field_category"),
    ("Subcategory", "triage.field_subcategory"),
    ("Estimate h", "triage.field_estimate"),
    ("Skill", "triage.field_skill"),
    ("Due", "triage.field_due"),
    ("Note", "triage.field_note"),
)
PRIORITY_STYLE = {
    "critical": "bold reverse red",
    "high": "bold red",
    "medium": "bold yellow",
    "low": "bold",
    "quick_hit": "bold green",
}

#: Binding-id -> key text, for the hints beside each field (the keymap may move them).
KeyNames = Callable[[str], str]


def label(text: str, key: str) -> Text:
    return Text.assemble((f"{key:>2} ", "bold"), (text, "dim"))


class TriagePanel(Vertical):
    def __init__(
        self, client_lookup: Lookup, contact_lookup: Lookup, keys: KeyNames, *, id: str
    ) -> None:
        super().__init__(id=id)
        self.draft: Draft | None = None
        self.zone: tzinfo = ZoneInfo("UTC")
        self.priority_policy = PriorityPolicy()
        self.categories: Mapping[str, Sequence[str]] = dict(rules.DEFAULT_CATEGORIES)
        self._client_lookup = client_lookup
        self._contact_lookup = contact_lookup
        self._keys = keys
        self._skills = ListSuggester()
        self._category_words = ListSuggester()
        self._subcategory_words = ListSuggester()

    # -- layout -----------------------------------------------------------------------
    #
    # Few widgets on purpose: every widget on the screen is a message queue that Textual
    # styles, lays out and visits, which a key and the first paint pay for. Each column
    # of fields is one grid: its labels drawn by one Static beside the inputs, and the
    # type, impact, urgency and priority values drawn by another (they are set with
    # single keys, never typed). Only the typed fields are widgets of their own, in the
    # order tab and enter move through them.

    def _labels(self, fields: Sequence[tuple[str, str]]) -> Text:
        """One label per line: the field's name and, when it has one, its key."""
        lines = [label(title, self._keys(key_id) if key_id else "") for title, key_id in fields]
        return Text("\n").join(lines)

    def compose(self) -> ComposeResult:
        yield Static(id="ticket-head")
        yield Static(id="ticket-description")
        yield Horizontal(
            Static(label("Summary", self._keys("triage.field_summary")), classes="label"),
            Input(compact=True, id="f-summary"),
            classes="field",
        )
        with Horizontal(id="columns"):
            with Grid(classes="column"):
                yield Static(self._labels(LEFT_LABELS), classes="labels")
                yield CompletingInput(
                    compact=True, id="f-client", suggester=DeskSuggester(self._client_lookup)
                )
                yield CompletingInput(
                    compact=True,
                    id="f-contact",
                    suggester=DeskSuggester(
                        self._contact_lookup, lambda: self.query_one("#f-client", Input).value
                    ),
                )
                yield Static(id="choices")
            with Grid(classes="column"):
                yield Static(self._labels(RIGHT_LABELS), classes="labels")
                yield CompletingInput(compact=True, id="f-category", suggester=self._category_words)
                yield CompletingInput(
                    compact=True, id="f-subcategory", suggester=self._subcategory_words
                )
                yield Input(compact=True, id="f-estimate", placeholder="hours, e.g. 0.5")
                yield CompletingInput(compact=True, id="f-skill", suggester=self._skills)
                yield Input(compact=True, id="f-due", placeholder="+3d, YYYY-MM-DD [HH:MM]")
                yield Input(
                    compact=True, id="f-note", placeholder="what you learned from the client"
                )
        yield Static(id="checklist")

    # -- filling ----------------------------------------------------------------------

    def set_policy(
        self,
        zone: tzinfo,
        priority: PriorityPolicy,
        categories: Mapping[str, Sequence[str]],
        skills: list[str],
    ) -> None:
        self.zone = zone
        self.priority_policy = priority
        self.categories = categories
        self._category_words.words = sorted(categories)
        self._skills.words = skills
        self._update_subcategories()
        self.refresh_computed()

    def show_draft(self, draft: Draft, head: Text) -> None:
        self.draft = draft
        show_text(self.query_one("#ticket-head", Static), head)
        description = plain(draft.description).strip() or "(no description)"
        show_text(self.query_one("#ticket-description", Static), Text(description, style="italic"))
        for widget_id, attribute in TEXT_FIELDS.items():
            widget = self.query_one(f"#{widget_id}", Input)
            value = getattr(draft, attribute)
            if widget.value != value:
                fill(widget, value)
        self._update_subcategories()
        self.refresh_computed()

    def set_head(self, head: Text) -> None:
        show_text(self.query_one("#ticket-head", Static), head)

    def choose(self, name: str, value: str) -> None:
        if self.draft is None:
            return
        setattr(self.draft, name, value)
        self.refresh_computed()

    def focus_field(self, attribute: str) -> None:
        for widget_id, name in TEXT_FIELDS.items():
            if name == attribute:
                self.query_one(f"#{widget_id}", Input).focus()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        attribute = TEXT_FIELDS.get(event.input.id or "")
        # A Changed from an earlier fill may arrive after the next ticket is shown:
        # only the input's current value belongs to the current draft.
        if attribute is None or self.draft is None or event.value != event.input.value:
            return
        if getattr(self.draft, attribute) == event.value:
            # The echo of show_draft filling the field from the draft: nothing changed.
            return
        setattr(self.draft, attribute, event.value)
        if attribute == "category":
            self._update_subcategories()
        self.refresh_computed()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        # Enter moves on like tab: the panel is filled top to bottom.
        event.stop()
        self.screen.focus_next()

    def _update_subcategories(self) -> None:
        category = (self.draft.category if self.draft else "").strip().lower()
        self._subcategory_words.words = list(self.categories.get(category, ()))

    # -- what the values add up to ----------------------------------------------------

    def refresh_computed(self) -> None:
        draft = self.draft
        if draft is None:
            return
        choices = Text()
        for name, options in CHOICES.items():
            current = getattr(draft, name)
            for index, (value, shown) in enumerate(options):
                if index:
                    choices.append("  ")
                key = self._keys(f"triage.{self._choice_id(name, value)}")
                choices.append(f"{key} ", style="dim")
                choices.append(shown, style="bold reverse" if value == current else "")
            choices.append("\n")
        priority = draft.priority(self.priority_policy)
        choices.append(
            priority.replace("_", " ") if priority else "set impact and urgency",
            style=PRIORITY_STYLE.get(priority or "", "dim"),
        )
        show_text(self.query_one("#choices", Static), choices)
        gaps = draft.missing(self.zone, datetime.now(UTC))
        checklist = self.query_one("#checklist", Static)
        if gaps:
            show_text(checklist, Text(f"Missing: {rules.describe(gaps)}", style="bold yellow"))
        else:
            confirm = self._keys("triage.confirm")
            show_text(checklist, Text(f"Complete: {confirm} marks it triaged", style="bold green"))

    @staticmethod
    def _choice_id(name: str, value: str) -> str:
        if name == "ticket_type":
            return "incident" if value == "incident" else "request"
        return f"{name}_{value}"


def head_text(draft: Draft, zone: tzinfo, waiting: str, clock: Text) -> Text:
    """'#12  phone  received Tue 04 Mar 14:05  waiting 38 min  first response 22 min left'."""
    text = Text()
    text.append(f"#{draft.ticket_id}", style="bold")
    text.append(f"  {one_line(draft.channel)}  received ")
    text.append(draft.created_at.astimezone(zone).strftime("%a %d %b %H:%M"))
    text.append(f"  waiting {waiting}  first response ")
    text.append_text(clock)
    return text
