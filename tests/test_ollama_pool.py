"""The pool of Ollama hosts and the overall deadline.

The routing rules are checked on the pool alone with fake hosts (no network); everything that claims the system
works runs two Ollama-API test servers (the real SmolLM2 behind each) as two hosts over real HTTP: spreading, a host
stopped and restarted, a host hung, and both hung under a tutoring turn's deadline.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agents import telemetry
from agents.models.base import GenerationOptions, Message
from agents.models.deadline import clamp, deadline, describe, remaining
from agents.models.fallback import AllModelsFailed, EscalationChain
from agents.models.llamacpp import LlamaCppModel
from agents.models.ollama import OllamaConfig, OllamaModel
from agents.models.pool import HostPool, PoolConfig
from agents.tutor.policy import TutorPolicy
from forge.sessions.tutor import TutorSessions
from forge.settings import Settings
from tests.support.item_fixtures import make_services
from tests.support.ollama_server import OllamaTestServer
from tests.support.scripted_model import ScriptedModel

pytestmark = pytest.mark.timeout(240)  # hang guard only; speed figures come from `forge bench pool`

QWEN = "qwen2.5:7b-instruct"
MISTRAL = "mistral:7b-instruct"
SHORT = GenerationOptions(max_tokens=8, seed=1, temperature=0.0)
HI = [Message.user("Say hello.")]
QUICK_POOL = PoolConfig(eject_s=0.2, check_interval_s=0.2, check_timeout_s=0.5)


def wait_for(condition: Callable[[], bool], what: str, limit_s: float = 20.0) -> None:
    """Poll until `condition` holds (a hang guard, not a speed check)."""
    end = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.05)


# --- the pool's routing, with fake hosts -----------------------------------------------------------------------


class FakeHosts:
    """A scripted health check: hosts in `down` fail it; every check is counted."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.checks: list[str] = []

    def __call__(self, url: str, timeout_s: float) -> None:
        self.checks.append(url)
        if url in self.down:
            raise ConnectionRefusedError(f"{url} refused")


def test_idle_hosts_take_turns_and_a_busy_host_is_passed_over() -> None:
    pool = HostPool(["http://a", "http://b", "http://c"], check=FakeHosts())
    assert [pool.pick() for _ in range(4)] == [(u, True) for u in ("http://a", "http://b", "http://c", "http://a")]
    with pool.serving("http://a"), pool.serving("http://b"):
        assert {pool.pick()[0] for _ in range(3)} == {"http://c"}  # type: ignore[index]
    assert pool.pick({"http://a", "http://b"}) == ("http://c", True)
    assert pool.pick({"http://a", "http://b", "http://c"}) is None


def test_a_failed_host_is_out_until_a_health_check_passes() -> None:
    fake = FakeHosts()
    pool = HostPool(["http://a", "http://b"], QUICK_POOL, check=fake)
    fake.down.add("http://a")
    assert pool.failed("http://a", "unavailable: refused")
    assert {pool.pick()[0] for _ in range(4)} == {"http://b"}  # type: ignore[index]
    wait_for(lambda: "http://a" in fake.checks, "a health check of the ejected host")
    assert not pool.status()[0].healthy and "health check failed" in (pool.status()[0].reason or "")
    fake.down.clear()
    wait_for(lambda: pool.status()[0].healthy, "the host to be put back")
    wait_for(lambda: pool._checker is None, "the health-check thread to end with no host ejected")
    checks = len(fake.checks)
    time.sleep(3 * QUICK_POOL.check_interval_s)
    assert len(fake.checks) == checks, "no health checks run while every host is in the pool"
    pool.close()


def test_with_every_host_ejected_the_pool_still_hands_one_out() -> None:
    pool = HostPool(["http://a", "http://b"], PoolConfig(eject_s=30), check=FakeHosts())
    pool.failed("http://a", "timeout")
    pool.failed("http://b", "timeout")
    host, in_pool = pool.pick() or ("", True)
    assert host == "http://a" and not in_pool  # a's ejection ends first
    pool.close()


def test_a_pool_of_one_never_ejects_its_host() -> None:
    pool = HostPool(["http://only"], check=FakeHosts())
    assert not pool.failed("http://only", "timeout")
    assert pool.pick() == ("http://only", True) and pool._checker is None


def test_the_pool_is_safe_from_many_threads() -> None:
    pool = HostPool(["http://a", "http://b"], check=FakeHosts())
    served: list[str] = []

    def work() -> None:
        for _ in range(200):
            host, _ = pool.pick() or ("", True)
            with pool.serving(host):
                served.append(host)
            pool.succeeded(host)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = {s.url: s.served for s in pool.status()}
    assert sum(counts.values()) == 1600 and all(s.in_flight == 0 for s in pool.status())
    assert min(counts.values()) > 400  # spread, not all on one host


