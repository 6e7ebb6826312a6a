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
takes, so every helper built on it serves both. Their INSERT and UPDATE go through
``execute_write``, which on SQLite sends a prebuilt statement straight to the driver.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import CompoundSelect, Select
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


# -- prebuilt writes straight to SQLite's driver ------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """A prebuilt statement compiled for SQLite, for one set of parameter names."""

    sql: str
    #: Per positional parameter: its name, the value it has when not given (a literal
    #: in the statement, like the 1 of ``version + 1``), and its type's bind processor.
    slots: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for name, fixed, process in self.slots:
            value = params.get(name, fixed)
            out.append(process(value) if process is not None else value)
        return tuple(out)


#: Keyed by the statement's id and the parameter names given; the statement is kept
#: with its entry, so the id cannot be reused by another while the entry exists.
_PREPARED: dict[tuple[int, tuple[str, ...]], tuple[Any, _Prepared | None]] = {}
#: Hot paths use a handful of prebuilt statements; more means statements built per call.
_MAX_PREPARED = 256


def _prepare(stmt: Any, dialect: Dialect, names: tuple[str, ...]) -> _Prepared | None:
    key = (id(stmt), names)
    entry = _PREPARED.get(key)
    if entry is not None and entry[0] is stmt:
        return entry[1]
    if len(_PREPARED) >= _MAX_PREPARED:
        _PREPARED.clear()
    compiled = stmt.compile(dialect=dialect, column_keys=list(names))
    prepared = None
    # SQLAlchemy's execution fills in Python-side column defaults and expands IN lists
    # (rendered after compiling); a statement that needs either takes that path.
    simple = not (compiled.insert_prefetch or compiled.update_prefetch)
    simple = simple and "POSTCOMPILE" not in compiled.string
    if simple and compiled.positional and compiled.positiontup is not None:
        binds = [(name, compiled.binds[name]) for name in compiled.positiontup]
        # A required parameter left out: SQLAlchemy's path raises its usual error.
        if not any(bind.required and name not in names for name, bind in binds):
            prepared = _Prepared(
                compiled.string,
                tuple(
                    (
                        name,
                        None if name in names else bind.effective_value,
                        # The dialect's own form of the type, as SQLAlchemy uses it.
                        bind.type.dialect_impl(dialect).bind_processor(dialect),
                    )
                    for name, bind in binds
                ),
            )
    _PREPARED[key] = (stmt, prepared)
    return prepared


def execute_write(session: Executor, stmt: UpdateBase, params: Mapping[str, Any]) -> int:
    """Run a prebuilt INSERT or UPDATE in ``session``'s transaction; the rows it changed.

    On SQLite the statement is compiled once per set of parameter names and sent
    straight to the driver, with the bind processors of its columns (the same text
    SQLAlchemy would send: times as SQLAlchemy formats them, and so on) and driver
    errors raised as SQLAlchemy's. SQLAlchemy's execution around a statement (context,
    result, events) cost about 50 microseconds each, four times SQLite's work, and
    triage and assignment send theirs inside the file's write lock. PostgreSQL, and
    any statement with Python-side defaults, takes ``Connection.execute``.
    """
    conn = connection_for(session)
    prepared = _prepared_for(conn, stmt, params)
    if prepared is None:
        return conn.execute(stmt, dict(params)).rowcount
    return _on_driver(conn, prepared, params).rowcount


def fetch_counts(
    session: Executor, stmt: Select | CompoundSelect, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows of a prebuilt SELECT whose columns are numbers and text, as the driver
    returns them: no result conversion, so never for a statement returning times.

    On SQLite it goes straight to the driver like ``execute_write``. For the SLA
    report's two large statements (hundreds of parts) SQLAlchemy's execution, most of
    it hashing the statement's cache key, cost 0.3 to 0.5 ms each; SQLite's own work
    for the smaller one is 0.4 ms.
    """
    conn = connection_for(session)
    prepared = _prepared_for(conn, stmt, params)
    if prepared is None:
        return [tuple(row) for row in conn.execute(stmt, dict(params))]
    return _on_driver(conn, prepared, params).fetchall()


def _prepared_for(conn: Connection, stmt: Any, params: Mapping[str, Any]) -> _Prepared | None:
    if conn.dialect.name != "sqlite":
        return None
    return _prepare(stmt, conn.dialect, tuple(params))


def _on_driver(conn: Connection, prepared: _Prepared, params: Mapping[str, Any]) -> Any:
    args = prepared.args(params)
    driver = conn.connection.driver_connection
    try:
        return driver.execute(prepared.sql, args)  # type: ignore[union-attr]
    except sqlite3.Error as exc:
        raise DBAPIError.instance(prepared.sql, args, exc, sqlite3.Error) from exc
