"""The rule that defines the product: triage ALL waiting tickets before dispatching ANY.

A pure decision over one number, so every caller (service layer, TUI banner, CLI)
asks the same question the same way. The service layer asks it inside the write
transaction that would assign, which is what makes it race-free.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GateState:
    untriaged: int

    @property
    def open(self) -> bool:
        return self.untriaged == 0

    def explain(self) -> str:
        if self.open:
            return "gate open: every ticket is triaged, dispatch away"
        noun = "ticket waits" if self.untriaged == 1 else "tickets wait"
        return f"gate closed: {self.untriaged} {noun} for triage; triage all before dispatching any"


def check(untriaged: int) -> GateState:
    if untriaged < 0:
        raise ValueError("untriaged count cannot be negative")
    return GateState(untriaged)
