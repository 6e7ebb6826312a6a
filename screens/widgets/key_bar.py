"""The bottom line of every screen: the keys that apply here, as Textual's Footer shows them.

Textual's ``Footer`` mounts one widget per key and rebuilds them all (mount, style,
lay out) each time the screen's active bindings change, which is at every move of
the focus: opening a ticket in Triage spent most of its time there, and start-up
rebuilt it several times while the first section mounted. ``KeyBar`` draws the same
line as one widget and redraws only when what it shows changes: the keys (after the
user's keymap), their descriptions, which are greyed out, and the command palette
key on the right. A click on a key presses it, as on the Footer.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

COMMAND_PALETTE_ACTION = "command_palette"


@dataclass(frozen=True)
class ShownKey:
    key: str
    display: str
    description: str
    enabled: bool


class KeyBar(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        text-wrap: nowrap;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.keys: tuple[ShownKey, ...] = ()
        self.palette: ShownKey | None = None
        #: (first column, last column + 1, key) of each key drawn, for clicks.
        self._spans: list[tuple[int, int, ShownKey]] = []
        self._update_queued = False

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        # Several changes often come in one go (focus, then check_action): read the
        # bindings once, after they are all applied, as the Footer does.
        if screen is self.screen and not self._update_queued:
            self._update_queued = True
            self.call_after_refresh(self._update)

    def _update(self) -> None:
        self._update_queued = False
        if not self.is_attached:
            return
        keys, palette = self.shown()
        if (keys, palette) != (self.keys, self.palette):
            self.keys, self.palette = keys, palette
            self.refresh()

    def shown(self) -> tuple[tuple[ShownKey, ...], ShownKey | None]:
        """What the bar shows: one key per action (the first bound), in binding order."""
        keys: list[ShownKey] = []
        actions: set[str] = set()
        palette: ShownKey | None = None
        for key, (_node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            item = ShownKey(key, self.app.get_key_display(binding), binding.description, enabled)
            if binding.action == COMMAND_PALETTE_ACTION:
                if palette is None and self.app.ENABLE_COMMAND_PALETTE:
                    palette = item
                continue
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append(item)
        return tuple(keys), palette

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        text = Text(no_wrap=True, overflow="crop")
        spans: list[tuple[int, int, ShownKey]] = []

        def add(item: ShownKey) -> None:
            start = text.cell_len
            part = Text.assemble(
                (f" {item.display} ", key_style),
                (f"{item.description} " if item.description else "", description_style),
            )
            if not item.enabled:
                part.stylize("dim")
            text.append_text(part)
            spans.append((start, text.cell_len, item))

        for item in self.keys:
            add(item)
        if self.palette is not None:
            # Docked on the right as on the Footer: the keys that do not fit are cut, the
            # palette key never is.
            room = self.size.width - self._palette_width()
            if text.cell_len > room:
                text.truncate(max(0, room))
                spans = [(start, min(end, room), i) for start, end, i in spans if start < room]
            text.append(" " * (room - text.cell_len))
            text.append("▏", style=description_style + Style(dim=True))
            start = text.cell_len
            text.append_text(
                Text.assemble(
                    (self.palette.display, key_style),
                    (f" {self.palette.description} ", description_style),
                )
            )
            spans.append((start, text.cell_len, self.palette))
        self._spans = spans
        return text

    def _palette_width(self) -> int:
        assert self.palette is not None
        return 1 + Text(f"{self.palette.display} {self.palette.description} ").cell_len

    def on_click(self, event: events.Click) -> None:
        item = next((i for start, end, i in self._spans if start <= event.x < end), None)
        if item is None:
            return
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()
