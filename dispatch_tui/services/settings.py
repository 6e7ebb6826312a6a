"""Shop-wide settings stored in the database, so every dispatcher on the file agrees.

Values are JSON in the ``setting`` table. Per-person preferences (name, keymap)
live in the user's config file instead (see dispatch_tui/config.py).
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from dispatch_tui.errors import InvalidInput
from dispatch_tui.services import audit
from dispatch_tui.services.desk import Desk
from dispatch_tui.store.models import Setting
from dispatch_tui.store.types import utcnow

TIMEZONE = "timezone"
DEFAULT_TIMEZONE = "UTC"


def read_setting(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(Setting, key)
    return json.loads(row.value) if row is not None else default


def write_setting(session: Session, actor: str, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    before = json.loads(row.value) if row is not None else None
    encoded = json.dumps(value, sort_keys=True)
    if row is None:
        session.add(Setting(key=key, value=encoded, updated_by=actor))
    else:
        row.value, row.updated_at, row.updated_by = encoded, utcnow(), actor
    audit.record(
        session, actor, "setting.update", "setting", None, key,
        before={"value": before}, after={"value": value},
    )


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {name!r}; use an IANA name such as Europe/London or America/Chicago"
        ) from None


def shop_timezone(desk: Desk) -> ZoneInfo:
    with desk.db.read() as session:
        name = read_setting(session, TIMEZONE, DEFAULT_TIMEZONE)
    return parse_timezone(name)


def set_shop_timezone(desk: Desk, name: str) -> None:
    parse_timezone(name)
    with desk.db.write() as session:
        write_setting(session, desk.actor, TIMEZONE, name)
