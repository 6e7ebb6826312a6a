"""Fast bulk inserts for seeding and importing large batches.

SQLAlchemy's per-value type processing costs more than SQLite's own insert when
a demo desk has 100k tickets, so on SQLite we convert each column once with a
converter chosen by its type and hand plain tuples to the driver's executemany.
The stored form is exactly what the ORM writes (UTCDateTime -> naive UTC text in
SQLAlchemy's SQLite format), so rows from either path read back the same.
Other databases take SQLAlchemy's own executemany path (on PostgreSQL, then moving
the id sequence past the ids the rows brought).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Index, insert, text
from sqlmodel import Session, SQLModel

from dispatch_tui.store.types import UTCDateTime


def _utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column; attach a time zone")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # isoformat is several times faster than strftime and yields the same text; cutting
    # its "+00:00" off is faster again than building a naive copy with replace().
    return value.isoformat(" ", "microseconds")[:-6]


def _date_text(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _bool_int(value: bool | None) -> int | None:
    return None if value is None else int(bool(value))


def _converter(column: Any) -> Callable[[Any], Any] | None:
    if isinstance(column.type, UTCDateTime):
        return _utc_text
    if isinstance(column.type, Boolean):
        return _bool_int
    if isinstance(column.type, Date):
        return _date_text
    return None


def bulk_insert(
    session: Session,
    model: type[SQLModel],
    rows: Iterable[Mapping[str, Any]],
    *,
    chunk: int = 10_000,
) -> int:
    """Insert ``rows`` (dicts keyed by column name) inside the session's transaction.

    Missing keys take the column's default where it has a scalar one, else NULL.
    Returns the number of rows written.
    """
    table = model.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    columns = list(table.columns)
    names = [c.name for c in columns]
    defaults = {
        c.name: c.default.arg for c in columns if c.default is not None and c.default.is_scalar
    }
    if conn.dialect.name != "sqlite":
        written = 0
        batch: list[Mapping[str, Any]] = []
        shape: bool | None = None
        for row in rows:
            # executemany needs the same keys in every row: fill them as the SQLite path
            # does, but leave a missing id out (a NULL id is no "next id" on PostgreSQL),
            # so rows with and without ids go in separate batches.
            has_id = row.get("id") is not None
            if batch and (has_id != shape or len(batch) >= chunk):
                conn.execute(insert(table), batch)
                written, batch = written + len(batch), []
            shape = has_id
            batch.append(
                {
                    name: row.get(name, defaults.get(name))
                    for name in names
                    if has_id or name != "id"
                }
            )
        if batch:
            conn.execute(insert(table), batch)
            written += len(batch)
        if conn.dialect.name == "postgresql" and "id" in table.c:
            # Rows that brought their own ids (the demo does) leave the id sequence
            # behind; the next ORM insert would then collide. SQLite needs nothing:
            # its next rowid is max(id) + 1.
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                )
            )
        return written

    converters = [_converter(c) for c in columns]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    written = 0
    batch_rows: list[tuple[Any, ...]] = []
    converted = [(i, convert) for i, convert in enumerate(converters) if convert is not None]
    for row in rows:
        values = [row.get(name, defaults.get(name)) for name in names]
        for i, convert in converted:
            values[i] = convert(values[i])
        batch_rows.append(tuple(values))
        if len(batch_rows) >= chunk:
            cursor.executemany(sql, batch_rows)
            written, batch_rows = written + len(batch_rows), []
    if batch_rows:
        cursor.executemany(sql, batch_rows)
        written += len(batch_rows)
    return written


def drop_plain_indexes(session: Session, models: Iterable[type[SQLModel]]) -> list[Index]:
    """Drop the non-unique indexes of ``models``' tables before a large load into them;
    ``rebuild_indexes`` puts them back. Both run inside the caller's transaction, so a
    failed load rolls the drop back too and no file is left without its indexes.

    Why: rows arriving in random order (the demo's tickets by arrival time) make every
    insert a random write into each index, and at a million rows those indexes no longer
    fit SQLite's page cache (seeding 1M took 408 s with schema 3's indexes). One sorted
    build per index afterwards costs a fraction of that. Unique indexes stay: they are
    rules, not speed-ups.
    """
    conn = session.connection()
    dropped: list[Index] = []
    for model in models:
        for index in model.__table__.indexes:  # type: ignore[attr-defined]
            if not index.unique:
                index.drop(conn)
                dropped.append(index)
    return dropped


def rebuild_indexes(session: Session, indexes: Iterable[Index]) -> None:
    conn = session.connection()
    for index in indexes:
        index.create(conn)
