"""The edit-conflict dialog: someone saved the ticket while you were editing it.

It says who and when, lists what they changed (as you started, as stored now, and
what you have), and lets you re-apply your edit on top of their version or discard
it. Nothing is saved by the dialog itself, and nothing is retried without a key press.
Every value is client text or came from another person: shown literally, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from dispatch_tui.screens.triage_merge import FieldChange
from dispatch_tui.textsafe import one_line

#: How the dialog was answered; None (escape) keeps the edit unsaved for later.
Choice = Literal["reapply", "discard"]
#: Longest value shown in a cell; a rewritten description can be pages long.
CELL_CHARS = 60


def _cell(value: str, style: str = "") -> Text:
    shown = one_line(value) or "(empty)"
    if len(shown) > CELL_CHARS:
        shown = shown[: CELL_CHARS - 1] + "…"
    return Text(shown, style=style if value else "dim")


def changes_table(changes: Sequence[FieldChange]) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, expand=True)
    table.add_column("Field", style="bold", no_wrap=True)
    table.add_column("When you started")
    table.add_column("Now")
    table.add_column("Yours")
    for change in changes:
        table.add_row(
            Text(change.label),
            _cell(change.before),
            _cell(change.now, "bold"),
            # A field both of you changed is where re-applying overwrites their value.
            _cell(change.mine, "bold yellow" if change.clash else "") if change.mine else Text(""),
        )
    return table


class ConflictDialog(ModalScreen[Choice | None]):
    """Dismisses with "reapply", "discard", or None (escape: decide later, nothing saved)."""

    DEFAULT_CSS = """
    ConflictDialog { align: center middle; }
    ConflictDialog > Vertical {
        width: 100; max-width: 95%; height: auto; max-height: 90%; padding: 1 2;
        border: thick $error; background: $panel;
    }
    ConflictDialog #conflict-title { text-style: bold; margin-bottom: 1; }
    ConflictDialog #conflict-changes { height: auto; }
    ConflictDialog #conflict-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "answer('reapply')", "Re-apply my edit", id="conflict.reapply"),
        Binding("d", "answer('discard')", "Discard my edit", id="conflict.discard"),
        Binding("escape", "later", "Decide later", id="conflict.later"),
    ]

    def __init__(self, ticket_id: int, who: str, when: str, changes: Sequence[FieldChange]) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.who = who
        self.when = when
        self.changes = list(changes)

    def _key(self, binding_id: str, default: str) -> str:
        # The user's keymap may have moved these keys; the hint must say the real ones.
        key_display = getattr(self.app, "key_display", None)
        return key_display(binding_id, default) if key_display else default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text.assemble(
                    f"#{self.ticket_id} was changed by ",
                    (one_line(self.who) or "someone", "bold"),
                    f" at {self.when} while you were editing it. Nothing was saved.",
                ),
                id="conflict-title",
            )
            if self.changes:
                body: Table | Text = changes_table(self.changes)
            else:
                body = Text("None of the fields you see here changed.", style="italic")
            yield Static(body, id="conflict-changes")
            yield Static(
                Text(
                    f"{self._key('conflict.reapply', 'r')}  re-apply my edit on top of theirs"
                    f"     {self._key('conflict.discard', 'd')}  discard my edit"
                    f"     {self._key('conflict.later', 'escape')}  decide later"
                ),
                id="conflict-keys",
            )

    def action_answer(self, choice: Choice) -> None:
        self.dismiss(choice)

    def action_later(self) -> None:
        self.dismiss(None)
