"""What the Schedule screen tests share: a fixed "today" and the shop's zone.

The fixtures built on these (``schedule_shop``, ``pinned_schedule_today``) live in
conftest.py, so pytest finds them without an import that would shadow them.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

CHICAGO = ZoneInfo("America/Chicago")
#: A Tuesday far enough ahead that no booked call counts as "in the past".
TODAY = date(2030, 3, 12)
