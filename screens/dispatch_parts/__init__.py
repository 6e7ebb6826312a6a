"""The Dispatch screen's parts: work-list rows, the triage record, suggestions, prompts
and the technician-queue view. screens/dispatch.py puts them together."""
