"""Shared by the tracing tests: a realistic toy item graph, a stand-in escalation model, an OTLP/HTTP receiver.

The toy graph has the shape of the real item graph (retrieve → constrain ∥ lookup tool → generate → validate →
maybe escalate) and is built only from `agents.telemetry` helpers, as the real graphs are meant to be.
"""

from __future__ import annotations

import http.server
import operator
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agents import telemetry
from agents.models.base import Capabilities, ChatModel, GenerationOptions, Message
from tests.support.scripted_model import Reply, ScriptedModel


class ItemState(TypedDict, total=False):
    """State of the toy item graph."""

    level: str
    word: str
    learner_text: str
    retrieved: list[str]
    constraints: dict[str, Any]
    definition: str
    draft: str
    valid: bool
    notes: Annotated[list[str], operator.add]


def ollama_stand_in(name: str = "qwen2.5:7b-instruct", reply: str = "The cat sat.", retries: int = 0) -> ScriptedModel:
    """A stand-in Ollama model (an escalation target in production): fixed text, word-count tokens, and `retries`
    backend retries recorded on every call."""
    capabilities = Capabilities(tools=False, json_schema=False, completion=False, logprobs=False)
    return ScriptedModel([Reply(reply, retries=retries)], name, backend="ollama", capabilities=capabilities)


def define_word(word: str) -> str:
    """The fake tool: a dictionary lookup."""
    return f"{word}: a small domestic animal"


def build_item_graph(local: ChatModel, escalation: ChatModel, *, force_invalid: bool = False, checkpointer: Any = None,
                     max_tokens: int = 12) -> Any:
    """The toy item graph, every node wrapped with `traced_node`."""

    def retrieve(state: ItemState) -> ItemState:
        with telemetry.retrieval_span("lexicon", state["word"], top_k=2) as span:
            hits = [("lex:cat", 0.93), ("lex:kitten", 0.71)]
            telemetry.retrieved(span, hits)
        return {"retrieved": [h[0] for h in hits], "notes": ["retrieve"]}

    def constrain(state: ItemState) -> ItemState:
        constraints = {"level": state["level"], "max_words": 12, "must_use": [state["word"]]}
        telemetry.set_attrs(trace.get_current_span(), {telemetry.CONSTRAINTS: constraints})
        return {"constraints": constraints, "notes": ["constrain"]}

    def lookup(state: ItemState) -> ItemState:
        with telemetry.tool_span("define_word", call_id="call_1", arguments={"word": state["word"]}) as span:
            result = define_word(state["word"])
            telemetry.tool_result(span, result)
        return {"definition": result, "notes": ["lookup"]}

    def generate(state: ItemState) -> ItemState:
        prompt = f"Write one short sentence for a {state['level']} learner using the word '{state['word']}'."
        options = GenerationOptions(max_tokens=max_tokens, temperature=0.0, seed=1, level=None)
        result = local.chat([Message.user(prompt)], options=options)
        return {"draft": result.text.strip(), "notes": ["generate"]}

    def validate(state: ItemState) -> ItemState:
        valid = not force_invalid and bool(state.get("draft"))
        violations = [] if valid else [{"rule": "level", "detail": "word above B1", "word": "ubiquitous"}]
        telemetry.record_validation(valid, violations=violations, aci=0.91 if valid else 0.42)
        return {"valid": valid, "notes": ["validate"]}

    def route(state: ItemState) -> Literal["escalate", "__end__"]:
        if state["valid"]:
            telemetry.record_decision(None, "route", "done", "validator accepted the draft")
            return END
        telemetry.record_decision(None, "route", "escalate", "validator found 1 level violation", escalation=True,
                                  to_model=escalation.id)  # fmt: skip
        return "escalate"

    def escalate(state: ItemState) -> ItemState:
        result = escalation.chat([Message.user(f"Rewrite for {state['level']}: {state['draft']}")])
        return {"draft": result.text, "valid": True, "notes": ["escalate"]}

    graph = StateGraph(ItemState)
    for name, fn in [("retrieve", retrieve), ("constrain", constrain), ("lookup", lookup), ("generate", generate),
                     ("validate", validate), ("escalate", escalate)]:  # fmt: skip
        graph.add_node(name, telemetry.traced_node(name, fn, learner_fields=["learner_text"]))
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "constrain")  # constrain and lookup run in parallel
    graph.add_edge("retrieve", "lookup")
    graph.add_edge(["constrain", "lookup"], "generate")
    graph.add_edge("generate", "validate")
    graph.add_conditional_edges("validate", route, ["escalate", END])
    graph.add_edge("escalate", END)
    return graph.compile(checkpointer=checkpointer)


NODES = ["retrieve", "constrain", "lookup", "generate", "validate"]


def run_item(graph: Any, *, run_id: str, level: str = "B1", word: str = "cat", session: str | None = None,
             learner_text: str = "I has a cat.", stream: bool = False) -> dict[str, Any]:
    """One item run: a root `run_span` around the graph, as the application does."""
    state: ItemState = {"level": level, "word": word, "learner_text": learner_text, "notes": []}
    config = {"configurable": {"thread_id": session or run_id}}
    with telemetry.run_span("item", "item_graph", run_id=run_id, conversation_id=session,
                            attrs={telemetry.LEVEL: level, telemetry.EXERCISE_TYPE: "gap_fill",
                                   telemetry.LEARNER_TEXT: learner_text}):  # fmt: skip
        if stream:
            out: dict[str, Any] = {}
            for update in graph.stream(state, config, stream_mode="values"):
                out = update
            return out
        return dict(graph.invoke(state, config))


def invoke_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `forge ARGS` in this process through the real entry point; return (exit code, stdout, stderr)."""
    from forge.cli.app import main

    monkeypatch.setattr(sys, "argv", ["forge", *args])
    capsys.readouterr()
    code: int | str | None = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return int(code or 0), out, err


class OtlpReceiver:
    """A minimal OTLP/HTTP collector: decodes ExportTraceServiceRequest protobufs posted to /v1/traces."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.status = status

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, span) for every span received."""
        out = []
        for request in self.requests:
            for rs in request.resource_spans:
                resource = {a.key: a.value.string_value for a in rs.resource.attributes}
                out += [(resource, span) for ss in rs.scope_spans for span in ss.spans]
        return out


@contextmanager
def otlp_receiver(status: int = 200) -> Iterator[tuple[str, OtlpReceiver]]:
    """Serve an OtlpReceiver on a free loopback port; yields (base URL, receiver)."""
    receiver = OtlpReceiver(status)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.paths.append(self.path)
            receiver.headers.append(dict(self.headers.items()))
            if receiver.status == 200:
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.requests.append(request)
            self.send_response(receiver.status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", receiver
    finally:
        server.shutdown()
        server.server_close()
