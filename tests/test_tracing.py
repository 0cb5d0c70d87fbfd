"""Recording traces: one tree per run across LangGraph nodes, real token counts, decisions, verdicts, store safety."""

from __future__ import annotations

import asyncio
import logging
import operator
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt
from opentelemetry import trace

from agents import telemetry
from agents.models.llamacpp import LlamaCppModel
from forge.services import Services
from forge.settings import Settings
from forge.telemetry import Redactor, Tracing, active_tracing, setup_tracing, trace_db_path
from forge.traces import SpanRecord, TraceStore
from tests.support.trace_helpers import NODES, build_item_graph, ollama_stand_in, run_item


@pytest.fixture
def tracing(isolated_env: Path) -> Iterator[Tracing]:
    """Tracing into this test's data dir, shut down afterwards."""
    handle = setup_tracing(Settings(data_dir=isolated_env), schedule_delay_ms=50)
    assert handle is not None
    yield handle
    handle.shutdown()


def stored(handle: Tracing) -> TraceStore:
    """The store, after flushing every finished span."""
    handle.flush()
    return TraceStore(handle.path)


def check_one_tree(spans: list[SpanRecord]) -> SpanRecord:
    """Every span of the trace hangs from one root; return the root."""
    assert len({s.trace_id for s in spans}) == 1
    roots = [s for s in spans if s.parent_id is None]
    assert len(roots) == 1, [s.name for s in roots]
    ids = {s.span_id for s in spans}
    assert all(s.parent_id in ids for s in spans if s.parent_id is not None)
    return roots[0]


def children(spans: list[SpanRecord], parent: SpanRecord) -> list[SpanRecord]:
    return [s for s in spans if s.parent_id == parent.span_id]


def test_item_run_is_one_tree_with_every_node_and_real_tokens(tracing: Tracing, smollm: LlamaCppModel) -> None:
    graph = build_item_graph(smollm, ollama_stand_in(), checkpointer=InMemorySaver())
    out = run_item(graph, run_id="run-1", session="sess-1")
    assert out["valid"] is True
    store = stored(tracing)
    (run,) = store.runs()
    spans = store.spans(run.trace_id)
    root = check_one_tree(spans)
    assert root.name == "invoke_workflow item_graph"
    assert root.attributes[telemetry.OPERATION] == "invoke_workflow"
    assert root.attributes[telemetry.CONVERSATION_ID] == "sess-1"
    nodes = {s.attributes[telemetry.AGENT_NAME]: s for s in children(spans, root)}
    assert sorted(nodes) == sorted(NODES)  # parallel branches (constrain, lookup) nest under the same root
    assert all(s.name == f"invoke_agent {n}" and s.end_ns > s.start_ns for n, s in nodes.items())
    (chat,) = children(spans, nodes["generate"])
    assert chat.name == "chat smollm2-135m" and chat.kind == "CLIENT"
    assert chat.attributes[telemetry.MODEL_ID] == "llamacpp:smollm2-135m"
    assert chat.attributes[telemetry.PROVIDER] == "llamacpp"
    assert chat.attributes[telemetry.INPUT_TOKENS] > 10 and chat.attributes[telemetry.OUTPUT_TOKENS] > 0
    assert chat.attributes[telemetry.LATENCY] > 0 and chat.attributes[telemetry.TTFT] > 0
    assert "B1 learner" in chat.attributes[telemetry.INPUT_MESSAGES]
    (tool,) = children(spans, nodes["lookup"])
    assert tool.name == "execute_tool define_word" and "domestic" in tool.attributes[telemetry.TOOL_RESULT]
    (retrieval,) = children(spans, nodes["retrieve"])
    assert "lex:cat" in retrieval.attributes[telemetry.RETRIEVAL_DOCUMENTS]
    assert "must_use" in nodes["constrain"].attributes[telemetry.CONSTRAINTS]
    assert nodes["validate"].attributes[telemetry.VALID] is True
    assert '"draft"' in nodes["generate"].attributes[telemetry.NODE_OUTPUT]
    assert run.run_id == "run-1" and run.kind == "item" and run.level == "B1" and run.exercise_type == "gap_fill"
    assert run.models == ["llamacpp:smollm2-135m"] and run.valid is True and run.aci == pytest.approx(0.91)
    assert run.input_tokens == chat.attributes[telemetry.INPUT_TOKENS] and not run.escalated and not run.failed


