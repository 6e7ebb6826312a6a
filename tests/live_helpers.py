"""Helpers for the Pilot tests of the shared desk (live refresh, claims, conflicts).

``until`` waits for something to become true by letting the app run, bounded in wall
time: live refresh is driven by timers and worker threads, so there is no single
worker to wait for, and a fixed sleep would be either flaky or slow.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from textual.css.query import NoMatches
from textual.pilot import Pilot

from dispatch_tui.app import DispatchApp
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store import Database

SIZE = (120, 40)
#: Longest wait for anything live: the issue asks for about 2 s; this leaves room
#: for two busy cores shared with other test runs.
BOUND_S = 5.0
#: How often ``until`` looks again (the app keeps running in between).
STEP_S = 0.02

T = TypeVar("T")


async def until(pilot: Pilot[Any], check: Callable[[], T], bound: float = BOUND_S) -> T:
    """Let the app run until ``check()`` is truthy; fail after ``bound`` seconds."""
    deadline = time.monotonic() + bound
    while True:
        try:
            result = check()
        except NoMatches:
            result = None  # the screen is still mounting what the check looks at
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {bound:g} s: {check}")
        await pilot.pause(STEP_S)


async def settle(app: DispatchApp, pilot: Pilot[Any], rounds: int = 3) -> None:
    """Let the workers running now finish and their results land, ``rounds`` times
    (a result can start more work: a change starts a reload).

    A worker cancelled while we wait counts as finished: a newer load replaces an
    older one (exclusive workers), and Textual's ``wait_for_complete`` would raise
    ``WorkerCancelled`` for it, failing a test at random under load. A failed worker
    is the app's to report (its worker-error handler), which is what tests check.
    """
    for _ in range(rounds):
        workers = list(app.workers)
        await asyncio.gather(*(worker.wait() for worker in workers), return_exceptions=True)
        await pilot.pause()


def as_actor(path: Path, actor: str, action: Callable[[Desk], T]) -> T:
    """Do something as another dispatcher, through their own connection."""
    database = Database(path)
    try:
        return action(Desk(database, actor))
    finally:
        database.dispose()


def add(path: Path, summary: str, *, hours_ago: float = 1.0, actor: str = "tester") -> int:
    received = datetime.now(UTC) - timedelta(hours=hours_ago)
    ticket = as_actor(
        path,
        actor,
        lambda d: add_ticket(
            d, client="Acme Dental", contact="Jo Park", summary=summary, received_at=received
        ),
    )
    return ticket.id or 0


def queue(app: DispatchApp) -> KeyedTable:
    return app.screen.query_one("#queue", KeyedTable)


def queue_keys(app: DispatchApp) -> list[str]:
    return [key.value or "" for key in queue(app).rows]


def row_text(app: DispatchApp, ticket_id: int) -> str:
    table = queue(app)
    return " ".join(cell.plain for cell in table.get_row(str(ticket_id)))
