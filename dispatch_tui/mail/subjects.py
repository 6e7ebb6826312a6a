"""Reading subjects: ticket tags like ``[#123]``, reply prefixes, and likeness.

Pure functions, so the threading and duplicate rules are tested without a database.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

#: ``[#123]`` anywhere in the subject; our outgoing replies carry it and clients keep it.
_TAG = re.compile(r"\[#(\d{1,12})\]")
#: Reply and forward prefixes in the languages clients write in, repeated or numbered.
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|tr|rif|antw|odp|vl)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+",
    re.IGNORECASE,
)
_BLANKS = re.compile(r"[ \t\r\n]+")
#: How alike two normalised subjects must be to flag a possible duplicate.
SIMILAR = 0.85

NO_SUBJECT = "(no subject)"
ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"


def ticket_tag(subject: str) -> int | None:
    """The ticket number a reply is tagged with, or None."""
    match = _TAG.search(subject)
    return int(match.group(1)) if match else None


def normalise(subject: str) -> str:
    """The subject without tags, reply prefixes, case or spacing differences."""
    text = _TAG.sub(" ", subject)
    text = _PREFIX.sub("", text)
    return " ".join(text.lower().split())


def similar(a: str, b: str) -> bool:
    """Do two subjects likely describe the same request?"""
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return False
    return na == nb or SequenceMatcher(None, na, nb).ratio() >= SIMILAR


def summary_line(subject: str, limit: int) -> tuple[str, bool]:
    """The subject folded onto one line and cut to ``limit`` characters at a word break.

    Returns the summary and whether it was shortened (the caller then keeps the
    whole subject in the description, so nothing the client wrote is lost).
    """
    # Only real line breaks and blanks fold: any other control character the client
    # sent is kept as received (screens neutralise it when they draw it).
    line = _BLANKS.sub(" ", subject).strip(" ") or NO_SUBJECT
    if len(line) <= limit:
        return line, False
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS, True
