"""The one clock of the server.

Everything time-dependent (visibility timeouts, delays, retention, TTL) asks
``clock.now()``. Tests move time forward with ``POST /_cloudlet/clock``
(``clock.advance``) instead of sleeping; listeners are told so that anything
waiting on a deadline (long polls, sweepers) re-checks at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    __slots__ = ("offset", "_listeners")

    def __init__(self) -> None:
        self.offset = 0.0
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        """Seconds since the epoch, as a float, including any advance."""
        return time.time() + self.offset

    def now_ms(self) -> int:
        return int((time.time() + self.offset) * 1000)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds
        for listener in list(self._listeners):
            listener()

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def reset(self) -> None:
        self.offset = 0.0
