"""Command palette (ctrl+p): every section of the desk and the main actions, by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from dispatch_tui.screens.base import DeskScreen

if TYPE_CHECKING:
    from dispatch_tui.app import DispatchApp


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[], object]


class DeskCommands(Provider):
    """Go-to commands for the five sections, plus help and refresh.

    Quit, theme and screenshot come from Textual's own system commands.
    """

    def _commands(self) -> list[Command]:
        app = cast("DispatchApp", self.app)
        commands: list[Command] = []
        # Sections need an open database; on the error screen only help applies.
        if app.desk is not None:
            for mode, (title, what) in app.SECTIONS.items():
                commands.append(Command(f"Go to {title}", what, partial(app.switch_mode, mode)))
            if isinstance(self.screen, DeskScreen):
                commands.append(
                    Command("Refresh", "Reload this screen from the database", self.screen.reload)
                )
        commands.append(Command("Help: keys", "List every key on this screen", app.action_help))
        return commands

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.name, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), command.run, help=command.help)
