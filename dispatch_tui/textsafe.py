"""Making client-supplied text safe to put on a terminal.

Summaries, notes and names arrive from e-mail, portals and monitoring tools. A raw
ESC or other control character in them could move the cursor, recolour the screen
or retitle the terminal, so every screen passes such text through ``plain`` before
rendering it (and renders it with markup off).
"""

from __future__ import annotations

import re

#: What a neutralised control character looks like on screen.
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"

# C0 controls except tab and newline, DEL, and the C1 range (0x80-0x9f, which
# some terminals treat like ESC sequences, e.g. 0x9b as CSI).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters that reorder or hide text (bidi overrides, zero-width joiners aside):
# they let a summary look different from what it says.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def plain(value: str | None) -> str:
    """``value`` with every control character replaced by U+FFFD; ``None`` becomes ""."""
    if not value:
        return ""
    return _BIDI.sub(REPLACEMENT, _CONTROL.sub(REPLACEMENT, value))


def one_line(value: str | None) -> str:
    """``plain`` folded onto one line, for table cells and headers."""
    return " ".join(plain(value).split())
