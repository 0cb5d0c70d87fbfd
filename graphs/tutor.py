"""The tutoring graph: one learner turn through the tutoring agents, persistent across turns.

    START → intake ─┬→ grade ─────────────────────────────────────────────────────────→ finalize → END
                    └→ detect → assess → feedback → write ─┐
                                                 escalate ─┴→ check ─┬→ write (rewrite locally)
                                                                     ├→ escalate (Ollama chain)
                                                                     └→ offer → finalize → END

- intake: numbers the turn; a short message after an offered exercise is graded as its answer.
- detect: the learner's errors (rules + the local model's scoring, `agents.tutor.errors`).
- assess: the learner model — level from the corrected message blended over turns, error counts, Leitner words.
- feedback: recast, hint or short explanation per error by level and error type (`agents.tutor.feedback`).
- write / escalate / check: a follow-up question by the local model (or the chain), kept within the level by the
  ACI; rewritten, escalated or replaced by a fallback as `graphs.tutor_routing` decides.
- offer: sometimes a short exercise from the item graph (`agents.tutor.exercise` says when).
- finalize: the two `Turn`s, the new learner model and the pending exercise, in one update, so a turn becomes
  visible only when it is complete (the session store's rule; see `forge.sessions`).

`run_tutor_turn(graph, session_id, message)` runs one turn as one trace (`tutoring_turn`) and returns a
`TutorTurnResult`. Persistence comes from the checkpointer the graph is compiled with (the session store's in the
application; LangGraph's InMemorySaver in tests).
"""

from __future__ import annotations

import time
import uuid
import zlib
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from agents import telemetry
from agents.context import AgentContext
from agents.tutor.errors import Detection, ErrorDetector
from agents.tutor.exercise import (
    Grade,
    PendingExercise,
    conversation_topic,
    grade,
    looks_like_answer,
    plan_exercise,
)
from agents.tutor.feedback import Correction, Feedback, give_feedback
from agents.tutor.learner import (
    ExerciseRecord,
    LearnerModel,
    TurnLevel,
    miss_word,
    new_learner,
    record_errors,
    review,
    tracked_words,
    turn_level,
    update_level,
    use_word,
    word_errors,
)
from agents.tutor.policy import TutorPolicy
from agents.tutor.reply import Draft, ReplyVerdict, fallback_question, judge, write_escalated, write_local
from graphs.item import run_item
from graphs.state import ItemRequest
from graphs.turns import Turn, Turns, utc_now
from graphs.tutor_routing import ReplyFacts, ReplyRoute, StartRoute, decide_reply, decide_start
from knowledge.errors import UserInputError
from knowledge.level_estimator import binary_problem
from knowledge.levels import Level, parse_level
from knowledge.nlp import is_probably_english

GRAPH_NAME = "tutor_graph"
Route = Literal["grade", "detect", "write", "escalate", "offer"]
#: State fields that hold text the learner wrote (or text built from it), hashed by `forge trace export --redact`.
LEARNER_FIELDS = ("learner_message", "text", "corrected", "recast", "explanation", "given", "hardest_words")


# --- state ----------------------------------------------------------------------------------------------------


class Decision(BaseModel):
    """A routing decision of one turn, with its reason (also recorded on the trace)."""

    turn: int
    node: str
    choice: str
    reason: str


class NodeTime(BaseModel):
    """Wall seconds one node took in one turn."""

    turn: int
    node: str
    seconds: float


def this_turn(left: list[Any], right: list[Any]) -> list[Any]:
    """Append records of the current turn; records of earlier turns are dropped when a new turn's arrive."""
    if not right:
        return left
    current = right[-1].turn
    return [x for x in left if x.turn == current] + list(right)


class TutorTurnInput(TypedDict):
    """One turn's input: the message, the session and run ids, when it arrived, and a new session's start level."""

    learner_message: str
    session_id: str
    run_id: str
    received: datetime
    start_level: str


class TutorState(TypedDict, total=False):
    """A tutoring session: `learner`, `pending` and `turns` persist; the rest is the turn's scratch.

    Only `finalize` writes the persistent fields; `intake` resets the scratch of the turn before.
    """

    #: The learner's message, the session and run ids, when it arrived, and the level a new session starts from.
    learner_message: str
    session_id: str
    run_id: str
    received: datetime
    start_level: str
    #: This turn's number (1 for the first).
    turn: int
    #: Where the last decision sends the turn (routers read this).
    route: Route
    #: The errors found and the corrected message.
    detection: Detection | None
    #: What this turn said about the level.
    level_evidence: TurnLevel | None
    #: The learner model as this turn leaves it (becomes `learner` in `finalize`).
    learner_next: LearnerModel | None
    feedback: Feedback | None
    #: Reply drafts of this turn, and the verdict on the latest.
    drafts: Annotated[list[Draft], this_turn]
    verdict: ReplyVerdict | None
    #: The follow-up question chosen (a draft, or the fallback).
    reply: str | None
    #: The grade of an exercise answer, and the exercise offered this turn (with why, or why not).
    graded: Grade | None
    offered: PendingExercise | None
    decisions: Annotated[list[Decision], this_turn]
    timings: Annotated[list[NodeTime], this_turn]
    #: The learner model after the last completed turn.
    learner: LearnerModel
    #: The exercise offered in the last turn, waiting for an answer.
    pending: PendingExercise | None
    #: The turn log (`graphs.turns`).
    turns: Turns


