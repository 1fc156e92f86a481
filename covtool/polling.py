"""Looking again until something is there: bounded, announced once, never busy."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
#: Seconds between two looks (at a store, at the file system).
POLL_SECONDS = 2.0


def poll(look: Callable[[], tuple[bool, T]], wait: float, waiting: Callable[[T], None]) -> T:
    """Call ``look`` until it says it is done or ``wait`` seconds have passed; returns what
    it found last. ``waiting`` is told what was found, once, before the first pause."""
    deadline = time.monotonic() + wait
    announced = False
    while True:
        done, found = look()
        left = deadline - time.monotonic()
        if done or left <= 0:
            return found
        if not announced:
            waiting(found)
            announced = True
        time.sleep(min(POLL_SECONDS, left))
