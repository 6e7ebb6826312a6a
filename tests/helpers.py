"""Helpers shared by the CLI tests: run ``dispatch-tui`` with a user's argv.

``cli()`` calls the same entry point the console script calls
(``dispatch_tui.cli.main.run``) with the same argv, and returns what a process
would: exit code, stdout and stderr. Running it in-process keeps the suite within
minutes on two cores (each interpreter start costs about a second).
``cli_process()`` runs the installed console script in a real subprocess: the
tests that are about the process itself (no traceback on stderr, ``python -m``,
signals, other processes racing) use it, and ``DISPATCH_TUI_TEST_SUBPROCESS=1``
sends every CLI test through it.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from dispatch_tui.cli.main import run

# The console script installed beside this interpreter: the command a user types.
EXE = shutil.which("dispatch-tui", path=str(Path(sys.executable).parent)) or ""
ALWAYS_SUBPROCESS = os.environ.get("DISPATCH_TUI_TEST_SUBPROCESS") == "1"


def _argv(args: tuple[str, ...], db: Path | None) -> list[str]:
    return [*args, "--db", str(db)] if db is not None else list(args)


def cli_process(
    *args: str, db: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [EXE] if EXE else [sys.executable, "-m", "dispatch_tui"]
    return subprocess.run(
        [*command, *_argv(args, db)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def _environment(env: dict[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def cli(
    *args: str, db: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    if ALWAYS_SUBPROCESS:
        return cli_process(*args, db=db, env=env)
    argv = _argv(args, db)
    out, err = io.StringIO(), io.StringIO()
    with _environment(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    return subprocess.CompletedProcess(
        ["dispatch-tui", *argv], code, out.getvalue(), err.getvalue()
    )


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], code: int, fragment: str
) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
