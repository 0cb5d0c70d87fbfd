"""The tutoring graph's nodes: each reads the state, calls one agent (`agents/tutor/`), and returns a partial update."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Callable
from typing import Any

from agents import streaming, telemetry
from agents.context import AgentContext
from agents.tutor.answers import (
    Answer,
    answer_explain_mistake,
    answer_grammar_question,
    answer_opinion,
    answer_redirect,
    answer_word_question,
    exercise_words,
)
from agents.tutor.errors import Detection, ErrorDetector
from agents.tutor.exercise import (
    ExercisePlan,
    PendingExercise,
    conversation_topic,
    grade,
    looks_like_answer,
    plan_exercise,
    plan_requested,
    practises,
    render_exercise,
)
from agents.tutor.feedback import Correction, Feedback, give_feedback
from agents.tutor.intent import Intent, accepts_offer, classify
from agents.tutor.learner import ExerciseRecord, LearnerModel, assess, new_learner, review
from agents.tutor.policy import TutorPolicy
from agents.tutor.reply import (
    ReplyDraft,
    ReplyVerdict,
    fallback_question,
    judge,
    template_question,
    write_escalated,
    write_local,
)
from graphs.common import AttemptFacts
from graphs.item.graph import run_item
from graphs.item.state import ItemRequest, ItemResult
from graphs.turns import Turn
from graphs.tutor.routing import decide_intent, decide_reply, decide_start
from graphs.tutor.state import TurnDecision, TutorState
from knowledge.errors import UserInputError
from knowledge.items import item_fields
from knowledge.levels import Level, parse_level


class TutorNodes:
    """The graph's nodes: each reads the state, calls one agent, and returns a partial update."""

    def __init__(self, ctx: AgentContext, item_graph: Callable[[], Any], policy: TutorPolicy) -> None:
        self.ctx, self.item_graph, self.policy = ctx, item_graph, policy
        self.detector = ErrorDetector(ctx.local)

    def intake(self, state: TutorState) -> dict[str, Any]:
        """Number the turn, reset the scratch, classify the message's intent and decide: grade an answer or go on."""
        learner = state.get("learner") or new_learner(parse_level(state.get("start_level") or "A2"))
        turn, message = learner.turns + 1, state["learner_message"]
        pending = state.get("pending")
        intent = accepts_offer(message, _last_payload(state).get("point")) or classify(
            message, pending_answer=pending is not None and looks_like_answer(pending, message))  # fmt: skip
        route, reason = decide_start(pending is not None, intent)
        decisions = [self._decide(turn, "intake", route, reason)]
        if route == "detect":
            decisions.append(self._decide(turn, "intent", *decide_intent(intent)))
        scratch = {"detection": None, "level_evidence": None, "feedback": None, "verdict": None, "reply": None,
                   "graded": None, "offered": None, "answer": None}  # fmt: skip
        return scratch | {"turn": turn, "learner_next": learner, "route": route, "intent": intent,
                          "decisions": decisions}  # fmt: skip

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

    def answer(self, state: TutorState) -> dict[str, Any]:
        """Answer the learner's question or request from the knowledge (`agents.tutor.answers`)."""
        intent, level = _intent(state), _learner(state).level.level
        found = self._answer(intent, state, level)
        why = "; ".join(found.sources) or ("answered" if found.answered else "the knowledge has no answer")
        decision = self._decide(state["turn"], "answer", found.kind if found.answered else "not answered", why)
        return {"answer": found, "reply": found.text, "decisions": [decision]}

    def _answer(self, intent: Intent, state: TutorState, level: Level) -> Answer:
        """The answer agent for the intent."""
        if intent.kind == "word_question":
            return answer_word_question(self.ctx, intent, level)
        if intent.kind == "grammar_question":
            return answer_grammar_question(intent, level)
        if intent.kind == "opinion_question":
            return answer_opinion(intent, state["learner_message"])
        if intent.kind == "explain_mistake":
            feedback = state.get("feedback")
            last = _last_payload(state).get("corrections") or []
            return answer_explain_mistake(feedback.corrections if feedback else [], last, check=intent.check)
        if intent.kind == "redirect":
            return answer_redirect(intent)
        raise ValueError(f"the answer node got an intent it does not answer: {intent.kind}")

    def write(self, state: TutorState) -> dict[str, Any]:
        """One follow-up draft: first a question about what the learner said by rule, then the local model's."""
        attempt = sum(not d.escalated for d in _drafts(state)) + 1
        planned = template_question(_detection(state).corrected) if attempt == 1 else None
        if planned:
            return {"drafts": [ReplyDraft(text=planned, model=RULES_MODEL, turn=state["turn"])]}
        seed = _seed(state, attempt)
        with streaming.text_of_this_call():  # the learner reads the draft as it is written (web app)
            draft = write_local(self.ctx.local, _detection(state).corrected, _learner(state).level.level, seed,
                                attempt)  # fmt: skip
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
        by_rule = draft.model == RULES_MODEL
        verdict = judge(self.ctx, draft.text, message, level, self.policy, relevance_check=not by_rule) if (
            draft.text) else ReplyVerdict(
            ok=False, text="", problems=[draft.error or "the model wrote nothing"])  # fmt: skip
        facts = AttemptFacts(
            passed=verdict.ok, escalated=draft.escalated, local_attempts=sum(not d.escalated for d in drafts),
            escalated_attempts=sum(d.escalated for d in drafts), reachable=self.ctx.escalation_target() is not None,
            local_failed=draft.error is not None and not draft.escalated, problems="; ".join(verdict.problems[:2]),
        )  # fmt: skip
        route, reason = decide_reply(facts, self.policy)
        if not verdict.ok and not by_rule:
            streaming.emit("reset", reason)  # a streamed draft the learner saw is dropped
        decision = self._decide(state["turn"], "check", route, reason, escalation=route == "escalate")
        reply = verdict.text if verdict.ok else fallback_question(message) if route == "offer" else None
        return {"verdict": verdict, "route": route, "reply": reply, "decisions": [decision]}

    def offer(self, state: TutorState) -> dict[str, Any]:
        """Offer the exercise the learner asked for, or one when the rule says so (see agents.tutor.exercise)."""
        learner, turn, now, intent = _learner(state), state["turn"], state["received"], state.get("intent")
        messages = [*_chat_messages(state), *([_detection(state).corrected] if intent is None or intent.kind ==
                                             "conversation" else [])]  # fmt: skip
        topic = conversation_topic(messages, self.ctx.checker.lexicon)
        requested = intent is not None and intent.kind == "exercise_request"
        if requested and intent is not None:
            plan, reason = plan_requested(intent, learner.level.level, topic, self.policy)
        else:
            plan, reason = plan_exercise(learner, turn, now, self.policy, pending=False, answered=False, topic=topic)
        if plan is None:
            update: dict[str, Any] = {"reply": reason} if requested else {}
            return update | {"decisions": [self._decide(turn, "offer", "none", reason)]}
        sorry = {"reply": _NO_EXERCISE.format(what=exercise_words(intent))} if requested and intent else {}
        try:
            request = ItemRequest.of({"level": max(plan.level, Level.A1), "topic": plan.topic, "type": plan.type,
                                      "seed": _seed(state, 7), "session_id": state.get("session_id") or None,
                                      "source_text": _detection(state).corrected[:1000]})  # fmt: skip
            result = self._item(request, plan)
        except UserInputError as exc:
            return sorry | {"decisions": [self._decide(turn, "offer", "none", f"the item graph refused: {exc}")]}
        record = ExerciseRecord(turn=turn, type=plan.type, reason=reason, status="offered", words=plan.words)
        updated = learner.model_copy(update={"exercises": [*learner.exercises, record]})
        if result.status == "failed" or result.item is None:
            why = f"{reason}, but the item graph gave no usable item ({result.failure})"
            return sorry | {"learner_next": updated, "decisions": [self._decide(turn, "offer", "none", why)]}
        offered = PendingExercise(turn=turn, type=plan.type, item=result.item, reason=reason,
                                  run_id=result.run_id, trace_id=result.trace_id, words=plan.words)  # fmt: skip
        on_point = practises(plan, result.item)
        wording = _HERE_IS if on_point else _CLOSE_TO if plan.on_point else _ON_TOPIC
        here = {"reply": wording.format(what=exercise_words(intent))} if requested and intent else {}
        return here | {"offered": offered, "learner_next": updated,
                       "decisions": [self._decide(turn, "offer", plan.type, reason)]}  # fmt: skip

    def _item(self, request: ItemRequest, plan: ExercisePlan) -> ItemResult:
        """Run the item graph; for a requested point, ask again (new seed) while the item practises something else."""
        result = run_item(self.item_graph(), request)
        for attempt in range(1, REQUEST_ATTEMPTS if plan.on_point else 1):
            if result.item is not None and practises(plan, result.item):
                break
            again = request.model_copy(update={"seed": request.seed + attempt, "run_id": uuid.uuid4().hex})
            retry = run_item(self.item_graph(), again)
            result = retry if retry.item is not None else result
        return result

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


