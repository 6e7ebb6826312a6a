"""``dispatch-tui import PATH``: e-mail (.eml, folder, mbox, Maildir) or a tickets CSV.

Exit codes: 0 when every message or row was imported or was already there; 2 when
the path is missing or unreadable, or when any message or row failed (the others
are imported all the same, and the summary line is still printed), so a cron job
notices. ``--watch`` keeps going until Ctrl-C or SIGTERM, then prints the summary
and exits by the same rule.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from dispatch_tui.cli.common import ActorOption, DbOption, JsonOption, emit_json, open_desk
from dispatch_tui.errors import EXIT_OK, EXIT_USAGE
from dispatch_tui.mail import MailWatcher
from dispatch_tui.mail.sources import SourceKind, detect_kind
from dispatch_tui.services import settings
from dispatch_tui.services.csv_import import import_csv
from dispatch_tui.services.importer import (
    DEFAULT_INTERVAL_S,
    ImportResult,
    ImportSummary,
    Outcome,
    import_mail,
    watch_imports,
)
from dispatch_tui.textsafe import one_line


def _warn(text: str) -> None:
    sys.stderr.write(f"dispatch-tui: {one_line(text)}\n")
    sys.stderr.flush()


def import_(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="An .eml file, a folder of them, an mbox, a Maildir or a .csv.")
    ],
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep importing what arrives in a folder or Maildir.")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.2, max=300, help="Seconds between looks with --watch.")
    ] = DEFAULT_INTERVAL_S,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import mail or a tickets CSV as new tickets; replies tagged [#N] become notes."""
    path = path.expanduser()
    kind = detect_kind(path)
    if watch:
        MailWatcher(path)  # refuses a single file before anything is opened or printed
    desk = open_desk(ctx, db, actor)
    if kind is SourceKind.CSV:
        _import_csv(desk, path, as_json)
        return
    summary = ImportSummary()

    def report(result: ImportResult) -> None:
        summary.add(result)
        if result.outcome is Outcome.FAILED:
            _warn(f"skipped {result.label}: {result.detail}")
        elif watch and not as_json:
            typer.echo(one_line(result.line()))

    if watch:
        _watch(desk, path, interval, report)
    else:
        import_mail(desk, path, on_result=report)
    if as_json:
        emit_json({"source": str(path), "kind": kind.value, "import": summary.as_dict()})
    else:
        typer.echo(summary.line())
    raise typer.Exit(EXIT_USAGE if summary.failed else EXIT_OK)


def _watch(desk, path: Path, interval: float, report) -> None:
    stop = threading.Event()

    def request_stop(_signum, _frame) -> None:
        stop.set()  # the loop finishes the message in hand, then returns

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    _warn(f"watching {path} every {interval:g} s; Ctrl-C stops")
    try:
        for result in watch_imports(desk, path, stop=stop, interval=interval):
            report(result)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _import_csv(desk, path: Path, as_json: bool) -> None:
    summary = import_csv(desk, path, settings.shop_timezone(desk))
    if summary.unknown_columns:
        _warn(f"{path}: unknown columns ignored: {', '.join(summary.unknown_columns)}")
    if summary.encoding == "cp1252":
        _warn(f"{path} is not UTF-8; read it as Windows-1252")
    for line, reason in summary.errors:
        _warn(f"{path} line {line}: {reason}")
    if as_json:
        emit_json({"source": str(path), "kind": "csv", "import": summary.as_dict()})
    else:
        typer.echo(summary.line())
    raise typer.Exit(EXIT_USAGE if summary.failed else EXIT_OK)
