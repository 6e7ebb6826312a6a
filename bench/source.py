"""Benchmarking a committed revision instead of the working tree.

Other work lands in the tree while a run takes minutes; ``--rev HEAD`` measures one
fixed commit. It is exported (``git archive``) into the cache with the package
layout the installed wheel has (screens/, store/ and keymaps/ inside dispatch_tui/),
and put first on the import path of this process and of every probe it starts.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Top-level folders that install inside the package (pyproject's package-dir).
MAPPED = {"screens": "screens", "store": "store", "keymaps": "keymaps"}

#: The exported tree in use, or None for the working tree.
active: Path | None = None


def export(rev: str, cache: Path) -> tuple[Path, str]:
    sha = subprocess.run(
        ["git", "rev-parse", "--short=12", rev],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    target = cache / f"src-{sha}"
    if not (target / "dispatch_tui").is_dir():
        archive = subprocess.run(
            ["git", "archive", "--format=tar", sha, "dispatch_tui", *MAPPED],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
        for inside, top in MAPPED.items():
            link = target / "dispatch_tui" / inside
            if not link.exists():
                link.symlink_to(Path("..") / top)
    return target, sha


def use(tree: Path) -> None:
    """Make ``tree`` win over the working tree here and in every child process."""
    global active
    active = tree
    sys.path.insert(0, str(tree))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(tree), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )


def child_cwd() -> Path | None:
    # The working directory comes first on a child's path; the repository root
    # would shadow the exported tree.
    return active
