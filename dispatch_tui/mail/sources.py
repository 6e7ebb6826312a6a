"""Where mail comes from: one .eml file, a folder of them, an mbox file or a Maildir.

Each source yields ``MailItem``s that read their bytes only when asked, so a large
mbox is never held in memory and one unreadable file costs only itself.
"""

from __future__ import annotations

import mailbox
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import Path

from dispatch_tui.errors import InvalidInput


class SourceKind(StrEnum):
    EML = "eml"
    FOLDER = "folder"
    MBOX = "mbox"
    MAILDIR = "maildir"
    CSV = "csv"


#: Kinds that can grow while we watch them; a single file or an mbox is read once.
WATCHABLE = (SourceKind.FOLDER, SourceKind.MAILDIR)


@dataclass(frozen=True)
class MailItem:
    """One message in a source, not yet read."""

    #: Stable identity within the source (file name, mbox position or Maildir key).
    key: str
    #: How the dispatcher finds it again: a file path, or "mbox message 7".
    label: str
    _read: Callable[[], bytes] = field(repr=False, compare=False)
    #: The file it lives in, when it is a file of its own (an .eml).
    path: Path | None = None

    def read(self) -> bytes:
        return self._read()


def is_maildir(path: Path) -> bool:
    return all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def detect_kind(path: Path) -> SourceKind:
    """What ``path`` holds; raises ``InvalidInput`` when it is missing or unreadable."""
    if not path.exists():
        raise InvalidInput(f"{path} does not exist")
    if not os.access(path, os.R_OK):
        raise InvalidInput(f"{path} cannot be read (permission denied)")
    if path.is_dir():
        return SourceKind.MAILDIR if is_maildir(path) else SourceKind.FOLDER
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return SourceKind.CSV
    if suffix in (".mbox", ".mbx"):
        return SourceKind.MBOX
    try:
        with path.open("rb") as fh:
            head = fh.read(5)
    except OSError as exc:
        raise InvalidInput(f"{path} cannot be read ({exc.strerror or exc})") from None
    # An mbox starts with its first envelope line; an .eml starts with a header.
    return SourceKind.MBOX if head == b"From " else SourceKind.EML


def iter_items(path: Path, kind: SourceKind) -> Iterator[MailItem]:
    if kind is SourceKind.EML:
        yield MailItem(path.name, str(path), path.read_bytes, path)
    elif kind is SourceKind.FOLDER:
        yield from eml_files(path)
    elif kind is SourceKind.MBOX:
        yield from _mbox_items(path)
    elif kind is SourceKind.MAILDIR:
        yield from maildir_items(path)
    else:
        raise InvalidInput(f"{path} is a {kind.value} file, not mail")


def eml_files(folder: Path) -> Iterator[MailItem]:
    """The folder's ``*.eml`` files in name order (not its sub-folders)."""
    names = sorted(e.name for e in os.scandir(folder) if e.name.lower().endswith(".eml"))
    for name in names:
        file = folder / name
        yield MailItem(name, str(file), file.read_bytes, file)


def _mbox_items(path: Path) -> Iterator[MailItem]:
    try:
        box = mailbox.mbox(path, factory=None, create=False)
        keys = list(box.iterkeys())  # only offsets: the messages stay on disk
    except (OSError, mailbox.Error) as exc:
        raise InvalidInput(f"{path} cannot be read as an mbox ({exc})") from None
    for number, key in enumerate(keys, start=1):
        yield MailItem(str(key), f"{path} message {number}", partial(box.get_bytes, key))


def maildir_items(path: Path) -> Iterator[MailItem]:
    """A Maildir's messages in new/ and cur/. Read only: nothing is moved or flagged."""
    try:
        box = mailbox.Maildir(path, factory=None, create=False)
        keys = sorted(box.iterkeys(), key=delivery_order)
    except (OSError, mailbox.Error) as exc:
        raise InvalidInput(f"{path} cannot be read as a Maildir ({exc})") from None
    for key in keys:
        yield MailItem(key, f"{path} message {key}", partial(box.get_bytes, key))


def delivery_order(key: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key for a Maildir unique name, so messages import in the order they came.

    Names lead with the delivery second, then the microsecond and a counter
    (``1700000000.M99999P412Q9.host``, Dovecot's ``1700000000.M20046P2137.host``),
    none of them zero-padded: as text, ``M99999`` sorts after ``M123456`` and ``Q10``
    before ``Q9``, so a plain sort mixed up messages delivered in the same second.
    Digit runs compare as numbers here (no file is opened or stat'ed, which would
    cost a round trip per message on a network share).
    """
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", key) if part
    )
