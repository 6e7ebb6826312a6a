"""What every command shares: the --db/--as/--json options, opening the desk, output."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from dateutil import parser as dateparser

from dispatch_tui import config
from dispatch_tui.errors import InvalidInput
from dispatch_tui.services import Desk
from dispatch_tui.store import Database
from dispatch_tui.store.engine import DEFAULT_LOCK_TIMEOUT_S

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=(
            "Database file, or a postgresql:// URL (default: $DISPATCH_TUI_DB, else "
            "dispatch.db in the user data folder)."
        ),
        show_default=False,
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Dispatcher name recorded on audit events (default: config 'name', else login name).",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout, for scripts.")
]


def db_path(ctx: typer.Context, db: str | None) -> Path | config.DatabaseURL:
    """--db given to the command wins over --db given before it, then the environment."""
    root = (ctx.find_root().params or {}).get("db") if ctx else None
    return config.resolve_db_path(db or root)


def actor_name(ctx: typer.Context, actor: str | None) -> str:
    root = (ctx.find_root().params or {}).get("actor") if ctx else None
    if actor or root:
        return (actor or root).strip()
    return config.load_user_config().name or config.os_login_name()


#: Seconds a command waits for another dispatcher's write lock (default 10). Raise it
#: on a slow network share; tests lower it to see the "locked" exit quickly.
LOCK_TIMEOUT_ENV = "DISPATCH_TUI_LOCK_TIMEOUT"


def lock_timeout() -> float:
    value = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not value:
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise InvalidInput(f"{LOCK_TIMEOUT_ENV}={value!r}: give a number of seconds, up to 3600")
    return seconds


def open_desk(
    ctx: typer.Context, db: str | None, actor: str | None, *, create: bool = False
) -> Desk:
    database = Database(db_path(ctx, db), create=create, lock_timeout=lock_timeout())
    return Desk(database, actor_name(ctx, actor))


def parse_local_time(value: str, tz: ZoneInfo, *, what: str) -> datetime:
    """A time typed on the command line is shop-local unless it names its own offset."""
    try:
        parsed = dateparser.parse(value)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"{what}: cannot read {value!r} as a date and time (try 'YYYY-MM-DD HH:MM')"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def local(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "-"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump()
    raise TypeError(f"cannot encode {type(value).__name__}")


def emit_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, default=_json_default, ensure_ascii=False) + "\n")


def emit_table(headers: list[str], rows: list[list[str]]) -> None:
    """A plain aligned table: pipes and spreadsheets read it; no markup touches client text."""
    from dispatch_tui.textsafe import plain

    # One ticket, one line: newlines inside a cell would break the columns.
    cells = [[plain(str(c)).replace("\n", " ") for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line.rstrip()]
    out += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    sys.stdout.write("\n".join(out) + "\n")
