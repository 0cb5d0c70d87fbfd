"""`forge bench pool`: the Ollama host pool and the overall deadline, measured against real servers.

Needs two or more hosts speaking Ollama's API (`--hosts`, else the settings' pool). The fault phases drive the
fault-control endpoint of the Ollama-API test server (`POST /_forge/faults`, `python -m tests.support.ollama_server`);
against hosts without it (a real Ollama) those phases are reported as skipped.

- Spread: `calls` short chat calls from two threads; calls served per host.
- Failover: the first host returns HTTP 500 (a fast failure), then hangs; the time of one call each (the hung one
  costs one attempt of `attempt_s`, then the other host answers) and of the next call (the host is ejected).
- Deadline: every host hung; one escalated request under the tutoring turn's deadline that falls back to the local
  model (the path the tutoring graph takes), and a real tutoring turn, both timed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from pydantic import BaseModel, Field

from agents.models.base import GenerationOptions, Message
from agents.models.deadline import deadline
from agents.models.errors import ModelError
from agents.models.fallback import EscalationChain
from agents.models.ollama import OllamaConfig, OllamaModel
from agents.models.pool import HostPool, PoolConfig
from forge.services import Services

SHORT = GenerationOptions(max_tokens=8, seed=1, temperature=0.0)
HI = [Message.user("Say hello.")]
#: What the learner says in the timed tutoring turn.
TURN_MESSAGE = "My grandmother lives in a small village."


class PoolReport(BaseModel):
    """The figures `forge bench pool` prints."""

    hosts: list[str]
    calls_per_host: dict[str, int] = Field(description="Calls served per host in the spread phase.")
    spread_s: float = Field(description="Wall time of the spread phase.")
    failover_500_s: float | None = Field(default=None, description="One call with the first host answering 500.")
    failover_hang_s: float | None = Field(default=None, description="One call with the first host hung.")
    after_ejection_s: float | None = Field(default=None, description="The next call, the hung host ejected.")
    attempt_s: float = Field(description="Per-attempt budget used in the failover phase.")
    turn_deadline_s: float
    escalation_fallback_s: float | None = Field(
        default=None, description="Both hung: an escalated request under the turn deadline, then the local answer."
    )
    fallback_reason: str | None = None
    turn_s: float | None = Field(default=None, description="Both hung: one real tutoring turn.")
    turn_escalated: bool | None = None
    skipped: list[str] = Field(default_factory=list, description="Phases not run, and why.")


def run(svc: Services, hosts: list[str], *, calls: int = 8, attempt_s: float = 5.0, model: str = "qwen2.5:7b-instruct",
        progress: Callable[[str], None] | None = None) -> PoolReport:  # fmt: skip
    """Run every phase against `hosts` (at least two) and return the figures."""
    note = progress or (lambda _: None)
    note("spread")
    per_host, spread_s = _spread(hosts, calls, model)
    report = PoolReport(hosts=hosts, calls_per_host=per_host, spread_s=spread_s, attempt_s=attempt_s,
                        turn_deadline_s=svc.settings.turn_deadline_s)  # fmt: skip
    if not all(_has_faults(h) for h in hosts):
        report.skipped.append(
            "failover and deadline: the hosts have no /_forge/faults (not the Ollama-API test server)"
        )
        return report
    note("failover")
    report.failover_500_s, _ = _one_faulty_call(hosts, model, attempt_s, {"kind": "status", "status": 500})
    report.failover_hang_s, report.after_ejection_s = _one_faulty_call(hosts, model, attempt_s, {"kind": "hang"})
    note("deadline")
    with _faults(hosts, {"kind": "hang"}):
        report.escalation_fallback_s, report.fallback_reason = _escalation_then_local(svc)
        report.turn_s, report.turn_escalated = _tutoring_turn(svc)
    return report


def _model(hosts: list[str], model: str, attempt_s: float = 30.0) -> OllamaModel:
    """A model over a fresh pool of the hosts (so each phase starts with every host in the pool)."""
    config = OllamaConfig(hosts=hosts, timeout_s=attempt_s, retries=2, backoff_s=0.05, backoff_max_s=0.2)
    return OllamaModel(model, config, pool=HostPool(hosts, PoolConfig()))


def _spread(hosts: list[str], calls: int, model: str) -> tuple[dict[str, int], float]:
    """Short calls from two threads; how many each host served, and the wall time."""
    chat = _model(hosts, model)
    start = time.perf_counter()
    threads = [threading.Thread(target=lambda: [chat.chat(HI, options=SHORT) for _ in range(calls // 2)])
               for _ in range(2)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    served = {s.url: s.served for s in chat.pool.status()}
    chat.close()
    chat.pool.close()
    return served, seconds


def _one_faulty_call(hosts: list[str], model: str, attempt_s: float, fault: dict[str, Any]) -> tuple[float, float]:
    """With the first host faulty: the time of one call (it fails over) and of the next (the host is ejected)."""
    chat = _model(hosts, model, attempt_s)
    with _faults(hosts[:1], fault):
        first = _timed(lambda: chat.chat(HI, options=SHORT))
        second = _timed(lambda: chat.chat(HI, options=SHORT))
    chat.close()
    chat.pool.close()
    return first, second


def _escalation_then_local(svc: Services) -> tuple[float, str]:
    """Both hosts hung: the chain under the turn deadline, then the local model's answer (the graph's path)."""
    chain: EscalationChain = svc.agent_context.escalation.session()
    local = svc.model()
    local.chat(HI, options=SHORT)  # loads the weights before the clock starts, as a warm web process has them
    start = time.perf_counter()
    with deadline(svc.settings.turn_deadline_s, label="bench_turn"):
        try:
            chain.chat(HI, options=SHORT.model_copy(update={"timeout_s": 20.0}))
            reason = "the chain answered"
        except ModelError:
            reason = chain.failures()[-1] if chain.failures() else "the chain failed"
            local.chat(HI, options=SHORT)
    return time.perf_counter() - start, reason


def _tutoring_turn(svc: Services) -> tuple[float, bool]:
    """Both hosts hung: one real tutoring turn (exercises off); its time and whether it tried the chain."""
    from agents.tutor.policy import TutorPolicy
    from forge.sessions.tutor import TutorSessions

    tutors = TutorSessions(svc, TutorPolicy(exercises=False))
    info = tutors.start(title="bench pool")
    start = time.perf_counter()
    result = tutors.turn(info.id, TURN_MESSAGE)
    seconds = time.perf_counter() - start
    tutors.store.delete(info.id)
    return seconds, any(d.choice == "escalate" for d in result.decisions)


def _timed(fn: Callable[[], Any]) -> float:
    """Seconds `fn` took."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _has_faults(host: str) -> bool:
    """Whether the host has the test server's fault-control endpoint."""
    try:
        return httpx.delete(f"{host}/_forge/faults", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def _faults(hosts: list[str], fault: dict[str, Any]) -> Iterator[None]:
    """Inject a fault on the hosts for the block, then clear every fault."""
    for host in hosts:
        httpx.post(f"{host}/_forge/faults", json=fault, timeout=2.0).raise_for_status()
    try:
        yield
    finally:
        for host in hosts:
            httpx.delete(f"{host}/_forge/faults", timeout=2.0)