class TutorTurnResult(BaseModel):
    """What one turn returns; `public()` is exactly what `forge tutor --say ... --json` prints."""

    session: str
    turn: int
    reply: str
    level_estimate: str
    corrections: list[Correction]
    learner: dict[str, Any]
    exercise: dict[str, Any] | None = None
    graded: Grade | None = None
    trace_id: str | None = None
    decisions: list[Decision] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    latency_s: float = 0.0

    def public(self) -> dict[str, Any]:
        """The JSON of `forge tutor --json`: reply, level estimate, corrections, learner, exercise, trace id."""
        return {
            "reply": self.reply,
            "level_estimate": self.level_estimate,
            "corrections": [c.public() for c in self.corrections],
            "learner": self.learner,
            "exercise": self.exercise,
            "trace_id": self.trace_id,
        }


# --- input checks ---------------------------------------------------------------------------------------------


def check_message(message: object, limit: int = TutorPolicy().max_turn_chars) -> str:
    """The learner's message if the tutor can take it; UserInputError saying what is accepted otherwise."""
    if not isinstance(message, str):
        raise UserInputError(f"Expected the message as text, got {type(message).__name__}.")
    text = message.strip()
    if not text:
        raise UserInputError("The message is empty; write a sentence or two in English, e.g. \"I like football.\"")
    if len(text) > limit:
        raise UserInputError(
            f"The message has {len(text):,} characters; a tutoring turn takes at most {limit:,} (a few sentences)."
        )
    problem = binary_problem(text)
    if problem:
        raise UserInputError(f"The message {problem}; write plain English text.")
    english, why = is_probably_english(text)
    if not english:
        raise UserInputError(f"The message does not look like English ({why}); the tutor answers English messages.")
    return text


# --- nodes ----------------------------------------------------------------------------------------------------

Node = Callable[[TutorState], dict[str, Any]]


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
        detection, learner, turn, now = _detection(state), _learner(state), state["turn"], state["received"]
        estimate = self.ctx.estimator.estimate(detection.corrected)
        evidence = turn_level(turn, estimate)
        cards = dict(learner.words)
        missed = set()
        for error in word_errors(detection.errors):
            found = self.ctx.checker.lexicon.level_of(error.suggestion.split()[0])
            if found.is_listed and found.pos:
                miss_word(cards, found.lemma, found.pos, found.level, now)
                missed.add(found.lemma.lower())
        for word in tracked_words(estimate.words):
            if word.lemma.lower() not in missed and word.pos:
                use_word(cards, word.lemma, word.pos, word.level, now)
        updated = learner.model_copy(update={
            "level": update_level(learner.level, evidence),
            "errors": record_errors(learner.errors, detection.errors, turn, now),
            "words": cards,
        })  # fmt: skip
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
        facts = ReplyFacts(
            ok=verdict.ok, escalated=draft.escalated, local_attempts=sum(not d.escalated for d in drafts),
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

    def _decide(self, turn: int, node: str, choice: str, reason: str, *, escalation: bool = False) -> Decision:
        """Record a decision on the trace and return it for the state."""
        telemetry.record_decision(None, f"{node}.route", choice, reason, escalation=escalation)
        return Decision(turn=turn, node=node, choice=choice, reason=reason)


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


def _drafts(state: TutorState) -> list[Draft]:
    """The current turn's reply drafts (the list may still hold the previous turn's until a new one arrives)."""
    return [d for d in state.get("drafts", []) if d.turn == state.get("turn")]


def _current(records: list[Any], turn: int) -> list[Any]:
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


def render_exercise(item: dict[str, Any]) -> str:
    """An exercise as the learner sees it: instructions, the task and the options, without the answer."""
    lines = [str(item.get("instructions", ""))]
    if item.get("stem"):
        lines.append(str(item["stem"]))
    options = item.get("options")
    if isinstance(options, list) and options:
        lines.append("Options: " + " / ".join(str(o) for o in options))
    if isinstance(item.get("words"), list):
        lines.append("Words: " + ", ".join(str(w) for w in item["words"]))
    return "\n".join(line for line in lines if line)


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
        "decisions": [d.model_dump(mode="json") for d in _current(state.get("decisions", []), state["turn"])],
    }


