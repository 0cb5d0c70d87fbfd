"""The tutoring graph's nodes: each reads the state, calls one agent (`agents/tutor/`), and returns a partial update."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from agents import telemetry
from agents.context import AgentContext
from agents.tutor.errors import Detection, ErrorDetector
from agents.tutor.exercise import (
    PendingExercise,
    conversation_topic,
    grade,
    looks_like_answer,
    plan_exercise,
    render_exercise,
)
from agents.tutor.feedback import give_feedback
from agents.tutor.learner import ExerciseRecord, LearnerModel, assess, new_learner, review
from agents.tutor.policy import TutorPolicy
from agents.tutor.reply import ReplyDraft, ReplyVerdict, fallback_question, judge, write_escalated, write_local
from graphs.common import AttemptFacts
from graphs.item.graph import run_item
from graphs.item.state import ItemRequest
from graphs.turns import Turn
from graphs.tutor.routing import decide_reply, decide_start
from graphs.tutor.state import TurnDecision, TutorState
from knowledge.errors import UserInputError
from knowledge.levels import Level, parse_level


class TutorNodes:
    """The graph's nodes: each reads the state, calls one agent, and returns a partial update."""

    def __init__(self, ctx: AgentContext, item_graph: Callable[[], Any], policy: TutorPolicy) -> None:
        self.ctx, self.item_graph, self.policy = ctx, item_graph, policy
        self.detector = ErrorDetector(ctx.local)

    def intake(self, state: TutorState) -> dict[str, Any]:
        """Number the turn, reset the scratch fields, and decide: grade an exercise answer or chat."""
        learner = state.get("learner") or new_learner(parse_level(state.get("start_level") or "A2"))
        turn = learner.turns + 1
        pending = state.get("pending")
        route, reason = decide_start(pending is not None,
                                     pending is not None and looks_like_answer(pending, state["learner_message"]))
        scratch = {"detection": None, "level_evidence": None, "feedback": None, "verdict": None, "reply": None,
                   "graded": None, "offered": None}  # fmt: skip
        return scratch | {"turn": turn, "learner_next": learner, "route": route,
                          "decisions": [self._decide(turn, "intake", route, reason)]}  # fmt: skip

    def grade(self, state: TutorState) -> dict[str, Any]:
        """Judge the answer to the pending exercise and update the learner model with it."""
        pending, learner = state["pending"], _learner(state)
        if pending is None:
            raise ValueError("grade ran without a pending exercise")
        result = grade(pending, state["learner_message"])
        cards = dict(learner.words)
        for key in pending.words:
            review(cards, key, correct=result.correct, now=state["received"])
        records = [*learner.exercises]
        records[-1:] = [r.model_copy(update={"status": "correct" if result.correct else "wrong"}) for r in records[-1:]]
        return {"graded": result, "learner_next": learner.model_copy(update={"words": cards, "exercises": records})}

    def detect(self, state: TutorState) -> dict[str, Any]:
        """Find the learner's errors (rules proposed, the local model confirms)."""
        detection = self.detector.detect(state["learner_message"])
        decisions = [self._decide(state["turn"], "detect", "degraded", note) for note in detection.notes]
        return {"detection": detection, "decisions": decisions}

    def assess(self, state: TutorState) -> dict[str, Any]:
        """Update the learner model: level from the corrected message, error counts, the words used."""
        detection, turn = _detection(state), state["turn"]
        estimate = self.ctx.estimator.estimate(detection.corrected)
        evidence, updated = assess(_learner(state), detection.errors, estimate, self.ctx.checker.lexicon, turn,
                                   state["received"])  # fmt: skip
        telemetry.set_run_attrs({telemetry.LEVEL: updated.level.level.value})
        return {"level_evidence": evidence, "learner_next": updated}

    def feedback(self, state: TutorState) -> dict[str, Any]:
        """Feedback on each error, pitched at the learner's level, and the recast that opens the reply."""
        learner = _learner(state)
        found = give_feedback(state["learner_message"], _detection(state).errors, learner.level.level,
                              learner.errors)  # fmt: skip
        return {"feedback": found}

    def write(self, state: TutorState) -> dict[str, Any]:
        """One follow-up draft by the local model."""
        attempt = sum(not d.escalated for d in _drafts(state)) + 1
        seed = _seed(state, attempt)
        draft = write_local(self.ctx.local, _detection(state).corrected, _learner(state).level.level, seed, attempt)
        return {"drafts": [draft.model_copy(update={"turn": state["turn"]})]}

    def escalate(self, state: TutorState) -> dict[str, Any]:
        """One follow-up draft by the escalation chain, told which words were too hard."""
        attempt = sum(d.escalated for d in _drafts(state)) + 1
        verdict = state.get("verdict")
        avoid = verdict.above if verdict else []
        draft = write_escalated(self.ctx, _detection(state).corrected, _learner(state).level.level, avoid,
                                _seed(state, 100 + attempt), attempt, self.policy.escalation_timeout_s)  # fmt: skip
        return {"drafts": [draft.model_copy(update={"turn": state["turn"]})]}

    def check(self, state: TutorState) -> dict[str, Any]:
        """Judge the latest draft (form, relevance, level); accept it, or decide what comes next."""
        drafts = _drafts(state)
        if not drafts:
            raise ValueError("check ran before any reply draft")
        draft, level, message = drafts[-1], _learner(state).level.level, _detection(state).corrected
        verdict = judge(self.ctx, draft.text, message, level, self.policy) if draft.text else ReplyVerdict(
            ok=False, text="", problems=[draft.error or "the model wrote nothing"])  # fmt: skip
        facts = AttemptFacts(
            passed=verdict.ok, escalated=draft.escalated, local_attempts=sum(not d.escalated for d in drafts),
            escalated_attempts=sum(d.escalated for d in drafts), reachable=self.ctx.escalation_target() is not None,
            local_failed=draft.error is not None and not draft.escalated, problems="; ".join(verdict.problems[:2]),
        )  # fmt: skip
        route, reason = decide_reply(facts, self.policy)
        decision = self._decide(state["turn"], "check", route, reason, escalation=route == "escalate")
        reply = verdict.text if verdict.ok else fallback_question(message) if route == "offer" else None
        return {"verdict": verdict, "route": route, "reply": reply, "decisions": [decision]}

    def offer(self, state: TutorState) -> dict[str, Any]:
        """Offer a short exercise from the item graph when the rule says so (see agents.tutor.exercise)."""
        learner, turn, now = _learner(state), state["turn"], state["received"]
        messages = [t.text for t in state.get("turns", []) if t.role == "user"] + [_detection(state).corrected]
        topic = conversation_topic(messages, self.ctx.checker.lexicon)
        plan, reason = plan_exercise(learner, turn, now, self.policy, pending=False, answered=False, topic=topic)
        if plan is None:
            return {"decisions": [self._decide(turn, "offer", "none", reason)]}
        request = ItemRequest(level=max(plan.level, Level.A1), topic=plan.topic, type=plan.type,
                              seed=_seed(state, 7), session_id=state.get("session_id") or None,
                              source_text=_detection(state).corrected[:1000])  # fmt: skip
        try:
            result = run_item(self.item_graph(), request)
        except UserInputError as exc:
            return {"decisions": [self._decide(turn, "offer", "none", f"the item graph refused: {exc}")]}
        record = ExerciseRecord(turn=turn, type=plan.type, reason=reason, status="offered", words=plan.words)
        updated = learner.model_copy(update={"exercises": [*learner.exercises, record]})
        if result.status == "failed" or result.item is None:
            why = f"{reason}, but the item graph gave no usable item ({result.failure})"
            return {"learner_next": updated, "decisions": [self._decide(turn, "offer", "none", why)]}
        offered = PendingExercise(turn=turn, type=plan.type, item=result.item, reason=reason, run_id=result.run_id,
                                  trace_id=result.trace_id, words=plan.words)  # fmt: skip
        return {"offered": offered, "learner_next": updated,
                "decisions": [self._decide(turn, "offer", plan.type, reason)]}  # fmt: skip

    def finalize(self, state: TutorState) -> dict[str, Any]:
        """Commit the turn: both turns of the log, the learner model and the pending exercise, in one update."""
        learner = _learner(state)
        dropped = state.get("pending") is not None and state.get("graded") is None
        if dropped:
            learner = _mark_last(learner, "skipped")
        learner = learner.model_copy(update={"turns": state["turn"]})
        reply = compose_reply(state)
        offered = state.get("offered")
        payload = _payload(state, learner, reply)
        shown = reply + (f"\n\n{render_exercise(offered.item)}" if offered else "")
        user = Turn(role="user", text=state["learner_message"], time=state["received"])
        return {"turns": [user, Turn(role="assistant", text=shown, payload=payload)], "learner": learner,
                "pending": offered}  # fmt: skip

    def _decide(self, turn: int, node: str, choice: str, reason: str, *, escalation: bool = False) -> TurnDecision:
        """Record a decision on the trace and return it for the state."""
        telemetry.record_decision(None, f"{node}.route", choice, reason, escalation=escalation)
        return TurnDecision(turn=turn, node=node, choice=choice, reason=reason)