# --- the deadline ---------------------------------------------------------------------------------------------


def test_deadlines_nest_and_clamp() -> None:
    assert remaining() is None and clamp(60.0) == 60.0 and describe() == ""
    with deadline(10.0, label="turn"):
        assert 9.0 < (remaining() or 0) <= 10.0 and clamp(60.0) <= 10.0 and clamp(1.0) == 1.0
        with deadline(100.0, label="item"):  # cannot end later than the turn
            assert (remaining() or 0) <= 10.0 and "(turn)" in describe()
        with deadline(1.0, label="item"):
            assert (remaining() or 0) <= 1.0 and "(item)" in describe()
        with deadline(None):
            assert remaining() is not None
    assert remaining() is None


def test_the_chain_gives_up_when_the_deadline_leaves_no_time(spans: InMemorySpanExporter) -> None:
    first, second = ScriptedModel(["hello"], "first"), ScriptedModel(["hello"], "second")
    chain = EscalationChain([first, second], reserve_s=2.0, min_model_s=1.0).session()
    with deadline(2.5), pytest.raises(AllModelsFailed) as failed:
        chain.chat(HI)
    assert first.calls == 0 and second.calls == 0
    assert failed.value.chain_attempts[0].error_type == "DeadlineReached"
    assert any("deadline: " in r and "left" in r for r in _decisions(spans, "chain.deadline"))


def test_the_local_model_is_not_started_once_the_deadline_has_passed(smollm: LlamaCppModel) -> None:
    from agents.models.errors import ModelTimeout

    with deadline(0.0), pytest.raises(ModelTimeout, match="was not started: deadline"):
        smollm.chat(HI, options=SHORT)


# --- two real hosts ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_hosts() -> Iterator[tuple[OllamaTestServer, OllamaTestServer]]:
    """Two Ollama-API test servers on loopback, each over its own copy of the real model."""
    with OllamaTestServer() as a, OllamaTestServer() as b:
        yield a, b


@pytest.fixture
def hosts(two_hosts: tuple[OllamaTestServer, OllamaTestServer]) -> Iterator[tuple[OllamaTestServer, OllamaTestServer]]:
    """Both servers running, with no faults and empty request logs."""
    yield _reset(two_hosts)
    _reset(two_hosts)


def _reset(servers: tuple[OllamaTestServer, OllamaTestServer]) -> tuple[OllamaTestServer, OllamaTestServer]:
    for server in servers:
        server.clear_faults()
        if server._thread is None or not server._thread.is_alive():
            server.restart()
    return servers


def pooled(*servers: OllamaTestServer, name: str = QWEN, **config: Any) -> OllamaModel:
    """An OllamaModel over a pool of the servers, with quick retries and a quick pool."""
    settings: dict[str, Any] = {"timeout_s": 30.0, "retries": 2, "backoff_s": 0.01, "backoff_max_s": 0.05}
    settings |= {"hosts": [s.url for s in servers], "pool": QUICK_POOL}
    return OllamaModel(name, OllamaConfig(**(settings | config)))


def _served_by(spans: InMemorySpanExporter) -> list[str]:
    return [str((s.attributes or {}).get("forge.ollama.host")) for s in _chat_spans(spans)]


def _chat_spans(spans: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.name.startswith("chat ") and s.attributes]


def _decisions(spans: InMemorySpanExporter, name: str) -> list[str]:
    return [
        str(e.attributes.get(telemetry.DECISION_REASON))
        for s in spans.get_finished_spans()
        for e in s.events
        if e.name == telemetry.DECISION_EVENT and e.attributes and e.attributes.get(telemetry.DECISION_NAME) == name
    ]


def test_calls_spread_across_both_hosts(hosts: tuple[OllamaTestServer, ...], spans: InMemorySpanExporter) -> None:
    a, b = hosts
    model = pooled(a, b)
    for _ in range(4):
        model.chat(HI, options=SHORT)
    assert (a.chat_requests(), b.chat_requests()) == (2, 2)
    assert sorted(_served_by(spans)) == sorted([a.url, a.url, b.url, b.url])
    span = _chat_spans(spans)[0]
    assert span.attributes and span.attributes["server.address"] == "127.0.0.1"
    model.close()


