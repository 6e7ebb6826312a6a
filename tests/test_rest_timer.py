"""RestTimer: the callback runs once the arming stops, and arming moves a deadline
rather than restarting a timer per key."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import App

from dispatch_tui.screens.rest_timer import RestTimer


class Counting(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.fired = 0
        self.timers = 0
        self.rest = RestTimer(self, self._fire)

    def _fire(self) -> None:
        self.fired += 1

    def set_timer(self, *args: Any, **kwargs: Any) -> Any:
        self.timers += 1
        return super().set_timer(*args, **kwargs)


async def fired(app: Counting, times: int, bound: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + bound
    while app.fired < times:
        assert asyncio.get_running_loop().time() < deadline, "the rest never ended"
        await asyncio.sleep(0.01)


async def test_keys_faster_than_the_rest_fire_once_after_the_last() -> None:
    app = Counting()
    async with app.run_test():
        for _ in range(10):
            app.rest.arm(0.5)
            assert app.rest.pending
            await asyncio.sleep(0.01)
        assert app.fired == 0
        # Ten arms, within the rest each: one timer, plus one for what was left.
        assert app.timers <= 3
        await fired(app, 1)
        assert not app.rest.pending
        await asyncio.sleep(0.4)
        assert app.fired == 1


async def test_a_shorter_rest_fires_sooner_and_cancel_fires_nothing() -> None:
    app = Counting()
    async with app.run_test():
        app.rest.arm(60.0)
        app.rest.arm(0.02)
        await fired(app, 1)
        app.rest.arm(0.02)
        app.rest.cancel()
        assert not app.rest.pending
        await asyncio.sleep(0.1)
        assert app.fired == 1
