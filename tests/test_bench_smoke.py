"""The benchmark runs end to end at its smallest size and reports every section.

It checks that ``python -m bench`` keeps working as the app grows, not how fast the
app is: speed is judged by the benchmark's own table, never by a timed test.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("seeding", "startup", "keys", "queries", "shared", "memory")


def _numbers(value: object) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    return []


@pytest.mark.slow
def test_quick_bench_reports_every_section(tmp_path: Path) -> None:
    env = {**os.environ, "BENCH_CACHE": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout)
    for section in SECTIONS:
        assert results.get(section), f"{section} missing"
        found = _numbers(results[section])
        assert found, f"{section} has no numbers: {results[section]}"
        assert all(not math.isnan(n) for n in found if n == n), section
    assert results["shared"]["lost_updates"] == 0
    assert results["startup"]["1k"]["ratio"] > 0
    assert results["memory"]["1k"]["peak_mb"] > 0
    statuses = {row["status"] for row in results["rows"]}
    assert "ERROR" not in statuses, [r for r in results["rows"] if r["status"] == "ERROR"]
