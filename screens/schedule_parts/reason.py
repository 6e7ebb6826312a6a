"""Asking why a conflicting booking should stand: the service records the answer."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from dispatch_tui.textsafe import plain


class ReasonScreen(ModalScreen[str | None]):
    """Dismisses with the typed reason on enter (never empty), or None on escape.
    ``question`` (it quotes the refusal, which names client text) is shown literally."""

    DEFAULT_CSS = """
    ReasonScreen { align: center middle; }
    ReasonScreen > Vertical {
        width: 76; height: auto; padding: 1 2;
        border: thick $error; background: $panel;
    }
    ReasonScreen #reason-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="reason.cancel"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(plain(self._question)), id="reason-question")
            yield Input(placeholder="why it should stand, e.g. quick call during remote job")
            yield Static(Text("enter  book anyway     esc  cancel"), id="reason-keys")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if reason:
            self.dismiss(reason)
        else:
            self.notify("Say why the booking should stand.", severity="warning", markup=False)

    def action_cancel(self) -> None:
        self.dismiss(None)
