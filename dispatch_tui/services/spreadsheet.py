"""Keeping client text safe in a spreadsheet without changing it.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel and
LibreOffice, so a client could make an exported summary run code on the
accountant's machine ("CSV injection"). Export puts one ``'`` in front of such a
cell (spreadsheets show it as text and hide the quote); import takes it off again.
The rule is reversible, so an exported file imports back exactly:
quotes already in front of a dangerous cell are counted, and only one is added.
"""

from __future__ import annotations

import re

_DANGEROUS = re.compile(r"^'*[=+\-@\t\r]")


def guard(value: str) -> str:
    return "'" + value if _DANGEROUS.match(value) else value


def unguard(value: str) -> str:
    return value[1:] if value.startswith("'") and _DANGEROUS.match(value) else value
