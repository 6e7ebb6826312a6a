"""What the app does on its own while it runs: when config.toml asks for it, rolling
local backups on a timer and importing mail as it arrives; always, bringing the
stored SLA moments up to the shop's policy once after an upgrade or a policy change.

Both run on thread workers and report back with messages to the App, which turns
them into notifications. Neither can stop the desk: a failed backup is a warning,
and a broken mail folder stops only the watcher.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.message import Message
from textual.timer import Timer
from textual.worker import Worker, get_current_worker

from dispatch_tui.errors import DispatchError
from dispatch_tui.screens.widgets.desk_header import error_line
from dispatch_tui.services.desk import Desk
from dispatch_tui.store import StoreError

# The jobs' own modules (mail parsing, backup copying, SLA restamping) are imported
# by the worker threads that use them, not before the desk's first screen.
if TYPE_CHECKING:
    from dispatch_tui.services.importer import ImportResult
    from dispatch_tui.store.backup import BackupResult

BACKUP_GROUP = "rolling-backup"
MAIL_GROUP = "mail-watch"
SLA_GROUP = "sla-catch-up"

log = logging.getLogger("dispatch_tui.sla")


class BackgroundTrouble(Message):
    """Background work failed; the App shows it as a warning (``once``: at most once
    per distinct text, for work that repeats every second)."""

    def __init__(self, title: str, error: str, *, once: bool = False) -> None:
        super().__init__()
        self.title = title
        self.error = error
        self.once = once


class BackupDone(Message):
    def __init__(self, result: BackupResult) -> None:
        super().__init__()
        self.result = result


class RollingBackups:
    """``rolling_backup`` every ``minutes``, one at a time, on a worker thread."""

    def __init__(self, app: App[object], desk: Desk, folder: Path, *, minutes: float, keep: int):
        self._app = app
        self._desk = desk
        self.folder = folder
        self.minutes = minutes
        self.keep = keep
        self._timer: Timer | None = None
        self._worker: Worker[None] | None = None

    def start(self) -> None:
        self._timer = self._app.set_interval(self.minutes * 60, self.tick, name="rolling backup")

    def tick(self) -> None:
        """Make one backup now (the timer calls this; so can a test)."""
        if self._worker is not None and not self._worker.is_finished:
            return  # a copy of a big file over a slow share is still running
        self._worker = self._app.run_worker(
            self._backup,
            name="rolling backup",
            group=BACKUP_GROUP,
            thread=True,
            exit_on_error=False,
        )

    def _backup(self) -> None:
        from dispatch_tui.store.backup import rolling_backup

        try:
            result = rolling_backup(self._desk.db, self.folder, keep=self.keep)
        except (StoreError, OSError) as exc:
            # Expected now and then (disk full, folder gone): a warning, and the timer
            # tries again next time. Reported here rather than as a failed worker.
            self._app.post_message(BackgroundTrouble("Rolling backup failed", error_line(exc)))
            return
        self._app.post_message(BackupDone(result))

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None


class MailArrived(Message):
    """One message from the mail watcher was handled (imported, threaded, failed...)."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__()
        self.result = result


class MailWatch:
    """``watch_imports`` on one long-running thread worker, ended by a stop event.

    Unlike the short workers elsewhere, this one runs until the app exits; the new
    tickets reach the screens through live refresh like anyone else's.
    """

    def __init__(self, app: App[object], desk: Desk, path: Path) -> None:
        self._app = app
        self._desk = desk
        self.path = path
        self._stop = threading.Event()

    def start(self) -> None:
        self._app.run_worker(
            self._watch, name="mail watch", group=MAIL_GROUP, thread=True, exit_on_error=False
        )

    def _watch(self) -> None:
        from dispatch_tui.services.importer import watch_imports

        try:
            for result in watch_imports(self._desk, self.path, stop=self._stop):
                self._app.post_message(MailArrived(result))
        except (StoreError, DispatchError, OSError) as exc:
            # A folder that vanished, or a database gone for good: the watcher stops,
            # the desk does not.
            self._app.post_message(
                BackgroundTrouble(
                    "Mail watch stopped", f"{error_line(exc)}; restart the app to watch again"
                )
            )

    def stop(self) -> None:
        """Ask the watcher to end; it does within one message (thread-safe)."""
        self._stop.set()


def catch_up_sla(app: App[object], desk: Desk) -> Worker[None]:
    """Restamp the SLA moments of history once if the file asks for it (see
    services/sla_stamps.catch_up), in short write transactions on a worker thread.

    Only a speed-up for the dashboard's SLA report, whose figures are right without
    it: a lock held past the timeout or a read-only file is logged, not shown, and
    quitting the app stops it after the current batch.
    """

    def work() -> None:
        from dispatch_tui.services import sla_stamps

        worker = get_current_worker()
        try:
            count = sla_stamps.catch_up(desk, should_stop=lambda: worker.is_cancelled)
        except StoreError as exc:
            log.warning("SLA moments not brought up to date: %s", error_line(exc))
            return
        if count:
            log.info("SLA moments stamped for %d tickets", count)

    return app.run_worker(
        work, name="SLA catch-up", group=SLA_GROUP, thread=True, exit_on_error=False
    )
