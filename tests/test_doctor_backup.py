"""``dispatch-tui doctor`` and ``backup``, and bad files through the real CLI (issue 6, test 6)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import select
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _workloads import (
    ACCOUNTS,
    START_BALANCE,
    fork,
    kill9,
    make_accounts_db,
    transfer_forever_safe,
)
from sqlalchemy import text

from dispatch_tui.cli.main import run
from dispatch_tui.services import Desk
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store import Database, schema
from dispatch_tui.store.backup import BackupFailed, rolling_backup, rolling_backups
from dispatch_tui.store.health import diagnose, locking_finding, mount_of, parse_mountinfo


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- doctor ------------------------------------------------------------------------------


def test_doctor_reports_a_healthy_file_and_changes_nothing(
    desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    add_ticket(desk, client="Acme", summary="Printer jam")
    desk.db.dispose()
    before = digest(desk.db.path)
    assert run(["doctor", "--db", str(desk.db.path)]) == 0
    out = capsys.readouterr().out
    for name in ("file system", "journal mode", "schema", "integrity", "lock wait", "contents"):
        assert name in out
    assert "result: ok" in out or "result: usable, see warnings" in out
    assert digest(desk.db.path) == before


def test_doctor_json_carries_the_figures(desk: Desk, capsys: pytest.CaptureFixture[str]) -> None:
    add_ticket(desk, client="Acme", summary="Printer jam")
    assert run(["doctor", "--db", str(desk.db.path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    figures = report["figures"]
    assert report["usable"] is True
    assert figures["journal_mode"] == "delete"
    assert figures["schema_version"] == schema.SCHEMA_VERSION
    assert figures["tickets"] == 1 and figures["bytes"] > 0
    assert figures["lock_wait_s"] >= 0 and figures["quick_check_s"] >= 0


def test_doctor_finds_a_damaged_file(db_path: Path, db: Database) -> None:
    with db.write() as session:
        session.connection().execute(text("CREATE TABLE filler (x BLOB)"))
        for _ in range(50):
            session.connection().execute(text("INSERT INTO filler VALUES (zeroblob(3000))"))
    db.dispose()
    data = bytearray(db_path.read_bytes())
    page = 4096
    # Scribble over the middle of the file, past the header and the schema page.
    data[len(data) // 2 : len(data) // 2 + page] = random.Random(6).randbytes(page)
    db_path.write_bytes(bytes(data))
    report = diagnose(db_path)
    assert not report.usable
    assert any(f.name in {"integrity", "open"} and f.level == "fail" for f in report.findings)


@pytest.mark.parametrize(
    ("line", "level", "says"),
    [
        ("36 1 0:50 / /srv/desk rw - cifs //nas/desk rw,vers=3.0,nobrl", "warn", "nobrl"),
        ("36 1 0:50 / /srv/desk rw - cifs //nas/desk rw,vers=3.0,cache=strict", "ok", "SMB"),
        ("36 1 0:50 / /srv/desk rw - nfs4 nas:/desk rw,local_lock=all", "warn", "local_lock=all"),
        ("36 1 0:50 / /srv/desk rw - nfs nas:/desk rw,nolock,vers=3", "warn", "nolock"),
        ("36 1 0:50 / /srv/desk rw - nfs4 nas:/desk rw,local_lock=none", "ok", "NFS"),
        ("36 1 0:50 / /srv/desk rw - fuse.sshfs me@host:/d rw,user_id=0", "warn", "FUSE"),
        ("36 1 8:1 / /srv/desk rw - ext4 /dev/sda1 rw", "ok", "local"),
    ],
)
def test_mount_options_that_disable_locking_are_named(line: str, level: str, says: str) -> None:
    mounts = parse_mountinfo("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n" + line)
    mount = mount_of(Path("/srv/desk/dispatch.db"), mounts)
    assert mount is not None and mount.mount_point == "/srv/desk"
    found_level, detail = locking_finding(mount)
    assert found_level == level and says in detail


def test_mountinfo_escapes_and_the_longest_prefix_win() -> None:
    text_ = (
        "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
        "40 22 0:50 / /mnt/office\\040share rw - cifs //nas/x rw,nobrl\n"
        "41 22 0:51 / /mnt/office rw - ext4 /dev/sdb1 rw\n"
    )
    mounts = parse_mountinfo(text_)
    assert mount_of(Path("/mnt/office share/d.db"), mounts).fstype == "cifs"
    assert mount_of(Path("/mnt/office/d.db"), mounts).fstype == "ext4"
    assert mount_of(Path("/mnt/officer/d.db"), mounts).mount_point == "/"


def test_doctor_warns_about_a_share_mounted_without_locks(desk: Desk, tmp_path: Path) -> None:
    fake = tmp_path / "mountinfo"
    folder = desk.db.path.parent
    fake.write_text(
        f"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
        f"40 22 0:50 / {folder} rw - cifs //nas/desk rw,vers=3.0,nobrl\n"
    )
    report = diagnose(desk.db.path, mountinfo=fake)
    fs = next(f for f in report.findings if f.name == "file system")
    assert fs.level == "warn" and "nobrl" in fs.detail
    assert report.usable  # a warning, not a refusal: the doctor cannot know the share's setup


# -- backup ------------------------------------------------------------------------------


@pytest.mark.slow
def test_backup_while_another_process_writes_is_consistent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, copy = tmp_path / "desk.db", tmp_path / "copy.db"
    make_accounts_db(path)
    ready_r, ready_w = os.pipe()
    writer = fork(transfer_forever_safe, str(path), ready_w, 1, 0.005)
    try:
        assert select.select([ready_r], [], [], 30)[0], "the writer never committed"
        assert run(["backup", str(copy), "--db", str(path)]) == 0
    finally:
        kill9(writer)
        os.close(ready_r)
        os.close(ready_w)
    assert "integrity ok" in capsys.readouterr().out
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        # A mid-transfer snapshot would not add up: the copy is one committed moment.
        assert conn.execute("SELECT sum(balance) FROM account").fetchone()[0] == (
            ACCOUNTS * START_BALANCE
        )
    conn.close()
    Database(copy).dispose()  # and the app opens it


def test_backup_refuses_to_overwrite_unless_forced(
    desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "copy.db"
    dest.write_bytes(b"precious")
    assert run(["backup", str(dest), "--db", str(desk.db.path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--force" in err[0]
    assert dest.read_bytes() == b"precious"
    assert run(["backup", str(dest), "--db", str(desk.db.path), "--force"]) == 0
    Database(dest).dispose()
    assert not list(tmp_path.glob(".copy.db.partial*"))


def test_backup_into_a_missing_folder_is_one_line(
    desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["backup", str(tmp_path / "no" / "x.db"), "--db", str(desk.db.path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_rolling_backups_keep_the_newest(desk: Desk, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    t0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    made = [
        rolling_backup(desk.db, folder, keep=3, now=t0 + timedelta(hours=h)).path for h in range(5)
    ]
    assert rolling_backups(folder) == made[-3:]
    (folder / "notes.txt").write_text("not a backup")
    rolling_backup(desk.db, folder, keep=1, now=t0 + timedelta(hours=9))
    assert len(rolling_backups(folder)) == 1 and (folder / "notes.txt").exists()
    with pytest.raises(BackupFailed):
        rolling_backup(desk.db, folder, keep=0)


# -- bad files through the real CLI (separate processes, as a user runs them) ---------------


def _newer_schema(path: Path) -> None:
    db = Database(path, create=True)
    with db.write() as session:
        session.connection().execute(
            text("UPDATE meta SET value = :v WHERE key = 'schema_version'"),
            {"v": str(schema.SCHEMA_VERSION + 1)},
        )
    db.dispose()


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dispatch_tui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def _assert_one_line_refusal(proc: subprocess.Popen[str], *, says: str) -> None:
    out, err = proc.communicate(timeout=120)
    lines = err.strip().splitlines()
    assert proc.returncode == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert says in lines[0]


@pytest.mark.slow
def test_bad_files_get_one_line_a_nonzero_exit_and_stay_unchanged(tmp_path: Path) -> None:
    garbage, newer, missing = (
        tmp_path / "garbage.db",
        tmp_path / "newer.db",
        tmp_path / "no" / "d.db",
    )
    garbage.write_bytes(b"this is not a database " * 300)
    _newer_schema(newer)
    before = {p: digest(p) for p in (garbage, newer)}
    # Started together: each pays the interpreter's start-up once, in parallel.
    runs = {
        "garbage": _cli("ticket", "list", "--db", str(garbage)),
        "garbage-doctor": _cli("doctor", "--db", str(garbage)),
        "newer": _cli("ticket", "add", "--db", str(newer), "--client", "A", "--summary", "x"),
        "missing": _cli("ticket", "list", "--db", str(missing)),
    }
    _assert_one_line_refusal(runs["garbage"], says="not a usable dispatch-tui database")
    out, _ = runs["garbage-doctor"].communicate(timeout=120)
    assert runs["garbage-doctor"].returncode == 2 and "result: unusable" in out
    _assert_one_line_refusal(runs["newer"], says="newer than this dispatch-tui")
    _assert_one_line_refusal(runs["missing"], says="does not exist")
    assert {p: digest(p) for p in before} == before
    assert not missing.parent.exists()
    assert not list(tmp_path.glob("*-journal"))


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder seen through a read-only bind mount. We run as root, and root ignores
    file modes, so chmod proves nothing; a read-only mount stops root too. Where
    mounting is not allowed (no CAP_SYS_ADMIN), the read-only refusal stays covered
    by tests/test_store.py, which simulates os.access."""
    source, view = tmp_path / "rw", tmp_path / "ro"
    source.mkdir()
    view.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("read-only bind mount needs root and mount(8)")
    ok = subprocess.run(["mount", "--bind", str(source), str(view)], capture_output=True)
    if ok.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {ok.stderr.decode().strip()}")
    try:
        ro = subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], capture_output=True)
        if ro.returncode != 0:
            pytest.skip(f"cannot remount read-only: {ro.stderr.decode().strip()}")
        yield source
    finally:
        subprocess.run(["umount", str(view)], capture_output=True)


@pytest.mark.slow
def test_a_read_only_file_is_refused_with_one_line(read_only_folder: Path) -> None:
    Database(read_only_folder / "desk.db", create=True).dispose()
    seen = read_only_folder.parent / "ro" / "desk.db"
    before = digest(seen)
    proc = _cli("ticket", "add", "--db", str(seen), "--client", "A", "--summary", "x")
    _assert_one_line_refusal(proc, says="read-only")
    assert digest(seen) == before
