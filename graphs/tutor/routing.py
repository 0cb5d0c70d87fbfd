"""Routing decisions of the tutoring graph, as pure functions of what the turn knows.

Nodes call these to set `route` (and record the reason as a decision); the graph's routers only read `route`, or
(`route_intent`) the intent intake classified, through the same pure `decide_intent` intake recorded.
The reply loop mirrors the item graph's policy (`graphs.item.routing`): the local model writes first; a draft that
fails the checks is rewritten locally, then escalated to the Ollama chain if it is reachable, and when nothing is
left the turn goes on with the fallback question — a model that fails or cannot be reached never stops a turn.
"""

from __future__ import annotations

from typing import Literal

from agents.tutor.intent import Intent
from agents.tutor.policy import TutorPolicy
from graphs.common import AttemptFacts
from graphs.tutor.state import TutorState

StartRoute = Literal["grade", "detect"]
IntentRoute = Literal["write", "answer", "offer"]
ReplyRoute = Literal["write", "escalate", "offer"]

#: Where each intent goes after feedback: the reply writer, the answer agent, or the exercise offer.
INTENT_ROUTES: dict[str, IntentRoute] = {
    "conversation": "write", "word_question": "answer", "grammar_question": "answer", "opinion_question": "answer",
    "explain_mistake": "answer", "redirect": "answer", "exercise_request": "offer",
}  # fmt: skip


def decide_start(pending: bool, intent: Intent) -> tuple[StartRoute, str]:
    """Grade the message as an exercise answer, or go on to detection and the agent for its intent."""
    if intent.kind == "exercise_answer":
        return "grade", "the message answers the exercise offered in the last turn"
    dropped = "; the exercise offered last turn is dropped" if pending else ""
    return "detect", f"{intent.kind.replace('_', ' ')}: {intent.reason}{dropped}"


def decide_intent(intent: Intent) -> tuple[IntentRoute, str]:
    """After detection and feedback: the agent that handles the turn's intent, and why."""
    route = INTENT_ROUTES.get(intent.kind)
    if route is None:
        raise ValueError(f"no agent handles the intent {intent.kind!r} after detection")
    agent = {"write": "the reply writer", "answer": "the answer agent", "offer": "the exercise offer"}[route]
    return route, f"{intent.kind.replace('_', ' ')} goes to {agent} ({intent.reason})"


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


def route_intent(state: TutorState) -> IntentRoute:
    """After feedback: chat (write), answer the question or request, or offer the exercise asked for."""
    intent = state.get("intent")
    if intent is None:
        raise ValueError("tutoring graph reached the intent router before intake classified the message")
    return decide_intent(intent)[0]


def route_reply(state: TutorState) -> ReplyRoute:
    """After a draft's check: rewrite, escalate, or go on to the exercise offer."""
    chosen = state.get("route")
    if chosen not in ("write", "escalate", "offer"):
        raise ValueError(f"tutoring graph reached the reply router without a decision (route={chosen!r})")
    return chosen
