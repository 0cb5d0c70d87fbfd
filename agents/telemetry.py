"""Span helpers following the OpenTelemetry GenAI semantic conventions.

Agents, model backends and graphs record spans through the OpenTelemetry *API* only; which SDK, store or exporter
receives them is decided by the application (`forge.telemetry`). Without a configured provider every call here is a
cheap no-op, so library code never depends on tracing being on.

Conventions used (semconv gen-ai, development status):
- `chat {model}` / `text_completion {model}` client spans for model calls,
- `execute_tool {tool}` internal spans for tool runs,
- `invoke_agent {agent}` internal spans for graph nodes (each node is an agent step),
- `invoke_workflow {graph}` for the root span of one run (`run_span`),
- `retrieval {data source}` client spans for retrieval.

How graph code uses this module (see docs/tracing.md):
- wrap each run (item, tutoring turn, exercise-session turn) in `run_span(...)`: one root span, one trace;
- build the graph with `traced_node(name, fn)` for every node: each node becomes a child `invoke_agent {node}` span
  with its input state and update (content-captured);
- call `record_decision(...)` in routers and escalation, `record_validation(...)` after validating, and open
  `tool_span`/`retrieval_span` around tool runs and retrievals.
Learner-written text is declared in one place (`LEARNER_ATTRIBUTES`, `LEARNER_FIELDS`) so exports can redact it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

TRACER_NAME = "pedagogical_forge"

# GenAI semantic-convention attribute names (https://opentelemetry.io/docs/specs/semconv/gen-ai/).
OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
REQUEST_TOP_P = "gen_ai.request.top_p"
REQUEST_SEED = "gen_ai.request.seed"
REQUEST_STOP = "gen_ai.request.stop_sequences"
OUTPUT_TYPE = "gen_ai.output.type"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
TOOL_DEFINITIONS = "gen_ai.tool.definitions"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_RESULT = "gen_ai.tool.call.result"
AGENT_NAME = "gen_ai.agent.name"
CONVERSATION_ID = "gen_ai.conversation.id"
ERROR_TYPE = "error.type"
WORKFLOW_NAME = "gen_ai.workflow.name"
TOOL_TYPE = "gen_ai.tool.type"
DATA_SOURCE_ID = "gen_ai.data_source.id"
RETRIEVAL_QUERY = "gen_ai.retrieval.query.text"
RETRIEVAL_DOCUMENTS = "gen_ai.retrieval.documents"
RETRIEVAL_TOP_K = "gen_ai.retrieval.top_k"
# Our own attributes, namespaced as the conventions ask for non-standard ones.
TTFT = "forge.time_to_first_token_s"
LATENCY = "forge.latency_s"
ATTEMPTS = "forge.attempts"
MODEL_ID = "forge.model_id"
RUN_ID = "forge.run.id"
RUN_KIND = "forge.run.kind"
RUN_FAILED = "forge.run.failed"
RUN_FAILURE_REASON = "forge.run.failure_reason"
LEVEL = "forge.level"
EXERCISE_TYPE = "forge.exercise.type"
NODE_INPUT = "forge.node.input"
NODE_OUTPUT = "forge.node.output"
CONSTRAINTS = "forge.constraints"
VALID = "forge.validator.valid"
VERDICT = "forge.validator.verdict"
VIOLATIONS = "forge.validator.violations"
VIOLATION_COUNT = "forge.validator.violation_count"
ACI = "forge.aci"
ESCALATED = "forge.escalated"
ESCALATION_REASON = "forge.escalation.reason"
LEARNER_TEXT = "forge.learner.text"
LEARNER_FIELDS_ATTR = "forge.learner.fields"
DECISION_EVENT = "forge.decision"
DECISION_NAME = "forge.decision.name"
DECISION_CHOICE = "forge.decision.choice"
DECISION_REASON = "forge.decision.reason"
INTERRUPT_EVENT = "forge.interrupt"

#: Run kinds used by the product (`run_span(kind=...)`); `forge trace list --kind` filters on them.
RUN_KINDS = ("item", "tutoring_turn", "exercise_turn", "ask")

#: Attributes whose whole value is text a learner wrote. `forge trace export --redact` replaces them by salted hashes.
#: The score spans' prefix and continuations: in a tutoring turn they are the learner's own sentence.
LEARNER_ATTRIBUTES: frozenset[str] = frozenset(
    {LEARNER_TEXT, "forge.learner.answer", "forge.score.prefix", "forge.score.texts"}
)
#: Field names that hold learner-written text inside JSON content (node state, tool arguments), at any depth.
#: Chat messages with role `user` (or LangChain type `human`) inside content are treated as learner text as well.
LEARNER_FIELDS: frozenset[str] = frozenset({"learner_text", "learner_answer", "learner_message", "learner_input"})

_CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_capture_override: bool | None = None
#: The provider the application installed for this process (`set_tracer_provider`); None: the global OTel one.
_provider: trace.TracerProvider | None = None
_tracer: trace.Tracer | None = None
#: The root span of the run in progress (copied into LangGraph's worker threads with the rest of the context).
_RUN: ContextVar[Span | None] = ContextVar("forge_run_span", default=None)
F = TypeVar("F", bound=Callable[..., Any])


def set_capture_content(enabled: bool | None) -> None:
    """Turn recording of prompt/response text on spans on or off (None: follow the OTel environment variable)."""
    global _capture_override
    _capture_override = enabled


def capture_content() -> bool:
    """Whether message content goes on spans, per our setting or the standard OTel GenAI environment variable."""
    if _capture_override is not None:
        return _capture_override
    return os.environ.get(_CAPTURE_ENV, "").strip().upper() in {"TRUE", "1", "SPAN_ONLY", "SPAN_AND_EVENT"}


def set_tracer_provider(provider: trace.TracerProvider | None) -> None:
    """Use this provider for the project's spans (None: fall back to the global OTel provider).

    Unlike OTel's global provider this can be replaced, so each application instance (and each test) can point
    its traces at its own store.
    """
    global _provider, _tracer
    _provider = provider
    _tracer = provider.get_tracer(TRACER_NAME) if provider is not None else None


def tracer() -> trace.Tracer:
    """The project's tracer from whatever provider the application installed."""
    return _tracer if _tracer is not None else trace.get_tracer(TRACER_NAME)


