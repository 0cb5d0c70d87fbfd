"""The escalation chain: scripted fake models for the routing logic, the real test server for the real thing."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agents.models.base import ChatModel, GenerationOptions, Message, ModelRequest
from agents.models.errors import InvalidModelOutput, ModelBug, ModelNotFound, ModelTimeout, ModelUnavailable
from agents.models.fallback import AllModelsFailed, ChainCall, EscalationChain
from agents.models.ollama import OllamaConfig, OllamaModel
from agents.models.registry import BackendConfig, ModelRegistry
from tests.support.ollama_server import OllamaTestServer
from tests.support.scripted_model import Reply, ScriptedModel

pytest_plugins = ["tests.support.ollama_fixtures"]
pytestmark = pytest.mark.timeout(180)  # hang guard only

HI = [Message.user("Say hello.")]
SHORT = GenerationOptions(max_tokens=8, seed=1, temperature=0.0)
REQUEST = ModelRequest(messages=HI)


def timeout(model: str) -> ModelTimeout:
    return ModelTimeout(f"{model} did not finish within 1 s", model=model, attempts=3)


def ollama_model(server: OllamaTestServer, name: str, **config: Any) -> OllamaModel:
    settings: dict[str, Any] = {"timeout_s": 60.0, "retries": 2, "backoff_s": 0.01, "backoff_max_s": 0.05} | config
    return OllamaModel(name, OllamaConfig(host=server.url, **settings))


# --- Routing logic, with scripted models ---------------------------------------------------------------------------


def test_first_model_answers_without_escalation() -> None:
    first, second = ScriptedModel(["hello"], "a"), ScriptedModel(["unused"], "b")
    out = EscalationChain([first, second]).call(REQUEST)
    assert out.result is not None
    assert (out.result.text, out.model, out.escalated) == ("hello", "scripted:a", False)
    assert second.calls == 0
    assert [a.ok for a in out.attempts] == [True]


def test_failure_moves_to_the_next_model_and_records_why() -> None:
    first = ScriptedModel([timeout("scripted:a")], "a")
    second = ScriptedModel(["hello from b"], "b")
    out = EscalationChain([first, second]).call(REQUEST)
    assert out.result is not None and out.result.text == "hello from b" and out.escalated
    failed, used = out.attempts
    assert (failed.model, failed.ok) == ("scripted:a", False)
    assert (failed.error_kind, failed.error_type) == ("timeout", "ModelTimeout")
    assert failed.message is not None and "did not finish" in failed.message
    assert failed.tries == 3 and failed.latency_s >= 0
    assert (used.model, used.ok, used.error_kind) == ("scripted:b", True, None)


def test_all_failing_raises_with_every_attempt() -> None:
    models = [
        ScriptedModel([timeout("scripted:a")], "a"),
        ScriptedModel([ModelNotFound("no such model", model="scripted:b")], "b"),
        ScriptedModel([InvalidModelOutput("broken JSON", model="scripted:c")], "c"),
    ]
    with pytest.raises(AllModelsFailed) as info:
        EscalationChain(models).call(REQUEST)
    err = info.value
    assert isinstance(err, ModelUnavailable) and not err.retryable
    assert [(a.model, a.error_kind) for a in err.chain_attempts] == [
        ("scripted:a", "timeout"),
        ("scripted:b", "unavailable"),
        ("scripted:c", "invalid_output"),
    ]
    assert [a.error_type for a in err.chain_attempts] == ["ModelTimeout", "ModelNotFound", "InvalidModelOutput"]
    assert "scripted:a" in str(err) and "broken JSON" in str(err)
    assert err.attempts == 5  # 3 tries of a, 1 of b, 1 of c


def test_our_bug_is_not_escalated() -> None:
    second = ScriptedModel(["unused"], "b")
    with pytest.raises(ModelBug):
        EscalationChain([ScriptedModel([ModelBug("bad schema", model="scripted:a")], "a"), second]).call(REQUEST)
    assert second.calls == 0


def test_response_check_rejects_an_answer() -> None:
    chain = EscalationChain(
        [ScriptedModel(["too hard: ubiquitous"], "a"), ScriptedModel(["easy words"], "b")],
        check=lambda r: "uses a C2 word" if "ubiquitous" in r.text else None,
    )
    out = chain.call(REQUEST)
    assert out.model == "scripted:b"
    assert out.attempts[0].error_kind == "invalid_output"
    assert out.attempts[0].message is not None and "uses a C2 word" in out.attempts[0].message


def test_a_deadline_stops_the_chain_before_the_next_model() -> None:
    from agents.models.deadline import deadline

    slow = ScriptedModel([Reply(text="too hard", delay_s=1.0)], "slow")
    after = ScriptedModel(["easy words"], "after")
    chain = EscalationChain([slow, after], check=lambda r: "too hard" if "hard" in r.text else None)
    with deadline(3.2), pytest.raises(AllModelsFailed) as failed:  # 2.2 s left after `slow`, 2 s kept back
        chain.call(REQUEST)
    assert after.calls == 0
    assert [a.error_type for a in failed.value.chain_attempts] == ["InvalidModelOutput", "DeadlineReached"]
    assert (failed.value.chain_attempts[1].message or "").startswith("deadline: ")


def test_empty_chain_fails_cleanly() -> None:
    with pytest.raises(AllModelsFailed, match="no models"):
        EscalationChain([]).call(REQUEST)


def test_first_reachable_skips_unreachable_models() -> None:
    down, up = ScriptedModel(name="a", reachable=False), ScriptedModel(name="b")
    chain = EscalationChain([down, up])
    assert chain.first_reachable() is up
    assert [a.reachable for a in chain.model_availability()] == [False, True]
    assert EscalationChain([down]).first_reachable() is None


def test_the_chain_is_a_chat_model() -> None:
    chain = EscalationChain([ScriptedModel([timeout("scripted:a")], "a"), ScriptedModel(["hello from b"], "b")])
    assert isinstance(chain, ChatModel)
    assert (chain.id, chain.backend) == ("chain:scripted:a,scripted:b", "chain")
    result = chain.chat(HI)
    assert (result.text, result.model) == ("hello from b", "scripted:b")
    assert chain.calls is None and chain.attempts == [] and chain.answered_by is None, "the shared chain keeps nothing"
    availability = chain.availability()
    assert availability.reachable and availability.model == chain.id


def test_a_session_keeps_its_own_calls_and_the_chain_none() -> None:
    a, b = ScriptedModel([timeout("scripted:a"), "a answers"], "a"), ScriptedModel(["b answers"], "b")
    chain = EscalationChain([a, b])
    first, second = chain.session(), chain.session()
    assert first.chat(HI).text == "b answers"
    assert second.chat(HI).text == "a answers"
    assert (first.answered_by, second.answered_by) == ("scripted:b", "scripted:a")
    assert first.failures() == ["scripted:a: ModelTimeout: scripted:a did not finish within 1 s"]
    assert second.failures() == [] and [a.ok for a in second.attempts] == [True]
    assert chain.calls is None and first.models is chain.models


def test_a_session_records_a_call_where_every_model_failed() -> None:
    session = EscalationChain([ScriptedModel(["TIMEOUT"], "a"), ScriptedModel(["TIMEOUT"], "b")]).session()
    with pytest.raises(AllModelsFailed):
        session.chat(HI)
    assert session.calls is not None and [c.result for c in session.calls] == [None]
    assert session.answered_by is None
    kinds = [f.split(": ")[:2] for f in session.failures()]
    assert kinds == [["scripted:a", "ModelTimeout"], ["scripted:b", "ModelTimeout"]]


def test_sessions_used_from_threads_do_not_mix() -> None:
    from concurrent.futures import ThreadPoolExecutor

    chain = EscalationChain([ScriptedModel(["TIMEOUT"], "a"), ScriptedModel([Reply("ok", delay_s=0.01)], "b")])

    def work(_: int) -> list[ChainCall]:
        session = chain.session()
        session.chat(HI)
        session.chat(HI)
        return session.calls or []

    with ThreadPoolExecutor(4) as pool:
        records = list(pool.map(work, range(8)))
    assert all(len(calls) == 2 and all(c.model == "scripted:b" for c in calls) for calls in records)
    assert all(len(c.attempts) == 2 for calls in records for c in calls)


def test_each_attempt_is_visible_in_the_trace(spans: InMemorySpanExporter) -> None:
    EscalationChain([ScriptedModel([timeout("scripted:a")], "a"), ScriptedModel(["hi"], "b")]).call(REQUEST)
    finished = {s.name: s for s in spans.get_finished_spans()}
    chain_span = finished["invoke_agent escalation_chain"]
    events = [dict(e.attributes or {}) for e in chain_span.events if e.name == "forge.escalation.attempt"]
    decisions = [dict(e.attributes or {}) for e in chain_span.events if e.name == "forge.decision"]
    assert [e["forge.model_id"] for e in events] == ["scripted:a", "scripted:b"]
    assert [d["forge.decision.choice"] for d in decisions] == ["next model"]
    assert "scripted:a: timeout" in str(decisions[0]["forge.decision.reason"])
    assert events[0]["error.type"] == "timeout" and events[1]["forge.ok"] is True
    assert chain_span.attributes is not None and chain_span.attributes["forge.chain.selected"] == "scripted:b"
    for name in ("chat a", "chat b"):
        parent, own = finished[name].parent, chain_span.context
        assert parent is not None and own is not None and parent.span_id == own.span_id


# --- The real thing: OllamaModels over HTTP to the test server -----------------------------------------------------


def test_missing_model_escalates_to_the_next(ollama_api: OllamaTestServer) -> None:
    chain = EscalationChain([ollama_model(ollama_api, "llama3:70b"), ollama_model(ollama_api, "qwen2.5:7b-instruct")])
    out = chain.call(ModelRequest(messages=HI, options=SHORT))
    assert out.model == "ollama:qwen2.5:7b-instruct"
    assert out.result is not None and out.result.text
    missing, used = out.attempts
    assert (missing.error_type, missing.error_kind, missing.tries) == ("ModelNotFound", "unavailable", 1)
    assert used.ok and used.tries == 1


def test_failing_server_model_escalates_after_its_retries(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("status", model="qwen2.5:7b-instruct", status=500, message="out of memory")
    registry = ModelRegistry(BackendConfig(ollama=OllamaConfig(host=ollama_api.url, retries=2, backoff_s=0.01)))
    chain = EscalationChain.from_specs(["ollama:qwen2.5:7b-instruct", "ollama:mistral:7b-instruct"], registry)
    out = chain.call(ModelRequest(messages=HI, options=SHORT))
    assert out.model == "ollama:mistral:7b-instruct"
    assert out.attempts[0].tries == 3 and out.attempts[0].message is not None
    assert "out of memory" in out.attempts[0].message
    assert ollama_api.chat_requests("qwen2.5:7b-instruct") == 3


def test_every_real_target_failing(ollama_api: OllamaTestServer, closed_port_url: str) -> None:
    down = OllamaModel("qwen2.5:7b-instruct", OllamaConfig(host=closed_port_url, retries=0))
    slow = ollama_model(ollama_api, "mistral:7b-instruct", timeout_s=0.3, retries=1)
    ollama_api.inject("delay", delay_s=30)
    with pytest.raises(AllModelsFailed) as info:
        EscalationChain([down, slow]).call(ModelRequest(messages=HI, options=SHORT))
    kinds = [(a.model, a.error_kind, a.tries) for a in info.value.chain_attempts]
    assert kinds == [("ollama:qwen2.5:7b-instruct", "unavailable", 1), ("ollama:mistral:7b-instruct", "timeout", 2)]


def test_first_reachable_over_http(ollama_api: OllamaTestServer, closed_port_url: str) -> None:
    down = OllamaModel("qwen2.5:7b-instruct", OllamaConfig(host=closed_port_url))
    missing = ollama_model(ollama_api, "llama3:70b")
    up = ollama_model(ollama_api, "mistral:7b-instruct")
    assert EscalationChain([down, missing, up]).first_reachable() is up
