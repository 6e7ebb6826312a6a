"""What a client's reply does to the status of the ticket it answers.

A dispatcher expects a reply from the client to put the ticket back in front of
whoever works it: a ticket that was waiting on the client, or that we thought was
resolved, needs attention again. A closed ticket stays closed (it may be billed
and reported already); the reply becomes a new ticket that points back to it.
"""

from __future__ import annotations

from dispatch_tui.store.models import Status

#: Statuses a client's reply wakes up.
WAKES = frozenset({Status.RESOLVED.value, Status.WAITING_CLIENT.value})


def status_after_reply(status: str, *, has_technician: bool) -> str | None:
    """The status a reply moves a ticket to, or None to leave it as it is.

    Back to ``in_progress`` when a technician holds it (they know the history), else
    to ``triaged``, so it reaches the dispatch board again without a second triage.
    """
    if status not in WAKES:
        return None
    return Status.IN_PROGRESS.value if has_technician else Status.TRIAGED.value


def reply_opens_new_ticket(status: str) -> bool:
    return status == Status.CLOSED.value
