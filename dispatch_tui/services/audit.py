"""Writing audit events: who did what to which record, with before/after values."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from dispatch_tui.store.models import AuditEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(record: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    return {name: _jsonable(getattr(record, name)) for name in fields}


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    detail: str = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail,
        before=json.dumps(before, sort_keys=True) if before is not None else None,
        after=json.dumps(after, sort_keys=True) if after is not None else None,
    )
    session.add(event)
    return event
