"""Shared fixtures. Every test runs with its own config file and database path, so
nothing reads or writes the developer's real ~/.config or ~/.local/share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatch_tui.services import Desk
from dispatch_tui.store import Database


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DISPATCH_TUI_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("DISPATCH_TUI_DB", str(home / "default.db"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "desk.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = Database(db_path, create=True)
    yield database
    database.dispose()


@pytest.fixture
def desk(db: Database) -> Desk:
    return Desk(db, "tester")
