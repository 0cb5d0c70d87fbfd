"""Routing decisions of the tutoring graph, as pure functions of what the turn knows.

Nodes call these to set `route` (and record the reason as a decision); the graph's routers only read `route`.
The reply loop mirrors the item graph's policy (`graphs.item.routing`): the local model writes first; a draft that
fails the checks is rewritten locally, then escalated to the Ollama chain if it is reachable, and when nothing is
left the turn goes on with the fallback question — a model that fails or cannot be reached never stops a turn.
"""

from __future__ import annotations

from typing import Literal

from agents.tutor.policy import TutorPolicy
from graphs.common import AttemptFacts
from graphs.tutor.state import TutorState

StartRoute = Literal["grade", "detect"]
ReplyRoute = Literal["write", "escalate", "offer"]


def decide_start(pending: bool, answer: bool) -> tuple[StartRoute, str]:
    """Grade the message as an exercise answer, or treat it as conversation."""
    if pending and answer:
        return "grade", "the message answers the exercise offered in the last turn"
    if pending:
        return "detect", "the message does not look like an answer; the exercise is dropped and the chat goes on"
    return "detect", "a conversation turn"


def decide_reply(f: AttemptFacts, policy: TutorPolicy) -> tuple[ReplyRoute, str]:
    """After a draft: accept it, rewrite it locally, escalate, or go on with the fallback question."""
    if f.passed:
        return "offer", "the reply is within the learner's level and about their message"
    can_escalate = f.reachable and f.escalated_attempts < policy.max_escalated_replies
    if f.escalated:
        if can_escalate:
            return "escalate", f"escalated draft {f.escalated_attempts} failed ({f.problems}); trying the chain again"
        return "offer", f"escalation did not give a usable reply ({f.problems}); using the fallback question"
    if f.local_failed and can_escalate:
        return "escalate", f"the local model failed ({f.problems})"
    if f.local_attempts < policy.max_local_replies and not f.local_failed:
        return "write", f"rewriting locally ({f.problems})"
    if can_escalate:
        return "escalate", f"still failing after {f.local_attempts} local drafts ({f.problems})"
    why = "no escalation target is reachable" if not f.reachable else "no attempts left"
    return "offer", f"{why} ({f.problems}); using the fallback question"


def route_start(state: TutorState) -> StartRoute:
    """After intake: grade an answer or chat."""
    chosen = state.get("route")
    if chosen not in ("grade", "detect"):
        raise ValueError(f"tutoring graph reached the start router without a decision (route={chosen!r})")
    return chosen



def route_reply(state: TutorState) -> ReplyRoute:
    """After a draft's check: rewrite, escalate, or go on to the exercise offer."""
    chosen = state.get("route")
    if chosen not in ("write", "escalate", "offer"):
        raise ValueError(f"tutoring graph reached the reply router without a decision (route={chosen!r})")
    return chosen

