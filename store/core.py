"""The session's connection for prebuilt Core statements, with this transaction's changes.

Hot paths run statements built once as SQLAlchemy Core on the session's connection:
building an ORM select cost more than SQLite running it. A bare
``session.connection().execute`` skips the ORM's autoflush, though, so a Core read
would not see a row the same transaction added or changed through the ORM and has
not flushed yet: the triage gate could count one untriaged ticket too few. Every
Core statement goes through ``connection_for``, which flushes first; with nothing
pending (the usual case) the flush is a check of three empty collections.

The hottest writes (triage, assignment) need no session at all: they run on the
Core connection ``Database.write_core()`` hands out, which ``connection_for`` also
takes, so every helper built on it serves both.
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlmodel import Session

#: What a store or service helper runs its statements on: a session
#: (``Database.read()``/``write()``) or the Core connection of ``Database.write_core()``.
Executor = Session | Connection


def connection_for(session: Executor) -> Connection:
    """``session``'s connection, after flushing anything the ORM still holds; a Core
    connection (``Database.write_core()``) has nothing to flush and is its own."""
    if isinstance(session, Connection):
        return session
    session.flush()
    return session.connection()
