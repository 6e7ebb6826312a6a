"""The table: each measurement beside its target, PASS or MISS, and the JSON behind it.

A target set for one size (start-up at 100k, memory at 1M) is still checked at the
other sizes, shown in lower case in brackets: indicative only, the verdict is
the one at the size the issue names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Row:
    section: str
    item: str
    size: str
    measured: str
    target: str
    status: str


def verdict(ok: bool, applies: bool) -> str:
    if applies:
        return "PASS" if ok else "MISS"
    return "(pass)" if ok else "(miss)"


def num(value: float, fmt: str = "{:.2f}") -> str:
    return (
        "—"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else fmt.format(value)
    )


@dataclass(frozen=True)
class Target:
    text: str
    check: Callable[[float], bool]
    #: Sizes at which the verdict counts; elsewhere it is indicative.
    sizes: tuple[str, ...]

    def status(self, value: float, size: str) -> str:
        if value is None or math.isnan(value):
            return "n/a"
        return verdict(self.check(value), size in self.sizes or size == "-")


SEEDING = Target("100k ≤ 20 s", lambda s: s <= 20, ("100k",))
STARTUP = {
    "1M": Target("≤ 1.5x", lambda r: r <= 1.5, ("1M",)),
    "default": Target("≤ 1.3x at 100k", lambda r: r <= 1.3, ("100k",)),
}
KEYS = Target("≤ 1.2x p50 and p95", lambda r: r <= 1.2, ("100k",))
QUERY = Target("p95 ≤ 5 ms", lambda ms: ms <= 5, ("1k", "100k", "1M"))
SHARED = Target("≥ 80% of raw, 0 lost, 0 errors", lambda r: r >= 0.8, ("-",))
MEMORY = Target("≤ 150 MB at 1M", lambda mb: mb <= 150, ("1M",))


def rows(results: dict) -> list[Row]:
    out: list[Row] = []
    for size, seed in results.get("seeding", {}).items():
        note = "" if seed["fresh"] else f" (seeded {seed['seeded_at']})"
        out.append(
            Row(
                "Seeding",
                "demo generate",
                size,
                f"{seed['seconds']:.1f} s{note}",
                SEEDING.text,
                SEEDING.status(seed["seconds"], size),
            )
        )
    for size, start in results.get("startup", {}).items():
        target = STARTUP.get(size, STARTUP["default"])
        if "error" in start:
            out.append(Row("Start-up", "first screen", size, start["error"], target.text, "ERROR"))
            continue
        measured = (
            f"{start['ratio']:.2f}x ({start['app_median_s']:.2f} vs "
            f"{start['empty_median_s']:.2f} s, n={start['runs']})"
        )
        out.append(
            Row(
                "Start-up",
                "first screen",
                size,
                measured,
                target.text,
                target.status(start["ratio"], size),
            )
        )
    for size, keys in results.get("keys", {}).items():
        if "error" in keys:
            out.append(Row("Keys", "all", size, keys["error"], KEYS.text, "ERROR"))
            continue
        for label, k in keys.items():
            if "skipped" in k:
                out.append(Row("Keys", label, size, k["skipped"], KEYS.text, "n/a"))
                continue
            worst = max(k["p50_ratio"], k["p95_ratio"])
            measured = (
                f"{num(k['p50_ratio'])}x / {num(k['p95_ratio'])}x "
                f"({k['app_p50_ms']:.1f}/{k['app_p95_ms']:.1f} vs "
                f"{k['empty_p50_ms']:.1f}/{k['empty_p95_ms']:.1f} ms)"
            )
            out.append(Row("Keys", label, size, measured, KEYS.text, KEYS.status(worst, size)))
    for size, queries in results.get("queries", {}).items():
        if "error" in queries:
            out.append(Row("Queries", "all", size, queries["error"], QUERY.text, "ERROR"))
            continue
        for name, q in queries.items():
            if "skipped" in q:
                status = "n/a" if q["skipped"] == "not built yet" else "ERROR"
                out.append(Row("Queries", name, size, q["skipped"], QUERY.text, status))
                continue
            measured = f"{q['p50_ms']:.1f} / {q['p95_ms']:.1f} ms (p50/p95)"
            out.append(
                Row("Queries", name, size, measured, QUERY.text, QUERY.status(q["p95_ms"], size))
            )
    shared = results.get("shared")
    if shared and "error" in shared:
        out.append(
            Row(
                "Shared file",
                "writers",
                shared.get("size", "-"),
                shared["error"],
                SHARED.text,
                "ERROR",
            )
        )
    elif shared:
        clean = shared["lost_updates"] == 0 and shared["errors"] == 0
        measured = (
            f"{100 * shared['ratio']:.0f}% ({shared['app_tx_per_s']:.0f} vs "
            f"{shared['raw_tx_per_s']:.0f} tx/s), lost {shared['lost_updates']}, "
            f"errors {shared['errors']}, wait {shared['app_mean_lock_wait_ms']:.0f} vs "
            f"{shared['raw_mean_lock_wait_ms']:.0f} ms"
        )
        status = SHARED.status(shared["ratio"], "-") if clean else "MISS"
        item = f"{shared['processes']} writers x {shared['transactions_per_process']}"
        out.append(Row("Shared file", item, shared["size"], measured, SHARED.text, status))
    for size, mem in results.get("memory", {}).items():
        if "error" in mem:
            out.append(Row("Memory", "peak RSS", size, mem["error"], MEMORY.text, "ERROR"))
            continue
        out.append(
            Row(
                "Memory",
                "peak RSS, F2-F6",
                size,
                f"{mem['peak_mb']:.0f} MB",
                MEMORY.text,
                MEMORY.status(mem["peak_mb"], size),
            )
        )
    return out


def table(found: list[Row]) -> str:
    header = Row("section", "item", "size", "measured", "target", "status")
    every = [header, *found]
    widths = [max(len(getattr(r, f)) for r in every) for f in asdict(header)]

    def line(row: Row) -> str:
        cells = [getattr(row, f).ljust(w) for f, w in zip(asdict(header), widths, strict=True)]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in found)])
