"""The tutoring graph: one learner turn through the tutoring agents, persistent across turns.

    START → intake ─┬→ grade ───────────────────────────────────────────────────────────────────→ finalize → END
         (intent)   └→ detect → assess → feedback ─┬→ answer ───────────────────────────────────→ finalize
                                                   ├→ offer (exercise asked for) ────────────────→ finalize
                                                   └→ write ─┐
                                                  escalate ──┴→ check ─┬→ write (rewrite locally)
                                                                       ├→ escalate (Ollama chain)
                                                                       └→ offer → finalize → END

- intake: numbers the turn and classifies the message (`agents.tutor.intent`): an answer to the offered exercise
  goes to grade; everything else to detect, and after feedback (`graphs.tutor.routing.route_intent`) a word,
  grammar or opinion question, a request to explain a correction, or an off-topic/unsafe message to answer; an
  exercise request to offer; conversation to write. Both decisions and their reasons go on the trace.
- detect: the learner's errors (rules + the local model's scoring, `agents.tutor.errors`).
- assess: the learner model — level from the corrected message blended over turns, error counts, Leitner words.
- feedback: recast, hint or short explanation per error by level and error type (`agents.tutor.feedback`).
- answer: the meaning, example and level of a word, or the explanation and examples of a grammar point, from the
  knowledge (`agents.tutor.answers`); a short answer and a question back to an opinion question; a redirect.
- write / escalate / check: a follow-up question by the local model (or the chain), kept within the level by the
  ACI; rewritten, escalated or replaced by a fallback as `graphs.tutor.routing` decides.
- offer: the exercise the learner asked for, or sometimes one the rule chooses (`agents.tutor.exercise`), from
  the item graph; graded next turn.
- finalize: the two `Turn`s, the new learner model and the pending exercise, in one update, so a turn becomes
  visible only when it is complete (the session store's rule; see `forge.sessions`).

`run_tutor_turn(graph, session_id, message)` runs one turn as one trace (`tutoring_turn`) and returns a
`TutorTurnResult`. Persistence comes from the checkpointer the graph is compiled with (the session store's in the
application; LangGraph's InMemorySaver in tests).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agents import telemetry
from agents.context import AgentContext
from agents.tutor.exercise import PendingExercise, render_exercise
from agents.tutor.feedback import Feedback
from agents.tutor.learner import LearnerModel
from agents.tutor.messages import check_message
from agents.tutor.policy import TutorPolicy
from graphs.common import lazy, timed
from graphs.item.graph import build_item_graph
from graphs.turns import utc_now
from graphs.tutor.nodes import TutorNodes, compose_reply, of_turn
from graphs.tutor.routing import route_intent, route_reply, route_start
from graphs.tutor.state import LEARNER_FIELDS, NodeTime, TutorState, TutorTurnInput, TutorTurnResult
from knowledge.items import item_fields
from knowledge.levels import Level

GRAPH_NAME = "tutor_graph"
NODES = ("intake", "grade", "detect", "assess", "feedback", "answer", "write", "escalate", "check", "offer", "finalize")


def _stamp(name: str) -> Any:
    """Timings as the tutoring state keeps them: a `NodeTime` for this turn."""

    def stamp(state: TutorState, update: dict[str, Any], seconds: float) -> list[NodeTime]:
        turn = update.get("turn", state.get("turn", 0))
        return [NodeTime(turn=turn, node=name, seconds=round(seconds, 4))]

    return stamp


def build_tutor_graph(
    ctx: AgentContext, checkpointer: Any, *, item_graph: Callable[[], Any] | None = None,
    policy: TutorPolicy | None = None,
) -> Any:  # fmt: skip
    """Compile the tutoring graph. `item_graph` returns the compiled item graph (built on first use by default)."""
    item_graph = item_graph or lazy(lambda: build_item_graph(ctx, checkpointer=False))
    nodes = TutorNodes(ctx, item_graph, policy or TutorPolicy())
    graph = StateGraph(TutorState, input_schema=TutorTurnInput)
    for name in NODES:
        fn = timed(name, getattr(nodes, name), _stamp(name))
        node = telemetry.traced_node(name, fn, learner_fields=LEARNER_FIELDS)
        graph.add_node(name, node)  # type: ignore[call-overload]
    graph.add_edge(START, "intake")
    graph.add_conditional_edges("intake", route_start, ["grade", "detect"])
    graph.add_edge("grade", "finalize")
    graph.add_edge("detect", "assess")
    graph.add_edge("assess", "feedback")
    graph.add_conditional_edges("feedback", route_intent, ["write", "answer", "offer"])
    graph.add_edge("answer", "finalize")
    graph.add_edge("write", "check")
    graph.add_edge("escalate", "check")
    graph.add_conditional_edges("check", route_reply, ["write", "escalate", "offer"])
    graph.add_edge("offer", "finalize")
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer, name=GRAPH_NAME)


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
        exercise = {
            "type": offered.type, "reason": offered.reason, "text": render_exercise(offered.item),
            "item": item_fields(offered.item), "run_id": offered.run_id, "trace_id": offered.trace_id,
        }  # fmt: skip
    decisions, timings = of_turn(values.get("decisions", []), learner.turns), values.get("timings", [])
    intent = values.get("intent")
    return TutorTurnResult(
        intent="exercise_answer" if values.get("graded") is not None else intent.kind if intent else "conversation",
        answer=values.get("answer"),
        session=session_id, turn=learner.turns, reply=compose_reply(values), level_estimate=learner.level.level.value,
        corrections=feedback.corrections if feedback else [], learner=learner.summary(now), exercise=exercise,
        graded=values.get("graded"), trace_id=trace_id, decisions=decisions,
        timings={t.node: t.seconds for t in of_turn(timings, learner.turns)},
    )  # fmt: skip