def _learner(state: TutorState) -> LearnerModel:
    """The learner model as this turn has it so far."""
    learner = state.get("learner_next") or state.get("learner")
    if learner is None:
        raise ValueError("the tutoring graph reached a node before intake set up the learner model")
    return learner


def _detection(state: TutorState) -> Detection:
    """The current turn's detection (a node after `detect` needs it)."""
    detection = state.get("detection")
    if detection is None:
        raise ValueError("the tutoring graph reached a node that needs the detection before detect ran")
    return detection


def _mark_last(learner: LearnerModel, status: str) -> LearnerModel:
    """The learner model with the last exercise's status set (an unanswered exercise becomes 'skipped')."""
    records = [*learner.exercises]
    if records and records[-1].status == "offered":
        records[-1] = records[-1].model_copy(update={"status": status})
    return learner.model_copy(update={"exercises": records})


def _drafts(state: TutorState) -> list[ReplyDraft]:
    """The current turn's reply drafts (the list may still hold the previous turn's until a new one arrives)."""
    return [d for d in state.get("drafts", []) if d.turn == state.get("turn")]


def of_turn(records: list[Any], turn: int) -> list[Any]:
    """Records (decisions, timings) of one turn."""
    return [r for r in records if r.turn == turn]


def _seed(state: TutorState, salt: int) -> int:
    """A reproducible seed per session turn and purpose."""
    return zlib.crc32(f"{state.get('run_id', '')}:{state.get('turn', 0)}:{salt}".encode()) % 1_000_000


