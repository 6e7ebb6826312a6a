"""SQLite connections reused between transactions (store/sqlite_pool.py) stay correct
on a shared file: no lock held between transactions, a replaced file is followed, a
forked child never uses its parent's connection, threads never share one at once.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from _workloads import fork, wait
from sqlmodel import select

from dispatch_tui.store import Database
from dispatch_tui.store.models import Client

pytestmark = pytest.mark.sqlite_only


def _dbapi(session) -> sqlite3.Connection:
    return session.connection().connection.dbapi_connection


def _names(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM client")}
    finally:
        conn.close()


def _add(db: Database, name: str) -> None:
    with db.write() as session:
        session.add(Client(name=name))


def _can_lock_exclusively_at_once(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def test_a_write_reuses_the_connection_of_the_previous_one(db: Database) -> None:
    with db.write() as session:
        first = _dbapi(session)
    with db.write() as session:
        assert _dbapi(session) is first


def test_no_lock_is_held_between_transactions(db: Database, db_path: Path) -> None:
    _add(db, "Acme")
    assert _can_lock_exclusively_at_once(db_path)
    with db.read() as session:
        session.exec(select(Client)).all()
    assert _can_lock_exclusively_at_once(db_path)
    with pytest.raises(RuntimeError), db.write() as session:
        session.add(Client(name="Never"))
        session.flush()
        raise RuntimeError("the body failed half-way")
    assert _can_lock_exclusively_at_once(db_path)
    assert _names(db_path) == {"Acme"}


def test_another_process_commit_is_seen_by_a_reused_connection(db: Database, db_path: Path):
    _add(db, "Acme")
    with sqlite3.connect(db_path) as other:
        other.execute(
            "INSERT INTO client (name, domains, created_at, version) "
            "VALUES ('Globex', '', '2026-01-01 00:00:00', 1)"
        )
    other.close()
    with db.read() as session:
        assert {c.name for c in session.exec(select(Client)).all()} == {"Acme", "Globex"}


def test_a_file_replaced_under_us_gets_the_next_save(db: Database, db_path: Path) -> None:
    """A backup restored by renaming a copy over the file: with a connection kept open
    on the old file, the next save would land in the unlinked old file and be lost."""
    _add(db, "Before the restore")
    backup = db_path.with_name("backup.db")
    shutil.copyfile(db_path, backup)
    _add(db, "Lost with the old file")
    os.replace(backup, db_path)
    _add(db, "After the restore")
    assert _names(db_path) == {"Before the restore", "After the restore"}


def _write_in_child(db: Database, parent_conn_id: int) -> None:
    with db.write() as session:
        assert id(_dbapi(session)) != parent_conn_id, "the child used its parent's connection"
        session.add(Client(name="Child"))


def test_a_forked_child_opens_its_own_connection(db: Database, db_path: Path) -> None:
    with db.write() as session:
        parent_conn = _dbapi(session)
        session.add(Client(name="Parent"))
    assert wait(fork(_write_in_child, db, id(parent_conn)), 30) == 0
    with db.write() as session:
        assert _dbapi(session) is parent_conn
        session.add(Client(name="Parent again"))
    assert _names(db_path) == {"Parent", "Child", "Parent again"}
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_threads_never_share_a_connection_and_lose_nothing(db: Database, db_path: Path) -> None:
    in_use: set[int] = set()
    clashes: list[int] = []
    guard = threading.Lock()

    def worker(n: int) -> None:
        for i in range(25):
            with db.write() as session:
                conn = id(_dbapi(session))
                with guard:
                    if conn in in_use:
                        clashes.append(conn)
                    in_use.add(conn)
                session.add(Client(name=f"t{n}-{i}"))
                session.flush()
                with guard:
                    in_use.discard(conn)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clashes == []
    assert len(_names(db_path)) == 100


def test_dispose_closes_the_kept_connections(db: Database) -> None:
    _add(db, "Acme")
    assert db.engine.pool.checkedin() >= 1
    db.dispose()
    assert db.engine.pool.checkedin() == 0
