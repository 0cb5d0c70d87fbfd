"""The exercise-session graph: a teacher or learner refines a set of exercises over turns.

    START → understand ─┬→ apply ─→ commit → END
                        └─────────→ commit            (nothing to do: not understood, help)

`understand` reads the message (deterministic parser, the model's forced tool call as a fallback); `apply` runs
each command in turn: model-free edits directly, every new or replacement item through the item graph
(`run_item`, one nested trace per item, with the session id); `commit` appends the new version of the set (every
earlier one stays in `versions`) and the two turns in one update, so a turn becomes visible only when complete.
`run_exercise_turn` runs one turn as one trace (`exercise_turn`). The session store (forge/sessions) provides the
checkpointer, the writer lock and the registry around it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agents import telemetry
from agents.context import AgentContext
from agents.exercise_session.commands import Parsed
from agents.exercise_session.sets import SetVersion, Step, current_set
from graphs.exercise_session.nodes import ExerciseNodes, reply_text, shown_version, version_set
from graphs.exercise_session.routing import route
from graphs.exercise_session.state import ExerciseSessionState, ExerciseTurnInput, ExerciseTurnResult

GRAPH_NAME = "exercise_session"
NODES = ("understand", "apply", "commit")


def turn_result(values: dict[str, Any], session_id: str, trace_id: str | None) -> ExerciseTurnResult:
    """The caller's view of a finished turn, from the graph's final state."""
    versions: list[SetVersion] = list(values.get("versions", []))
    step: Step = values.get("step") or Step(set=current_set(versions))
    parsed: Parsed = values.get("parsed") or Parsed()
    number = len(versions)
    shown = shown_version(step, number)
    listed = version_set(versions, shown)
    return ExerciseTurnResult(
        session=session_id, version=number, shown_version=shown, level=listed.level.value, topic=listed.topic,
        items=listed.items, changes=step.changes, problems=step.problems, notes=step.notes,
        reply=reply_text(parsed, step, number, shown=shown), understood=bool(parsed.commands),
        commands=parsed.commands, export=values.get("export"), decisions=step.decisions, trace_id=trace_id,
    )


def build_exercise_session_graph(
    ctx: AgentContext, item_graph: Any, export_dir: Path, checkpointer: Any, *, confined: bool = False
) -> Any:
    """Compile the session graph over the item graph, with the session store's checkpointer.

    `confined` keeps every export a turn asks for inside `export_dir` (for the web app, whose users name files on
    a machine that is not theirs).
    """
    nodes = ExerciseNodes(ctx, item_graph, export_dir, confined=confined)
    graph = StateGraph(ExerciseSessionState, input_schema=ExerciseTurnInput)
    for name in NODES:
        node = telemetry.traced_node(name, getattr(nodes, name), learner_fields=("message",))
        graph.add_node(name, node)
    graph.add_edge(START, "understand")
    graph.add_conditional_edges("understand", route, ["apply", "commit"])
    graph.add_edge("apply", "commit")
    graph.add_edge("commit", END)
    return graph.compile(checkpointer=checkpointer, name=GRAPH_NAME)


def run_exercise_turn(graph: Any, session_id: str, message: str, *, run_id: str) -> ExerciseTurnResult:
    """Run one turn as one trace (root span `invoke_workflow exercise_session`) and return what it did."""
    config: RunnableConfig = {"configurable": {"thread_id": session_id}}
    with telemetry.run_span("exercise_turn", GRAPH_NAME, run_id=run_id, conversation_id=session_id):
        telemetry.set_run_attrs({telemetry.LEARNER_TEXT: message[:2000]} if telemetry.capture_content() else {})
        values = graph.invoke({"message": message, "run_id": run_id}, config, durability="sync")
        result = turn_result(values, session_id, telemetry.current_trace_id())
        telemetry.set_run_attrs({telemetry.LEVEL: result.level})
        if not result.understood:
            telemetry.mark_run_failed(result.reply[:200])
        return result

