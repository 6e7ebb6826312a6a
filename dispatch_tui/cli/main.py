"""The ``dispatch-tui`` entry point: sub-commands, launching the TUI, and error reporting.

No traceback ever reaches the user: a known failure prints one line on stderr
and exits with its documented code (see dispatch_tui/errors.py); anything
unexpected prints one line too, and the traceback goes to a log file.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import platformdirs
import typer

from dispatch_tui import config
from dispatch_tui.cli import (
    availability,
    dispatching,
    exporting,
    health,
    holidays,
    importing,
    maint,
    reports,
    schedule,
    setup,
    techs,
    tickets,
    timesheets,
)
from dispatch_tui.cli.common import ActorOption, DbOption, actor_name, db_path
from dispatch_tui.errors import (
    EXIT_CONFLICT,
    EXIT_FAILURE,
    EXIT_LOCKED,
    EXIT_USAGE,
    DispatchError,
)
from dispatch_tui.store import DatabaseLocked, DatabaseUnusable, StaleRecord, StoreError

app = typer.Typer(
    name="dispatch-tui",
    help="A keyboard-driven service desk for MSP dispatchers. With no command, opens the app.",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.command("init")(setup.init)
app.command("demo")(setup.demo)
app.command("doctor")(maint.doctor)
app.command("backup")(maint.backup)
app.command("restamp-sla")(maint.restamp_sla)
app.command("check")(health.check)
app.add_typer(tickets.app, name="ticket")
app.add_typer(techs.app, name="tech")
app.command("import")(importing.import_)
app.command("export")(exporting.export)
availability.register(techs.app)
dispatching.register(tickets.app, techs.app)
app.add_typer(schedule.app, name="schedule")
app.add_typer(timesheets.app, name="time")
app.add_typer(holidays.app, name="holiday")
app.add_typer(reports.app, name="report")


@app.callback()
def main(
    ctx: typer.Context,
    db: DbOption = None,
    actor: ActorOption = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Create a demo database first if there is none.")
    ] = False,
    keymap: Annotated[
        str | None,
        typer.Option(help="Keymap: 'default', 'vim' or a path to a TOML file (default: config)."),
    ] = None,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    launch(ctx, db=db, actor=actor, demo=demo, keymap=keymap)


def launch(
    ctx: typer.Context, *, db: str | None, actor: str | None, demo: bool, keymap: str | None
) -> None:
    """Open the TUI, after everything that can fail has been checked on the command line."""
    from dispatch_tui.keymap import load_keymap
    from dispatch_tui.services import Desk
    from dispatch_tui.store import Database

    user = config.load_user_config()
    keys = load_keymap(keymap or user.keymap, user.keys)
    path = db_path(ctx, db)
    name = actor_name(ctx, actor)
    if demo and not path.exists():
        from dispatch_tui import demo as demo_data

        path.parent.mkdir(parents=True, exist_ok=True)
        demo_data.generate(Desk(Database(path, create=True), name))
    database = Database(path)
    from dispatch_tui.app import DispatchApp

    DispatchApp(database, actor=name, keymap=keys, config=user).run()


def _log_path() -> Path:
    return Path(platformdirs.user_log_dir(config.APP_NAME, appauthor=False)) / "error.log"


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"dispatch-tui: {message}\n")
    return code


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit code."""
    code = _run(argv)
    if argv is None:
        sys.exit(code)
    return code


def _run(argv: list[str] | None) -> int:
    try:
        result = app(args=argv, standalone_mode=False, prog_name="dispatch-tui")
        return result if isinstance(result, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return _fail("aborted", EXIT_FAILURE)
    except typer.TyperException as exc:
        # Typer vendors click and exports only this base class; a group called
        # without a sub-command raises "no args is help", whose message is the help.
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.stderr.write(exc.format_message() + "\n")
            return EXIT_USAGE
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        return _fail(f"{exc.format_message()}{hint}", EXIT_USAGE)
    except DispatchError as exc:
        return _fail(str(exc), exc.exit_code)
    except DatabaseUnusable as exc:
        return _fail(str(exc), EXIT_USAGE)
    except DatabaseLocked as exc:
        return _fail(str(exc), EXIT_LOCKED)
    except StaleRecord as exc:
        return _fail(str(exc), EXIT_CONFLICT)
    except StoreError as exc:
        return _fail(str(exc), EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        log = _log_path()
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as fh:
                traceback.print_exc(file=fh)
            where = f"; details in {log}"
        except OSError:
            where = ""
        return _fail(f"unexpected failure: {type(exc).__name__}: {exc}{where}", EXIT_FAILURE)
