"""The item and tutoring graphs for LangGraph tooling (`langgraph dev`, LangGraph Server), named in langgraph.json.

Both are built from the same settings as the CLI (forge.toml, FORGE_* variables); models load on first use and the
retrieval index is built or updated here, at import, so the first request does not pay for it.

What LangGraph Server runs is a one-node graph around ours, so that a served run is what a CLI run is: the node
runs our graph through `run_item` or `TutorSessions.turn`, which open the run's root span (`invoke_workflow ...`),
and the graph's node spans nest under it — one run, one trace in the trace store, flushed when the run ends.

- `item`: input `{"request": {"level": "A2", "topic": "food", "type": "gap_fill"}}`, output `{"result": {...}}`
  (an `ItemResult` as JSON).
- `tutor`: input `{"learner_message": "I goed to school.", "level": "A2"}` (level only starts a new session) on a
  server thread; output `{"reply", "session", "turn", "level_estimate", "intent", "trace_id"}`. The thread is the
  tutoring session (`langgraph-<thread id>`): its state (learner model, turns, pending exercise) lives in the
  session store's checkpointer — PostgreSQL when FORGE_POSTGRES_URL is set, SQLite in the data dir otherwise — so
  the same session continues from the CLI or the web app; the server's own checkpointer keeps only the wrapper's
  last input and output.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NotRequired, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from forge.services import Services
from forge.sessions.tutor import TutorSessions
from forge.settings import load_settings
from forge.telemetry import setup_tracing
from graphs.item.graph import run_item
from graphs.item.state import ItemRequest
from knowledge.errors import UserInputError

#: Prefix of the tutoring sessions served threads run in (session ids are checked: letters, digits, '-', '_').
SESSION_PREFIX = "langgraph-"


class ItemServedState(TypedDict):
    """The served item graph's state: the request in, the result out."""

    #: The item request's fields (`ItemRequest`: level, topic, type, optional source_text, seed, ...).
    request: dict[str, Any]
    #: The run's `ItemResult` as JSON.
    result: NotRequired[dict[str, Any]]


class ItemServedOutput(TypedDict):
    """What a served item run returns."""

    result: dict[str, Any]


class TutorServedInput(TypedDict):
    """One tutoring turn's input: the learner's message, and the level a new session starts from."""

    learner_message: str
    level: NotRequired[str]


class TutorServedOutput(TypedDict):
    """What a served tutoring turn returns."""

    reply: str
    session: str
    turn: int
    level_estimate: str
    intent: str
    trace_id: str | None


class TutorServedState(TutorServedInput, TutorServedOutput, total=False):
    """The served tutoring graph's state: the turn's input and its output."""


services = Services(load_settings()[0])
tracing = setup_tracing(services.settings)
services.ensure_index()


@cache
def tutor_sessions() -> TutorSessions:
    """The tutoring sessions over this process's services (the tutoring graph compiled on first use)."""
    return TutorSessions(services)


def _flushed(result: Any) -> Any:
    """Write the run's spans to the trace store now, so the trace is there when the server answers."""
    if tracing is not None:
        tracing.flush()
    return result


def run_item_node(state: ItemServedState) -> dict[str, Any]:
    """Run the item graph on the request as one trace and return its result as JSON."""
    result = run_item(services.item_graph, ItemRequest.of(state["request"]))
    return _flushed({"result": result.model_dump(mode="json")})


def run_tutor_node(state: TutorServedState, config: RunnableConfig) -> dict[str, Any]:
    """Run one tutoring turn in the thread's session as one trace and return the reply."""
    thread = str(config.get("configurable", {}).get("thread_id") or "")
    if not thread:
        raise UserInputError("A tutoring turn needs a thread: create one and run the turn on it.")
    sessions = tutor_sessions()
    info, _ = sessions.open(f"{SESSION_PREFIX}{thread}", level=state.get("level"))
    result = sessions.turn(info.id, state["learner_message"])
    return _flushed(
        {"reply": result.reply, "session": result.session, "turn": result.turn, "intent": result.intent,
         "level_estimate": result.level_estimate, "trace_id": result.trace_id}
    )  # fmt: skip


def build_served_item_graph() -> Any:
    """The item graph as LangGraph Server runs it: one node around `run_item`."""
    graph = StateGraph(ItemServedState, output_schema=ItemServedOutput)
    graph.add_node("item", run_item_node)
    graph.add_edge(START, "item")
    graph.add_edge("item", END)
    return graph.compile(name="item")


def build_served_tutor_graph() -> Any:
    """The tutoring graph as LangGraph Server runs it: one node around a session's turn."""
    graph = StateGraph(TutorServedState, input_schema=TutorServedInput, output_schema=TutorServedOutput)
    graph.add_node("turn", run_tutor_node)
    graph.add_edge(START, "turn")
    graph.add_edge("turn", END)
    return graph.compile(name="tutor")


#: The served item graph (see the module docstring).
graph = build_served_item_graph()
#: The served tutoring graph (see the module docstring).
tutor_graph = build_served_tutor_graph()