def test_escalated_streamed_run_with_sqlite_checkpointer_shows_why(
    tracing: Tracing, smollm: LlamaCppModel, tmp_path: Path
) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "checkpoints.sqlite")) as saver:
        graph = build_item_graph(smollm, ollama_stand_in(), force_invalid=True, checkpointer=saver)
        run_item(graph, run_id="esc-1", session="thread-9", stream=True)
        run_item(graph, run_id="esc-2", session="thread-9", stream=True)  # same thread, second turn
    store = stored(tracing)
    runs = store.runs()
    assert [r.run_id for r in runs] == ["esc-2", "esc-1"] and len({r.trace_id for r in runs}) == 2
    for run in runs:
        spans = store.spans(run.trace_id)
        root = check_one_tree(spans)
        assert run.escalated and run.escalation_reasons == ["validator found 1 level violation"]
        assert run.models == ["llamacpp:smollm2-135m", "ollama:qwen2.5:7b-instruct"]
        assert root.attributes[telemetry.ESCALATED] is True
        (decision,) = [d for s in spans for d in s.decisions()]
        assert decision == {"name": "route", "choice": "escalate", "reason": "validator found 1 level violation",
                            "escalation": True}  # fmt: skip
        validate = next(s for s in spans if s.name == "invoke_agent validate")
        assert validate.attributes[telemetry.VALID] is False and "word above B1" in validate.attributes[
            telemetry.VIOLATIONS]
        assert any(s.name == "chat qwen2.5:7b-instruct" for s in spans)


class TurnState(TypedDict, total=False):
    learner_text: str
    reply: str
    steps: Annotated[list[str], operator.add]


def test_async_nodes_and_interrupts_keep_one_root_per_turn(tracing: Tracing) -> None:
    async def listen(state: TurnState) -> TurnState:
        await asyncio.sleep(0)
        return {"steps": ["listen"]}

    async def branch_a(state: TurnState) -> TurnState:
        return {"steps": ["a"]}

    async def branch_b(state: TurnState) -> TurnState:
        return {"steps": ["b"]}

    def ask_learner(state: TurnState) -> TurnState:
        answer = interrupt("Your answer?")
        return {"reply": str(answer), "steps": ["asked"]}

    graph = StateGraph(TurnState)
    for name, fn in [("listen", listen), ("a", branch_a), ("b", branch_b), ("ask", ask_learner)]:
        graph.add_node(name, telemetry.traced_node(name, fn))
    graph.add_edge(START, "listen")
    graph.add_edge("listen", "a")
    graph.add_edge("listen", "b")
    graph.add_edge(["a", "b"], "ask")
    graph.add_edge("ask", END)
    app = graph.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "tutor-1"}}

    async def turns() -> None:
        with telemetry.run_span("tutoring_turn", "tutoring", run_id="turn-1", conversation_id="tutor-1"):
            await app.ainvoke({"learner_text": "I goed home.", "steps": []}, config)
        with telemetry.run_span("tutoring_turn", "tutoring", run_id="turn-2", conversation_id="tutor-1"):
            await app.ainvoke(Command(resume="I went home."), config)

    asyncio.run(turns())
    store = stored(tracing)
    runs = {r.run_id: r for r in store.runs()}
    assert set(runs) == {"turn-1", "turn-2"} and not any(r.failed for r in runs.values())
    first = store.spans(runs["turn-1"].trace_id)
    root = check_one_tree(first)
    assert sorted(s.attributes[telemetry.AGENT_NAME] for s in children(first, root)) == ["a", "ask", "b", "listen"]
    asked = next(s for s in first if s.name == "invoke_agent ask")
    assert asked.status != "ERROR" and [e["name"] for e in asked.events] == [telemetry.INTERRUPT_EVENT]
    second = store.spans(runs["turn-2"].trace_id)
    check_one_tree(second)
    assert [s.name for s in second if s.parent_id] == ["invoke_agent ask"]


