"""Driving a headless Textual app without sleeping: wait on events, not on the clock.

``Pilot.pause()`` and ``Pilot.press()`` wait for "CPU idle" by sleeping in 20 ms
steps, which would put a fixed floor under every key timing and squash the ratio
toward 1. These helpers wait on message queues and workers instead, then paint the
frame the screen's 60 fps timer would have painted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from textual import events
from textual.app import App
from textual.message_pump import MessagePump
from textual.worker import Worker, WorkerState

#: Measurements give up waiting for a worker after this long (a hung worker is a bug
#: to report, not a reason to hang the benchmark).
WORKER_TIMEOUT_S = 60.0
#: A node that never goes idle (a busy animation) must not hang the benchmark.
MAX_DRAIN_PASSES = 50


def _idle(node: MessagePump) -> bool:
    """Whether ``node`` is provably idle: nothing queued, and its task waiting for mail.

    Private Textual and asyncio state, read on purpose; anything unexpected counts as
    busy, which only makes ``drain`` wait as it did before.
    """
    try:
        queue = node._message_queue
        return not queue.values and not node._next_callbacks and bool(queue.ready_event._waiters)
    except AttributeError:
        return False


async def _drain_pass(nodes: list[MessagePump]) -> bool:
    """Wait for every busy node to handle what it holds; False if all were idle."""
    pending = 0
    done = asyncio.Event()

    def one_done() -> None:
        nonlocal pending
        pending -= 1
        if pending == 0:
            done.set()

    posted = 0
    for node in nodes:
        if not _idle(node) and node.call_later(one_done):
            posted += 1
    pending += posted
    if pending:
        await done.wait()
    return posted > 0


async def drain(app: App[object]) -> None:
    """Return once the app and every node of the current screen are idle at once.

    A node with nothing queued is not woken: a key wakes only the widgets its messages
    reach, so a screen's idle widgets cost a user nothing. (Posting a callback to every
    widget, as this did before, cost each about 70 µs three times per key, and counted
    a screen's widgets rather than its work.) Passes repeat until a pass finds every
    node idle, so chains of messages (key, action, highlight, panel) all finish.
    """
    for _ in range(MAX_DRAIN_PASSES):
        nodes = [app, *app.screen.walk_children(with_self=True)]
        if not await _drain_pass(nodes):
            return


def paint(app: App[object]) -> None:
    """Lay out and render what changed now, as the screen's update timer would.

    Private Textual API, used on purpose: the timer fires at most 60 times a second,
    and waiting for it would add up to 16 ms of framework pacing to both sides.
    """
    app.screen._on_timer_update()


async def wait_workers(workers: Iterable[Worker[object]]) -> None:
    running = [w for w in workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
    if not running:
        return

    async def one(worker: Worker[object]) -> None:
        # A failed worker shows its error on screen; the key was still handled.
        with contextlib.suppress(Exception):
            await worker.wait()

    await asyncio.wait_for(asyncio.gather(*(one(w) for w in running)), WORKER_TIMEOUT_S)


async def settle(app: App[object], before: set[Worker[object]] | None = None) -> None:
    """Handle everything a key (or a load) set off: messages, new workers, their replies."""
    for _ in range(3):
        await drain(app)
        started = set(app.workers) - (before or set())
        if not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in started):
            break
        await wait_workers(started)
    await drain(app)
    paint(app)
    await drain(app)


def key_event(key: str) -> events.Key:
    """The event a terminal driver posts for ``key`` (as Pilot.press builds it)."""
    character = key if len(key) == 1 else None
    return events.Key(key, character)


async def press(app: App[object], key: str) -> None:
    """Post one key and return when it is handled and painted, with any workers it started."""
    before = set(app.workers)
    app.post_message(key_event(key))
    await settle(app, before)
