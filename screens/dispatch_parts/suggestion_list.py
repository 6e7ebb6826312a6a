"""Ranked technicians for the selected ticket, numbered for the digit keys, with reasons."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from dispatch_tui.rules.suggest import Suggestion
from dispatch_tui.screens.widgets.quiet_update import show_text
from dispatch_tui.textsafe import plain

#: Digits 1-9 pick a suggestion; more than nine technicians are listed unnumbered.
MAX_PICK = 9


def suggestions_text(ranked: list[Suggestion] | None, assign_key: str) -> Text:
    if ranked is None:
        return Text("Working out who fits…", style="dim")
    if not ranked:
        return Text("No active technician.", style="dim")
    text = Text()
    for index, s in enumerate(ranked, start=1):
        number = f"{index}" if index <= MAX_PICK else " "
        style = "bold" if index == 1 and s.available else "" if s.available else "dim"
        text.append(f"{number} ", style="bold reverse" if index <= MAX_PICK else "")
        text.append(f" {plain(s.name)}", style=style)
        text.append(f"  {s.score:g}", style="dim")
        if index == 1:
            text.append(f"   ({assign_key} or 1 assigns)", style="dim")
        text.append("\n")
        reasons = "; ".join(plain(r) for r in s.reasons)
        text.append(f"   {reasons}\n", style="" if s.available else "dim")
    text.rstrip()
    return text


class SuggestionList(Static):
    def show(self, ranked: list[Suggestion] | None, assign_key: str) -> None:
        text = suggestions_text(ranked, assign_key)
        if ranked is None and self.size.height > 1:
            # While the next ticket's ranking is worked out, keep the height of the last
            # list (blank lines): the list that follows is usually as long, and a change
            # of height would lay the whole screen out twice per cursor move.
            text.append("\n" * (self.size.height - 1))
        show_text(self, text)