def to_attr(value: Any) -> Any:
    """Make a value storable as a span attribute: primitives stay, everything else becomes JSON text."""
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    """JSON form of values json does not know: pydantic models, dataclasses, sets; anything else as text."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def set_attrs(span: Span, attrs: dict[str, Any]) -> None:
    """Set several attributes at once, skipping None values (and all work when the span is not recorded)."""
    if not span.is_recording():
        return
    for key, value in attrs.items():
        if value is not None:
            span.set_attribute(key, to_attr(value))


def set_content(span: Span, attrs: dict[str, Any]) -> None:
    """Set content-bearing attributes (prompts, outputs, learner text) only when content capture is on."""
    if capture_content():
        set_attrs(span, attrs)


@contextmanager
def start_span(name: str, *, kind: SpanKind = SpanKind.INTERNAL, attrs: dict[str, Any] | None = None) -> Iterator[Span]:
    """Open a child span of the current one; exceptions are recorded with their `error.type` and re-raised."""
    with tracer().start_as_current_span(name, kind=kind, record_exception=False, set_status_on_exception=False) as span:
        if attrs:
            set_attrs(span, attrs)
        try:
            yield span
        except BaseException as exc:
            mark_error(span, exc)
            raise


def mark_error(span: Span, exc: BaseException) -> None:
    """Record an exception on a span with the GenAI `error.type` (our error kind when there is one)."""
    kind = getattr(exc, "kind", None) or type(exc).__name__
    span.set_attribute(ERROR_TYPE, str(kind))
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, str(exc)[:200]))


@contextmanager
def run_span(
    kind: str,
    name: str,
    *,
    run_id: str,
    conversation_id: str | None = None,
    attrs: dict[str, Any] | None = None,
    operation: str = "invoke_workflow",
) -> Iterator[Span]:
    """Open the root span of one run (an item, a tutoring turn, an exercise-session turn, an `ask`).

    Everything started inside (graph nodes, model and tool calls, also in LangGraph's worker threads) nests under
    it, so one run is one trace with one root. `kind` is one of `RUN_KINDS`; `name` is the graph (or agent) name;
    `operation` is `invoke_workflow` for a graph and `invoke_agent` for a single agent. Filterable fields such as
    `LEVEL` and `EXERCISE_TYPE` go in `attrs` (or later through `set_run_attrs`). A run opened inside another run
    nests as a child instead of starting a second trace.
    """
    name_key = WORKFLOW_NAME if operation == "invoke_workflow" else AGENT_NAME
    base = {OPERATION: operation, name_key: name, RUN_ID: run_id, RUN_KIND: kind, CONVERSATION_ID: conversation_id}
    with start_span(f"{operation} {name}", attrs=base | (attrs or {})) as span:
        token = _RUN.set(span) if _RUN.get() is None else None
        try:
            yield span
        finally:
            if token is not None:
                _RUN.reset(token)


def current_run() -> Span | None:
    """The root span of the run in progress, if any."""
    return _RUN.get()


def current_trace_id() -> str | None:
    """The current trace id as 32 hex digits (what `forge trace show` accepts), or None outside a recorded span."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def set_run_attrs(attrs: dict[str, Any]) -> None:
    """Set attributes on the current run's root span (e.g. the level or exercise type once they are known)."""
    run = _RUN.get()
    if run is not None:
        set_attrs(run, attrs)


def mark_run_failed(reason: str) -> None:
    """Mark the current run as failed (no usable output) without an exception, with the reason."""
    set_run_attrs({RUN_FAILED: True, RUN_FAILURE_REASON: reason})


def traced_node(name: str, fn: F, *, learner_fields: Sequence[str] = ()) -> F:
    """Wrap a LangGraph node function so each call is a child `invoke_agent {name}` span.

    The span records the node's input state and its returned update (when content capture is on) and its duration.
    `learner_fields` names state keys holding learner-written text, for redaction on export. The wrapper keeps the
    function's signature, so LangGraph still passes `config`/`runtime` when the node asks for them. LangGraph's
    interrupts (GraphInterrupt and other bubble-ups) are recorded as an event, not as an error.
    """
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            with _node_span(name, args, kwargs, learner_fields) as span:
                return _node_output(span, await fn(*args, **kwargs))

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _node_span(name, args, kwargs, learner_fields) as span:
            return _node_output(span, fn(*args, **kwargs))

    return wrapper  # type: ignore[return-value]


@contextmanager
def _node_span(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], learner: Sequence[str]) -> Iterator[Span]:
    """The span of one node call: GenAI agent attributes, the input state, interrupts as events."""
    attrs: dict[str, Any] = {OPERATION: "invoke_agent", AGENT_NAME: name, LEARNER_FIELDS_ATTR: list(learner) or None}
    with tracer().start_as_current_span(
        f"invoke_agent {name}", record_exception=False, set_status_on_exception=False
    ) as span:
        set_attrs(span, attrs)
        _safe_content(span, NODE_INPUT, args[0] if args else kwargs.get("state"))
        try:
            yield span
        except BaseException as exc:
            if _is_graph_bubble_up(exc):
                span.add_event(INTERRUPT_EVENT, {"forge.interrupt.type": type(exc).__name__})
            else:
                mark_error(span, exc)
            raise


