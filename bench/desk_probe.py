"""Starting ``DispatchApp`` headless and knowing when a section is on screen.

A section is ready when its ``show`` (the data its worker fetched, drawn) has run
and the frame is painted. Textual's ``message_hook`` cannot tell: the sections'
message loops start from a worker's ``call_from_thread``, outside the hook's
context. So the probe wraps ``DeskScreen``'s handlers of the load's outcome (the
one for ``Loaded`` calls the section's ``show``) in this process only; the app's
code is untouched. Hooking the base class rather than each section's ``show`` keeps
the sections out of the probe's imports: the app loads them when first shown.

Imported only inside child processes, after their clock started.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from bench.headless import WORKER_TIMEOUT_S, key_event, settle
from dispatch_tui.app import DispatchApp
from dispatch_tui.screens.base import DeskScreen

SIZE = (120, 40)

#: The section keys of the default keymap.
SECTION_KEYS = {
    "intake": "f2",
    "triage": "f3",
    "dispatch": "f4",
    "schedule": "f5",
    "dashboard": "f6",
}


class LoadWatch:
    """Counts sections drawn (or failed to load) since the app started."""

    def __init__(self) -> None:
        self.loads = 0
        self.failures: list[str] = []
        self._changed = asyncio.Event()

    def _count(self, failure: str | None = None) -> None:
        self.loads += 1
        if failure is not None:
            self.failures.append(failure)
        self._changed.set()

    def install(self) -> None:
        # Counted once ``show`` has returned; no section overrides these handlers.
        DeskScreen.on_desk_screen_loaded = self._wrap(  # type: ignore[method-assign]
            DeskScreen.on_desk_screen_loaded, lambda *_: None
        )
        DeskScreen.on_desk_screen_failed = self._wrap(  # type: ignore[method-assign]
            DeskScreen.on_desk_screen_failed, lambda _screen, message: message.error
        )

    def _wrap(self, original: Callable[..., Any], failure: Callable[..., str | None]) -> Any:
        @functools.wraps(original)
        def wrapper(screen: DeskScreen, arg: Any) -> Any:
            try:
                return original(screen, arg)
            finally:
                self._count(failure(screen, arg))

        return wrapper

    async def wait_for(self, app: DispatchApp, loads: int) -> None:
        """Until ``loads`` sections were drawn; raises if the app stopped or hung."""
        deadline = asyncio.get_running_loop().time() + WORKER_TIMEOUT_S
        while self.loads < loads:
            if not app.is_running:
                raise RuntimeError("the app stopped before its section loaded")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no section loaded within {WORKER_TIMEOUT_S:g} s")
            self._changed.clear()
            # Woken by the load itself; the timeout only lets a crashed app be noticed.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.5)


@asynccontextmanager
async def running_desk(db: Path) -> AsyncIterator[tuple[DispatchApp, Pilot[None], LoadWatch]]:
    """The app on ``db``, returned once its first section has loaded and painted."""
    watch = LoadWatch()
    watch.install()
    app = DispatchApp(db, actor="bench")
    async with app.run_test(headless=True, size=SIZE) as pilot:
        await watch.wait_for(app, 1)
        await settle(app)
        yield app, pilot, watch


async def visit(app: DispatchApp, watch: LoadWatch, mode: str) -> None:
    """Switch section by its key, as a dispatcher would, and return once it is drawn."""
    if app.current_mode == mode:
        return
    loads = watch.loads
    app.post_message(key_event(SECTION_KEYS[mode]))
    await watch.wait_for(app, loads + 1)
    await settle(app)
