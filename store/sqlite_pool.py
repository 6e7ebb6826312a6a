"""Keeping SQLite connections open between transactions, safely on a shared file.

Why reuse at all: opening a connection costs an open() of the file, five pragmas and
a read and parse of the whole schema, and those take SHARED locks that queue behind
other dispatchers' commits. With three writers on one file (bench/shared.py) the
idle time between one writer's commit and the next writer taking the lock fell from
0.8-1.0 ms to 0.2-0.3 ms with connections kept (9 to 3 ms on a file system adding
0.5 ms per file operation, as a share does). A connection that stays open keeps its
parsed schema; its page cache is re-validated by SQLite itself at every transaction
start (the file change counter in the header), so another dispatcher's commit is
never read stale.

What makes reuse safe here:

- Between transactions a pooled connection holds no lock: the pool rolls back on
  return (``reset_on_return``), and in rollback-journal mode a connection with no
  open transaction holds no lock on the file at all.
- Threads: a connection is checked out by one session at a time (``QueuePool``), so
  it is never used by two threads at once; ``check_same_thread=False`` only lets it
  move to the next thread (Textual workers) after it was returned.
- Forked processes: a connection must never be used on both sides of a fork (SQLite's
  "How To Corrupt" list). A connection opened by another process id is dropped on
  checkout without being closed, and the child opens its own.
- A file replaced under us (a backup restored by copying over with a rename): an open
  connection would keep writing to the old, unlinked file, and those saves would be
  lost. Each checkout compares the path's device and inode with those seen when the
  connection was opened and, if they differ, drops every pooled connection. Opening
  by path is what NullPool did at every transaction; this costs one ``stat()``.
  On NFS a ``stat()`` may be answered from the client's caches for up to a minute,
  where ``open()`` revalidates (close-to-open), so connections are also reopened
  after ``MAX_AGE_S``: that bounds how long a replacement can go unnoticed there.
- A file made read-only while the app runs: a kept connection was opened read-write
  and goes on saving until it is reopened (``MAX_AGE_S``); a new one would be refused.
  Nothing is lost either way; the check for a read-only file is at ``Database()``.
- ``Database.dispose()`` closes every pooled connection (``Engine.dispose()``).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, InvalidatePoolError

#: Connections kept open per process: the UI thread plus a worker or two at once.
#: More may be open for a moment (``MAX_OVERFLOW``); they are closed on return.
POOL_SIZE = 3
MAX_OVERFLOW = 10

#: A pooled connection older than this is closed and reopened at its next checkout:
#: it bounds how long a replaced file could go unnoticed where ``stat()`` is cached.
MAX_AGE_S = 30

#: Connections inherited over a fork. Kept referenced so they are never closed (or
#: garbage-collected and closed) in the child: only the parent may close them.
_inherited: list[sqlite3.Connection] = []


def file_identity(path: Path) -> tuple[int, int] | None:
    """The file's (device, inode), or None when it cannot be stat'ed (gone, say)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class PooledConnection(sqlite3.Connection):
    """An sqlite3 connection that remembers which file it opened.

    ``opened_identity`` is taken *before* the open: if the file is replaced between
    the two, the recorded identity is the older one and the next checkout reopens,
    never the other way round (a new identity recorded over an old file).
    """

    opened_identity: tuple[int, int] | None = None


def connect(uri: str, path: Path, timeout: float) -> PooledConnection:
    identity = file_identity(path)
    # isolation_level=None: pysqlite must not issue its own BEGIN; the engine's
    # "begin" hook decides between BEGIN and BEGIN IMMEDIATE.
    conn = sqlite3.connect(
        uri,
        uri=True,
        timeout=timeout,
        isolation_level=None,
        check_same_thread=False,
        factory=PooledConnection,
    )
    conn.opened_identity = identity
    return conn


def install_guards(engine: Engine, path: Path) -> None:
    """Listeners that keep pooled connections to ``path`` from outliving their file
    or their process; see the module docstring."""

    @event.listens_for(engine, "connect")
    def _remember(dbapi_conn: PooledConnection, record) -> None:
        record.info["pid"] = os.getpid()
        record.info["file"] = dbapi_conn.opened_identity

    @event.listens_for(engine, "checkout")
    def _check(dbapi_conn: PooledConnection, record, proxy) -> None:
        if record.info.get("pid") != os.getpid():
            _inherited.append(dbapi_conn)
            # SQLAlchemy's documented fork recipe: detach, so invalidating does not
            # close it, and have the pool open a fresh one.
            record.dbapi_connection = proxy.dbapi_connection = None
            raise DisconnectionError("connection opened by another process (fork)")
        if file_identity(path) != record.info.get("file"):
            # The whole pool: every connection opened before now points at the old file.
            raise InvalidatePoolError(f"{path} was replaced since it was opened")
