"""Issue 6, test 7: the lost-update and kill -9 tests again, on a slow file system.

A FUSE passthrough (tests/_slowfs.py) adds a delay to every file operation, as a
network share does. Needs /dev/fuse, libfuse 2 (Debian: libfuse2) and fusepy (in
the test extra), and the right to mount (root); skipped with the reason otherwise.
"""

from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _workloads import (
    crash_once,
    increment_locked,
    inspect_after_crash,
    make_accounts_db,
    make_counter_db,
    run_counter,
    transfer_forever_safe,
)

DELAY_S = 0.0005  # per FUSE operation, on top of the local disk underneath


def _why_no_fuse() -> str | None:
    if not Path("/dev/fuse").exists():
        return "no /dev/fuse on this machine"
    if importlib.util.find_spec("fuse") is None:
        return "fusepy is not installed (pip install -e '.[test]')"
    try:
        import fuse  # noqa: F401 - loads libfuse through ctypes
    except (OSError, EnvironmentError) as exc:  # noqa: UP024 - fusepy raises EnvironmentError
        return f"libfuse 2 is missing (Debian: apt-get install libfuse2): {exc}"
    if os.geteuid() != 0:
        return "mounting FUSE without fusermount needs root"
    return None


def _mounted(point: Path) -> bool:
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        return any(line.split()[4] == str(point) for line in fh)


@pytest.fixture
def slow_folder(tmp_path: Path) -> Iterator[Path]:
    reason = _why_no_fuse()
    if reason:
        pytest.skip(reason)
    source, point = tmp_path / "disk", tmp_path / "share"
    source.mkdir()
    point.mkdir()
    server = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("_slowfs.py")),
            str(source),
            str(point),
            str(DELAY_S),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while not _mounted(point):
            if server.poll() is not None or time.monotonic() > deadline:
                err = server.stderr.read() if server.stderr and server.poll() is not None else ""
                pytest.skip(f"could not mount the FUSE passthrough: {err.strip() or 'timeout'}")
            time.sleep(0.05)
        yield point
    finally:
        subprocess.run(["umount", str(point)], capture_output=True)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.mark.slow
def test_no_lost_update_on_a_slow_file_system(slow_folder: Path) -> None:
    path = slow_folder / "desk.db"
    make_counter_db(path)
    outcome = run_counter(path, increment_locked, workers=3, times=20, think=0.002, timeout=120)
    assert outcome.exit_codes == [0, 0, 0]
    assert (outcome.value, outcome.landed, outcome.integrity) == (60, 60, ["ok"])


@pytest.mark.slow
def test_kill_9_on_a_slow_file_system_leaves_a_sound_file(slow_folder: Path) -> None:
    path = slow_folder / "desk.db"
    make_accounts_db(path)
    rng = random.Random(7)
    for round_no in range(5):
        crash_once(path, transfer_forever_safe, rng, max_delay=0.3)
        outcome = inspect_after_crash(path, through_app=True)
        assert not outcome.damaged, f"round {round_no}: {outcome}"
