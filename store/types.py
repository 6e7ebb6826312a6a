"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores an aware datetime as naive UTC; reads it back as aware UTC.

    SQLite has no time zone type, so every time in the file is UTC by convention
    (docs/schema.md says so); this type makes the convention impossible to break
    from Python: a naive datetime is refused rather than guessed at.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)

    def result_processor(self, dialect, coltype):
        # process_result_value after the driver type's own conversion, as TypeDecorator
        # does, with one fast path: SQLite's stored text in the exact form SQLAlchemy
        # writes ("YYYY-MM-DD HH:MM:SS.ffffff") is parsed straight to an aware time.
        # Its parse plus ``replace(tzinfo=...)`` (a slow keyword call) cost about five
        # times as much, and a Dispatch refresh converts over a thousand values (200
        # rows, seven time columns). Anything else takes the general path unchanged.
        impl = self.impl_instance.result_processor(dialect, coltype)
        general = self.process_result_value
        parse = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if type(value) is str and len(value) == 26 and value[10] == " ":
                return parse(value + "+00:00")
            return general(impl(value) if impl is not None else value, dialect)

        return process


def utcnow() -> datetime:
    return datetime.now(UTC)
