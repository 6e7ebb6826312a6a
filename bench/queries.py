"""Queries: p50/p95 of the service functions behind each screen, called directly.

The services grow while this benchmark exists, so each query names candidate
functions and the first one that exists is measured; a query with none is
reported as "not built yet" instead of failing the run. Arguments are filled by
parameter name (the desk, this week's dates or times); optional ones keep their
defaults, which are what the screens use.
"""

from __future__ import annotations

import importlib
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.stats import median, p95

#: query -> candidate "module:function" names, best first.
QUERIES: dict[str, list[str]] = {
    "triage queue": [
        # Everything the Triage screen reads at a showing, not the queue alone.
        "dispatch_tui.services.triage_board:triage_data",
        "dispatch_tui.services.views:triage_queue",
    ],
    # What the Dispatch screen's fetch runs: the board, gate, SLA order and roster.
    "dispatch queue": ["dispatch_tui.services.dispatch_board:dispatch_data"],
    "roster": [
        "dispatch_tui.services.roster:roster",
        "dispatch_tui.services.dispatch:roster",
        "dispatch_tui.services.views:roster",
        # Until the roster of issue 4 lands, the dispatch screen lists technicians.
        "dispatch_tui.services.technicians:list_technicians",
    ],
    "header counts": ["dispatch_tui.services.tickets:desk_counts"],
    "schedule week": [
        "dispatch_tui.services.schedule:board",
        "dispatch_tui.services.schedule:list_calls",
    ],
    "utilization week": ["dispatch_tui.services.timesheets:utilization_report"],
    "dashboard: SLA": ["dispatch_tui.services.reports:sla_report"],
    "dashboard: priority mix": ["dispatch_tui.services.reports:priority_distribution"],
    "dashboard: aging": ["dispatch_tui.services.reports:open_ticket_aging"],
    "dashboard: per technician": ["dispatch_tui.services.reports:open_tickets_per_technician"],
    "dashboard: health checks": ["dispatch_tui.services.health:run_checks"],
}


@dataclass(frozen=True)
class QueryResult:
    name: str
    function: str | None
    samples_ms: list[float]
    #: Why there are no samples: "not built yet" or the error the call raised.
    problem: str | None = None

    def summary(self) -> dict[str, Any]:
        if self.problem:
            return {"function": self.function, "skipped": self.problem}
        return {
            "function": self.function,
            "p50_ms": median(self.samples_ms),
            "p95_ms": p95(self.samples_ms),
            "samples": len(self.samples_ms),
        }


def resolve(candidates: list[str]) -> tuple[str, Callable[..., Any]] | None:
    for spec in candidates:
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        function = getattr(module, attr, None)
        if callable(function):
            return spec, function
    return None


def _week() -> dict[str, Any]:
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return {
        "first": monday,
        "last": monday + timedelta(days=6),
        "start": start,
        "end": start + timedelta(days=7),
    }


def arguments(function: Callable[..., Any], desk: Any) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments for ``function``, by parameter name."""
    known: dict[str, Any] = {"desk": desk, **_week()}
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in inspect.signature(function).parameters.values():
        if param.name in known and param.default is inspect.Parameter.empty:
            value = known[param.name]
            if param.kind is inspect.Parameter.KEYWORD_ONLY:
                kwargs[param.name] = value
            else:
                args.append(value)
        elif param.default is inspect.Parameter.empty and param.kind not in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            raise TypeError(f"needs an argument the bench cannot guess: {param.name}")
    return args, kwargs


def measure_one(
    name: str, candidates: list[str], desk: Any, reps: int, budget_s: float
) -> QueryResult:
    found = resolve(candidates)
    if found is None:
        return QueryResult(name, None, [], "not built yet")
    spec, function = found
    try:
        args, kwargs = arguments(function, desk)
        for _ in range(2):  # warm the page cache and SQLAlchemy's statement cache
            function(*args, **kwargs)
    except Exception as exc:
        return QueryResult(name, spec, [], f"error: {type(exc).__name__}: {exc}"[:160])
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    # At least a few samples even for a slow query, at most ``reps`` for a fast one.
    while len(samples) < reps and (len(samples) < 5 or time.perf_counter() < deadline):
        started = time.perf_counter()
        function(*args, **kwargs)
        samples.append((time.perf_counter() - started) * 1000)
    return QueryResult(name, spec, samples)


def measure(db_path: Path, reps: int, budget_s: float) -> list[QueryResult]:
    from dispatch_tui.services.desk import Desk
    from dispatch_tui.store import Database

    db = Database(db_path)
    try:
        desk = Desk(db, "bench")
        return [measure_one(name, c, desk, reps, budget_s) for name, c in QUERIES.items()]
    finally:
        db.dispose()
