"""Streaming: lets an agent's model text and progress reach whoever is waiting (the web app's queue), if anyone.

The web app's model queue installs a sink for the job it runs (`streaming_to`); an agent that writes something a
person waits for reports through `emit` ('text' chunks as the model writes them, 'progress' as items are made,
'reset' when a draft is dropped and another is written). With no sink installed — the CLI, the tests, a bench —
`emit` does nothing, and `wants_text()` tells a backend not to bother streaming.

The sink lives in a context variable, so it follows the job into LangGraph's worker threads (which copy the
context) and never leaks into another request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Sink = Callable[[str, Any], None]
_SINK: ContextVar[Sink | None] = ContextVar("forge_stream_sink", default=None)
_TEXT: ContextVar[bool] = ContextVar("forge_stream_text", default=False)


@contextmanager
def streaming_to(sink: Sink) -> Iterator[None]:
    """Send every event emitted inside the block to `sink(kind, data)`."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


@contextmanager
def text_of_this_call() -> Iterator[None]:
    """Mark the model calls inside the block as ones whose text a person is waiting to read as it is written."""
    token = _TEXT.set(True)
    try:
        yield
    finally:
        _TEXT.reset(token)


def wants_text() -> bool:
    """Whether a backend should stream the text of the call it is making (a sink is there and wants it)."""
    return _TEXT.get() and _SINK.get() is not None


def emit(kind: str, data: Any) -> None:
    """Report an event to the installed sink, if there is one (a failing sink never breaks the agent)."""
    sink = _SINK.get()
    if sink is None:
        return
    try:
        sink(kind, data)
    except Exception:
        return
