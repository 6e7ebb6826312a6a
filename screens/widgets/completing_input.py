"""A one-line input that completes from the desk as you type, and takes the completion on tab.

During a phone call the dispatcher types "acm", presses tab and is on the next field
with "Acme Dental" filled in. Lookups run on a thread, never on the UI thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.suggester import Suggester
from textual.widgets import Input

from dispatch_tui.errors import DispatchError
from dispatch_tui.store import StoreError

#: (value typed, case-folded; context) -> the completion, or None. Runs on a thread.
Lookup = Callable[[str, str], str | None]


class DeskSuggester(Suggester):
    """Suggests with ``lookup`` run in a thread. No cache: another dispatcher may have
    added the client a moment ago, and a stale "no match" would hide it.

    ``context`` is read on the UI thread before the lookup starts (e.g. the client a
    contact must belong to), so the thread never touches a widget.
    """

    def __init__(self, lookup: Lookup, context: Callable[[], str] = lambda: "") -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self._lookup = lookup
        self._context = context

    async def get_suggestion(self, value: str) -> str | None:
        context = self._context()
        try:
            return await asyncio.to_thread(self._lookup, value, context)
        except (StoreError, DispatchError):
            # A completion is a convenience; a locked file must not interrupt typing.
            return None


class ListSuggester(Suggester):
    """Suggests from a list that the screen replaces when it reloads (categories, skills)."""

    def __init__(self, words: list[str] | None = None) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.words: list[str] = list(words or [])

    async def get_suggestion(self, value: str) -> str | None:
        for word in self.words:
            if word.casefold().startswith(value):
                return word
        return None


def fill(field: Input, value: str) -> None:
    """Show a stored value in ``field``, the cursor at its end. Completions are for
    typing: none is looked up for a value nobody typed (each lookup is a worker, and a
    client's or contact's a read of the desk, for every field of every ticket shown)."""
    suggester, field.suggester = field.suggester, None
    try:
        field.value = value
    finally:
        field.suggester = suggester
    field.cursor_position = len(value)


class CompletingInput(Input):
    """Tab takes the shown completion, then moves on, as shells and IDEs do."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "accept_next", "Accept and next", show=False, id="form.accept_next"),
    ]

    def action_accept_next(self) -> None:
        if self.cursor_at_end:
            # Right at the end of the text takes the completion (Input's own rule).
            self.action_cursor_right()
        self.screen.focus_next()