#: The `model` of a follow-up written by rule (`agents.tutor.reply.template_question`).
RULES_MODEL = "rules"
#: Item-graph runs for an exercise on a requested point at most (each about 2 s on two cores).
REQUEST_ATTEMPTS = 2
_HERE_IS = "Here is a short exercise on {what}. Write your answer in your next message."
_CLOSE_TO = (
    "I could not make one exactly on {what} just now, so here is a different short exercise instead. "
    "Write your answer in your next message."
)
_ON_TOPIC = (
    "I cannot make exercises on {what} yet, so here is a short one on the words of our chat instead. "
    "Write your answer in your next message."
)
_NO_EXERCISE = (
    "Sorry, I could not make a good exercise on {what} just now. Shall we try another topic, or go on talking?"
)


def _intent(state: TutorState) -> Intent:
    """The intent intake classified (a node after intake needs it)."""
    intent = state.get("intent")
    if intent is None:
        raise ValueError("the tutoring graph reached a node that needs the intent before intake classified it")
    return intent


def _corrections(feedback: Feedback | None) -> list[Correction]:
    """The turn's corrections (none when the turn had no feedback step)."""
    return feedback.corrections if feedback else []


def _requested(state: TutorState) -> bool:
    """Whether this turn asked for an exercise (its reply introduces the exercise, it asks nothing)."""
    intent = state.get("intent")
    return intent is not None and intent.kind == "exercise_request"


