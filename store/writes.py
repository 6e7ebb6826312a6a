"""Version-checked row writes as SQLAlchemy Core statements, for the hot write paths.

Triage and assignment run inside the file's write lock (``Database.write()``: BEGIN
IMMEDIATE on SQLite, an advisory lock on PostgreSQL), so every microsecond of Python
between reading the ticket and committing is a microsecond no other dispatcher can
save. The ORM's ``session.get`` and unit-of-work flush cost about 1 ms per ticket
there (bench/shared.py); these statements send the same SQL for a fraction of that:

- ``ticket_row`` reads the whole ticket row, as the ORM did (services check its
  status and version and build their audit snapshot from it);
- ``update_versioned`` is the optimistic check the ORM's ``version_id_col`` made:
  ``UPDATE ... SET ..., version = :old + 1 WHERE id = :id AND version = :old``, and
  no row matched means someone else changed it: ``StaleRecord``, nothing saved.

Statements are built once (per set of columns) and run on the session's own
connection, so they share its transaction with any ORM work around them. Building a
statement costs more than running it here; SQLAlchemy caches the compiled form.
Portable Core only: the same code runs on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, Table, bindparam, func, select, update

from dispatch_tui.store.core import Executor, connection_for, execute_write
from dispatch_tui.store.errors import StaleRecord
from dispatch_tui.store.models import Technician, Ticket

TICKET: Table = Ticket.__table__  # type: ignore[attr-defined]
TECHNICIAN: Table = Technician.__table__  # type: ignore[attr-defined]

_TICKET_ROW = select(TICKET).where(TICKET.c.id == bindparam("b_id"))
_TECH_BY_ID = select(TECHNICIAN).where(TECHNICIAN.c.id == bindparam("b_id"))
_TECH_BY_NAME = select(TECHNICIAN).where(func.lower(TECHNICIAN.c.name) == bindparam("b_name"))

#: One UPDATE per (table, columns set): a service writes a handful of shapes.
_UPDATES: dict[tuple[str, tuple[str, ...]], Any] = {}


def ticket_row(session: Executor, ticket_id: int) -> Row[Any] | None:
    """The ticket's whole row (attribute access like a Ticket), or None."""
    return connection_for(session).execute(_TICKET_ROW, {"b_id": ticket_id}).first()


def technician_row(session: Executor, tech_id: int) -> Row[Any] | None:
    return connection_for(session).execute(_TECH_BY_ID, {"b_id": tech_id}).first()


def find_technician_row(session: Executor, name_or_id: str) -> Row[Any] | None:
    """A technician by id (digits) or by name, any case: queries.find_technician's rule."""
    if name_or_id.isdigit():
        found = technician_row(session, int(name_or_id))
        if found is not None:
            return found
    return connection_for(session).execute(_TECH_BY_NAME, {"b_name": name_or_id.lower()}).first()


def _update_for(table: Table, names: tuple[str, ...]) -> Any:
    key = (table.name, names)
    stmt = _UPDATES.get(key)
    if stmt is None:
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
            .values(
                {name: bindparam(f"v_{name}") for name in names} | {"version": table.c.version + 1}
            )
        )
        _UPDATES[key] = stmt
    return stmt


def update_versioned(
    session: Executor, table: Table, row_id: int, version: int, values: Mapping[str, Any]
) -> int:
    """Write ``values`` to the row if it is still at ``version``; return its new version.

    Raises StaleRecord when no row matched: changed (or deleted) since it was read.
    """
    names = tuple(sorted(values))
    params = {f"v_{name}": values[name] for name in names}
    params["b_id"], params["b_version"] = row_id, version
    if execute_write(session, _update_for(table, names), params) != 1:
        raise StaleRecord(
            f"a {table.name} record was changed by someone else since you read it; "
            "nothing was saved. Reload it and apply your edit again"
        )
    return version + 1
