"""Demo databases at each size, built once and cached in ``.bench-cache/``.

A file is keyed by size, seed and schema version, so a schema change builds a new
one rather than benchmarking a file the app would first migrate. Seeding is timed
when the file is built (in a fresh process, as ``dispatch-tui demo`` would run it)
and the time is kept beside the file, so a cached run still reports it.

Run as ``python -m bench.dbs PATH TICKETS SEED``: the child that seeds one file.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import child

#: Beside the repository's files whatever the working directory; BENCH_CACHE moves it
#: (the smoke test keeps its databases in a temporary folder).
CACHE = Path(
    os.environ.get("BENCH_CACHE") or Path(__file__).resolve().parent.parent / ".bench-cache"
).resolve()
SEED = 7
SIZES = {"1k": 1_000, "100k": 100_000, "1M": 1_000_000}


@dataclass(frozen=True)
class BenchDb:
    label: str
    tickets: int
    path: Path
    seed_seconds: float
    seeded_at: str
    #: False when the file came from the cache and seed_seconds is from an earlier run.
    fresh: bool


def schema_version() -> int:
    from dispatch_tui.store.schema import SCHEMA_VERSION

    return SCHEMA_VERSION


def ensure(label: str, *, reseed: bool = False, cache: Path = CACHE) -> BenchDb:
    """The demo database for a size label, seeding it when missing or asked to."""
    tickets = SIZES[label]
    cache.mkdir(parents=True, exist_ok=True)
    stem = f"demo-{tickets}-seed{SEED}-schema{schema_version()}"
    path = cache / f"{stem}.db"
    meta_path = cache / f"{stem}.json"
    if not reseed and path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return BenchDb(label, tickets, path, meta["seed_seconds"], meta["seeded_at"], False)
    for stale in (path, meta_path):
        stale.unlink(missing_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    report, _ = child.run("bench.dbs", [str(partial.resolve()), str(tickets), str(SEED)], 3600)
    seconds = report["seconds"]
    # Renamed only once complete: an interrupted seeding never leaves a "cached" half file.
    os.replace(partial, path)
    seeded_at = datetime.now(UTC).strftime("%Y-%m-%d")
    meta_path.write_text(json.dumps({"seed_seconds": seconds, "seeded_at": seeded_at}))
    return BenchDb(label, tickets, path, seconds, seeded_at, True)


def working_copy(db: BenchDb, folder: Path, name: str) -> Path:
    """A throwaway copy for measurements that write, so the cached file stays as seeded."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}-{db.label}.db"
    shutil.copyfile(db.path, target)
    return target


def _seed(path: Path, tickets: int, seed: int) -> float:
    from dispatch_tui.demo import generate
    from dispatch_tui.services.desk import Desk
    from dispatch_tui.store import Database

    started = time.perf_counter()
    # What `dispatch-tui demo --db PATH --tickets N` does: create, then generate.
    db = Database(path, create=True)
    try:
        generate(Desk(db, "bench"), tickets=tickets, seed=seed)
    finally:
        db.dispose()
    return time.perf_counter() - started


if __name__ == "__main__":
    target, count, seed_arg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps({"seconds": _seed(Path(target), count, seed_arg)}))
