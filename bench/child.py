"""Running a probe in a fresh interpreter and reading the one JSON line it prints."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from bench import source


class ChildFailed(RuntimeError):
    """A probe crashed; the message is the last line of its error output."""


def run(module: str, args: list[str], timeout: float = 600) -> tuple[dict[str, Any], float]:
    """The probe's JSON report, and the wall clock (``time.time()``) just before spawning."""
    spawned = time.time()
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=source.child_cwd(),
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        errors = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        last = errors[-1] if errors else f"exit status {done.returncode}"
        raise ChildFailed(f"{module} failed: {last}"[:200])
    return json.loads(lines[-1]), spawned
