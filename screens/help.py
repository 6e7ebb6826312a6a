"""The key help: every binding active on the screen underneath, with its id for keymaps."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, title: str, bindings: dict[str, ActiveBinding]) -> None:
        super().__init__()
        # Taken when help opens: once this modal is up, the screen below is no longer active.
        self._for_title = title
        self._listed = bindings

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(Text(f"Keys on {self._for_title}", style="bold"), id="help-title")
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Static(
                Text("Remap any key by its id in your keymap (config [keys]).  esc closes."),
                id="help-hint",
            )

    def on_mount(self) -> None:
        table = self.query_one("#help-keys", DataTable)
        table.add_columns("Key", "Does", "Id")
        for key, active in self._listed.items():
            binding = active.binding
            if binding.system:
                continue
            table.add_row(
                Text(self.app.get_key_display(binding.with_key(key))),
                Text(binding.description or binding.action, style="" if active.enabled else "dim"),
                Text(binding.id or "", style="dim"),
                key=key,
            )
        table.focus()
