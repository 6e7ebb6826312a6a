"""``dispatch-tui doctor``: is this file safe to share, and is it healthy?

The diagnosis uses plain sqlite3 connections rather than ``Database``: opening a
``Database`` migrates an older file forward, and a doctor must look without
changing anything (the one exception is SQLite's own recovery, which rolls back a
crashed writer's journal on any open, as every dispatcher's app would anyway).
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.request import pathname2url

from dispatch_tui.store import schema
from dispatch_tui.store.engine import DEFAULT_LOCK_TIMEOUT_S
from dispatch_tui.store.postgres_backend import PostgresBackend, is_url
from dispatch_tui.store.sqlite_backend import _readonly_reason

Level = Literal["ok", "warn", "fail"]

MOUNTINFO = Path("/proc/self/mountinfo")

#: File systems on the machine itself, where SQLite's locking is known to work.
LOCAL_FS = {
    "ext2",
    "ext3",
    "ext4",
    "xfs",
    "btrfs",
    "zfs",
    "tmpfs",
    "f2fs",
    "jfs",
    "reiserfs",
    "apfs",
    "hfs",
    "hfsplus",
    "ntfs",
    "ntfs3",
    "overlay",
    "bcachefs",
}
#: Network file systems: locking works only when the server and mount options allow it.
NETWORK_FS = {
    "cifs",
    "smb3",
    "smbfs",
    "nfs",
    "nfs4",
    "ceph",
    "glusterfs",
    "9p",
    "afs",
    "vboxsf",
    "vmhgfs",
    "davfs",
    "lustre",
    "gpfs",
}


@dataclass(frozen=True)
class Finding:
    name: str
    level: Level
    detail: str


@dataclass(frozen=True)
class Mount:
    mount_point: str
    fstype: str
    source: str
    options: frozenset[str]

    def has(self, option: str) -> bool:
        return any(o == option or o.startswith(option + "=") for o in self.options)

    def value(self, option: str) -> str | None:
        for o in self.options:
            if o.startswith(option + "="):
                return o.split("=", 1)[1]
        return None


@dataclass
class HealthReport:
    #: The file, or a PostgreSQL URL without its password.
    path: Path | str
    findings: list[Finding] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return not any(f.level == "fail" for f in self.findings)

    def add(self, name: str, level: Level, detail: str) -> None:
        self.findings.append(Finding(name, level, detail))

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": str(self.path),
            "usable": self.usable,
            "findings": [asdict(f) for f in self.findings],
            "figures": self.figures,
        }


# -- file systems -------------------------------------------------------------------


def _unescape(field_text: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \\ooo octal.
    out, i = [], 0
    while i < len(field_text):
        if field_text[i] == "\\" and field_text[i + 1 : i + 4].isdigit():
            out.append(chr(int(field_text[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field_text[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[Mount]:
    """Parse /proc/self/mountinfo (see proc(5)); per-mount and per-superblock options merged."""
    mounts: list[Mount] = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        lf, rf = left.split(), right.split()
        if len(lf) < 6 or len(rf) < 3:
            continue
        options = frozenset(lf[5].split(",")) | frozenset(rf[2].split(","))
        mounts.append(Mount(_unescape(lf[4]), rf[0], _unescape(rf[1]), options))
    return mounts


def mount_of(path: Path, mounts: list[Mount]) -> Mount | None:
    """The mount a path lives on: the longest matching mount point, the last mounted winning."""
    target = str(path)
    best: Mount | None = None
    for mount in mounts:
        mp = mount.mount_point.rstrip("/") or "/"
        inside = target == mp or target.startswith(mp + "/") or mp == "/"
        if inside and (best is None or len(mp) >= len(best.mount_point.rstrip("/") or "/")):
            best = mount
    return best


def locking_finding(mount: Mount) -> tuple[Level, str]:
    """What the mount means for SQLite's file locks, as a level and one line."""
    fs = mount.fstype
    where = f"{fs} ({mount.source} on {mount.mount_point})"
    if fs in {"cifs", "smb3", "smbfs"}:
        if mount.has("nobrl"):
            return "warn", (
                f"{where} is mounted with 'nobrl': byte-range locks are not sent to the "
                "server, so two machines can write at once and corrupt the file; remount "
                "without nobrl"
            )
        return "ok", f"{where}: SMB with byte-range locks (the default); keep 'nobrl' off"
    if fs in {"nfs", "nfs4"}:
        local_lock = mount.value("local_lock")
        if mount.has("nolock") or local_lock in {"all", "posix"}:
            return "warn", (
                f"{where} is mounted with "
                f"{'nolock' if mount.has('nolock') else 'local_lock=' + str(local_lock)}: "
                "locks stay on this machine, so other machines can write at once and "
                "corrupt the file; remount with working NFS locks"
            )
        return "ok", f"{where}: NFS with server-side locks; the lock service must be running"
    if fs.startswith("fuse"):
        return "warn", (
            f"{where} is a FUSE file system: locking is only as good as its driver "
            "(sshfs, for one, has none shared between machines)"
        )
    if fs in NETWORK_FS:
        return (
            "warn",
            f"{where} is a network file system whose locking dispatch-tui cannot vouch for",
        )
    if fs in LOCAL_FS:
        return "ok", f"{where}: a local file system"
    return "warn", f"{where}: unknown file system type; make sure it supports POSIX locks"


def filesystem_of(path: Path, mountinfo: Path = MOUNTINFO) -> Mount | None:
    try:
        text = mountinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None  # not Linux, or /proc not mounted
    return mount_of(path, parse_mountinfo(text))


