"""Watching a folder or a Maildir for new mail, by polling (stdlib only, any file system).

``MailWatcher.poll()`` is the whole testable core: each call returns the messages
that arrived since the last one. The loop that sleeps between polls lives with the
importer (``services.importer.watch_imports``), so the CLI and a TUI worker share it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from dispatch_tui.errors import InvalidInput
from dispatch_tui.mail.sources import (
    WATCHABLE,
    MailItem,
    SourceKind,
    detect_kind,
    eml_files,
    maildir_items,
)

#: An .eml file younger than this may still be being written; it waits a poll.
DEFAULT_SETTLE_S = 1.0


class MailWatcher:
    def __init__(
        self,
        path: Path,
        *,
        settle: float = DEFAULT_SETTLE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.kind = detect_kind(path)
        if self.kind not in WATCHABLE:
            raise InvalidInput(
                f"--watch needs a folder or a Maildir; {path} is an {self.kind} file"
            )
        self.settle = settle
        self._clock = clock
        self._seen: set[str] = set()

    def poll(self) -> list[MailItem]:
        """Messages not returned before. The first poll returns everything present."""
        if not self.path.is_dir():
            raise InvalidInput(f"{self.path} has disappeared")
        if self.kind is SourceKind.MAILDIR:
            # Maildir delivery writes into tmp/ and renames: whatever is listed is complete.
            items = list(maildir_items(self.path))
        else:
            cutoff = self._clock() - self.settle
            items = [item for item in eml_files(self.path) if self._settled(item, cutoff)]
        fresh = [item for item in items if item.key not in self._seen]
        self._seen.update(item.key for item in fresh)
        return fresh

    def forget(self, item: MailItem) -> None:
        """Offer ``item`` again on the next poll (its import failed for a passing reason)."""
        self._seen.discard(item.key)

    def _settled(self, item: MailItem, cutoff: float) -> bool:
        try:
            return item.path is not None and os.stat(item.path).st_mtime <= cutoff
        except OSError:
            return False  # gone between listing and stat: nothing to import