def _chat_messages(state: TutorState) -> list[str]:
    """The learner's earlier conversation messages (not questions or requests: 'present perfect' is no topic)."""
    turns = state.get("turns", [])
    return [u.text for u, a in zip(turns[::2], turns[1::2], strict=False)
            if u.role == "user" and a.payload.get("intent") in (None, "conversation")]  # fmt: skip


def _last_payload(state: TutorState) -> dict[str, Any]:
    """The payload of the last assistant turn (empty before the first)."""
    for turn in reversed(state.get("turns", [])):
        if turn.role == "assistant":
            return dict(turn.payload)
    return {}


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
    intent, answer = state.get("intent"), state.get("answer")
    return {
        "turn": state["turn"],
        "level_estimate": learner.level.level.value,
        "corrections": [
            c.public() | {"strategy": c.strategy, "text": c.text, "why": c.why} for c in _corrections(feedback)
        ],
        "question": (state.get("reply") or "") if answer is None and not _requested(state) else "",
        "intent": intent.kind if intent else None,
        "answer": answer.model_dump(mode="json") if answer else None,
        "point": answer.point if answer else None,
        "exercise": _offered_payload(offered),
        "graded": graded.model_dump(mode="json") if graded else None,
        "trace_id": telemetry.current_trace_id(),
        "decisions": [d.model_dump(mode="json") for d in of_turn(state.get("decisions", []), state["turn"])],
    }


def _offered_payload(offered: PendingExercise | None) -> dict[str, Any] | None:
    """The offered exercise as a turn's log stores it (the item flat, as every JSON document has it)."""
    if offered is None:
        return None
    return {"type": offered.type, "item": item_fields(offered.item), "reason": offered.reason}