# --- routers and the graph ------------------------------------------------------------------------------------


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


def _timed(name: str, fn: Node) -> Node:
    """Add the node's wall time to the turn's timings."""

    def run(state: TutorState) -> dict[str, Any]:
        start = time.perf_counter()
        update = fn(state)
        turn = update.get("turn", state.get("turn", 0))
        update["timings"] = [NodeTime(turn=turn, node=name, seconds=round(time.perf_counter() - start, 4))]
        return update

    run.__name__ = name
    return run


NODES = ("intake", "grade", "detect", "assess", "feedback", "write", "escalate", "check", "offer", "finalize")


def build_tutor_graph(
    ctx: AgentContext, checkpointer: Any, *, item_graph: Callable[[], Any] | None = None,
    policy: TutorPolicy | None = None,
) -> Any:  # fmt: skip
    """Compile the tutoring graph. `item_graph` returns the compiled item graph (built on first use by default)."""
    nodes = TutorNodes(ctx, item_graph or _lazy_item_graph(ctx), policy or TutorPolicy())
    graph = StateGraph(TutorState, input_schema=TutorTurnInput)
    for name in NODES:
        node = telemetry.traced_node(name, _timed(name, getattr(nodes, name)), learner_fields=LEARNER_FIELDS)
        graph.add_node(name, node)  # type: ignore[call-overload]
    graph.add_edge(START, "intake")
    graph.add_conditional_edges("intake", route_start, ["grade", "detect"])
    graph.add_edge("grade", "finalize")
    graph.add_edge("detect", "assess")
    graph.add_edge("assess", "feedback")
    graph.add_edge("feedback", "write")
    graph.add_edge("write", "check")
    graph.add_edge("escalate", "check")
    graph.add_conditional_edges("check", route_reply, ["write", "escalate", "offer"])
    graph.add_edge("offer", "finalize")
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer, name=GRAPH_NAME)


def _lazy_item_graph(ctx: AgentContext) -> Callable[[], Any]:
    """The item graph, compiled on first use without a checkpointer of its own (so it never inherits ours)."""
    built: list[Any] = []

    def get() -> Any:
        if not built:
            from graphs.item import build_item_graph

            built.append(build_item_graph(ctx, checkpointer=False))
        return built[0]

    return get


# --- running a turn -------------------------------------------------------------------------------------------


def run_tutor_turn(
    graph: Any, session_id: str, message: str, *, run_id: str | None = None, now: datetime | None = None,
    start_level: Level = Level.A2,
) -> TutorTurnResult:  # fmt: skip
    """Run one learner turn as one trace (root span `invoke_workflow tutor_graph`) and return what it produced.

    The message is checked first (UserInputError, nothing written); `now` fixes the turn's clock (tests, replays).
    Hold the session's writer lock around this call when the checkpointer is shared (`forge.sessions.tutor`).
    """
    text = check_message(message)
    run = run_id or uuid.uuid4().hex
    config: RunnableConfig = {"configurable": {"thread_id": session_id}}
    start = time.perf_counter()
    with telemetry.run_span("tutoring_turn", GRAPH_NAME, run_id=run, conversation_id=session_id):
        telemetry.set_run_attrs({telemetry.LEARNER_TEXT: text} if telemetry.capture_content() else {})
        turn_input: TutorTurnInput = {"learner_message": text, "session_id": session_id, "run_id": run,
                                      "received": now or utc_now(), "start_level": start_level.value}  # fmt: skip
        values = graph.invoke(turn_input, config, durability="exit")
        result = turn_result(values, session_id, telemetry.current_trace_id(), now or utc_now())
    return result.model_copy(update={"latency_s": round(time.perf_counter() - start, 4)})


def turn_result(values: dict[str, Any], session_id: str, trace_id: str | None, now: datetime) -> TutorTurnResult:
    """The caller's view of a finished turn, from the graph's final state."""
    learner: LearnerModel = values["learner"]
    feedback: Feedback | None = values.get("feedback")
    offered: PendingExercise | None = values.get("offered")
    exercise = None
    if offered is not None:
        exercise = {"type": offered.type, "reason": offered.reason, "text": render_exercise(offered.item),
                    "item": offered.item, "run_id": offered.run_id, "trace_id": offered.trace_id}  # fmt: skip
    decisions, timings = _current(values.get("decisions", []), learner.turns), values.get("timings", [])
    return TutorTurnResult(
        session=session_id, turn=learner.turns, reply=compose_reply(values), level_estimate=learner.level.level.value,
        corrections=feedback.corrections if feedback else [], learner=learner.summary(now), exercise=exercise,
        graded=values.get("graded"), trace_id=trace_id, decisions=decisions,
        timings={t.node: t.seconds for t in _current(timings, learner.turns)},
    )  # fmt: skip
