"""Dashboard: the desk's health in numbers. Issue 7 builds it; this holds its place."""

from __future__ import annotations

from dispatch_tui.screens.base import DeskScreen
from textual.app import ComposeResult
from textual.widgets import Static


class DashboardScreen(DeskScreen):
    TITLE = "Dashboard"
    CSS_PATH = "dashboard.tcss"

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Dashboard\n\nSLA performance, priority mix, utilisation and desk health checks "
            "arrive with issue 7.",
            classes="placeholder",
        )
