"""Writing audit events: who did what to which record, with before/after values.

An event is one Core ``INSERT`` sent at once on the session's connection, inside the
caller's write transaction (so it commits or rolls back with the change it records).
Not an ORM object: building a SQLModel instance and flushing it cost about 0.4 ms
per event, all of it inside the file's write lock (bench/shared.py). The statement
is built once; SQLAlchemy caches its compiled form, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert

from dispatch_tui.store.core import Executor, execute_write
from dispatch_tui.store.models import AuditEvent
from dispatch_tui.store.types import utcnow

_INSERT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


def snapshot_value(value: Any) -> Any:
    """A field's value as the audit log's JSON keeps it (dates as ISO text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(record: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Named fields of a record (an ORM object or a Core row) as JSON-ready values."""
    return {name: snapshot_value(getattr(record, name)) for name in fields}


def record(
    session: Executor,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    detail: str = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write one audit event in the session's transaction, now (not at the next flush)."""
    execute_write(
        session,
        _INSERT,
        {
            "at": utcnow(),
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "detail": detail,
            "before": json.dumps(before, sort_keys=True) if before is not None else None,
            "after": json.dumps(after, sort_keys=True) if after is not None else None,
        },
    )
