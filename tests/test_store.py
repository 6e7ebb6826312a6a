"""The store on a real temporary file: opening, refusing bad files, versions, locking."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm.exc import StaleDataError

from dispatch_tui.store import Database, DatabaseLocked, DatabaseUnusable, schema
from dispatch_tui.store.models import Client, Ticket

DOCUMENTED_TABLES = {
    "client",
    "contact",
    "technician",
    "ticket",
    "note",
    "service_call",
    "time_entry",
    "audit_event",
    "meta",
    "setting",
    "holiday",
    "out_of_office",
    "ticket_claim",
    "sla_tally",
}


def test_new_file_has_every_documented_table(db: Database) -> None:
    with db.read() as session:
        tables = set(inspect(session.connection()).get_table_names())
    assert tables == DOCUMENTED_TABLES


def test_schema_doc_lists_every_table_and_column(db: Database) -> None:
    doc = (Path(__file__).parents[1] / "docs" / "schema.md").read_text(encoding="utf-8")
    with db.read() as session:
        inspector = inspect(session.connection())
        for table in inspector.get_table_names():
            assert f"## `{table}`" in doc, f"docs/schema.md does not document table {table}"
            for column in inspector.get_columns(table):
                assert f"| `{column['name']}` |" in doc, f"{table}.{column['name']} undocumented"


@pytest.mark.sqlite_only
def test_engine_settings_suit_a_shared_file(db: Database) -> None:
    with db.read() as session:
        pragma = lambda name: session.connection().exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "delete"
        assert pragma("foreign_keys") == 1
        assert pragma("synchronous") == 2  # FULL
        assert pragma("busy_timeout") == 10_000


@pytest.mark.sqlite_only
def test_times_round_trip_as_utc(db: Database) -> None:
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    with db.write() as session:
        client = Client(name="Acme")
        session.add(client)
        session.flush()
        session.add(Ticket(client_id=client.id, summary="x", created_at=moment))
    with db.read() as session:
        stored = session.get(Ticket, 1)
        raw = session.connection().exec_driver_sql("SELECT created_at FROM ticket").scalar()
    assert stored.created_at == moment and stored.created_at.tzinfo is UTC
    assert raw.startswith("2026-03-29 01:30:00")


def test_stored_times_read_back_the_same_on_the_fast_path_and_the_general_one(
    db: Database,
) -> None:
    # The canonical stored text takes a direct parse; every other spelling SQLite may
    # hold (hand edits, other writers) goes through the driver type's own parse. Both
    # give what TypeDecorator's generic processor gave: the same aware UTC time.
    from sqlalchemy.types import TypeDecorator

    from dispatch_tui.store.types import UTCDateTime

    dialect = db.engine.dialect
    column = UTCDateTime().dialect_impl(dialect)
    fast = column.result_processor(dialect, None)
    generic = TypeDecorator.result_processor(column, dialect, None)
    if dialect.name == "sqlite":
        spellings = [
            "2026-03-29 01:30:00.000000",
            "2026-12-31 23:59:59.999999",
            "1890-01-01 16:52:00.000007",
            "2026-03-29 01:30:00",
            "2026-03-29 01:30:00.5",
            "2026-03-29T01:30:00.000000",
            "2026-03-29",
        ]
    else:
        spellings = [datetime(2026, 3, 29, 1, 30), datetime(2026, 12, 31, 23, 59, 59, 999999)]
    for value in spellings:
        read = fast(value)
        assert read == generic(value) and read.tzinfo is UTC, value
        assert read.utcoffset().total_seconds() == 0
    assert fast(None) is None
    with db.write() as session:
        session.add(Client(name="Acme", created_at=datetime(2026, 3, 29, 1, 30, 5, 25, UTC)))
    with db.read() as session:
        assert session.get(Client, 1).created_at == datetime(2026, 3, 29, 1, 30, 5, 25, UTC)


def test_naive_datetime_is_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), db.write() as session:
        session.add(Client(name="Acme", created_at=datetime(2026, 1, 1)))


def test_stale_write_is_refused_not_applied(db: Database) -> None:
    with db.write() as session:
        session.add(Client(name="Acme"))
    with db.read() as first_read, db.read() as second_read:
        first = first_read.get(Client, 1)
        second = second_read.get(Client, 1)
    with db.write() as session:
        first = session.merge(first)
        first.domains = "acme.com"
    with pytest.raises(StaleDataError), db.write() as session:
        second = session.merge(second, load=False)
        second.domains = "evil.com"
    with db.read() as session:
        final = session.get(Client, 1)
    assert (final.domains, final.version) == ("acme.com", 2)


def test_missing_folder_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnusable, match="does not exist"):
        Database(tmp_path / "no" / "such" / "desk.db")


def test_missing_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with pytest.raises(DatabaseUnusable, match="dispatch-tui init"):
        Database(path)
    assert not path.exists()


def test_garbage_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    path.write_bytes(b"not a database at all " * 200)
    before = path.read_bytes()
    with pytest.raises(DatabaseUnusable, match="not a usable dispatch-tui database"):
        Database(path)
    assert path.read_bytes() == before


def test_foreign_sqlite_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    before = path.read_bytes()
    with pytest.raises(DatabaseUnusable, match="another program"):
        Database(path)
    assert path.read_bytes() == before


@pytest.mark.sqlite_only
def test_newer_schema_is_refused_and_untouched(db_path: Path, db: Database) -> None:
    with db.write() as session:
        session.connection().execute(
            text("UPDATE meta SET value = :v WHERE key = 'schema_version'"),
            {"v": str(schema.SCHEMA_VERSION + 1)},
        )
    db.dispose()
    before = db_path.read_bytes()
    with pytest.raises(DatabaseUnusable, match="newer than this dispatch-tui"):
        Database(db_path)
    assert db_path.read_bytes() == before


@pytest.mark.sqlite_only
def test_older_schema_is_migrated_forward(
    db_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.dispose()
    ran: list[int] = []
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setitem(schema.MIGRATIONS, schema.SCHEMA_VERSION, lambda conn: ran.append(1))
    reopened = Database(db_path)
    with reopened.read() as session:
        assert schema.read_version(session.connection()) == schema.SCHEMA_VERSION
    assert ran == [1]


@pytest.mark.sqlite_only
def test_read_only_file_is_refused(
    db_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.dispose()
    import dispatch_tui.store.engine as engine

    # Root ignores file modes, so simulate what os.access reports for a read-only file.
    monkeypatch.setattr(engine.os, "access", lambda path, mode: False)
    with pytest.raises(DatabaseUnusable, match="read-only"):
        Database(db_path)


def test_write_lock_held_past_timeout_is_a_clear_error(db_path: Path) -> None:
    Database(db_path, create=True).dispose()
    impatient = Database(db_path, lock_timeout=0.3)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseLocked, match="nothing was saved"), impatient.write() as session:
            session.add(Client(name="Never"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with impatient.read() as session:
        assert session.get(Client, 1) is None


@pytest.mark.parametrize(
    "path", ["/tmp/a b/c#d?e%f.db", "/srv/ü/x.db", "/x;y=z&w/a+b~c.db", "/plain/t.db"]
)
def test_file_uris_quote_paths_as_urllib_does(path: str) -> None:
    from urllib.request import pathname2url as urllib_pathname2url

    from dispatch_tui.store.sqlite_backend import pathname2url

    assert pathname2url(path) == urllib_pathname2url(path)


def test_opening_a_file_does_not_import_urllib_request() -> None:
    # A fresh interpreter: it brings its HTTP client and mail parsing to every start.
    script = (
        "import sys, tempfile, pathlib\n"
        "from dispatch_tui.store import Database\n"
        "folder = pathlib.Path(tempfile.mkdtemp())\n"
        "Database(folder / 'a b#1.db', create=True).dispose()\n"
        "Database(folder / 'a b#1.db').dispose()\n"
        "assert 'urllib.request' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
