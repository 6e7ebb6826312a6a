"""Facts about the machine a table was measured on, for the header line."""

from __future__ import annotations

import os
import platform
import sqlite3
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def facts() -> dict[str, object]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "textual": metadata.version("textual"),
        "sqlite": sqlite3.sqlite_version,
        "os": f"{platform.system()} {platform.release()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # A busy machine makes absolute numbers noisy; the ratios hold up better.
        "load_average": load_average(),
    }


def header_line(info: dict[str, object]) -> str:
    load = info.get("load_average")
    load_text = f", load {load[0]:.2f}" if isinstance(load, tuple) else ""
    return (
        f"{info['cpu']}, {info['cores']} cores, Python {info['python']}, "
        f"textual {info['textual']}, SQLite {info['sqlite']}, {info['os']}, "
        f"{info['date']}{load_text}"
    )