def _node_output(span: Span, output: Any) -> Any:
    """Record a node's returned update on its span and pass it through."""
    _safe_content(span, NODE_OUTPUT, output)
    return output


def _safe_content(span: Span, key: str, value: Any) -> None:
    """Record node state as content; state that cannot be serialised is noted, never allowed to fail the node."""
    try:
        set_content(span, {key: value})
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. circular references in a state object
        span.set_attribute(key, f"<not serialisable: {type(exc).__name__}>")


def _is_graph_bubble_up(exc: BaseException) -> bool:
    """Whether LangGraph raised this for control flow (interrupt, parent command) rather than as a failure."""
    return any(cls.__name__ == "GraphBubbleUp" for cls in type(exc).__mro__)


def record_decision(
    span: Span | None, name: str, choice: str, reason: str, *, escalation: bool = False, **attrs: Any
) -> None:
    """Record a routing or escalation decision, with its reason, as a `forge.decision` event.

    `span` is the span the decision belongs to (None: the current one). `escalation=True` marks the decision as an
    escalation: the span and the run's root get `forge.escalated` and the reason, which `forge trace list
    --escalated` and `forge trace stats` use. Extra keyword arguments become `forge.decision.<key>` attributes.
    """
    target = span if span is not None else trace.get_current_span()
    event: dict[str, Any] = {DECISION_NAME: name, DECISION_CHOICE: choice, DECISION_REASON: reason}
    event[ESCALATED] = escalation
    event |= {f"forge.decision.{key}": to_attr(value) for key, value in attrs.items() if value is not None}
    target.add_event(DECISION_EVENT, event)
    if escalation:
        flags = {ESCALATED: True, ESCALATION_REASON: reason}
        set_attrs(target, flags)
        set_run_attrs(flags)


