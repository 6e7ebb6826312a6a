"""Doing something once a key has stopped repeating: a deadline moved by each key.

A held arrow key repeats about 30 times a second. Restarting a Textual timer at each
press stops one asyncio task and starts another, for every key. ``RestTimer`` keeps
one timer per rest instead: a press only moves the deadline, and the timer, when it
fires early, waits out what is left.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic

from textual.message_pump import MessagePump
from textual.timer import Timer

#: A timer firing this close to the deadline counts as on time (the event loop's
#: clock is coarser than that), rather than waiting again for nothing.
SLACK_SECONDS = 0.001


class RestTimer:
    """Calls ``callback`` on ``owner``'s loop once ``arm`` has not been called for the
    delay it was last given."""

    def __init__(self, owner: MessagePump, callback: Callable[[], object]) -> None:
        self._owner = owner
        self._callback = callback
        self._due: float | None = None
        self._timer: Timer | None = None
        self._fires_at = 0.0

    @property
    def pending(self) -> bool:
        """Armed and not yet fired or cancelled."""
        return self._due is not None

    def arm(self, delay: float) -> None:
        """(Re)start the wait: ``callback`` runs ``delay`` seconds from now, unless armed
        again or cancelled meanwhile."""
        self._due = monotonic() + delay
        if self._timer is not None and self._fires_at <= self._due + SLACK_SECONDS:
            return  # the running timer fires first, and waits out the rest then
        self._start(delay)

    def cancel(self) -> None:
        self._due = None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _start(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._fires_at = monotonic() + delay
        self._timer = self._owner.set_timer(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._due is None:
            return
        left = self._due - monotonic()
        if left > SLACK_SECONDS:
            self._start(left)
            return
        self._due = None
        self._callback()
