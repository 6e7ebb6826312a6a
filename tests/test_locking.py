"""Another process holds the write lock: a save waits, or gives up cleanly.

Issue 6, test 5, plus a source audit that no session outlives its ``with`` block.
"""

from __future__ import annotations

import ast
import os
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _workloads import fork, wait
from sqlmodel import select as sql_select

from dispatch_tui.store import Database, DatabaseLocked
from dispatch_tui.store.models import Client

ROOT = Path(__file__).parents[1]


def hold_write_lock(path: str, ready_fd: int, release_fd: int, seconds: float) -> None:
    """Take the write lock, write a row, and commit after ``seconds`` or when told to."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO client (name, domains, created_at, version) "
        "VALUES ('Holder Ltd', '', '2026-01-01 00:00:00', 1)"
    )
    os.write(ready_fd, b"r")
    select.select([release_fd], [], [], seconds)
    conn.execute("COMMIT")
    conn.close()


class LockHolder:
    """A child process holding the write lock; ``release()`` lets it commit."""

    def __init__(self, path: Path, seconds: float) -> None:
        self._ready_r, ready_w = os.pipe()
        release_r, self._release_w = os.pipe()
        self.pid = fork(hold_write_lock, str(path), ready_w, release_r, seconds)
        ready, _, _ = select.select([self._ready_r], [], [], 30)
        assert ready, "the lock holder never took the lock"

    def release(self) -> None:
        os.write(self._release_w, b"go")
        assert wait(self.pid, 30) == 0


def client_names(db: Database) -> set[str]:
    with db.read() as session:
        return {c.name for c in session.exec(sql_select(Client)).all()}


@pytest.mark.slow
def test_a_save_waits_for_a_lock_held_two_seconds_and_succeeds(db_path: Path) -> None:
    db = Database(db_path, create=True, lock_timeout=10.0)
    holder = LockHolder(db_path, seconds=2.0)
    started = time.monotonic()
    with db.write() as session:
        session.add(Client(name="Waiter Inc"))
    waited = time.monotonic() - started
    holder.release()
    assert waited >= 1.5, f"the save did not wait for the lock ({waited:.2f} s)"
    assert client_names(db) == {"Holder Ltd", "Waiter Inc"}


@pytest.mark.slow
def test_a_lock_held_past_the_timeout_is_a_clear_error_and_nothing_is_lost(
    db_path: Path,
) -> None:
    db = Database(db_path, create=True, lock_timeout=0.5)
    holder = LockHolder(db_path, seconds=30)
    started = time.monotonic()
    try:
        with pytest.raises(DatabaseLocked, match="nothing was saved"), db.write() as session:
            session.add(Client(name="Impatient"))
        gave_up_after = time.monotonic() - started
    finally:
        holder.release()
    assert 0.4 <= gave_up_after < 3.0
    # The holder's write landed, the refused one did not, and the file is sound.
    assert client_names(db) == {"Holder Ltd"}
    assert db.integrity_check() == []
    with db.write() as session:  # and once the lock is free, saving works again
        session.add(Client(name="Impatient"))
    assert client_names(db) == {"Holder Ltd", "Impatient"}


@pytest.mark.slow
def test_cli_gives_up_on_a_held_lock_with_exit_7_and_one_line(db_path: Path) -> None:
    Database(db_path, create=True).dispose()
    holder = LockHolder(db_path, seconds=60)
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "dispatch_tui",
                "ticket",
                "add",
                "--db",
                str(db_path),
                "--client",
                "Acme",
                "--summary",
                "Printer jam",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "DISPATCH_TUI_LOCK_TIMEOUT": "0.5"},
        )
    finally:
        holder.release()
    assert result.returncode == 7, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "locked" in lines[0] and "nothing was saved" in lines[0]
    assert "Traceback" not in result.stderr
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM ticket").fetchone()[0] == 0


# -- no session held across think-time --------------------------------------------------

SOURCE_DIRS = ["store", "dispatch_tui", "screens"]


def _db_transaction_calls(tree: ast.AST) -> list[ast.Call]:
    """Calls such as ``desk.db.read()`` / ``self.db.write()`` / ``db.write()``."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"read", "write", "write_core"}
            and not node.args
            and ast.unparse(node.func.value).split(".")[-1] in {"db", "database"}
        ):
            found.append(node)
    return found


def _entered(expr: ast.expr) -> list[ast.expr]:
    """What a ``with`` item enters: the expression, or both branches of a choice
    made in the ``with`` itself (triage picks ``write()`` or ``write_core()``)."""
    if isinstance(expr, ast.IfExp):
        return [expr, *_entered(expr.body), *_entered(expr.orelse)]
    return [expr]


def _orm_session_names(tree: ast.AST) -> set[str]:
    """Local names bound to SQLModel's or SQLAlchemy's Session / sessionmaker (a screen
    may well have a Session of its own that has nothing to do with the database)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {
            "sqlmodel",
            "sqlalchemy",
        }:
            for alias in node.names:
                if alias.name in {"Session", "sessionmaker", "scoped_session"}:
                    names.add(alias.asname or alias.name)
    return names


def test_every_transaction_is_a_with_block_and_sessions_come_only_from_the_engine() -> None:
    """A session stored in a variable or returned could outlive the screen's query
    and, in rollback-journal mode, block every other dispatcher's save."""
    problems = []
    for folder in SOURCE_DIRS:
        for file in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(file.read_text(encoding="utf-8"))
            with_items = {
                id(expr)
                for node in ast.walk(tree)
                if isinstance(node, ast.With | ast.AsyncWith)
                for item in node.items
                for expr in _entered(item.context_expr)
            }
            where = file.relative_to(ROOT)
            for call in _db_transaction_calls(tree):
                if id(call) not in with_items and where.as_posix() != "store/engine.py":
                    problems.append(f"{where}:{call.lineno} {ast.unparse(call)} outside 'with'")
            if where.as_posix() != "store/engine.py":
                makers = _orm_session_names(tree)
                for node in ast.walk(tree):
                    if isinstance(node, ast.Call) and ast.unparse(node.func) in makers:
                        problems.append(f"{where}:{node.lineno} builds its own ORM session")
    assert not problems, "\n".join(problems)