def test_failed_run_is_marked_and_error_recorded(tracing: Tracing) -> None:
    def broken(state: TurnState) -> TurnState:
        raise RuntimeError("node bug")

    graph = StateGraph(TurnState)
    graph.add_node("broken", telemetry.traced_node("broken", broken))
    graph.add_edge(START, "broken")
    app = graph.compile()
    with pytest.raises(RuntimeError), telemetry.run_span("item", "item_graph", run_id="bad-1"):
        app.invoke({"steps": []})
    with telemetry.run_span("item", "item_graph", run_id="degraded-1"):
        telemetry.mark_run_failed("no valid item after 3 attempts")
    runs = {r.run_id: r for r in stored(tracing).runs()}
    assert runs["bad-1"].failed and "node bug" in (runs["bad-1"].error or "")
    assert runs["degraded-1"].failed and runs["degraded-1"].error == "no valid item after 3 attempts"


def test_tracing_off_records_nothing(isolated_env: Path) -> None:
    assert setup_tracing(Settings(data_dir=isolated_env, tracing=False)) is None
    with telemetry.run_span("ask", "ask", run_id="x", operation="invoke_agent") as span:
        assert not span.is_recording()
    assert not trace_db_path(isolated_env).exists()


def test_content_capture_off_keeps_tokens_but_no_text(isolated_env: Path, smollm: LlamaCppModel) -> None:
    handle = setup_tracing(Settings(data_dir=isolated_env, trace_content=False), schedule_delay_ms=50)
    assert handle is not None
    try:
        graph = build_item_graph(smollm, ollama_stand_in())
        run_item(graph, run_id="private-1")
        store = stored(handle)
        spans = store.spans(store.runs()[0].trace_id)
    finally:
        handle.shutdown()
        telemetry.set_capture_content(None)
    chat = next(s for s in spans if s.name.startswith("chat "))
    assert chat.attributes[telemetry.OUTPUT_TOKENS] > 0
    everything = " ".join(str(s.attributes) for s in spans)
    assert telemetry.INPUT_MESSAGES not in everything and telemetry.NODE_INPUT not in everything


def test_corrupt_store_never_fails_a_run(
    isolated_env: Path, smollm: LlamaCppModel, caplog: pytest.LogCaptureFixture
) -> None:
    isolated_env.mkdir(parents=True)
    trace_db_path(isolated_env).write_bytes(b"this is not a database" * 100)
    handle = setup_tracing(Settings(data_dir=isolated_env), schedule_delay_ms=50)
    assert handle is not None
    graph = build_item_graph(smollm, ollama_stand_in())
    with caplog.at_level(logging.WARNING, logger="forge.telemetry"):
        for n in range(3):
            assert run_item(graph, run_id=f"r{n}")["valid"] is True
            handle.flush()
    handle.shutdown()
    warnings = [r for r in caplog.records if "not being saved" in r.getMessage()]
    assert len(warnings) == 1 and handle.exporter.failures >= 3


def test_unwritable_store_is_swallowed(isolated_env: Path) -> None:
    trace_db_path(isolated_env).mkdir(parents=True)  # a directory where the database file should be
    handle = setup_tracing(Settings(data_dir=isolated_env), schedule_delay_ms=50)
    assert handle is not None
    with telemetry.run_span("ask", "ask", run_id="x", operation="invoke_agent"):
        pass
    assert handle.flush() and handle.exporter.failures == 1
    handle.shutdown()


def test_services_share_and_repoint_the_store(tmp_path: Path) -> None:
    before = active_tracing()  # a session-wide instance of other tests, or None
    first = Services(Settings(data_dir=tmp_path / "one"))
    same = Services(Settings(data_dir=tmp_path / "one"))
    assert first.tracing is same.tracing
    same.close()
    assert active_tracing() is first.tracing  # still used by `first`
    with telemetry.run_span("ask", "ask", run_id="in-one", operation="invoke_agent"):
        pass
    second = Services(Settings(data_dir=tmp_path / "two"))  # re-points until it is closed
    with telemetry.run_span("ask", "ask", run_id="in-two", operation="invoke_agent"):
        pass
    second.close()
    first.close()
    assert active_tracing() is before and telemetry.tracer() is not None
    assert [r.run_id for r in TraceStore.for_data_dir(tmp_path / "one").runs()] == ["in-one"]
    assert [r.run_id for r in TraceStore.for_data_dir(tmp_path / "two").runs()] == ["in-two"]


