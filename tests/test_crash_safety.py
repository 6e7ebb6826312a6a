"""``kill -9`` in the middle of writes, many times: the file always recovers.

Issue 6, test 3. The writer is killed at a random moment while it runs multi-page
transactions (a transfer that touches every account, spilling pages into the file
mid-transaction); the invariant is that the balances always sum to the same total.
The control runs the same writer with ``journal_mode=OFF`` and must show damage.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from _workloads import (
    crash_once,
    inspect_after_crash,
    make_accounts_db,
    transfer_forever_safe,
    transfer_forever_unsafe,
)

ROUNDS = 20
CONTROL_ROUNDS = 10


@pytest.mark.slow
def test_kill_9_mid_transaction_always_leaves_a_sound_file(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    make_accounts_db(path)
    rng = random.Random(6)
    journals_left = 0
    for round_no in range(ROUNDS):
        crash_once(path, transfer_forever_safe, rng)
        journals_left += path.with_name(path.name + "-journal").exists()
        outcome = inspect_after_crash(path, through_app=True)
        assert not outcome.damaged, f"round {round_no}: {outcome}"
    # Most kills should land mid-transaction, leaving a hot journal to roll back;
    # if none did, the test was not testing recovery at all.
    assert journals_left > 0
    print(f"kill -9: {ROUNDS} rounds, all sound; {journals_left} left a hot journal")


@pytest.mark.slow
def test_control_without_a_journal_is_damaged_by_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    rng = random.Random(6)
    damaged = 0
    for _ in range(CONTROL_ROUNDS):
        make_accounts_db(path)  # each round on a fresh file, so rounds are independent
        crash_once(path, transfer_forever_unsafe, rng)
        damaged += inspect_after_crash(path, through_app=False).damaged
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
    print(f"journal_mode=OFF control: damage in {damaged}/{CONTROL_ROUNDS} rounds")
    assert damaged > 0
