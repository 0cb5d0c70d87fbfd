"""Ollama backend over the official `ollama` client: escalation targets such as qwen2.5:7b-instruct.

One call is up to `1 + retries` attempts. Each attempt streams `POST /api/chat` in a worker thread while the caller
waits at most the attempt's wall-clock budget, so a server that stalls *or* drips tokens slowly still times out
(httpx's read timeout only bounds the gap between two reads; it also bounds how long an abandoned worker lives).
Streaming gives the time to first token; the final chunk gives the token counts (`prompt_eval_count`, `eval_count`).

Failures are classified by whose fault they are (see docs/ollama.md): timeouts, refused or dropped connections,
HTTP 5xx/429 and responses that are not valid JSON are retried with exponential backoff and full jitter; HTTP 404 is
`ModelNotFound` at once (listing what the server has); any other 4xx is our `ModelBug`.

Hosts: the calls go to a `HostPool` (agents/models/pool.py), shared by every Ollama model of the registry. Within one
attempt, a host that fails by its own fault (refused, 5xx, dropped, not JSON) is ejected and the attempt goes on at
once on the next host with what is left of the attempt's budget; a host that times out uses the attempt up, so the
retry goes to another host. The host that served a call is on its span (`server.address`, `forge.ollama.host`) and
every skipped host is a `forge.decision` (`ollama.host`) with the reason.

Deadline: every attempt's budget is clamped to the time left before the deadline in effect (agents/models/deadline.py),
and no retry starts once too little time is left, so a hung server never costs more than the turn's deadline.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import ollama
from opentelemetry import trace
from pydantic import BaseModel, Field, ValidationError

from agents import telemetry
from agents.models import deadline
from agents.models.base import (
    Availability,
    Capabilities,
    ChatModel,
    ChatResult,
    GenerationOptions,
    Message,
    ModelRequest,
    Schema,
    Stopwatch,
    ToolCall,
    ToolChoice,
    ToolSpec,
    Usage,
    grammar_schema,
    parse_structured,
)
from agents.models.errors import (
    InvalidModelOutput,
    ModelBug,
    ModelError,
    ModelNotFound,
    ModelTimeout,
    ModelUnavailable,
)
from agents.models.pool import HostPool, PoolConfig

T = TypeVar("T")

#: Longest time spent connecting, whatever the attempt budget (a refused or black-holed host fails fast).
CONNECT_TIMEOUT_S = 5.0
#: httpx's read timeout is a backstop this much beyond the budget: the deadline in `_within` decides, the read
#: timeout only makes sure a worker abandoned in a stalled read ends soon after.
READ_BACKSTOP_S = 1.0
#: HTTP statuses worth another try: rate limited, or the server's own trouble.
RETRYABLE_STATUS = frozenset({408, 429})
#: An attempt (or another host within one) is not started with less time than this left: it could not finish.
MIN_ATTEMPT_S = 0.5


class OllamaConfig(BaseModel):
    """How the Ollama server is reached and how hard we try (filled from the application settings)."""

    host: str | None = Field(
        default=None, description="Server URL; None lets the client use OLLAMA_HOST or its default."
    )
    hosts: list[str] = Field(default_factory=list, description="Server URLs of a pool; when given, `host` is not used.")
    pool: PoolConfig = Field(default_factory=PoolConfig, description="Health checks and ejection of pool hosts.")
    timeout_s: float = Field(default=60.0, gt=0, description="Wall-clock budget per attempt.")
    retries: int = Field(default=2, ge=0, le=10, description="Extra attempts after a retryable failure.")
    backoff_s: float = Field(default=0.5, ge=0, description="First backoff delay; doubles each retry, with jitter.")
    backoff_max_s: float = Field(default=8.0, ge=0, description="Upper bound of one backoff delay.")
    probe_timeout_s: float = Field(default=2.0, gt=0, description="Budget of the quick /api/tags check.")


class _NoTimeLeft(ModelTimeout):
    """Too little time is left before the deadline to start (another) attempt."""


class _DeadlinePassed(Exception):
    """The wall-clock budget of a call ran out (raised by `_within`, never seen outside this module)."""


class ModelLacksCapability(ModelUnavailable):
    """The server has the model but it cannot do what was asked (e.g. tools); retrying will not help, escalating may."""

    retryable = False


@dataclass
class _Request:
    """One prepared chat call: the client's keyword arguments and what the reply must satisfy."""

    kwargs: dict[str, Any]
    schema: Schema | None
    allowed_tools: set[str]
    must_call: bool