def test_nested_run_stays_in_the_outer_trace(tracing: Tracing) -> None:
    with telemetry.run_span("tutoring_turn", "tutoring", run_id="outer"):
        with telemetry.run_span("item", "item_graph", run_id="inner"):
            telemetry.record_decision(None, "escalate", "ollama", "low confidence", escalation=True)
        outer_id = telemetry.current_trace_id()
    (run,) = stored(tracing).runs()
    assert run.run_id == "outer" and run.trace_id == outer_id and run.escalated  # the outer root learns of it


def test_redactor_hashes_learner_text_only(tmp_path: Path) -> None:
    redactor = Redactor.for_data_dir(tmp_path)
    assert Redactor.for_data_dir(tmp_path).salt == redactor.salt
    assert (tmp_path / "trace-salt").stat().st_mode & 0o077 == 0
    attrs = {
        telemetry.LEARNER_TEXT: "I has a cat.",
        telemetry.INPUT_MESSAGES: '[{"role": "system", "parts": [{"type": "text", "content": "Be kind."}]}, '
        '{"role": "user", "parts": [{"type": "text", "content": "I has a cat."}]}]',
        telemetry.NODE_INPUT: '{"learner_text": "I has a cat.", "level": "B1", "messages": '
        '[{"type": "human", "content": "my own words"}, {"type": "ai", "content": "tutor words"}]}',
        telemetry.NODE_OUTPUT: '{"answer": "secret", "draft": "The cat sat."}',
        telemetry.LEARNER_FIELDS_ATTR: ["answer"],
        telemetry.INPUT_TOKENS: 12,
    }
    out = redactor.attributes(attrs)
    digest = redactor.hash("I has a cat.")
    assert digest.startswith("sha256:") and len(digest) == 7 + 64 and Redactor(b"other").hash("I has a cat.") != digest
    assert out[telemetry.LEARNER_TEXT] == digest
    assert digest in out[telemetry.INPUT_MESSAGES] and "Be kind." in out[telemetry.INPUT_MESSAGES]
    assert digest in out[telemetry.NODE_INPUT] and "B1" in out[telemetry.NODE_INPUT]
    assert "my own words" not in out[telemetry.NODE_INPUT] and "tutor words" in out[telemetry.NODE_INPUT]
    assert "secret" not in out[telemetry.NODE_OUTPUT] and "The cat sat." in out[telemetry.NODE_OUTPUT]
    assert "I has a cat." not in str(out) and out[telemetry.INPUT_TOKENS] == 12


def test_store_schema_is_versioned(tracing: Tracing) -> None:
    with telemetry.run_span("ask", "ask", run_id="v", operation="invoke_agent"):
        pass
    tracing.flush()
    with sqlite3.connect(tracing.path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("1",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_record_helpers_outside_a_run_are_harmless() -> None:
    telemetry.record_decision(None, "route", "done", "no run")
    telemetry.record_validation(True)
    telemetry.set_run_attrs({telemetry.LEVEL: "B1"})
    assert telemetry.current_run() is None and telemetry.current_trace_id() is None
    assert not trace.get_current_span().is_recording()


def test_unserialisable_state_never_fails_a_node(tracing: Tracing) -> None:
    loop: dict[str, object] = {"name": "loop"}
    loop["self"] = loop
    node = telemetry.traced_node("odd", lambda state: {"echo": state})
    with telemetry.run_span("item", "item_graph", run_id="odd-1"):
        assert node(loop) == {"echo": loop}
    spans = stored(tracing).spans(stored(tracing).runs()[0].trace_id)
    odd = next(s for s in spans if s.name == "invoke_agent odd")
    assert odd.attributes[telemetry.NODE_INPUT] == "<not serialisable: ValueError>" and odd.status != "ERROR"
