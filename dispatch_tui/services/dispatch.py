"""Dispatch: giving triaged work to technicians, in order, behind the triage gate.

Every dispatching verb counts the ``new`` tickets inside its own write
transaction, after ``BEGIN IMMEDIATE`` has taken the file's write lock. No other
dispatcher can commit a new ticket between that count and the assignment, so a
ticket recorded one second earlier closes the gate for this assignment too;
what a screen showed a moment ago is never trusted.

The gate guards giving work out: ``assign_ticket``, ``assign_many`` and ``reassign``.
``unassign_ticket`` is deliberately NOT behind it: taking work off a technician
(they are off sick, the client cancelled) puts nothing in front of a new ticket and
only returns the ticket to the board, where the gate guards it again. Refusing it
would leave a dispatcher unable to fix a wrong assignment during a morning burst.

``assign_many`` is one transaction with one gate check: either every marked ticket
goes to the technician, in the order given, or none does.

Inside the lock the verbs read and write with prebuilt Core statements: the ticket
row, the technician and the version-checked UPDATE (store/writes.py), the gate count
(store/queries.py), the queue end and the audit INSERT. Nothing else, so they run on
``Database.write_core()``'s Core connection, without an ORM session. The Ticket they
return is built from those values after the commit, outside the lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, func, select

from dispatch_tui.errors import GateClosed, InvalidInput, NotFound
from dispatch_tui.rules import gate
from dispatch_tui.services import audit
from dispatch_tui.services.conflicts import stale_guard, ticket_row_at
from dispatch_tui.services.desk import Desk
from dispatch_tui.store import queries, writes
from dispatch_tui.store.core import Executor, connection_for
from dispatch_tui.store.models import OPEN_STATUSES, Status, Ticket
from dispatch_tui.store.types import utcnow

SNAPSHOT = ("status", "assigned_tech_id", "queue_position")

#: Statuses in which a ticket already has a technician and can be handed to another.
REASSIGNABLE = (
    Status.ASSIGNED.value,
    Status.IN_PROGRESS.value,
    Status.WAITING_CLIENT.value,
    Status.WAITING_VENDOR.value,
    Status.ON_HOLD.value,
)

#: Statuses that pass back to ``assigned`` on reassignment: the new technician has
#: not started yet. Waiting and on-hold tickets keep their status (the wait goes on).
RESTART_ON_REASSIGN = (Status.IN_PROGRESS.value,)


def gate_state(desk: Desk) -> gate.GateState:
    """The gate as it is now, for banners; dispatching verbs check it again themselves."""
    with desk.db.read() as tx:
        return gate.check(queries.count_untriaged(tx))


def _require_gate_open(tx: Executor) -> None:
    # In the caller's write transaction, after the lock: see the module docstring.
    state = gate.check(queries.count_untriaged(tx))
    if not state.open:
        raise GateClosed(state.untriaged)


def assign_ticket(
    desk: Desk,
    ticket_id: int,
    tech: str | int,
    *,
    expect_version: int | None = None,
    reason: str | None = None,
) -> Ticket:
    """Give a triaged ticket to a technician, at the end of their queue."""
    with stale_guard(desk, ticket_id, expect_version), desk.db.write_core() as tx:
        _require_gate_open(tx)
        row = ticket_row_at(tx, ticket_id, expect_version)
        _check_assignable(row)
        technician = _active_tech(tx, tech)
        values = _give(tx, desk, row, technician, Status.ASSIGNED.value)
        _record(tx, desk, "ticket.assign", row, values, f"to {technician.name}", reason)
    return _saved(row, values)


#: Tickets one bulk assignment may name; a screen marks a handful, never thousands.
MAX_BULK = 200


def assign_many(
    desk: Desk,
    ticket_ids: list[int],
    tech: str | int,
    *,
    expect_versions: dict[int, int] | None = None,
    reason: str | None = None,
) -> list[Ticket]:
    """Give several triaged tickets to one technician, in the order given, in ONE
    transaction behind ONE gate check: all are assigned or none is."""
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        raise InvalidInput("mark at least one ticket to assign")
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"assign at most {MAX_BULK} tickets at once")
    versions = expect_versions or {}
    done: list[tuple[Row[Any], dict[str, Any]]] = []
    with stale_guard(desk, ids[0], versions.get(ids[0])), desk.db.write_core() as tx:
        _require_gate_open(tx)
        technician = _active_tech(tx, tech)
        for ticket_id in ids:
            row = ticket_row_at(tx, ticket_id, versions.get(ticket_id))
            _check_assignable(row)
            values = _give(tx, desk, row, technician, Status.ASSIGNED.value)
            detail = f"to {technician.name} (bulk, {len(ids)} tickets)"
            _record(tx, desk, "ticket.assign", row, values, detail, reason)
            done.append((row, values))
    return [_saved(row, values) for row, values in done]


def _check_assignable(ticket: Row[Any]) -> None:
    if ticket.status == Status.ASSIGNED.value or ticket.assigned_tech_id is not None:
        raise InvalidInput(
            f"ticket #{ticket.id} already has a technician; reassign it, with a reason"
        )
    if ticket.status != Status.TRIAGED.value:
        raise InvalidInput(
            f"ticket #{ticket.id} is {ticket.status}; only triaged tickets can be assigned"
        )


def reassign(
    desk: Desk,
    ticket_id: int,
    tech: str | int,
    *,
    reason: str,
    expect_version: int | None = None,
) -> Ticket:
    """Move a ticket to another technician. The reason is kept: reassignment is how
    knowledge silos and cherry-picking show up, and the service manager asks why."""
    if not (reason or "").strip():
        raise InvalidInput("reassigning needs a reason")
    with stale_guard(desk, ticket_id, expect_version), desk.db.write_core() as tx:
        _require_gate_open(tx)
        row = ticket_row_at(tx, ticket_id, expect_version)
        if row.status not in REASSIGNABLE or row.assigned_tech_id is None:
            raise InvalidInput(
                f"ticket #{ticket_id} is {row.status} with no technician; assign it instead"
            )
        technician = _active_tech(tx, tech)
        if technician.id == row.assigned_tech_id:
            raise InvalidInput(f"ticket #{ticket_id} is already with {technician.name}")
        previous = writes.technician_row(tx, row.assigned_tech_id)
        status = Status.ASSIGNED.value if row.status in RESTART_ON_REASSIGN else row.status
        values = _give(tx, desk, row, technician, status)
        origin = previous.name if previous else f"technician #{row.assigned_tech_id}"
        _record(
            tx,
            desk,
            "ticket.reassign",
            row,
            values,
            f"from {origin} to {technician.name}",
            reason,
        )
    return _saved(row, values)


def unassign_ticket(
    desk: Desk,
    ticket_id: int,
    *,
    expect_version: int | None = None,
    reason: str | None = None,
) -> Ticket:
    """Take an assigned ticket back to the dispatch board (status triaged, no technician).

    Allowed while the gate is closed (see the module docstring)."""
    with stale_guard(desk, ticket_id, expect_version), desk.db.write_core() as tx:
        row = ticket_row_at(tx, ticket_id, expect_version)
        if row.status != Status.ASSIGNED.value:
            raise InvalidInput(
                f"ticket #{ticket_id} is {row.status}; only assigned tickets not yet "
                "started can be unassigned"
            )
        previous = writes.technician_row(tx, row.assigned_tech_id or 0)
        values = _write(
            tx,
            desk,
            row,
            {"status": Status.TRIAGED.value, "assigned_tech_id": None, "queue_position": None},
        )
        name = previous.name if previous else "?"
        _record(tx, desk, "ticket.unassign", row, values, f"from {name}", reason)
    return _saved(row, values)


# -- helpers ------------------------------------------------------------------------------


def _active_tech(tx: Executor, tech: str | int) -> Row[Any]:
    found = writes.find_technician_row(tx, str(tech).strip())
    if found is None:
        raise NotFound(f"no technician {tech!r}")
    if not found.active:
        raise InvalidInput(f"{found.name} is inactive; choose an active technician")
    return found


_QUEUE_END = select(func.max(Ticket.queue_position)).where(
    Ticket.assigned_tech_id == bindparam("b_tech"),
    Ticket.status.in_([s.value for s in OPEN_STATUSES]),  # type: ignore[attr-defined]
)


def next_queue_position(tx: Executor, tech_id: int) -> int:
    """One past the last open ticket in the technician's queue: new work goes to the end."""
    last = connection_for(tx).execute(_QUEUE_END, {"b_tech": tech_id}).scalar()
    return (last or 0) + 1


