"""In-process state of the SQS service: who is waiting for what, and the background tasks.

Nothing here is durable (the store is); all of it is rebuilt on start-up and
dropped on reset. One ``Runtime`` per ``App``, reached through ``runtime(app)``.

Long polls wait on an ``asyncio.Event`` registered under their queue; sends,
visibility changes and redrives ``notify`` that queue, a clock advance
notifies everyone. Waiters re-run their receive when woken: there is no
polling loop, only a sleep until the next known change (a delay or a
visibility timeout ending) or the poll's deadline.
"""

from __future__ import annotations

import asyncio
import contextlib


class Runtime:
    def __init__(self) -> None:
        self.waiters: dict[tuple, set[asyncio.Event]] = {}
        self.background: list[asyncio.Task] = []
        self.tasks_changed: asyncio.Event | None = None  # created inside the running loop

    def notify(self, key: tuple) -> None:
        for event in self.waiters.pop(key, ()):
            event.set()

    def notify_all(self) -> None:
        waiters, self.waiters = self.waiters, {}
        for events in waiters.values():
            for event in events:
                event.set()
        if self.tasks_changed is not None:
            self.tasks_changed.set()

    async def wait(self, key: tuple, timeout: float) -> None:
        """Sleep until ``notify(key)``/``notify_all()`` or ``timeout`` seconds (real time)."""
        if timeout <= 0:
            return
        event = asyncio.Event()
        self.waiters.setdefault(key, set()).add(event)
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        finally:
            waiting = self.waiters.get(key)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self.waiters[key]

    def wake_tasks(self) -> None:
        if self.tasks_changed is not None:
            self.tasks_changed.set()


def runtime(app) -> Runtime:
    rt = app.state.get("sqs")
    if rt is None:
        rt = app.state["sqs"] = Runtime()
        # Anything waiting on a deadline re-checks when tests move the clock.
        app.clock.on_advance(rt.notify_all)
    return rt


def waiter_key(account: str, region: str, name: str) -> tuple:
    return (account, region, name)
