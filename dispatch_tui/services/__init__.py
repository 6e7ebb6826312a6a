"""Use-case services: verbs over the store, each owning one short write transaction.

Screens call these from worker threads and the CLI calls them directly; neither
touches SQL. Every change writes an audit event in the same transaction.
"""

from dispatch_tui.services.desk import Desk

__all__ = ["Desk"]