def record_validation(
    valid: bool,
    *,
    verdict: str | None = None,
    violations: Sequence[Any] = (),
    aci: float | None = None,
    span: Span | None = None,
) -> None:
    """Record a validator's verdict, its violations and the Alignment Consistency Index on a span and on the run.

    The run keeps the last verdict recorded, which is what `forge trace stats` counts as the run's validity.
    """
    target = span if span is not None else trace.get_current_span()
    attrs = {
        VALID: valid,
        VERDICT: verdict or ("valid" if valid else "invalid"),
        VIOLATIONS: list(violations) if violations else None,
        VIOLATION_COUNT: len(violations),
        ACI: aci,
    }
    set_attrs(target, attrs)
    set_run_attrs(attrs)


@contextmanager
def tool_span(name: str, *, call_id: str | None = None, arguments: Any = None) -> Iterator[Span]:
    """Open an `execute_tool {name}` span; the arguments are content-captured. Record the result with `tool_result`."""
    attrs = {OPERATION: "execute_tool", TOOL_NAME: name, TOOL_CALL_ID: call_id, TOOL_TYPE: "function"}
    with start_span(f"execute_tool {name}", attrs=attrs) as span:
        set_content(span, {TOOL_ARGUMENTS: arguments})
        yield span


def tool_result(span: Span, result: Any) -> None:
    """Record a tool's result on its span (content-captured)."""
    set_content(span, {TOOL_RESULT: result})


@contextmanager
def retrieval_span(data_source: str, query: str, *, top_k: int | None = None) -> Iterator[Span]:
    """Open a `retrieval {data_source}` span; the query text is content-captured. Record hits with `retrieved`."""
    attrs = {OPERATION: "retrieval", DATA_SOURCE_ID: data_source, RETRIEVAL_TOP_K: top_k}
    with start_span(f"retrieval {data_source}", kind=SpanKind.CLIENT, attrs=attrs) as span:
        set_content(span, {RETRIEVAL_QUERY: query})
        yield span


def retrieved(span: Span, documents: Sequence[tuple[str, float]]) -> None:
    """Record retrieved document ids and scores (always: ids and scores are not content)."""
    set_attrs(span, {RETRIEVAL_DOCUMENTS: [{"id": doc_id, "score": score} for doc_id, score in documents]})
