"""Live refresh: one change watcher for the whole app, polled off the UI thread.

Every ``POLL_SECONDS`` a timer starts a short thread worker that asks the watcher
(store/changes.py: ``PRAGMA data_version`` on SQLite, LISTEN/NOTIFY on PostgreSQL)
whether anyone committed. A slow or vanished file only delays that worker; the next
tick is skipped while one is still out, so polls never pile up and the terminal never
waits. When something changed, the App gets ``DeskChanged`` and hands it to the
visible section, which reloads quietly (screens/base.py).

Each poll is its own short worker, not one long loop, so ``App.workers`` empties
between polls: tests that wait for the workers to finish still can.
"""

from __future__ import annotations

from textual.app import App
from textual.message import Message
from textual.timer import Timer
from textual.worker import Worker

from dispatch_tui.screens.background_jobs import BackgroundTrouble
from dispatch_tui.screens.widgets.desk_header import error_line
from dispatch_tui.store.changes import Changes, ChangeWatcher

#: Other dispatchers' changes should show within about 2 s: a 1 s poll plus the
#: screen's short debounce and its read leaves room for a slow share.
POLL_SECONDS = 1.0
GROUP = "live-refresh"


class DeskChanged(Message):
    """Someone (possibly this app) committed to the database since the last poll."""

    def __init__(self, changes: Changes) -> None:
        super().__init__()
        self.changes = changes


class LiveRefresh:
    """Owns the app's one ``ChangeWatcher`` and the timer that polls it."""

    def __init__(
        self, app: App[object], watcher: ChangeWatcher, *, interval: float = POLL_SECONDS
    ) -> None:
        self._app = app
        self._watcher = watcher
        self._interval = interval
        self._timer: Timer | None = None
        self._worker: Worker[None] | None = None

    def start(self) -> None:
        self._timer = self._app.set_interval(self._interval, self.tick, name="live refresh")

    def tick(self) -> None:
        """Start one poll, unless the previous one is still waiting on the file."""
        if self._worker is not None and not self._worker.is_finished:
            return
        self._worker = self._app.run_worker(
            self._poll, name="live refresh poll", group=GROUP, thread=True, exit_on_error=False
        )

    def _poll(self) -> None:
        try:
            changes = self._watcher.poll()
        except Exception as exc:  # noqa: BLE001 - driver errors of either backend
            # A share that went away, a server restart: say so once, and the next tick
            # simply tries again (the feed catches up from the change log by id).
            self._app.post_message(
                BackgroundTrouble("Live refresh", f"{error_line(exc)}; retrying", once=True)
            )
            return
        if changes.changed:
            # post_message is thread-safe; the App forwards it to the visible section.
            self._app.post_message(DeskChanged(changes))

    def stop(self) -> None:
        """Stop polling (UI thread). ``close`` then releases the watcher's connection."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def close(self) -> None:
        """Close the watcher's connection. Blocking (it waits for a poll in flight):
        call it from a thread."""
        self._watcher.close()
