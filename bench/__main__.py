"""``python -m bench``: measure dispatch-tui against its floor and its targets (issue 9).

Run from the repository root. ``--quick`` is the smoke-test size (1k only, few
repetitions); the default covers 1k and 100k in a few minutes on 2 cores; ``--huge``
adds 1M (seeding it takes minutes the first time; files are cached in .bench-cache/).
Progress goes to stderr; stdout holds the table, or the JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import dbs, keys, machine, memory, queries, report, shared, source, startup

SECTIONS = ("seeding", "startup", "keys", "queries", "shared", "memory")


@dataclass(frozen=True)
class Plan:
    sizes: list[str]
    startup_runs: int
    key_rounds: int
    key_presses: int
    query_reps: int
    query_budget_s: float
    writers: int
    writes: int
    shared_rounds: int
    memory_runs: int


def plan(args: argparse.Namespace) -> Plan:
    if args.quick:
        return Plan(["1k"], 1, 1, 4, 10, 0.2, 2, 10, 1, 1)
    sizes = ["1k", "100k", *(["1M"] if args.huge else [])]
    return Plan(sizes, args.runs, 3, 30, 100, 3.0, 3, 100, 3, 3)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def guarded(what: str, measure: Callable[[], Any]) -> Any:
    """A crashed probe (the app is being built around us) is a row, not a lost run."""
    try:
        return measure()
    except Exception as exc:
        say(f"{what} failed: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}


def run(args: argparse.Namespace) -> dict[str, Any]:
    p = plan(args)
    revision = "working tree"
    if args.rev:
        tree, revision = source.export(args.rev, dbs.CACHE)
        source.use(tree)
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    # One folder per run: two benches sharing a cache (BENCH_CACHE) must neither
    # measure each other's working copies nor delete them when the first one ends.
    work = dbs.CACHE / f"work-{os.getpid()}"
    results: dict[str, Any] = {
        "machine": machine.facts(),
        "revision": revision,
        "quick": args.quick,
    }
    results.update({name: {} for name in SECTIONS if name in only and name != "shared"})
    built: dict[str, dbs.BenchDb] = {}
    try:
        for size in p.sizes:
            say(f"{size}: database")
            db = dbs.ensure(size, reseed=args.reseed)
            built[size] = db
            if "seeding" in only:
                results["seeding"][size] = {
                    "seconds": db.seed_seconds,
                    "fresh": db.fresh,
                    "seeded_at": db.seeded_at,
                }
            # The app may write (claims, settings): it runs on a copy, never the cache.
            copy = dbs.working_copy(db, work, "app")
            if "startup" in only:
                say(f"{size}: start-up, {p.startup_runs} runs per side")
                results["startup"][size] = guarded(
                    "start-up",
                    lambda c=copy: startup.measure(
                        c, p.startup_runs, warm_up=not args.quick
                    ).summary(),
                )
            if "keys" in only:
                say(f"{size}: keys, {p.key_rounds} rounds x {p.key_presses} presses")
                results["keys"][size] = guarded(
                    "keys",
                    lambda c=copy: keys.measure(c, p.key_rounds, p.key_presses).summary(),
                )
            if "queries" in only:
                say(f"{size}: queries")
                results["queries"][size] = guarded(
                    "queries",
                    lambda c=copy: {
                        r.name: r.summary()
                        for r in queries.measure(c, p.query_reps, p.query_budget_s)
                    },
                )
            if "memory" in only:
                say(f"{size}: memory")
                results["memory"][size] = guarded(
                    "memory", lambda c=copy: memory.measure(c, p.memory_runs)
                )
            copy.unlink(missing_ok=True)
        if "shared" in only:
            # The largest file of the run: index depth is part of a write's cost.
            size = p.sizes[-1] if p.sizes[-1] != "1M" else "100k"
            say(f"shared file on {size}: {p.writers} writers x {p.writes}")
            results["shared"] = guarded(
                "shared file",
                lambda: shared.measure(
                    built[size].path, work, p.writers, p.writes, p.shared_rounds
                ).summary(),
            )
            results["shared"]["size"] = size
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["rows"] = [vars(r) for r in report.rows(results)]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1k only, few repetitions")
    parser.add_argument("--huge", action="store_true", help="also the 1M-ticket database")
    parser.add_argument("--reseed", action="store_true", help="rebuild the cached databases")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--runs", type=int, default=7, help="start-up runs per side")
    parser.add_argument("--rev", help="measure this commit (e.g. HEAD), not the working tree")
    parser.add_argument("--only", help=f"comma-separated subset of: {','.join(SECTIONS)}")
    args = parser.parse_args(argv)
    results = run(args)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        print(f"{machine.header_line(results['machine'])}, {results['revision']}")
        print(report.table([report.Row(**r) for r in results["rows"]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
