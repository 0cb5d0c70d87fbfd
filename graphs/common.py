"""What every graph shares: decisions with reasons, timed nodes, the facts a retry router reads, lazy sub-graphs.

Each graph package (`graphs/item`, `graphs/tutor`, `graphs/exercise_session`) has the same modules: `state.py`
(typed input, output and internal state), `nodes.py` (thin nodes returning partial updates), `routing.py` (pure
routers and the decisions they read) and `graph.py` (the builder, which reads like the diagram, and the runner).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

S = TypeVar("S")
Node = Callable[[S], dict[str, Any]]


class Decision(BaseModel):
    """A routing or escalation decision with its reason (also recorded on the trace)."""

    node: str
    choice: str
    reason: str


@dataclass(frozen=True)
class AttemptFacts:
    """What a decision after a model's attempt depends on (an item draft or a tutor's reply draft)."""

    passed: bool
    escalated: bool
    local_attempts: int
    escalated_attempts: int
    reachable: bool
    local_failed: bool = False
    problems: str = ""


def timed(name: str, fn: Callable[[S], dict[str, Any]], stamp: Callable[[S, dict[str, Any], float], Any]) -> Node[S]:
    """Wrap a node so its wall time is added to the update, in the shape `stamp(state, update, seconds)` gives."""

    def run(state: S) -> dict[str, Any]:
        start = time.perf_counter()
        update = fn(state)
        update["timings"] = stamp(state, update, time.perf_counter() - start)
        return update

    run.__name__ = name
    return run


def lazy(build: Callable[[], Any]) -> Callable[[], Any]:
    """`build()` called once, on first use, and its result kept (a sub-graph most turns never need)."""
    built: list[Any] = []
    lock = threading.Lock()

    def get() -> Any:
        with lock:
            if not built:
                built.append(build())
            return built[0]

    return get
