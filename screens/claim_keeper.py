"""This app's own "being triaged by" claim: at most one ticket, kept in step with the panel.

Pure Python (no Textual): the screen says which ticket it wants held (``want``) and
runs ``sync`` on a worker thread, now and then every ``RENEW_SECONDS``. ``sync``
does the database work (services/claims.py) for whatever is wanted *when it runs*,
under a lock, so quick moves down the queue never leave a claim behind: a release
and the next claim happen in order however the workers interleave.

Claims only inform other dispatchers; any failure here is reported, never fatal.
"""

from __future__ import annotations

import threading

from dispatch_tui.errors import DispatchError
from dispatch_tui.services import claims
from dispatch_tui.services.desk import Desk
from dispatch_tui.store import StoreError

#: A claim lives 60 s (claims.DEFAULT_TTL_S) without renewal; renewing at a third of
#: that rides out two missed renewals (a slow save on the share) before it lapses.
RENEW_SECONDS = claims.DEFAULT_TTL_S / 3


class ClaimKeeper:
    def __init__(self, desk: Desk, *, ttl: float = claims.DEFAULT_TTL_S) -> None:
        self.desk = desk
        self.ttl = ttl
        self._lock = threading.Lock()
        self._wanted: int | None = None
        self._held: int | None = None

    @property
    def wanted(self) -> int | None:
        return self._wanted

    @property
    def held(self) -> int | None:
        """The ticket this app holds a claim on (as of the last ``sync``)."""
        return self._held

    def want(self, ticket_id: int | None) -> bool:
        """Ask for ``ticket_id`` to be held (None: hold nothing). True if that changed
        anything, i.e. a ``sync`` is due."""
        changed = ticket_id != self._wanted
        self._wanted = ticket_id
        return changed

    def sync(self, *, renew: bool = False) -> None:
        """Release what is no longer wanted, then claim (or with ``renew``, re-claim) the
        wanted ticket. Blocking database work: call it on a worker thread.

        Raises StoreError/DispatchError; the held state stays true to the database.
        """
        with self._lock:
            wanted = self._wanted
            if self._held is not None and self._held != wanted:
                claims.release(self.desk, self._held)
                self._held = None
            if wanted is not None and (renew or self._held != wanted):
                # Someone else's live claim comes back with mine=False and stays theirs:
                # we show it, we do not fight over it, and we try again at the next renewal.
                held = claims.claim(self.desk, wanted, ttl=self.ttl)
                self._held = wanted if held.mine else None

    def release_all(self) -> None:
        """Drop this app's claim (leaving the screen, quitting). Never raises: on the way
        out an unreachable file must not stop the app; the claim then lapses on its own."""
        self._wanted = None
        try:
            self.sync()
        except (StoreError, DispatchError):
            self._held = None
