"""After an edit conflict: what the other dispatcher changed, and my edit laid over it.

Pure functions over three ``Draft``s of one ticket: ``base`` as this dispatcher loaded
it, ``current`` as it is stored now (after someone else's save), and ``mine`` as typed.
Comparing drafts rather than database rows means every value reads as it does in the
panel (due dates in shop time, estimates as typed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dispatch_tui.screens.triage_state import Draft

#: Fields the panel edits, with their labels, in panel order.
EDITED = (
    ("summary", "Summary"),
    ("client", "Client"),
    ("contact", "Contact"),
    ("ticket_type", "Type"),
    ("category", "Category"),
    ("subcategory", "Subcategory"),
    ("impact", "Impact"),
    ("urgency", "Urgency"),
    ("estimate", "Estimate h"),
    ("skill", "Skill"),
    ("due", "Due"),
)
#: Changed by others but not edited here: shown so the dispatcher knows, never merged.
SHOWN_ONLY = (("status", "Status"), ("description", "Description"))


@dataclass(frozen=True)
class FieldChange:
    label: str
    #: The value when this dispatcher started.
    before: str
    #: The value stored now, by the other dispatcher's save.
    now: str
    #: What this dispatcher has in the panel ("" for fields the panel does not edit).
    mine: str
    #: This dispatcher changed it too: re-applying puts their value over the new one.
    clash: bool


def _text(value: object) -> str:
    return "" if value is None else str(value).replace("_", " ")


def changed_fields(base: Draft, current: Draft, mine: Draft) -> list[FieldChange]:
    """The fields the other save changed, in panel order (then status, description)."""
    changes = []
    for name, label in EDITED:
        was, now, typed = getattr(base, name), getattr(current, name), getattr(mine, name)
        if was != now:
            clash = typed != was and typed != now
            changes.append(FieldChange(label, _text(was), _text(now), _text(typed), clash))
    for name, label in SHOWN_ONLY:
        was, now = getattr(base, name), getattr(current, name)
        if was != now:
            changes.append(FieldChange(label, _text(was), _text(now), "", False))
    return changes


def rebase(mine: Draft, base: Draft, current: Draft) -> Draft:
    """My edit on top of the stored version: the fields I changed keep my values, every
    other field takes the stored one, and the version becomes the stored version."""
    merged = replace(current, note=mine.note)
    for name, _label in EDITED:
        typed = getattr(mine, name)
        if typed != getattr(base, name):
            setattr(merged, name, typed)
    return merged
