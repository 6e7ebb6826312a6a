"""Core statements on the session's connection see the transaction's unflushed ORM work.

Without the flush in ``store.core.connection_for`` a ticket added in the same write
transaction would be invisible to the triage gate's count: a dispatch could slip
through while a ticket waits untriaged.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch_tui.services.desk import Desk
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store import Database, queries
from dispatch_tui.store.models import Ticket


def test_the_gate_counts_see_a_ticket_added_earlier_in_the_same_transaction(
    db: Database, desk: Desk
) -> None:
    client_id = add_ticket(desk, client="Harbor Dental", summary="seed").client_id
    with db.write() as session:
        before = queries.count_untriaged(session)
        session.add(
            Ticket(
                client_id=client_id,
                summary="arrived mid-transaction",
                status="new",
                created_at=datetime.now(UTC),
                updated_by="tester",
            )
        )
        assert queries.count_untriaged(session) == before + 1
