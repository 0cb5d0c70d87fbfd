"""The item graph: intake → retrieval → KG constraints → tool calling → generation → validation → route.

    START → intake → retrieve → constrain → tools ─┬→ generate ─┐
                                                   └→ escalate ─┴→ validate ─┬→ generate (regenerate, feedback)
                                                                             ├→ escalate (hard / still failing)
                                                                             └→ finalize → END

Each node is an agent step (an `invoke_agent` span); routers only read the `route` a node decided, with its
reason recorded. `run_item` runs one request as one trace and returns a typed `ItemResult`.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agents import telemetry
from agents.context import AgentContext
from graphs.common import timed
from graphs.item.nodes import ItemNodes
from graphs.item.routing import route
from graphs.item.state import ItemInput, ItemOutput, ItemRequest, ItemResult, ItemState

GRAPH_NAME = "item_graph"
NODES = ("intake", "retrieve", "constrain", "tools", "generate", "escalate", "validate", "finalize")


def _stamp(name: str) -> Any:
    """Timings as the item state sums them: seconds by node name."""
    return lambda state, update, seconds: {name: seconds}


def build_item_graph(ctx: AgentContext, checkpointer: Any = None) -> Any:
    """Compile the item graph over an agent context."""
    nodes = ItemNodes(ctx)
    graph = StateGraph(ItemState, input_schema=ItemInput, output_schema=ItemOutput)
    for name in NODES:
        fn = timed(name, getattr(nodes, name), _stamp(name))
        graph.add_node(name, telemetry.traced_node(name, fn, learner_fields=("request",)))  # type: ignore[call-overload]
    graph.add_edge(START, "intake")
    graph.add_edge("intake", "retrieve")
    graph.add_edge("retrieve", "constrain")
    graph.add_edge("constrain", "tools")
    graph.add_conditional_edges("tools", route, ["generate", "escalate"])
    graph.add_edge("generate", "validate")
    graph.add_edge("escalate", "validate")
    graph.add_conditional_edges("validate", route, ["generate", "escalate", "finalize"])
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer, name=GRAPH_NAME)



def run_item(graph: Any, request: ItemRequest) -> ItemResult:
    """Run one request as one trace (root span `invoke_workflow item_graph`) and return its result."""
    attrs = {telemetry.LEVEL: request.level.value, telemetry.EXERCISE_TYPE: request.type}
    with telemetry.run_span("item", GRAPH_NAME, run_id=request.run_id, conversation_id=request.session_id, attrs=attrs):
        output = graph.invoke({"request": request})
        result: ItemResult = output["result"]
        telemetry.set_run_attrs({"forge.status": result.status, telemetry.MODEL_ID: result.model})
        if result.status == "failed":
            telemetry.mark_run_failed(result.failure or "failed")
        return result

