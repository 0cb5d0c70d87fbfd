"""An overall deadline for one piece of work (a tutoring turn, an item), carried in a contextvar.

Whoever starts the work opens it once: `with deadline(20.0): ...`. Every model call below clamps its own timeout to
`remaining()` (`clamp`), and the escalation chain asks `remaining()` before it tries another model, so a hung model
server costs the work at most its deadline instead of every retry of every model. Deadlines nest: an inner one (an
item run inside a tutoring turn) never ends later than the one around it.

The value is a contextvar, so each thread and each LangGraph node (LangGraph copies the context into its workers)
sees the deadline of the work it belongs to; worker threads started with `threading.Thread` do not, so compute the
budget before handing work to them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """The moment (on the monotonic clock) the current work must be done by, and what set it."""

    at: float
    seconds: float
    label: str

    def remaining(self) -> float:
        """Seconds left; negative once it has passed."""
        return self.at - time.monotonic()


_CURRENT: ContextVar[Deadline | None] = ContextVar("forge_deadline", default=None)


@contextmanager
def deadline(seconds: float | None, *, label: str = "run") -> Iterator[Deadline | None]:
    """Run the block under a deadline `seconds` from now (None: no deadline of its own; an outer one still holds).

    A deadline inside another ends at the earlier of the two.
    """
    outer = _CURRENT.get()
    if seconds is None:
        yield outer
        return
    at = time.monotonic() + seconds
    current = outer if outer is not None and outer.at <= at else Deadline(at=at, seconds=seconds, label=label)
    token = _CURRENT.set(current)
    try:
        yield current
    finally:
        _CURRENT.reset(token)


def current() -> Deadline | None:
    """The deadline in effect here, if any."""
    return _CURRENT.get()


def remaining() -> float | None:
    """Seconds left before the deadline in effect (negative once passed); None when there is none."""
    active = _CURRENT.get()
    return None if active is None else active.remaining()


def clamp(timeout_s: float) -> float:
    """A call's timeout cut to the time left (never below 0); unchanged when there is no deadline."""
    left = remaining()
    return timeout_s if left is None else max(0.0, min(timeout_s, left))


def describe() -> str:
    """'deadline: 3.1 s left of 20 s (tutoring_turn)', for decisions and error messages; '' without a deadline."""
    active = _CURRENT.get()
    if active is None:
        return ""
    return f"deadline: {max(active.remaining(), 0.0):.1f} s left of {active.seconds:g} s ({active.label})"
