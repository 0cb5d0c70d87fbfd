"""The escalation chain: try models in order, record why each one failed, return the first usable answer.

In the spirit of pydantic-ai's `models/fallback.py`: the chain is itself a `ChatModel` (as `FallbackModel` is a
model) and falls back on given exceptions or on a failed response check; but every attempt is recorded (model, error
kind and message, latency, backend tries) in a `ChainCall`, or carried by `AllModelsFailed` when nothing worked. Each
attempt is a span event (and each failover a decision with its reason) on one `invoke_agent escalation_chain` span;
the models' own `chat` spans are its children.

Under a deadline (agents/models/deadline.py) each model runs under a deadline `reserve_s` earlier, so the work that
called the chain keeps time to finish with its local answer; a model is not tried with less than `min_model_s` left,
and that is recorded as a `chain.deadline` decision ("deadline: 3.1 s left of 20 s ...") and an attempt of kind
timeout, so the caller's usual degraded path runs.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from agents import telemetry
from agents.models import deadline
from agents.models.base import Availability, Capabilities, ChatModel, ChatResult, ModelRequest
from agents.models.errors import (
    ErrorKind,
    InvalidModelOutput,
    ModelError,
    ModelTimeout,
    ModelUnavailable,
)
from agents.models.registry import ModelRegistry

#: Failures that move on to the next model. ModelBug is not among them: our own mistake fails on every model.
DEFAULT_ESCALATE_ON: tuple[type[ModelError], ...] = (ModelTimeout, ModelUnavailable, InvalidModelOutput)

#: A check of a successful reply: None if acceptable, else the reason it is not (recorded as invalid output).
ResultCheck = Callable[[ChatResult], str | None]
#: Seconds of a deadline kept back for the caller to finish after the chain gives up (its local path, the reply).
DEFAULT_RESERVE_S = 2.0
#: Fewest seconds worth trying a model with (below this it could not answer: record why and stop).
DEFAULT_MIN_MODEL_S = 1.0


class ChainAttempt(BaseModel):
    """One model tried by the chain, and what came of it."""

    model: str = Field(description="Model id, e.g. 'ollama:qwen2.5:7b-instruct'.")
    ok: bool = Field(description="Whether this model's answer was used.")
    error_kind: ErrorKind | None = Field(default=None, description="timeout, unavailable, invalid_output or bug.")
    error_type: str | None = Field(default=None, description="Error class, e.g. 'ModelNotFound'.")
    message: str | None = Field(default=None, description="Why it failed, as the backend said.")
    latency_s: float = Field(description="Wall-clock seconds spent on this model, its retries included.")
    tries: int = Field(default=1, description="Backend attempts made for this model (1 + retries).")


class ChainCall(BaseModel):
    """One request sent along the chain: every model tried, in order, and the answer if one was usable."""

    attempts: list[ChainAttempt] = Field(default_factory=list)
    result: ChatResult | None = Field(default=None, description="The usable answer; None if every model failed.")

    @property
    def model(self) -> str | None:
        """Id of the model that answered, if one did."""
        return self.result.model if self.result is not None else None

    @property
    def escalated(self) -> bool:
        """Whether a model other than the first one was tried."""
        return len(self.attempts) > 1


class AllModelsFailed(ModelUnavailable):
    """Every model of the chain failed; `chain_attempts` says how and why, model by model."""

    retryable = False

    def __init__(self, chain_attempts: list[ChainAttempt]) -> None:
        reasons = "; ".join(f"{a.model} ({a.error_type}: {a.message})" for a in chain_attempts)
        summary = f"All {len(chain_attempts)} models of the escalation chain failed: {reasons}"
        super().__init__(
            summary if chain_attempts else "The escalation chain has no models; configure escalation_chain.",
            model=",".join(a.model for a in chain_attempts),
            attempts=sum(a.tries for a in chain_attempts),
        )
        self.chain_attempts = chain_attempts


class EscalationChain(ChatModel):
    """Models tried in order on the same request until one gives a usable answer; itself a `ChatModel`.

    As a model (`chat`, `request`) it returns the first usable answer or raises `AllModelsFailed`; `call` returns the
    whole `ChainCall` instead. One chain is shared by the process, so it keeps no records itself: `session()` gives a
    view of it for one piece of work (an item attempt, a tutor reply) that keeps the `ChainCall` of each of its
    requests, so the work can say which model answered and why the others failed, and records never mix between
    requests or threads. It opens no client span of its own: its `invoke_agent` span holds its models' spans.
    """

    backend = "chain"
    client_span = False

    def __init__(
        self,
        models: Sequence[ChatModel],
        *,
        escalate_on: tuple[type[ModelError], ...] = DEFAULT_ESCALATE_ON,
        check: ResultCheck | None = None,
        reserve_s: float = DEFAULT_RESERVE_S,
        min_model_s: float = DEFAULT_MIN_MODEL_S,
    ) -> None:
        self.models = list(models)
        self.escalate_on = escalate_on
        self.check = check
        self.reserve_s = reserve_s
        self.min_model_s = min_model_s
        self.id = "chain:" + ",".join(self.ids)
        self.model_name = self.id
        # Any model may be the one that answers, so the chain promises only what all of them can do.
        every = [m.capabilities for m in self.models]
        self.capabilities = Capabilities(
            tools=bool(every) and all(c.tools for c in every),
            json_schema=bool(every) and all(c.json_schema for c in every),
            completion=False,
            logprobs=bool(every) and all(c.logprobs for c in every),
        )
        #: The calls made through this view; None on a shared chain (see `session`).
        self.calls: list[ChainCall] | None = None

    @classmethod
    def from_specs(cls, specs: Sequence[str], registry: ModelRegistry, **kwargs: Any) -> EscalationChain:
        """A chain of the models named by strings such as 'ollama:qwen2.5:7b-instruct', resolved by the registry."""
        return cls([registry.get(spec) for spec in specs], **kwargs)

    @property
    def ids(self) -> list[str]:
        """The ids of the models, in order."""
        return [m.id for m in self.models]

    def session(self) -> EscalationChain:
        """The same chain (same models, same rules) keeping the record of every call made through it."""
        view = copy.copy(self)
        view.calls = []
        return view

    @property
    def attempts(self) -> list[ChainAttempt]:
        """Every attempt of this session's calls, in order (none on a shared chain)."""
        return [a for c in self.calls or [] for a in c.attempts]

    @property
    def answered_by(self) -> str | None:
        """The model that gave this session's last usable answer, if any did."""
        return next((c.model for c in reversed(self.calls or []) if c.model is not None), None)

    def failures(self) -> list[str]:
        """Why models failed in this session's calls, one line each: 'model: error type: message'."""
        return [f"{a.model}: {a.error_type}: {a.message}" for a in self.attempts if not a.ok]

    def call(self, request: ModelRequest) -> ChainCall:
        """Send the request to each model in turn; the first usable answer with every attempt, or raise.

        Raises `AllModelsFailed` (with every attempt) when no model answers usably; an error not in `escalate_on`
        (by default `ModelBug`, our own mistake) is raised at once.
        """
        record = self._new_record()
        self._run(request, record)
        return record

    def _chat(self, request: ModelRequest) -> ChatResult:
        return self._run(request, self._new_record())

    def _new_record(self) -> ChainCall:
        """An empty record for one call, kept by a session."""
        record = ChainCall()
        if self.calls is not None:
            self.calls.append(record)
        return record

    def _run(self, request: ModelRequest, record: ChainCall) -> ChatResult:
        """Try the models in order, adding each attempt to the record as it ends."""
        attempts = record.attempts
        attrs = {
            telemetry.OPERATION: "invoke_agent",
            telemetry.AGENT_NAME: "escalation_chain",
            "forge.chain.models": self.ids,
        }
        with telemetry.start_span("invoke_agent escalation_chain", attrs=attrs) as span:
            for model in self.models:
                start = time.perf_counter()
                left = deadline.remaining()
                if left is not None and left - self.reserve_s < self.min_model_s:
                    attempts.append(self._out_of_time(span, model, left))
                    break
                try:
                    with deadline.deadline(None if left is None else left - self.reserve_s, label="escalation"):
                        result = model.request(request)
                    self._accept(model, result)
                except self.escalate_on as exc:
                    attempts.append(_failed(model, exc, time.perf_counter() - start))
                    span.add_event("forge.escalation.attempt", _event_attrs(attempts[-1]))
                    telemetry.record_decision(
                        span,
                        "chain.failover",
                        "next model" if model is not self.models[-1] else "give up",
                        f"{model.id}: {exc.kind}: {exc}",
                    )
                    continue
                attempts.append(
                    ChainAttempt(model=model.id, ok=True, latency_s=time.perf_counter() - start, tries=result.attempts)
                )
                span.add_event("forge.escalation.attempt", _event_attrs(attempts[-1]))
                telemetry.set_attrs(span, {"forge.chain.selected": model.id, "forge.chain.tried": len(attempts)})
                record.result = result
                return result
            raise AllModelsFailed(list(attempts))

    def _out_of_time(self, span: Any, model: ChatModel, left: float) -> ChainAttempt:
        """Record that the deadline leaves no time for `model` (nor the ones after it): a decision and an attempt."""
        reason = f"deadline: {max(left, 0.0):.1f} s left, {self.reserve_s:g} s kept for the local answer"
        telemetry.record_decision(span, "chain.deadline", "give up", f"{reason}; {model.id} not tried",
                                  left_s=round(left, 2))  # fmt: skip
        attempt = ChainAttempt(model=model.id, ok=False, error_kind="timeout", error_type="DeadlineReached",
                               message=reason, latency_s=0.0, tries=0)  # fmt: skip
        span.add_event("forge.escalation.attempt", _event_attrs(attempt))
        return attempt

    def _accept(self, model: ChatModel, result: ChatResult) -> None:
        """Apply the response check; an unacceptable answer counts as invalid output of that model."""
        reason = self.check(result) if self.check else None
        if reason:
            raise InvalidModelOutput(f"{model.id}: answer rejected: {reason}", model=model.id, attempts=result.attempts)

    def availability(self) -> Availability:
        """Reachable if any model of the chain is (cheap: each backend's quick check)."""
        states = self.model_availability()
        return Availability(
            model=self.id,
            reachable=any(s.reachable for s in states),
            detail="; ".join(f"{s.model}: {s.detail}" for s in states) or "the chain has no models",
        )

    def model_availability(self) -> list[Availability]:
        """Every model's availability, in chain order."""
        return [_availability(m) for m in self.models]

    def first_reachable(self) -> ChatModel | None:
        """The first model whose quick availability check passes, or None if none does."""
        for model in self.models:
            if _availability(model).reachable:
                return model
        return None


def _failed(model: ChatModel, exc: ModelError, latency_s: float) -> ChainAttempt:
    """The record of a failed attempt."""
    return ChainAttempt(
        model=model.id,
        ok=False,
        error_kind=exc.kind,
        error_type=type(exc).__name__,
        message=str(exc),
        latency_s=latency_s,
        tries=exc.attempts,
    )


def _availability(model: ChatModel) -> Availability:
    """A model's availability; a check that itself fails counts as unreachable, with the reason."""
    try:
        return model.availability()
    except ModelError as exc:
        return Availability(model=model.id, reachable=False, detail=str(exc))


def _event_attrs(attempt: ChainAttempt) -> dict[str, str | bool | float | int]:
    """Span-event attributes of one attempt (no None values: OpenTelemetry rejects them)."""
    attrs: dict[str, str | bool | float | int] = {
        "forge.model_id": attempt.model,
        "forge.ok": attempt.ok,
        "forge.latency_s": attempt.latency_s,
        "forge.attempts": attempt.tries,
    }
    if attempt.error_kind:
        attrs[telemetry.ERROR_TYPE] = attempt.error_kind
        attrs["forge.error"] = (attempt.message or "")[:300]
    return attrs
