"""The context every service runs in: which database, and who is acting."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch_tui.store import Database


@dataclass(frozen=True)
class Desk:
    db: Database
    #: The dispatcher's name, recorded on every audit event and ``updated_by``.
    actor: str
