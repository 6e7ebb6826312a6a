"""The store, the rules and the services are the data layer: the CLI and scripts use them
without a terminal UI, so they must never pull in Textual or the screens."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

LAYERS = ["dispatch_tui.store", "dispatch_tui.rules", "dispatch_tui.services"]


def test_data_layer_never_imports_textual() -> None:
    present = [name for name in LAYERS if importlib.util.find_spec(name) is not None]
    assert "dispatch_tui.store" in present
    # Import every module of each layer, not just its __init__, in a clean interpreter.
    script = "\n".join(
        [
            "import importlib, pkgutil, sys",
            f"for name in {present!r}:",
            "    package = importlib.import_module(name)",
            "    for info in pkgutil.walk_packages(package.__path__, prefix=name + '.'):",
            "        importlib.import_module(info.name)",
            "bad = sorted(m for m in sys.modules",
            "             if m.split('.')[0] == 'textual' or m.startswith('dispatch_tui.screens'))",
            "assert not bad, bad",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