def test_a_stopped_host_is_skipped_then_put_back(
    hosts: tuple[OllamaTestServer, ...], spans: InMemorySpanExporter
) -> None:
    a, b = hosts
    model = pooled(a, b)
    a.stop()
    results = [model.chat(HI, options=SHORT) for _ in range(3)]
    assert all(r.attempts == 1 for r in results), "failing over to the other host costs no retry"
    assert b.chat_requests() == 3 and _served_by(spans) == [b.url] * 3
    ejected = _decisions(spans, "ollama.host")
    assert len(ejected) == 1 and ejected[0].startswith(f"{a.url}: unavailable") and f"next host {b.url}" in ejected[0]
    assert not model.pool.status()[0].healthy
    a.restart()
    wait_for(lambda: model.pool.status()[0].healthy, "the restarted host to pass a health check")
    for _ in range(2):
        model.chat(HI, options=SHORT)
    assert a.chat_requests() >= 1, "the host is back in the pool"
    model.close()


def test_a_hung_host_costs_one_attempt_and_the_call_completes_on_the_other(
    hosts: tuple[OllamaTestServer, ...], spans: InMemorySpanExporter
) -> None:
    a, b = hosts
    a.inject("hang")  # on /api/chat only: /api/version still answers, as a real Ollama with a stuck runner does
    model = pooled(a, b, timeout_s=3.0, retries=1, pool=PoolConfig(eject_s=60))  # out for its whole ejection
    result = model.chat(HI, options=SHORT)
    assert result.attempts == 2 and _served_by(spans) == [b.url]
    assert any(r.startswith(f"{a.url}: timeout") for r in _decisions(spans, "ollama.host"))
    assert not model.pool.status()[0].healthy and model.pool.status()[1].healthy
    model.chat(HI, options=SHORT)  # the next call goes straight to the healthy host
    assert a.chat_requests() == 1 and b.chat_requests() == 2
    model.close()


def test_the_registry_shares_one_pool_between_models(hosts: tuple[OllamaTestServer, ...]) -> None:
    from agents.models.registry import BackendConfig, ModelRegistry

    a, b = hosts
    registry = ModelRegistry(BackendConfig(ollama=OllamaConfig(hosts=[a.url, b.url], pool=QUICK_POOL)))
    qwen, mistral = registry.get(f"ollama:{QWEN}"), registry.get(f"ollama:{MISTRAL}")
    assert isinstance(qwen, OllamaModel) and isinstance(mistral, OllamaModel) and qwen.pool is mistral.pool
    registry.close()


def test_both_hosts_hung_a_turn_ends_with_the_local_path_within_its_deadline(
    hosts: tuple[OllamaTestServer, ...],
    spans: InMemorySpanExporter,
    tmp_path: Path,
    cache_dir: Path,
    smollm: LlamaCppModel,
) -> None:
    a, b = hosts
    svc = make_services(tmp_path / "data", cache_dir, ollama_hosts=[a.url, b.url], ollama_timeout_s=60.0,
                        ollama_retries=2, turn_deadline_s=6.0)  # fmt: skip
    svc.models._models[svc.settings.local_model] = smollm
    # A local model whose drafts are off topic, so the turn escalates (as in test_tutor_graph).
    off_topic = ScriptedModel(["TIMEOUT"], "off_topic", completions=[" What is your favourite colour?"],
                              scores=["TIMEOUT"])  # fmt: skip
    svc.__dict__["agent_context"] = dataclasses.replace(svc.agent_context, local=off_topic)
    tutors = TutorSessions(svc, TutorPolicy(exercises=False))
    info = tutors.start()
    a.inject("hang")
    b.inject("hang")
    result = tutors.turn(info.id, "My grandmother lives in a small village.")
    assert result.reply == "What do you like doing with your grandmother?"  # the graph's degraded path
    check = [d for d in result.decisions if d.node == "check"]
    assert check[-1].choice == "offer" and "using the fallback question" in check[-1].reason
    assert any(d.choice == "escalate" for d in check), "the turn did try the chain"
    reasons = _decisions(spans, "chain.deadline") + _decisions(spans, "ollama.retry")
    assert reasons and all("deadline: " in r for r in reasons)
    # Structural, not a speed goal: one 60 s Ollama attempt was never waited out.
    assert result.latency_s < svc.settings.ollama_timeout_s
    svc.close()


def test_hosts_setting_accepts_commas_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from forge.settings import load_settings

    monkeypatch.setenv("FORGE_OLLAMA_HOSTS", "http://a:11434, http://b:11434")
    assert load_settings()[0].resolved_ollama_hosts == ["http://a:11434", "http://b:11434"]
    monkeypatch.setenv("FORGE_OLLAMA_HOSTS", '["http://c:11434"]')
    assert load_settings()[0].resolved_ollama_hosts == ["http://c:11434"]
    monkeypatch.delenv("FORGE_OLLAMA_HOSTS")
    assert Settings(ollama_host="http://d:1").resolved_ollama_hosts == ["http://d:1"]