def _give(tx: Executor, desk: Desk, row: Row[Any], tech: Row[Any], status: str) -> dict[str, Any]:
    values = {
        "queue_position": next_queue_position(tx, tech.id),
        "assigned_tech_id": tech.id,
        "status": status,
    }
    return _write(tx, desk, row, values)


def _write(tx: Executor, desk: Desk, row: Row[Any], values: dict[str, Any]) -> dict[str, Any]:
    """The version-checked UPDATE; returns every value written, the new version too."""
    values = values | {"updated_at": utcnow(), "updated_by": desk.actor}
    version = writes.update_versioned(tx, writes.TICKET, row.id, row.version, values)
    return values | {"version": version}


def _saved(row: Row[Any], values: dict[str, Any]) -> Ticket:
    """The ticket as committed, a detached Ticket like the ORM used to hand back."""
    return Ticket(**(dict(row._mapping) | values))


def _record(
    tx: Executor,
    desk: Desk,
    action: str,
    row: Row[Any],
    values: dict[str, Any],
    detail: str,
    reason: str | None,
) -> None:
    before = audit.snapshot(row, SNAPSHOT)
    after = before | {k: audit.snapshot_value(values[k]) for k in SNAPSHOT if k in values}
    if reason and reason.strip():
        detail += f": {reason.strip()}"
    audit.record(tx, desk.actor, action, "ticket", row.id, detail, before=before, after=after)
