"""Shared fixtures. Every test runs with its own config file and database path, so
nothing reads or writes the developer's real ~/.config or ~/.local/share.

Two backends: the store and service tests (``BOTH_BACKENDS``) run their ``db``/``desk``
tests once on an SQLite file and once on PostgreSQL, in a fresh schema of the database
that ``DISPATCH_TUI_TEST_POSTGRES`` names (dropped after the test). Without that
variable the PostgreSQL variants skip with the reason; ``.ci/run`` sets it. Tests about
the file itself (PRAGMAs, permissions, crashes) carry ``@pytest.mark.sqlite_only``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from schedule_desk import TODAY

from dispatch_tui.services import Desk
from dispatch_tui.store import Database


@pytest.fixture(autouse=True)
def isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DISPATCH_TUI_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("DISPATCH_TUI_DB", str(home / "default.db"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "desk.db"


PG_ENV = "DISPATCH_TUI_TEST_POSTGRES"

#: Test modules whose database tests run on both backends: the store and the services.
BOTH_BACKENDS = {
    "test_store",
    "test_store_bulk",
    "test_store_core",
    "test_store_writes",
    "test_changes_claims",
    "test_dispatch_services",
    "test_gate",
    "test_health_service",
    "test_importer",
    "test_csv_io",
    "test_reports",
    "test_schedule_service",
    "test_sla_stored",
    "test_sla_tally",
    "test_triage_service",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: about the SQLite file itself; never run on PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if module not in BOTH_BACKENDS or metafunc.definition.get_closest_marker("sqlite_only"):
        return
    metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """SQLite unless the test module runs on both backends (see pytest_generate_tests)."""
    return getattr(request, "param", "sqlite")


def _admin_connect(url: str):
    psycopg = pytest.importorskip("psycopg", reason="PostgreSQL tests need psycopg")
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a fresh, empty schema on the test server; dropped afterwards.

    The schema is the search_path of every connection made with the URL, and its name
    is the connections' application_name, so teardown can end any a test left open.
    """
    base = os.environ.get(PG_ENV, "").strip()
    if not base:
        pytest.skip(f"PostgreSQL variant: set {PG_ENV} to a postgresql:// URL to run it")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with _admin_connect(base) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    options = quote(f"-csearch_path={schema}", safe="")
    yield f"{base}{sep}options={options}&application_name={schema}"
    with _admin_connect(base) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (schema,),
        )
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def db_target(backend: str, request: pytest.FixtureRequest) -> Path | str:
    """What ``Database()`` opens for this test: an SQLite path or a PostgreSQL URL."""
    if backend == "postgresql":
        return request.getfixturevalue("pg_url")
    return request.getfixturevalue("db_path")


@pytest.fixture
def db(db_target: Path | str) -> Iterator[Database]:
    database = Database(db_target, create=True)
    yield database
    database.dispose()


@pytest.fixture
def desk(db: Database) -> Desk:
    return Desk(db, "tester")


@pytest.fixture
def pinned_schedule_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the Schedule screen's "today" so every slot and stored time is known ahead."""
    from dispatch_tui.screens.schedule import ScheduleScreen

    monkeypatch.setattr(ScheduleScreen, "pinned_today", TODAY)


@pytest.fixture
def schedule_shop(tmp_path: Path) -> Iterator[tuple[Path, Desk]]:
    """A shop in America/Chicago with two technicians, for the Schedule screen tests."""
    from dispatch_tui.services.settings import set_shop_timezone
    from dispatch_tui.services.technicians import add_technician

    path = tmp_path / "s.db"
    database = Database(path, create=True)
    desk = Desk(database, "tester")
    set_shop_timezone(desk, "America/Chicago")
    add_technician(desk, name="Ava Chen", tier=2)
    add_technician(desk, name="Ben Ortiz", tier=1)
    yield path, desk
    database.dispose()
