"""Consoles start in turn: about one starting at a time per core (issue 16).

Twenty consoles started at once on two cores each take twenty times as long to their first
screen, and all of them arrive at the end; started in turn, the first person sees the Welcome
screen after one console's start, the next after two, and the last no later than before. A
console counts as starting from the moment it is asked for until its first screen is out (the
first frame writes at least one byte per cell of the terminal), or STARTING_AT_MOST_S passed,
or it ended: a console that never draws cannot hold the queue.

Nobody is turned away here (the session limits did that already): people wait in the order
they came, and one who leaves while waiting just leaves the queue.

Measured with tests/perf/bench.py on 2 cores: quiet, one per core brought the median first
screen of 20 at once from 743 to 572 ms (50: 1747 to 1398 ms), the slowest no later; while
other jobs loaded the machine it did no better (they took the CPU the queue left idle).
`serve-ssh --start-at-once 0` turns it off.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque

STARTING_AT_MOST_S = 3.0
"""A console still drawing its first screen after this long lets the next one start."""


def default_slots() -> int:
    """One starting console per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class StartQueue:
    """At most `slots` consoles starting at once (0: no limit), the others waiting in order."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.starting = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for f in self._waiting if not f.done())

    async def enter(self) -> Ticket:
        """Wait for a turn to start a console; the Ticket gives it back."""
        if self.slots and (self.starting >= self.slots or self.waiting):
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._hand_on()  # the turn came as we left: it goes to the next one
                raise
            finally:
                if turn in self._waiting:
                    self._waiting.remove(turn)
        else:
            self.starting += 1
        return Ticket(self)

    def _hand_on(self) -> None:
        """A console finished starting: the longest waiting one starts (the count stays)."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.starting -= 1


class Ticket:
    """One console's turn to start; `started()` (any number of times) ends it."""

    def __init__(self, queue: StartQueue) -> None:
        self._queue: StartQueue | None = queue
        self.written = 0
        self._timer: asyncio.TimerHandle | None = None
        if queue.slots:
            self._timer = asyncio.get_running_loop().call_later(STARTING_AT_MOST_S,
                                                                self.started)

    def output(self, count: int, cells: int) -> None:
        """The console wrote `count` bytes; a first frame of `cells` cells is out once at
        least that many were."""
        if self._queue is None:
            return
        self.written += count
        if self.written >= cells:
            self.started()

    def started(self) -> None:
        queue, self._queue = self._queue, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if queue is not None:
            if queue.slots:
                queue._hand_on()
            else:
                queue.starting -= 1
