"""One line of text asked for in a small dialog: a reason, or a client update."""

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


class TextPrompt(ModalScreen[str | None]):
    """Dismisses with the typed text on enter (never empty), or None on escape.
    ``question`` may quote a ticket summary, so it is shown literally."""

    DEFAULT_CSS = """
    TextPrompt { align: center middle; }
    TextPrompt > Vertical {
        width: 80; height: auto; padding: 1 2;
        border: thick $accent; background: $panel;
    }
    TextPrompt #prompt-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dispatch.prompt_cancel"),
    ]

    def __init__(self, question: str, placeholder: str, confirm: str) -> None:
        super().__init__()
        self._question = question
        self._placeholder = placeholder
        self._confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(plain(self._question)), id="prompt-question")
            yield Input(placeholder=self._placeholder, id="prompt-input")
            yield Static(Text(f"enter  {self._confirm}     esc  cancel"), id="prompt-keys")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text:
            self.dismiss(text)
        else:
            self.notify("Type something first, or esc to cancel.", severity="warning", markup=False)

    def action_cancel(self) -> None:
        self.dismiss(None)