def compose_reply(state: TutorState | dict[str, Any]) -> str:
    """The reply shown: the grade of an answer, or the recast (if any) and the follow-up question."""
    graded = state.get("graded")
    if graded is not None:
        last = _last_question(state)
        return graded.feedback + (f" Now, back to our chat: {last}" if last else "")
    feedback = state.get("feedback")
    parts = [feedback.recast if feedback else "", state.get("reply") or ""]
    return " ".join(p for p in parts if p).strip()


def _last_question(state: TutorState | dict[str, Any]) -> str:
    """The follow-up question of the last conversation turn, if any."""
    for turn in reversed(state.get("turns", [])):
        question = turn.payload.get("question") if turn.role == "assistant" else None
        if isinstance(question, str) and question:
            return question
    return ""


def _payload(state: TutorState, learner: LearnerModel, reply: str) -> dict[str, Any]:
    """The assistant turn's JSON payload: what `sessions show` and later turns read back."""
    feedback = state.get("feedback")
    offered = state.get("offered")
    graded = state.get("graded")
    return {
        "turn": state["turn"],
        "level_estimate": learner.level.level.value,
        "corrections": [c.public() | {"strategy": c.strategy} for c in (feedback.corrections if feedback else [])],
        "question": state.get("reply") or "",
        "exercise": {"type": offered.type, "item": offered.item, "reason": offered.reason} if offered else None,
        "graded": graded.model_dump(mode="json") if graded else None,
        "trace_id": telemetry.current_trace_id(),
        "decisions": [d.model_dump(mode="json") for d in of_turn(state.get("decisions", []), state["turn"])],
    }

