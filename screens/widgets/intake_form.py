"""The intake form: what a caller says, captured in the order they say it.

Tab order is the order of a call: client, contact, summary, then the rest, so a
typical phone ticket is "client, tab, contact, tab, summary, ctrl+s". The form
only holds values; the screen saves them.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, TextArea

from dispatch_tui.screens.widgets.completing_input import CompletingInput, DeskSuggester, Lookup
from dispatch_tui.store.models import Channel

CHANNELS = [(channel.value, channel.value) for channel in Channel]


@dataclass(frozen=True)
class IntakeValues:
    client: str
    contact: str
    summary: str
    description: str
    channel: str
    received: str


class IntakeForm(Vertical):
    """``client_lookup(value, "")`` and ``contact_lookup(value, client)`` complete names."""

    def __init__(self, client_lookup: Lookup, contact_lookup: Lookup, *, id: str) -> None:
        super().__init__(id=id)
        self._client_lookup = client_lookup
        self._contact_lookup = contact_lookup

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Label("Client", classes="label")
            yield CompletingInput(
                placeholder="type to find a client; a new name is created on save",
                suggester=DeskSuggester(self._client_lookup),
                compact=True,
                id="client",
            )
        with Horizontal(classes="field"):
            yield Label("Contact", classes="label")
            yield CompletingInput(
                placeholder="who is calling (optional)",
                suggester=DeskSuggester(self._contact_lookup, lambda: self.client_input.value),
                compact=True,
                id="contact",
            )
        with Horizontal(classes="field"):
            yield Label("Summary", classes="label")
            yield Input(placeholder="one line: what they need", compact=True, id="summary")
        yield Label("Description", classes="label")
        yield TextArea(compact=True, id="description")
        with Horizontal(classes="field"):
            yield Label("Channel", classes="label")
            yield Select(CHANNELS, value="phone", allow_blank=False, compact=True, id="channel")
        with Horizontal(classes="field"):
            yield Label("Received", classes="label")
            yield Input(
                placeholder="now  (or HH:MM, YYYY-MM-DD HH:MM shop time)",
                compact=True,
                id="received",
            )

    @property
    def client_input(self) -> CompletingInput:
        return self.query_one("#client", CompletingInput)

    def values(self) -> IntakeValues:
        channel = self.query_one("#channel", Select).value
        return IntakeValues(
            client=self.client_input.value.strip(),
            contact=self.query_one("#contact", Input).value.strip(),
            summary=self.query_one("#summary", Input).value.strip(),
            description=self.query_one("#description", TextArea).text.strip(),
            channel=str(channel) if isinstance(channel, str) else "phone",
            received=self.query_one("#received", Input).value.strip(),
        )

    def clear(self) -> None:
        """Ready for the next call: empty fields, phone, now; the cursor on client."""
        for name in ("#client", "#contact", "#summary", "#received"):
            self.query_one(name, Input).clear()
        self.query_one("#description", TextArea).clear()
        self.query_one("#channel", Select).value = "phone"
        self.client_input.focus()
