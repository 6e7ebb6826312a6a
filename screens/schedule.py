"""Schedule: technician calendars and service calls. Issue 5 builds it; this holds its place."""

from __future__ import annotations

from dispatch_tui.screens.base import DeskScreen
from textual.app import ComposeResult
from textual.widgets import Static


class ScheduleScreen(DeskScreen):
    TITLE = "Schedule"
    CSS_PATH = "schedule.tcss"

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Schedule\n\nTechnician calendars, booked service calls with conflict checks, "
            "and time entries arrive with issue 5.",
            classes="placeholder",
        )
