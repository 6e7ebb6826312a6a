"""Errors the store raises; each carries one line a dispatcher can act on."""


class StoreError(Exception):
    """Base class: the message is a complete, user-facing sentence."""


class DatabaseUnusable(StoreError):
    """The file is missing, in a missing folder, not a database, read-only or from a newer schema."""


class DatabaseLocked(StoreError):
    """Another dispatcher held the write lock for longer than the busy timeout."""


class StaleRecord(StoreError):
    """A record changed since it was read (optimistic concurrency check failed)."""