# -- the diagnosis ------------------------------------------------------------------


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def diagnose(
    path: str | os.PathLike[str],
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
    mountinfo: Path = MOUNTINFO,
) -> HealthReport:
    """Look at a database file without changing it; every problem becomes a finding."""
    if is_url(path):
        # Everything below is about a file (its file system, journal, pages); a server
        # checks its own storage.
        report = HealthReport(PostgresBackend(str(path), lock_timeout=lock_timeout).path)
        report.add(
            "file",
            "fail",
            "doctor checks SQLite files; this is a PostgreSQL database: use the server's "
            "own tools (pg_dump for backups, amcheck for page checks)",
        )
        return report
    target = Path(path).expanduser().resolve()
    report = HealthReport(target)
    mount = filesystem_of(target if target.exists() else target.parent, mountinfo)
    if mount is None:
        report.add("file system", "warn", "could not tell the file system type (no /proc)")
    else:
        level, detail = locking_finding(mount)
        report.add("file system", level, detail)
        report.figures["fstype"] = mount.fstype
    if not target.parent.is_dir():
        report.add("file", "fail", f"the folder {target.parent} does not exist")
        return report
    if not target.is_file():
        report.add("file", "fail", f"no database file at {target}")
        return report
    size = target.stat().st_size
    report.figures["bytes"] = size
    reason = _readonly_reason(target)
    if reason:
        report.add("file", "fail", f"cannot write to it: {reason}")
        return report
    report.add("file", "ok", _human_size(size))
    for suffix, meaning in (
        (
            "-journal",
            "a rollback journal exists: a save in progress, or one a crash left "
            "behind (SQLite rolls it back at the next open)",
        ),
        ("-wal", "a WAL file exists: some program opened it in WAL mode, unsafe on a share"),
    ):
        if target.with_name(target.name + suffix).exists():
            report.add("journal file", "warn", meaning)
    try:
        conn = sqlite3.connect(
            f"file:{pathname2url(str(target))}?mode=rw",
            uri=True,
            isolation_level=None,
            timeout=lock_timeout,
        )
    except sqlite3.Error as exc:
        report.add("open", "fail", f"SQLite cannot open it: {exc}")
        return report
    try:
        _diagnose_open(conn, report, lock_timeout)
    except sqlite3.DatabaseError as exc:
        report.add("open", "fail", f"not a usable SQLite database: {exc}")
    finally:
        conn.close()
    return report


def _diagnose_open(conn: sqlite3.Connection, report: HealthReport, lock_timeout: float) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
    mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    if mode == "delete":
        report.add("journal mode", "ok", "delete (rollback journal), as a shared file needs")
    else:
        report.add(
            "journal mode",
            "warn",
            f"{mode}; dispatch-tui switches it back to 'delete' at the next open",
        )
    report.figures["journal_mode"] = mode
    report.figures["sqlite_version"] = sqlite3.sqlite_version

    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    version: int | None = None
    if "meta" in tables:
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = int(row[0]) if row else None
    report.figures["schema_version"] = version
    if version is None:
        report.add("schema", "fail", "not a dispatch-tui database (no schema version)")
    elif version > schema.SCHEMA_VERSION:
        report.add(
            "schema",
            "fail",
            f"version {version}, newer than this dispatch-tui ({schema.SCHEMA_VERSION}); upgrade",
        )
    elif version < schema.SCHEMA_VERSION:
        report.add(
            "schema",
            "warn",
            f"version {version}; the next open migrates it to {schema.SCHEMA_VERSION}",
        )
    else:
        report.add("schema", "ok", f"version {version}")

    started = time.monotonic()
    problems = [str(r[0]) for r in conn.execute("PRAGMA quick_check(10)").fetchall()]
    took = time.monotonic() - started
    report.figures["quick_check_s"] = round(took, 3)
    if problems == ["ok"]:
        report.add("integrity", "ok", f"quick_check passed in {took:.2f} s")
    else:
        report.add(
            "integrity",
            "fail",
            f"quick_check found {len(problems)} problem(s), first: {problems[0]}; "
            "restore from a backup",
        )
        return  # counting rows of a damaged file proves nothing

    _lock_wait(conn, report, lock_timeout)
    _counts(conn, report, tables)


def _lock_wait(conn: sqlite3.Connection, report: HealthReport, lock_timeout: float) -> None:
    """Take and release the write lock, as a save would; an empty transaction changes nothing."""
    started = time.monotonic()
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        report.add(
            "lock wait",
            "warn",
            f"could not take the write lock within {lock_timeout:g} s ({exc}): another "
            "program holds it; saves wait for it too",
        )
        return
    took = time.monotonic() - started
    report.figures["lock_wait_s"] = round(took, 4)
    level: Level = "ok" if took < 1.0 else "warn"
    report.add("lock wait", level, f"write lock taken and released in {took * 1000:.0f} ms")


def _counts(conn: sqlite3.Connection, report: HealthReport, tables: set[str]) -> None:
    queries = {
        "tickets": "SELECT count(*) FROM ticket",
        "open_tickets": "SELECT count(*) FROM ticket WHERE status NOT IN ('resolved','closed')",
        "audit_events": "SELECT count(*) FROM audit_event",
        "claims": "SELECT count(*) FROM ticket_claim",
    }
    needed = {
        "tickets": "ticket",
        "open_tickets": "ticket",
        "audit_events": "audit_event",
        "claims": "ticket_claim",
    }
    counts = {
        name: int(conn.execute(sql).fetchone()[0])
        for name, sql in queries.items()
        if needed[name] in tables
    }
    report.figures.update(counts)
    if counts:
        report.add(
            "contents", "ok", ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
        )
