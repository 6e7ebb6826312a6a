"""Errors the store raises; each carries one line a dispatcher can act on."""

from sqlalchemy.orm.exc import StaleDataError


class StoreError(Exception):
    """Base class: the message is a complete, user-facing sentence."""


class DatabaseUnusable(StoreError):
    """The file is missing, in a missing folder, not a database, read-only, damaged,
    or from a newer schema."""


class DatabaseLocked(StoreError):
    """Another dispatcher held the write lock for longer than the busy timeout."""


class StaleRecord(StoreError, StaleDataError):
    """A record changed since it was read (optimistic concurrency check failed).

    ``Database.write()`` raises it in place of SQLAlchemy's ``StaleDataError``; it
    subclasses that too, so code that already catches ``StaleDataError`` still works.
    """
