"""Keys: the time from a key press to the painted result, app against the floor.

Scenarios are the dispatcher's commonest keys: move the cursor in the triage and
dispatch queues, open the ticket under it, and set a field in the triage panel.
The floor is the same key on a bare ``DataTable`` with as many rows (the app's row
counts are learnt from its first run). App and empty-app children alternate by
round; each press is timed from posting the key to the frame painted, with any
workers the key started finished (see ``bench.headless``).

Run as ``python -m bench.keys app DB PRESSES`` or
``python -m bench.keys empty ROWS_JSON PRESSES``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import child
from bench.stats import median, p95, ratio

if TYPE_CHECKING:
    from textual.app import App

#: (section, name, what the key does). The key itself is found at run time.
SCENARIOS = [
    ("triage", "cursor down", "down"),
    ("triage", "open ticket", "open"),
    ("triage", "set field", "field"),
    ("dispatch", "cursor down", "down"),
    ("dispatch", "open ticket", "open"),
]

#: A binding whose id or action mentions one of these sets a triage field (issue 3:
#: "set impact/urgency/type with single keys").
FIELD_WORDS = ("impact", "urgency")


@dataclass
class KeyResult:
    app_ms: dict[str, list[float]] = field(default_factory=dict)
    empty_ms: dict[str, list[float]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for section, name, _ in SCENARIOS:
            label = f"{section}: {name}"
            if label in self.skipped or not self.app_ms.get(label):
                out[label] = {"skipped": self.skipped.get(label, "no samples")}
                continue
            app, empty = self.app_ms[label], self.empty_ms.get(label, [])
            out[label] = {
                "app_p50_ms": median(app),
                "app_p95_ms": p95(app),
                "empty_p50_ms": median(empty),
                "empty_p95_ms": p95(empty),
                "p50_ratio": ratio(median(app), median(empty)),
                "p95_ratio": ratio(p95(app), p95(empty)),
                "samples": len(app),
            }
        return out


def _child(args: list[str]) -> dict[str, Any]:
    return child.run("bench.keys", args)[0]


def measure(db: Path, rounds: int, presses: int) -> KeyResult:
    result = KeyResult()
    rows: dict[str, int] = {}
    for n in range(rounds):
        # The first round starts with the app: its table sizes shape the floor's tables.
        sides = ["app", "empty"] if n % 2 == 0 else ["empty", "app"]
        for side in sides:
            if side == "app":
                got = _child(["app", str(db), str(presses)])
                rows = rows or got["rows"]
                result.skipped.update(got["skipped"])
                into = result.app_ms
            else:
                got = _child(["empty", json.dumps(rows), str(presses)])
                into = result.empty_ms
            for label, samples in got["ms"].items():
                into.setdefault(label, []).extend(samples)
    return result


# -- child side ---------------------------------------------------------------------------


async def _timed(app: App[Any], key: str) -> float:
    from bench.headless import press

    started = time.perf_counter()
    await press(app, key)
    return (time.perf_counter() - started) * 1000


async def _run_scenario(app: App[Any], kind: str, keys: list[str], presses: int) -> list[float]:
    from textual.widgets import DataTable

    from bench.headless import press, settle

    home = app.screen
    queue = app.focused
    samples: list[float] = []
    for n in range(presses):
        table = app.focused
        at_end = isinstance(table, DataTable) and table.cursor_row >= table.row_count - 1
        if kind == "down" and at_end:
            # Back to the top, untimed, so "down" keeps moving. Moved directly, not by a
            # key: Textual's DataTable binds home to the leftmost column, so the floor's
            # table stayed on its last row and timed presses of "down" that did nothing
            # (24 of 30 per round on a 7-row queue), while the app's table moved.
            assert isinstance(table, DataTable)
            table.move_cursor(row=0)
            await settle(app)
        # Several keys (impact low/high) alternate, so each press really changes the field.
        samples.append(await _timed(app, keys[n % len(keys)]))
        if app.screen is not home:
            await press(app, "escape")  # close what "open" opened, untimed
        elif app.focused is not queue and queue is not None:
            # Opened in place (Triage moves the focus into its panel): back to the queue,
            # untimed, so that every timed press opens a ticket from the queue. Without
            # this, every press after the first was enter in a panel field.
            queue.focus()
            await settle(app)
    return samples


def _field_keys(app: App[Any]) -> list[str]:
    """The keys that set the first of FIELD_WORDS the screen has a binding for."""
    for word in FIELD_WORDS:
        found = [
            key
            for key, active in app.screen.active_bindings.items()
            if word in f"{active.binding.id or ''} {active.binding.action}".lower()
        ]
        if found:
            return found
    return []


async def _app_child(db: Path, presses: int) -> dict[str, Any]:
    from textual.widgets import DataTable

    from bench.desk_probe import running_desk, visit
    from bench.headless import press, settle

    ms: dict[str, list[float]] = {}
    skipped: dict[str, str] = {}
    rows: dict[str, int] = {}
    async with running_desk(db) as (app, _pilot, watch):
        for section, name, kind in SCENARIOS:
            label = f"{section}: {name}"
            await visit(app, watch, section)
            tables = list(app.screen.query(DataTable))
            if not tables:
                skipped[label] = f"no table on {section}"
                continue
            # The queue is the section's first table; a panel may have taken focus.
            table = next((t for t in tables if t.id == "queue"), tables[0])
            table.focus()
            await settle(app)
            rows[section] = table.row_count
            if table.row_count == 0:
                skipped[label] = f"the {section} queue is empty"
                continue
            chosen = {"down": ["down"], "open": ["enter"]}.get(kind) or _field_keys(app)
            if not chosen:
                # An opened ticket can leave a panel input holding the keys; escape is
                # the way back to the queue a dispatcher would use.
                await press(app, "escape")
                table.focus()
                await settle(app)
                chosen = _field_keys(app)
            if not chosen:
                skipped[label] = "not built yet (no impact/urgency key active on the queue)"
                continue
            ms[label] = await _run_scenario(app, kind, chosen, presses)
    return {"ms": ms, "skipped": skipped, "rows": rows}


async def _empty_child(rows: dict[str, int], presses: int) -> dict[str, Any]:
    from bench.empty_app import EmptyApp
    from bench.headless import settle

    ms: dict[str, list[float]] = {}
    for section in dict.fromkeys(s for s, _, _ in SCENARIOS):
        # One table per section, as long as the app's was.
        app = EmptyApp(rows=rows.get(section, 200) or 1)
        async with app.run_test(headless=True, size=(120, 40)):
            await settle(app)
            for scenario_section, name, kind in SCENARIOS:
                if scenario_section == section:
                    key = {"down": "down", "open": "enter", "field": "i"}[kind]
                    ms[f"{section}: {name}"] = await _run_scenario(app, kind, [key], presses)
    return {"ms": ms}


if __name__ == "__main__":
    count = int(sys.argv[3])
    if sys.argv[1] == "app":
        report = asyncio.run(_app_child(Path(sys.argv[2]), count))
    else:
        report = asyncio.run(_empty_child(json.loads(sys.argv[2]), count))
    print(json.dumps(report))