@dataclass
class _Reply:
    """What one streamed attempt collected."""

    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    done_reason: str | None = None
    prompt_eval_count: int = 0
    eval_count: int = 0
    first_token: float | None = None


class OllamaModel(ChatModel):
    """A model served by an Ollama server (or anything speaking its REST API), called through `ollama.Client`."""

    backend = "ollama"

    def __init__(self, name: str, config: OllamaConfig | None = None, pool: HostPool | None = None) -> None:
        self.config = config or OllamaConfig()
        self.id = f"ollama:{name}"
        self.model_name = name
        self.capabilities = Capabilities(tools=True, json_schema=True, completion=False, logprobs=False)
        self._clients: dict[tuple[str, float], ollama.Client] = {}
        self._clients_lock = threading.Lock()
        self._own_pool = pool is None
        self.pool = pool or build_pool(self.config)
        #: The first host, for messages that name one server.
        self.host = self.pool.urls[0]

    def _client(self, host: str, timeout_s: float) -> ollama.Client:
        """A client for one host whose httpx timeouts fit this budget (reused per host and half-second budget)."""
        budget = max(0.5, -(-timeout_s // 0.5) * 0.5)  # deadlines make budgets vary; round up so clients are reused
        key = (host, budget)
        with self._clients_lock:
            if key not in self._clients:
                timeout = httpx.Timeout(budget + READ_BACKSTOP_S, connect=min(budget, CONNECT_TIMEOUT_S))
                self._clients[key] = ollama.Client(host=host, timeout=timeout)
            return self._clients[key]

    def _chat(self, request: ModelRequest) -> ChatResult:
        wire = self._prepare(request)
        watch = Stopwatch()
        reply, attempts = self._with_retries(wire, request.options.timeout_s or self.config.timeout_s)
        return self._result(reply, wire, watch, attempts)

    def _prepare(self, request: ModelRequest) -> _Request:
        """Map our messages, options, schema and tools to the client's arguments."""
        offered, must_call, instruction = _tool_plan(request.tools, request.tool_choice, self.id)
        wire = _ollama_messages(request.messages)
        if instruction:
            wire = _with_instruction(wire, instruction)
        kwargs: dict[str, Any] = {
            "model": self.model_name,
            "messages": wire,
            "options": _ollama_options(request.options),
        }
        if request.schema is not None:
            kwargs["format"] = grammar_schema(request.schema)
        if offered:
            kwargs["tools"] = [_ollama_tool(t) for t in offered]
        return _Request(kwargs, request.schema, {t.name for t in offered}, must_call)

    def _with_retries(self, request: _Request, budget_s: float) -> tuple[_Reply, int]:
        """Run attempts until one succeeds, a failure is not worth retrying, or the retries or the time run out."""
        attempt = 1
        while True:
            try:
                return self._attempt(request, self._budget(budget_s, attempt), attempt), attempt
            except ModelError as exc:
                exc.attempts = attempt
                if not _worth_retrying(exc) or attempt > self.config.retries:
                    raise
                delay = _backoff_delay(attempt, self.config.backoff_s, self.config.backoff_max_s)
                left = deadline.remaining()
                if left is not None and left - delay < MIN_ATTEMPT_S:
                    telemetry.record_decision(None, "ollama.retry", "give up", f"{deadline.describe()}; {exc}")
                    raise
                _note_retry(exc, attempt, delay)
                time.sleep(delay)
                attempt += 1

    def _budget(self, budget_s: float, attempt: int) -> float:
        """The attempt's budget cut to the deadline; _NoTimeLeft when too little is left to start it."""
        budget = deadline.clamp(budget_s)
        if budget < min(budget_s, MIN_ATTEMPT_S):
            raise _NoTimeLeft(f"{self.id}: no time for attempt {attempt} ({deadline.describe()})", model=self.id)
        return budget

    def _attempt(self, request: _Request, budget_s: float, attempt: int) -> _Reply:
        """One attempt within a wall-clock budget, moving to the next host when one fails by its own fault."""
        ends = time.monotonic() + budget_s
        tried: set[str] = set()
        while True:
            picked = self.pool.pick(tried)
            if picked is None:
                raise ModelUnavailable(f"{self.id}: no Ollama host left to try", model=self.id)
            host, in_pool = picked
            left = ends - time.monotonic()
            try:
                with self.pool.serving(host):
                    reply = self._attempt_on(host, request, left, attempt)
            except ModelError as exc:
                tried.add(host)
                if not self._move_on(host, exc, in_pool, ends - time.monotonic(), tried):
                    raise
                continue
            self.pool.succeeded(host)
            _note_host(host, in_pool, len(tried))
            return reply

    def _move_on(self, host: str, exc: ModelError, in_pool: bool, left_s: float, tried: set[str]) -> bool:
        """After a host failed: eject it if it was its fault, and say whether the attempt goes on on another host."""
        if len(self.pool.urls) == 1:
            return False  # one host: the retries (recorded as `forge.retry` events) are all there is
        own_fault = _worth_retrying(exc)
        if own_fault:
            self.pool.failed(host, f"{exc.kind}: {str(exc)[:200]}")
        elif not isinstance(exc, ModelNotFound):
            return False  # our bug, bad output, a missing capability: another host would do the same
        nxt = self.pool.pick(tried) if left_s >= MIN_ATTEMPT_S else None
        choice = "ejected" if own_fault and in_pool else "skipped"
        where = f"next host {nxt[0]}" if nxt else "no other host in this attempt"
        telemetry.record_decision(None, "ollama.host", choice, f"{host}: {exc.kind}: {exc}; {where}", host=host)
        return nxt is not None

    def _attempt_on(self, host: str, request: _Request, budget_s: float, attempt: int) -> _Reply:
        """One streamed /api/chat call to one host within a wall-clock budget; any failure comes out as a ModelError."""
        try:
            return _within(
                lambda cancel: self._stream(host, request, budget_s, cancel),
                budget_s,
                f"{self.model_name}-attempt-{attempt}",
            )
        except _DeadlinePassed as exc:
            raise ModelTimeout(
                f"{self.id} did not finish within {budget_s:.1f} s (attempt {attempt}, server {host})",
                model=self.id,
            ) from exc
        except Exception as exc:
            raise self._classify(exc, host) from exc

    def _stream(self, host: str, request: _Request, budget_s: float, cancel: threading.Event) -> _Reply:
        """Consume the NDJSON stream (runs in the worker thread); stops early when the caller gave up."""
        reply = _Reply()
        stream: Iterator[ollama.ChatResponse] = self._client(host, budget_s).chat(**request.kwargs, stream=True)
        try:
            for chunk in stream:
                if cancel.is_set():
                    return reply
                _absorb(reply, chunk)
                if chunk.done:
                    return reply
        finally:
            _close(stream)
        raise ModelUnavailable(f"{self.id}: the stream from {host} ended before its final chunk", model=self.id)

    def _classify(self, exc: Exception, host: str) -> ModelError:
        """Turn a client, transport or protocol failure into the matching ModelError (the caller chains the cause)."""
        if isinstance(exc, ModelError):
            return exc
        if isinstance(exc, ollama.ResponseError):
            return self._classify_status(exc, host)
        where = f"Ollama server at {host}"
        if isinstance(exc, httpx.TimeoutException):
            return ModelTimeout(f"{self.id}: {where} timed out ({type(exc).__name__})", model=self.id)
        # The client turns httpx.ConnectError into a bare ConnectionError; its subclasses mean a dropped connection.
        if isinstance(exc, httpx.ConnectError | ConnectionRefusedError) or type(exc) is ConnectionError:
            return ModelUnavailable(f"{self.id}: cannot connect to the {where}", model=self.id)
        if isinstance(exc, httpx.TransportError | ConnectionError):
            return ModelUnavailable(f"{self.id}: the {where} dropped the connection ({exc})", model=self.id)
        if isinstance(exc, json.JSONDecodeError | ValidationError):
            return ModelUnavailable(f"{self.id}: the {where} sent a response that is not Ollama's JSON", model=self.id)
        if isinstance(exc, ollama.RequestError):
            return ModelBug(f"{self.id}: the ollama client refused our request: {exc}", model=self.id)
        return ModelBug(f"{self.id}: unexpected {type(exc).__name__} while calling Ollama: {exc}", model=self.id)

    def _classify_status(self, exc: ollama.ResponseError, host: str) -> ModelError:
        """Classify an HTTP error status (or an error line in the middle of the stream)."""
        code, reason = exc.status_code, str(exc.error)[:300]
        if code == 404:
            return ModelNotFound(self._not_found_message(reason, host), model=self.id)
        if code == -1:
            return ModelUnavailable(f"{self.id}: Ollama failed while generating: {reason}", model=self.id)
        if code >= 500 or code in RETRYABLE_STATUS:
            return ModelUnavailable(f"{self.id}: Ollama at {host} answered HTTP {code}: {reason}", model=self.id)
        if "does not support" in reason:
            return ModelLacksCapability(f"{self.id}: {reason}", model=self.id)
        return ModelBug(f"{self.id}: Ollama rejected our request with HTTP {code}: {reason}", model=self.id)

    def _not_found_message(self, reason: str, host: str) -> str:
        """Say the model is missing and, if the server lists its models, which ones it has."""
        names = self._installed(host)
        has = f"; it has {', '.join(names) if names else 'no models'}" if names is not None else ""
        return (
            f"The Ollama server at {host} has no model {self.model_name!r} ({reason}){has}. "
            f"Pull it with `ollama pull {self.model_name}` or change the escalation chain."
        )

    def _installed(self, host: str) -> list[str] | None:
        """Names of the models the server has, or None if /api/tags does not answer."""
        budget = deadline.clamp(self.config.probe_timeout_s)
        try:
            listing = _within(lambda _: self._client(host, budget).list(), budget)
        except Exception:  # the listing only decorates an error message; any failure means "unknown"
            return None
        return [m.model for m in listing.models if m.model]

    def _result(self, reply: _Reply, request: _Request, watch: Stopwatch, attempts: int) -> ChatResult:
        """Check the reply against what was asked (tool call, schema) and build the ChatResult."""
        self._check_tool_calls(reply, request)
        finish = "tool_calls" if reply.tool_calls else _finish_reason(reply.done_reason)
        parsed = None
        if request.schema is not None and not reply.tool_calls:
            if finish == "length":
                raise InvalidModelOutput(f"{self.id} ran out of tokens before finishing the JSON", model=self.id)
            parsed = parse_structured(reply.content, request.schema, model=self.id)
        return ChatResult(
            text=reply.content,
            tool_calls=reply.tool_calls,
            parsed=parsed,
            model=self.id,
            backend=self.backend,
            usage=Usage(input_tokens=reply.prompt_eval_count, output_tokens=reply.eval_count),
            latency_s=watch.elapsed,
            ttft_s=None if reply.first_token is None else reply.first_token - watch.start,
            finish_reason=finish,
            attempts=attempts,
        )

    def _check_tool_calls(self, reply: _Reply, request: _Request) -> None:
        """Enforce tool_choice, which Ollama has no native way to express: a required call must be there."""
        unknown = [c.name for c in reply.tool_calls if c.name not in request.allowed_tools]
        if unknown:
            raise InvalidModelOutput(
                f"{self.id} called {unknown[0]!r}, which is not among {sorted(request.allowed_tools)}", model=self.id
            )
        if request.must_call and not reply.tool_calls:
            raise InvalidModelOutput(f"{self.id} answered in text although a tool call was required", model=self.id)

    def availability(self) -> Availability:
        """Ask the pool's hosts (/api/tags, short timeout) until one answers and has this model.

        Ejected hosts are not asked (the health checks decide when they are back), unless every host is ejected.
        """
        states = self.pool.status()
        usable = [s.url for s in states if s.healthy] or [s.url for s in states]
        details: list[str] = []
        for host in usable:
            state = self._host_availability(host)
            if state.reachable:
                return state
            details.append(state.detail)
        ejected = [f"{s.url} is out of the pool ({s.reason})" for s in states if not s.healthy and s.url not in usable]
        return Availability(model=self.id, reachable=False, detail="; ".join(details + ejected))

    def _host_availability(self, host: str) -> Availability:
        """Whether one host answers /api/tags within the probe timeout (cut to the deadline) and has this model."""
        budget = max(deadline.clamp(self.config.probe_timeout_s), 0.05)
        try:
            listing = _within(lambda _: self._client(host, budget).list(), budget)
        except _DeadlinePassed:
            detail = f"Ollama at {host} did not answer within {budget:.1f} s"
            return Availability(model=self.id, reachable=False, detail=detail)
        except Exception as exc:
            reason = str(self._classify(exc, host)).removeprefix(f"{self.id}: ")
            return Availability(model=self.id, reachable=False, detail=reason)
        names = [m.model for m in listing.models if m.model]
        if any(_same_model(self.model_name, n) for n in names):
            return Availability(model=self.id, reachable=True, detail=f"served by Ollama at {host}")
        others = ", ".join(names) or "no models"
        return Availability(
            model=self.id, reachable=False, detail=f"Ollama at {host} answers but lacks this model (has {others})"
        )

    def close(self) -> None:
        """Close the HTTP connection pools, and the host pool if this model built it (else `ModelRegistry` does)."""
        with self._clients_lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
        if self._own_pool:
            self.pool.close()


def build_pool(config: OllamaConfig) -> HostPool:
    """The pool of the configured hosts: `hosts` if given, else the one `host` (None: OLLAMA_HOST or the default)."""
    urls = config.hosts or [_base_url(ollama.Client(host=config.host))]
    return HostPool([u.rstrip("/") for u in urls], config.pool)


def _note_host(host: str, in_pool: bool, skipped: int) -> None:
    """Put the host that served the call on the current model-call span."""
    url = httpx.URL(host)
    attrs = {"server.address": url.host, "server.port": url.port, "forge.ollama.host": host}
    attrs |= {"forge.ollama.hosts_skipped": skipped, "forge.ollama.host_in_pool": in_pool}
    telemetry.set_attrs(trace.get_current_span(), attrs)


def _within(fn: Callable[[threading.Event], T], budget_s: float, name: str = "ollama-call") -> T:
    """Run `fn(cancel)` in a daemon thread and wait at most `budget_s`; raise _DeadlinePassed when it runs out.

    On timeout `cancel` is set so the worker stops at its next chunk; a worker stuck in a read ends at the httpx
    read timeout. Exceptions of `fn` are re-raised here.
    """
    future: Future[T] = Future()
    cancel = threading.Event()

    def work() -> None:
        try:
            future.set_result(fn(cancel))
        except BaseException as exc:  # handed to the caller, who classifies it
            future.set_exception(exc)

    threading.Thread(target=work, name=name, daemon=True).start()
    wait([future], timeout=budget_s)
    if not future.done():
        cancel.set()
        raise _DeadlinePassed(f"no answer within {budget_s} s")
    return future.result()


def _absorb(reply: _Reply, chunk: ollama.ChatResponse) -> None:
    """Add one streamed chunk to the reply: text, tool calls, and the counts on the final chunk."""
    message = chunk.message
    if (message.content or message.tool_calls) and reply.first_token is None:
        reply.first_token = time.perf_counter()
    reply.content += message.content or ""
    for call in message.tool_calls or []:
        reply.tool_calls.append(ToolCall(name=call.function.name, arguments=dict(call.function.arguments or {})))
    if chunk.done:
        reply.done_reason = chunk.done_reason
        reply.prompt_eval_count = chunk.prompt_eval_count or 0
        reply.eval_count = chunk.eval_count or 0


def _close(stream: Iterator[Any]) -> None:
    """Close the client's response generator, which closes the HTTP response."""
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def _worth_retrying(exc: ModelError) -> bool:
    """Only transient server trouble is retried here; bad output and our bugs go straight to the caller."""
    return isinstance(exc, ModelTimeout | ModelUnavailable) and exc.retryable


def _backoff_delay(attempt: int, base_s: float, cap_s: float) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]."""
    return random.uniform(0.0, min(cap_s, base_s * 2 ** (attempt - 1)))


def _note_retry(exc: ModelError, attempt: int, delay_s: float) -> None:
    """Record a failed attempt as an event on the current model-call span, so retries show in traces."""
    attrs = {"forge.attempt": attempt, telemetry.ERROR_TYPE: exc.kind, "forge.error": str(exc)[:300]}
    trace.get_current_span().add_event("forge.retry", {**attrs, "forge.backoff_s": delay_s})


def _finish_reason(done_reason: str | None) -> str:
    """Our finish reason for Ollama's done_reason ('stop', 'length'; 'load'/'unload'/None count as 'stop')."""
    return "length" if done_reason == "length" else "stop"


def _same_model(wanted: str, listed: str) -> bool:
    """Whether two Ollama model names are the same model (a missing tag means ':latest')."""
    return _with_tag(wanted) == _with_tag(listed)


def _with_tag(name: str) -> str:
    """The name with ':latest' added when it has no tag."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _base_url(client: ollama.Client) -> str:
    """The URL the client talks to (after its own OLLAMA_HOST handling), for messages."""
    inner = getattr(client, "_client", None)
    return str(getattr(inner, "base_url", "the Ollama server")).rstrip("/")


def _ollama_options(options: GenerationOptions) -> dict[str, Any]:
    """Our generation options in Ollama's `options` vocabulary."""
    out: dict[str, Any] = {"num_predict": options.max_tokens, "temperature": options.temperature}
    out["top_p"] = options.top_p
    if options.repeat_penalty != 1.0:
        out["repeat_penalty"] = options.repeat_penalty
    if options.stop:
        out["stop"] = list(options.stop)
    if options.seed is not None:
        out["seed"] = options.seed
    return out


def _ollama_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Our messages in Ollama's shape; tool results carry the tool's name (Ollama has no call ids)."""
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for m in messages:
        wire: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.tool_calls:
            names |= {c.id: c.name for c in m.tool_calls}
            wire["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}} for c in m.tool_calls]
        if m.role == "tool":
            tool_name = m.name or names.get(m.tool_call_id or "")
            if tool_name:
                wire["tool_name"] = tool_name
        out.append(wire)
    return out


def _with_instruction(wire: list[dict[str, Any]], instruction: str) -> list[dict[str, Any]]:
    """Add an instruction to the system message (or start the chat with one): templates expect a single system turn."""
    if wire and wire[0]["role"] == "system":
        first = dict(wire[0], content=f"{wire[0]['content']}\n\n{instruction}".strip())
        return [first, *wire[1:]]
    return [{"role": "system", "content": instruction}, *wire]


def _tool_plan(tools: list[ToolSpec], choice: ToolChoice | None, model: str) -> tuple[list[ToolSpec], bool, str | None]:
    """Which tools to offer, whether a call is required, and the instruction that asks for it.

    Ollama has no tool_choice: 'none' offers no tools, a tool name offers only that tool, and 'required' or a name
    adds an instruction; the reply is then checked for a call.
    """
    if not tools or choice == "none":
        return [], False, None
    if choice in (None, "auto"):
        return tools, False, None
    if choice == "required":
        return tools, True, "Answer by calling one of the provided tools; do not answer in plain text."
    chosen = [t for t in tools if t.name == choice]
    if not chosen:
        raise ModelBug(f"tool_choice {choice!r} names no tool among {[t.name for t in tools]}", model=model)
    return chosen, True, f"Answer by calling the tool {choice!r}; do not answer in plain text."


def _ollama_tool(spec: ToolSpec) -> dict[str, Any]:
    """A tool in Ollama's function shape, its parameters reduced to what Ollama's tool schema keeps."""
    function = {"name": spec.name, "description": spec.description, "parameters": _tool_parameters(spec.parameters)}
    return {"type": "function", "function": function}


def _tool_parameters(schema: dict[str, Any]) -> dict[str, Any]:
    """Reduce a JSON schema to Ollama's tool-parameter subset without losing the essentials.

    Ollama's tool schema (and the ollama client's `Tool` type) keeps only type/description/enum/items per property,
    so `$ref`s are inlined, `anyOf` of simple types becomes a type list (Optional[str] -> ["string", "null"]) and
    `const` becomes a one-value enum.
    """
    defs = schema.get("$defs", {})
    properties = {name: _tool_property(prop, defs) for name, prop in schema.get("properties", {}).items()}
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if schema.get("required"):
        out["required"] = list(schema["required"])
    return out


def _tool_property(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """One property in Ollama's subset (see `_tool_parameters`)."""
    prop = _deref(prop, defs)
    out: dict[str, Any] = {k: prop[k] for k in ("type", "enum", "description") if k in prop}
    variants = [_deref(v, defs) for v in prop.get("anyOf", prop.get("oneOf", []))]
    if variants and "type" not in out:
        out["type"] = [v["type"] for v in variants if isinstance(v.get("type"), str)]
        enums = [e for v in variants for e in v.get("enum", [])]
        if enums:
            out["enum"] = enums
    if "const" in prop:
        out["enum"] = [prop["const"]]
    if "items" in prop:
        out["items"] = _deref(prop["items"], defs)
    if "description" not in out and "title" in prop:
        out["description"] = prop["title"]
    return out


def _deref(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Inline a local '#/$defs/Name' reference."""
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {**defs.get(ref.removeprefix("#/$defs/"), {}), **{k: v for k, v in node.items() if k != "$ref"}}
    return node
