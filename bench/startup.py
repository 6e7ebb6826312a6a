"""Start-up: from process start to the first section on screen, app against the floor.

Each run is a fresh interpreter. The parent notes the wall clock just before it
spawns the child and the child reports the wall clock when its first screen is
painted, so interpreter start and every import are inside the figure. App and
empty-app runs alternate, so a burst of load elsewhere hits both sides alike.

Run as ``python -m bench.startup app DB`` or ``python -m bench.startup empty``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import child
from bench.stats import median, p95, ratio


@dataclass(frozen=True)
class StartupResult:
    app_s: list[float]
    empty_s: list[float]

    @property
    def ratio(self) -> float:
        return ratio(median(self.app_s), median(self.empty_s))

    def summary(self) -> dict[str, float]:
        return {
            "app_median_s": median(self.app_s),
            "app_p95_s": p95(self.app_s),
            "empty_median_s": median(self.empty_s),
            "empty_p95_s": p95(self.empty_s),
            "ratio": self.ratio,
            "runs": len(self.app_s),
        }


def _spawn(args: list[str]) -> float:
    report, spawned = child.run("bench.startup", args, timeout=300)
    return report["ready"] - spawned


def compile_app_sources() -> None:
    """Write the app's ``.pyc`` files, as its first start on a dispatcher's machine does.

    The floor imports only libraries, which pip compiled at install; the app's own
    modules are compiled on first import, and a warm-up run alone does not keep that
    where PYTHONDONTWRITEBYTECODE is set (as on some CI and sandbox machines): every
    timed start would then compile about 60 modules again (about 0.1 s), which no
    dispatcher's second start does. compileall writes them whatever that setting.
    """
    import compileall
    import importlib.util

    for package in ("dispatch_tui", "dispatch_tui.screens", "dispatch_tui.store"):
        spec = importlib.util.find_spec(package)
        for folder in (spec and spec.submodule_search_locations) or []:
            compileall.compile_dir(folder, quiet=1)


def measure(db: Path, runs: int, *, warm_up: bool = True) -> StartupResult:
    if warm_up:
        compile_app_sources()
        # One untimed run of each: the first start pays for cold .pyc and page cache.
        _spawn(["empty"])
        _spawn(["app", str(db)])
    app_s: list[float] = []
    empty_s: list[float] = []
    for n in range(runs):
        # Alternate which side goes first so neither always follows the other.
        order = [("empty", empty_s), ("app", app_s)]
        for side, into in order if n % 2 == 0 else reversed(order):
            into.append(_spawn([side, str(db)] if side == "app" else [side]))
    return StartupResult(app_s, empty_s)


async def _ready_app(db: Path) -> None:
    from bench.desk_probe import running_desk

    async with running_desk(db):
        print(json.dumps({"ready": time.time()}), flush=True)


async def _ready_empty() -> None:
    from bench.empty_app import EmptyApp
    from bench.headless import settle

    app = EmptyApp()
    async with app.run_test(headless=True, size=(120, 40)):
        await settle(app)
        print(json.dumps({"ready": time.time()}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "app":
        asyncio.run(_ready_app(Path(sys.argv[2])))
    else:
        asyncio.run(_ready_empty())
