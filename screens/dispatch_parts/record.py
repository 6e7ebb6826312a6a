"""The selected ticket's full triage record, beside the work list. Client text is literal."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text
from textual.widgets import Static

from dispatch_tui.screens.cells import age
from dispatch_tui.screens.widgets.quiet_update import show_text
from dispatch_tui.services.dispatch_board import BoardTicket
from dispatch_tui.textsafe import plain


def record_text(item: BoardTicket | None, zone: tzinfo, now: datetime) -> Text:
    if item is None:
        return Text("Nothing waiting for a technician.", style="dim")
    t = item.ticket
    due = t.due_at.astimezone(zone).strftime("%a %d %b %H:%M") if t.due_at else "—"
    updated = (
        f"{age(item.last_client_update, now).plain} ago" if item.last_client_update else "never"
    )
    escalated = f"yes, to {t.escalated_to}" if t.escalated else "no"
    fields = [
        ("Ticket", f"#{t.id}  {t.summary}"),
        ("Client", f"{item.client}  /  {item.contact or 'no contact'}"),
        (
            "Type",
            f"{(t.ticket_type or '—').replace('_', ' ')}   {t.category or '—'}"
            f" / {t.subcategory or '—'}",
        ),
        (
            "Priority",
            f"{(t.priority or '—').replace('_', ' ')}  (impact {t.impact or '—'}, "
            f"urgency {t.urgency or '—'})",
        ),
        (
            "Needs",
            f"{t.required_skill or 'no particular skill'}, about {t.estimate_hours:g} h   due {due}"
            if t.estimate_hours is not None
            else f"{t.required_skill or 'no particular skill'}   due {due}",
        ),
        ("Client upd", f"{updated}   escalated: {escalated}"),
        ("Details", " ".join(plain(t.description).split())[:300] or "—"),
    ]
    text = Text()
    for label, value in fields:
        text.append(f"{label:>10}  ", style="dim")
        text.append(plain(value) + "\n")
    text.rstrip()
    return text


class TriageRecord(Static):
    """Shows one ticket's record; updated by the screen as the cursor moves."""

    def show(self, item: BoardTicket | None, zone: tzinfo, now: datetime) -> None:
        show_text(self, record_text(item, zone, now))
