"""What the app runs by itself when config.toml asks: the settings are validated, a
rolling backup runs on its timer (triggered directly here) and a failure is a warning,
and the mail watcher imports arrivals, which then show through live refresh."""

from __future__ import annotations

from pathlib import Path

import pytest
from live_helpers import SIZE, add, queue_keys, settle, until
from textual.message import Message
from textual.notifications import Notify

from dispatch_tui.app import DispatchApp
from dispatch_tui.config import UserConfig, default_backup_folder, load_user_config
from dispatch_tui.errors import InvalidInput
from dispatch_tui.screens.triage import TriageScreen
from dispatch_tui.store import Database
from dispatch_tui.store.backup import rolling_backups

MAIL = b"""From: Jo Park <jo@acme.example>
To: help@shop.example
Subject: Scanner jams on every page
Message-ID: <scanner-1@acme.example>
Date: Tue, 04 Mar 2025 09:12:00 +0000
Content-Type: text/plain; charset=utf-8

It started this morning.
"""


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- settings -----------------------------------------------------------------------------


def test_background_settings_are_off_by_default(tmp_path: Path) -> None:
    config = load_user_config(write_config(tmp_path, 'name = "Alice"\n'))
    assert config.backup_every_minutes is None and config.mail_watch is None
    assert config.backup_keep == 7 and config.backup_folder == default_backup_folder()


def test_background_settings_are_read(tmp_path: Path) -> None:
    config = load_user_config(
        write_config(
            tmp_path,
            'backup_every_minutes = 30\nbackup_folder = "~/bk"\nbackup_keep = 3\n'
            'mail_watch = "~/Maildir"\n',
        )
    )
    assert config.backup_every_minutes == 30.0 and config.backup_keep == 3
    assert config.backup_folder == Path("~/bk").expanduser()
    assert config.mail_watch == Path("~/Maildir").expanduser()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("backup_every_minutes = 0\n", "'backup_every_minutes' must be at least 1"),
        ("backup_every_minutes = true\n", "'backup_every_minutes' must be a number"),
        ('backup_every_minutes = "hourly"\n', "'backup_every_minutes' must be a number"),
        ('backup_folder = "/tmp/bk"\n', "'backup_every_minutes' is not"),
        ('backup_every_minutes = 5\nbackup_folder = ""\n', "'backup_folder' must be a folder"),
        ("backup_keep = 0\n", "'backup_keep' must be a whole number"),
        ("backup_keep = 2.5\n", "'backup_keep' must be a whole number"),
        ("mail_watch = 3\n", "'mail_watch' must be a folder"),
        ("backup_evry_minutes = 5\n", "unknown setting 'backup_evry_minutes'"),
    ],
)
def test_bad_background_settings_are_one_line_naming_file_and_key(
    tmp_path: Path, text: str, says: str
) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(InvalidInput) as caught:
        load_user_config(path)
    message = str(caught.value)
    assert says in message and str(path) in message and "\n" not in message


# -- rolling backups ----------------------------------------------------------------------


@pytest.fixture
def desk_file(tmp_path: Path) -> Path:
    path = tmp_path / "shared.db"
    Database(path, create=True).dispose()
    add(path, "Printer offline")
    return path


def notes(seen: list[Message]) -> list[tuple[str, str]]:
    return [(m.notification.title, m.notification.message) for m in seen if isinstance(m, Notify)]


async def test_rolling_backup_on_its_timer_keeps_the_newest(
    desk_file: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    config = UserConfig(backup_every_minutes=60, backup_folder=folder, backup_keep=2)
    app = DispatchApp(desk_file, actor="Alice", config=config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.backups is not None and app.backups.minutes == 60
        for _ in range(3):
            app.backups.tick()  # what the timer calls every 60 minutes
            await settle(app, pilot)
        copies = rolling_backups(folder)
        assert len(copies) == 2
        # A backup is a whole database that opens, with the ticket in it.
        copy = Database(copies[-1])
        try:
            assert copy.integrity_check() == []
        finally:
            copy.dispose()


async def test_a_failed_backup_is_a_warning_and_the_desk_carries_on(
    desk_file: Path, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    config = UserConfig(backup_every_minutes=5, backup_folder=not_a_folder)
    seen: list[Message] = []
    app = DispatchApp(desk_file, actor="Alice", config=config)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(app, pilot)
        assert app.backups is not None
        app.backups.tick()
        await settle(app, pilot)
        assert any(title == "Rolling backup failed" for title, _ in notes(seen))
        assert isinstance(app.screen, TriageScreen)


async def test_no_background_work_without_config(desk_file: Path) -> None:
    app = DispatchApp(desk_file, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.backups is None and app.mail is None


# -- mail watch ---------------------------------------------------------------------------


async def test_mail_watch_imports_arrivals_and_they_show_live(
    desk_file: Path, tmp_path: Path
) -> None:
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1700000000.1.host").write_bytes(MAIL)
    seen: list[Message] = []
    app = DispatchApp(desk_file, actor="Alice", config=UserConfig(mail_watch=maildir))
    # No settle() here: the watcher is a worker that runs until the app exits.
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, TriageScreen) and len(queue_keys(app)) == 2
        )
        await until(pilot, lambda: ("Mail", "1 new e-mail imported") in notes(seen))
        assert app.mail is not None
    # Exiting set the stop event; the watcher thread ended with the app.
    assert app.mail._stop.is_set()


# -- SLA catch-up -------------------------------------------------------------------------


async def test_the_app_stamps_sla_moments_a_file_is_missing(desk_file: Path) -> None:
    from sqlmodel import func, select

    from dispatch_tui.services import settings, sla_stamps
    from dispatch_tui.store.models import Meta, Ticket

    def unstamped() -> int:
        with db.read() as session:
            stamp = sla_stamps.stamp_of(settings.load_policy(session))
            return session.exec(select(func.count()).where(sla_stamps.stale(stamp))).one()

    db = Database(desk_file)
    try:
        # As a file fresh from the schema 3 migration: moments empty, no marker.
        with db.write() as session:
            session.connection().execute(Ticket.__table__.update().values(sla_policy=None))
        assert unstamped() == 1
        app = DispatchApp(desk_file, actor="Alice")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await until(pilot, lambda: unstamped() == 0)
        with db.read() as session:
            marker = session.get(Meta, sla_stamps.STAMPED_KEY)
            assert marker is not None
            assert marker.value == sla_stamps.stamp_of(settings.load_policy(session))
    finally:
        db.dispose()
