"""The storage layer: SQLModel tables, engine setup, schema versions and read queries.

Nothing in here imports Textual, the screens or the services above it; a test checks that.
"""

from dispatch_tui.store.engine import Database
from dispatch_tui.store.errors import (
    DatabaseLocked,
    DatabaseUnusable,
    StaleRecord,
    StoreError,
)

__all__ = ["Database", "DatabaseLocked", "DatabaseUnusable", "StaleRecord", "StoreError"]
