"""Memory: the app's peak resident set after a dispatcher visits every section.

A fresh process per run, since a peak only grows; the median of a few runs guards
against a stray page-cache effect. Run as ``python -m bench.memory DB``.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
from pathlib import Path

from bench import child
from bench.stats import median

SECTIONS = ["intake", "triage", "dispatch", "schedule", "dashboard"]


def measure(db: Path, runs: int) -> dict[str, float]:
    peaks = []
    for _ in range(runs):
        peaks.append(child.run("bench.memory", [str(db)])[0]["peak_mb"])
    return {"peak_mb": median(peaks), "max_peak_mb": max(peaks), "runs": runs}


async def _visit_all(db: Path) -> None:
    from bench.desk_probe import running_desk, visit

    async with running_desk(db) as (app, _pilot, watch):
        for section in SECTIONS:
            await visit(app, watch, section)


if __name__ == "__main__":
    asyncio.run(_visit_all(Path(sys.argv[1])))
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
    print(json.dumps({"peak_mb": peak}))
