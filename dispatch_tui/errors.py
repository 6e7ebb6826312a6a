"""Errors a dispatcher can act on, each with the exit code the CLI documents.

| code | meaning                                                          |
| ---- | ---------------------------------------------------------------- |
| 0    | ok                                                               |
| 1    | unexpected failure (a bug: please report it)                     |
| 2    | bad usage or bad input: unknown id, bad value, unusable database |
| 3    | refused by the triage gate: tickets still wait for triage        |
| 4    | edit conflict: the record changed since you read it              |
| 5    | schedule conflict                                                |
| 6    | health checks found problems                                     |
| 7    | the database stayed locked by another dispatcher; nothing saved  |
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_GATE = 3
EXIT_CONFLICT = 4
EXIT_SCHEDULE = 5
EXIT_CHECKS = 6
EXIT_LOCKED = 7


class DispatchError(Exception):
    """A failure with a one-line, user-facing message and an exit code."""

    exit_code = EXIT_FAILURE


class InvalidInput(DispatchError):
    exit_code = EXIT_USAGE


class NotFound(InvalidInput):
    pass


class GateClosed(DispatchError):
    """Dispatching was refused because tickets still wait for triage."""

    exit_code = EXIT_GATE

    def __init__(self, waiting: int) -> None:
        self.waiting = waiting
        noun = "ticket waits" if waiting == 1 else "tickets wait"
        super().__init__(
            f"dispatch refused: {waiting} {noun} for triage; triage all before dispatching any"
        )


class EditConflict(DispatchError):
    exit_code = EXIT_CONFLICT


class ScheduleConflict(DispatchError):
    exit_code = EXIT_SCHEDULE
