"""``dispatch-tui doctor``, ``backup`` and ``restamp-sla``: looking after the shared file."""

from __future__ import annotations

from typing import Annotated

import typer

from dispatch_tui.cli.common import (
    DbOption,
    JsonOption,
    db_path,
    emit_json,
    lock_timeout,
    open_desk,
)
from dispatch_tui.errors import EXIT_OK, EXIT_USAGE, DispatchError
from dispatch_tui.store import Database, health
from dispatch_tui.store import backup as backups


class BackupError(DispatchError):
    exit_code = EXIT_USAGE


def doctor(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> int:
    """Check the database file: file system and locking, journal mode, schema, integrity,
    lock wait, size and counts. Changes nothing. Exit 0 when usable, 2 when not."""
    report = health.diagnose(db_path(ctx, db), lock_timeout=lock_timeout())
    if as_json:
        emit_json(report.as_dict())
    else:
        lines = [f"dispatch-tui doctor: {report.path}"]
        lines += [f"  {f.level:<5} {f.name:<13} {f.detail}" for f in report.findings]
        warned = any(f.level == "warn" for f in report.findings)
        verdict = "unusable" if not report.usable else ("usable, see warnings" if warned else "ok")
        lines.append(f"result: {verdict}")
        typer.echo("\n".join(lines))
    return EXIT_OK if report.usable else EXIT_USAGE


def backup(
    ctx: typer.Context,
    dest: Annotated[str, typer.Argument(help="The file to write the copy to.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite DEST if it exists.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Copy the database consistently while others keep working (SQLite's online backup),
    then verify the copy with integrity_check. Refuses an existing DEST unless --force."""
    # No quick_check at open: the copy gets a full integrity_check anyway.
    database = Database(db_path(ctx, db), lock_timeout=lock_timeout(), check_at_open=False)
    try:
        result = backups.backup(database, dest, force=force)
    except backups.BackupFailed as exc:
        raise BackupError(str(exc)) from None
    finally:
        database.dispose()
    if as_json:
        emit_json(
            {
                "database": str(database.path),
                "backup": str(result.path),
                "bytes": result.bytes,
                "seconds": round(result.seconds, 3),
            }
        )
    else:
        typer.echo(
            f"backed up {database.path} to {result.path} "
            f"({result.bytes} bytes in {result.seconds:.2f} s, integrity ok)"
        )


def restamp_sla(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Derive the SLA met-by moments of every ticket that lacks current ones (a file
    migrated to schema 3, or history after a policy or holiday change), in short write
    transactions other dispatchers barely notice. Only a speed-up for the SLA report:
    its figures are right either way."""
    from dispatch_tui.services import sla_stamps

    desk = open_desk(ctx, db, None)
    try:
        count = sla_stamps.restamp(desk)
    finally:
        desk.db.dispose()
    if as_json:
        emit_json({"restamped": count})
    else:
        typer.echo(f"restamped {count} ticket{'' if count == 1 else 's'}")
