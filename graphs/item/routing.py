"""Routing decisions of the item graph, as pure functions of what the run knows.

Nodes call these to set `route` (with the reason recorded as a decision); the graph's routers only read `route`.
Keeping the logic here, free of models and I/O, lets it be tested exhaustively with plain values.
"""

from __future__ import annotations

from agents.context import ItemPolicy
from graphs.common import AttemptFacts
from graphs.item.state import ItemState, Route


def decide_start(hard_reason: str | None, reachable: bool) -> tuple[Route, str]:
    """Where generation starts: the escalation chain for hard cases (if reachable), the local model otherwise."""
    if hard_reason is None:
        return "generate", "the local model writes first"
    if reachable:
        return "escalate", f"hard case: {hard_reason}"
    return "generate", f"hard case ({hard_reason}) but no escalation target is reachable; generating locally"


def decide_next(f: AttemptFacts, policy: ItemPolicy) -> tuple[Route, str]:
    """After validation: accept, regenerate locally with feedback, escalate, or give up with the best result."""
    if f.passed:
        return "finalize", "the item passed validation"
    if f.escalated:
        return _after_escalated(f, policy)
    return _after_local(f, policy)


def _after_escalated(f: AttemptFacts, policy: ItemPolicy) -> tuple[Route, str]:
    """An escalated attempt failed: try the chain again, fall back to local attempts, or stop."""
    if f.reachable and f.escalated_attempts < policy.max_escalated_attempts:
        return "escalate", f"escalated attempt {f.escalated_attempts} failed validation ({f.problems}); trying again"
    if f.local_attempts < policy.max_local_attempts:
        return "generate", "escalation did not give a valid item; trying the local model"
    return "finalize", "no attempts left; keeping the best result"


def _after_local(f: AttemptFacts, policy: ItemPolicy) -> tuple[Route, str]:
    """A local attempt failed: escalate on model failure, regenerate with feedback, escalate, or stop."""
    can_escalate = f.reachable and f.escalated_attempts < policy.max_escalated_attempts
    if f.local_failed and can_escalate:
        return "escalate", f"the local model failed ({f.problems})"
    if f.local_attempts < policy.max_local_attempts:
        return "generate", f"regenerating with the violations fed back ({f.problems})"
    if can_escalate:
        return "escalate", f"validation still failing after {f.local_attempts} local attempts ({f.problems})"
    why = "no escalation target is reachable" if not f.reachable else "no attempts left"
    return "finalize", f"{why}; keeping the best result"


def route(state: ItemState) -> Route:
    """The router: where the last decision sends the run."""
    chosen = state.get("route")
    if chosen not in ("generate", "escalate", "finalize"):
        raise ValueError(f"item graph reached a router without a decision (route={chosen!r})")
    return chosen

