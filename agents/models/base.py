"""The small interface every chat model backend implements.

Backends (`llamacpp.py`, `ollama.py`) turn these types into their own API calls; everything above them (agents,
graphs, the CLI) only sees `ChatModel`, `Message`, `ChatResult` and the errors in `errors.py`.
"""

from __future__ import annotations

import json
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from opentelemetry.trace import Span, SpanKind
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents import telemetry
from agents.models.errors import InvalidModelOutput

Role = Literal["system", "user", "assistant", "tool"]
Schema = dict[str, Any] | type[BaseModel]
#: 'auto' (model decides), 'required' (must call a tool) or the name of the tool it must call.
ToolChoice = str


class ToolCall(BaseModel):
    """A model's request to run one tool with JSON arguments."""

    id: str = Field(
        default_factory=lambda: f"call_{uuid.uuid4().hex[:12]}", description="Call id, echoed by the tool reply."
    )
    name: str = Field(description="Name of the tool to run.")
    arguments: dict[str, Any] = Field(default_factory=dict, description="Arguments, matching the tool's schema.")


class Message(BaseModel):
    """One chat message in OpenAI/Ollama shape."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list, description="Tool calls made by an assistant turn.")
    tool_call_id: str | None = Field(default=None, description="For role=tool: the call this message answers.")
    name: str | None = Field(default=None, description="For role=tool: the tool's name.")

    @classmethod
    def system(cls, content: str) -> Message:
        """A system message."""
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str) -> Message:
        """A user message."""
        return cls(role="user", content=content)


class ToolSpec(BaseModel):
    """A tool the model may call: name, what it is for, and a JSON schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any] = Field(description="JSON schema of the arguments object.")


class Usage(BaseModel):
    """Token counts of one call, as the backend counted them."""

    input_tokens: int = 0
    output_tokens: int = 0


class GenerationOptions(BaseModel):
    """Sampling and budget options for one call; None means the backend's default."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(default=256, ge=1, le=8192, description="Upper bound on generated tokens.")
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    repeat_penalty: float = Field(default=1.0, ge=0.5, le=2.0, description="Penalty on repeated tokens (1 = none).")
    stop: list[str] = Field(default_factory=list, description="Strings that end generation (not included).")
    seed: int | None = Field(default=None, description="Sampling seed, for reproducible runs.")
    timeout_s: float | None = Field(default=None, gt=0, description="Wall-clock budget; None uses the backend's.")
    level: str | None = Field(default=None, description="Target CEFR level; selects a per-level LoRA adapter if set.")
    logprobs: int | None = Field(default=None, ge=0, le=20, description="Return this many top log-probs per token.")


@dataclass(frozen=True, kw_only=True)
class ModelRequest:
    """Everything one chat call asks of a model: the messages, the options, and the schema or tools to use.

    The one request object every backend's `_chat` receives (as pydantic-ai's `ModelRequestParameters`).
    """

    messages: list[Message]
    options: GenerationOptions = field(default_factory=GenerationOptions)
    #: JSON schema (or pydantic model) the reply must match; the result's `parsed` then holds it.
    schema: Schema | None = None
    #: Tools the model may call.
    tools: list[ToolSpec] = field(default_factory=list)
    #: 'auto' (model decides), 'required', 'none' or the name of the tool it must call; None means 'auto'.
    tool_choice: ToolChoice | None = None

    @property
    def output_type(self) -> str:
        """'json' when a schema is requested, else 'text' (`gen_ai.output.type`)."""
        return "json" if self.schema is not None else "text"


class ChatResult(BaseModel):
    """What one model call produced, with the accounting every trace and benchmark needs."""

    text: str = Field(description="Generated text (the JSON text when a schema was requested).")
    tool_calls: list[ToolCall] = Field(default_factory=list)
    parsed: Any = Field(default=None, description="Parsed JSON (or the pydantic object) when a schema was requested.")
    model: str = Field(description="Model id as resolved, e.g. 'llamacpp:smollm2-135m'.")
    backend: str = Field(description="Backend name: 'llamacpp' or 'ollama'.")
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = Field(default=0.0, description="Wall-clock seconds of the whole call, retries included.")
    ttft_s: float | None = Field(default=None, description="Seconds until the first generated token.")
    finish_reason: str = Field(default="stop", description="'stop', 'length', 'tool_calls' or 'timeout'.")
    attempts: int = Field(default=1, description="Tries made, 1 + retries.")
    token_logprobs: list[float] | None = Field(default=None, description="Log-probability of each generated token.")

    @property
    def tokens_per_s(self) -> float:
        """Generated tokens per second of generation time (after the first token)."""
        gen_time = self.latency_s - (self.ttft_s or 0.0)
        return self.usage.output_tokens / gen_time if gen_time > 0 else 0.0


class Capabilities(BaseModel):
    """What a backend can do, so callers can choose a strategy without knowing the backend."""

    tools: bool = Field(description="Accepts tool specs and returns tool calls.")
    json_schema: bool = Field(description="Constrains output to a JSON schema.")
    completion: bool = Field(description="Plain text completion without a chat template (few-shot prompting).")
    logprobs: bool = Field(description="Returns token log-probabilities.")
    lora: bool = Field(default=False, description="Loads per-level LoRA adapters.")
    scoring: bool = Field(default=False, description="Scores given continuations by log-probability.")


class Availability(BaseModel):
    """Whether a model can be used right now, and why not."""

    model: str
    reachable: bool
    detail: str


class ChatModel(ABC):
    """A chat model resolved from a string such as 'llamacpp:smollm2-135m' or 'ollama:qwen2.5:7b-instruct'.

    Backends implement `_chat(request)`, which receives one `ModelRequest` (and `_complete` if they can); the public
    methods (`chat`, `request`, `complete`, `score`) add one GenAI-convention span per call with model, usage, latency
    and time to first token, so every backend is traced the same way.
    """

    #: The string this model was resolved from.
    id: str
    #: Backend name, used as `gen_ai.provider.name` in traces.
    backend: str
    #: The model name the backend is asked for (`gen_ai.request.model`).
    model_name: str
    capabilities: Capabilities

    #: Whether `request` opens the GenAI client span. A composite model (the escalation chain) opens its own agent
    #: span instead and leaves the client spans to the models it calls.
    client_span: ClassVar[bool] = True

    def chat(
        self,
        messages: Sequence[Message],
        *,
        options: GenerationOptions | None = None,
        schema: Schema | None = None,
        tools: Sequence[ToolSpec] | None = None,
        tool_choice: ToolChoice | None = None,
    ) -> ChatResult:
        """Send one chat turn; with `schema` the text is JSON matching it, with `tools` the model may call them.

        `tool_choice` is 'auto' (model decides), 'required' (must call some tool) or a tool name (must call it).
        Raises a `ModelError` subclass when the call fails. (A shorthand for `request(ModelRequest(...))`.)
        """
        return self.request(
            ModelRequest(
                messages=list(messages),
                options=options or GenerationOptions(),
                schema=schema,
                tools=list(tools or []),
                tool_choice=tool_choice,
            )
        )

    def request(self, request: ModelRequest) -> ChatResult:
        """Send one chat request (see `chat`), traced with one GenAI client span."""
        if not self.client_span:
            return self._chat(request)
        with self._span("chat", request.options, output_type=request.output_type) as span:
            telemetry.set_content(span, {telemetry.INPUT_MESSAGES: _otel_messages(request.messages)})
            if request.tools:
                telemetry.set_attrs(span, {telemetry.TOOL_DEFINITIONS: [t.model_dump() for t in request.tools]})
            result = self._chat(request)
            _record_result(span, result)
            return result

    def complete(self, prompt: str, *, options: GenerationOptions | None = None) -> ChatResult:
        """Continue raw text without a chat template (few-shot prompts); only if `capabilities.completion`."""
        opts = options or GenerationOptions()
        with self._span("text_completion", opts, output_type="text") as span:
            message = {"role": "user", "parts": [{"type": "text", "content": prompt}]}
            telemetry.set_content(span, {telemetry.INPUT_MESSAGES: [message]})
            result = self._complete(prompt, opts)
            _record_result(span, result)
            return result

    @abstractmethod
    def _chat(self, request: ModelRequest) -> ChatResult:
        """Backend-specific chat call (see `chat`)."""

    def _complete(self, prompt: str, options: GenerationOptions) -> ChatResult:
        """Backend-specific plain completion (see `complete`)."""
        raise NotImplementedError(f"{self.id} does not support plain completion")

    def score(self, prefix: str, continuations: list[str]) -> list[float]:
        """Log-probability of each continuation after the prefix; only if `capabilities.scoring`."""
        attrs = {
            telemetry.OPERATION: "score",
            telemetry.PROVIDER: self.backend,
            telemetry.REQUEST_MODEL: self.model_name,
            telemetry.MODEL_ID: self.id,
            "forge.score.continuations": len(continuations),
        }
        with telemetry.start_span(f"score {self.model_name}", kind=SpanKind.CLIENT, attrs=attrs) as span:
            telemetry.set_content(span, {"forge.score.prefix": prefix, "forge.score.texts": continuations})
            scores = self._score(prefix, continuations)
            telemetry.set_content(span, {"forge.score.logprobs": [round(x, 3) for x in scores]})
            return scores

    def _score(self, prefix: str, continuations: list[str]) -> list[float]:
        """Backend-specific scoring (see `score`)."""
        raise NotImplementedError(f"{self.id} cannot score continuations")

    @abstractmethod
    def availability(self) -> Availability:
        """Check, cheaply, whether this model can be called now."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (loaded weights, HTTP pools)."""

    def _span(self, operation: str, options: GenerationOptions, *, output_type: str) -> AbstractContextManager[Span]:
        """Open the GenAI client span for one call of this model."""
        return telemetry.start_span(
            f"{operation} {self.model_name}",
            kind=SpanKind.CLIENT,
            attrs={
                telemetry.OPERATION: operation,
                telemetry.PROVIDER: self.backend,
                telemetry.REQUEST_MODEL: self.model_name,
                telemetry.REQUEST_MAX_TOKENS: options.max_tokens,
                telemetry.REQUEST_TEMPERATURE: options.temperature,
                telemetry.REQUEST_TOP_P: options.top_p,
                telemetry.REQUEST_SEED: options.seed,
                telemetry.REQUEST_STOP: options.stop or None,
                telemetry.OUTPUT_TYPE: output_type,
                "forge.model_id": self.id,
            },
        )


def _otel_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Messages in the GenAI conventions' `gen_ai.input.messages` shape (role + typed parts)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        parts: list[dict[str, Any]] = []
        if m.role == "tool":
            parts.append({"type": "tool_call_response", "id": m.tool_call_id, "response": m.content})
        elif m.content:
            parts.append({"type": "text", "content": m.content})
        parts += [{"type": "tool_call", "id": c.id, "name": c.name, "arguments": c.arguments} for c in m.tool_calls]
        out.append({"role": m.role, "parts": parts})
    return out


def _record_result(span: Span, result: ChatResult) -> None:
    """Put the usage, timings and output of a finished call on its span."""
    telemetry.set_attrs(
        span,
        {
            telemetry.RESPONSE_MODEL: result.model,
            telemetry.INPUT_TOKENS: result.usage.input_tokens,
            telemetry.OUTPUT_TOKENS: result.usage.output_tokens,
            telemetry.FINISH_REASONS: [result.finish_reason],
            telemetry.TTFT: result.ttft_s,
            telemetry.LATENCY: result.latency_s,
            telemetry.ATTEMPTS: result.attempts,
        },
    )
    parts: list[dict[str, Any]] = [{"type": "text", "content": result.text}] if result.text else []
    parts += [{"type": "tool_call", "id": c.id, "name": c.name, "arguments": c.arguments} for c in result.tool_calls]
    output = [{"role": "assistant", "parts": parts, "finish_reason": result.finish_reason}]
    telemetry.set_content(span, {telemetry.OUTPUT_MESSAGES: output})


def schema_dict(schema: Schema) -> dict[str, Any]:
    """The JSON schema of a pydantic model class, or the dict unchanged."""
    if isinstance(schema, dict):
        return schema
    return schema.model_json_schema()


#: Length bounds above this are left out of the schema a backend turns into a grammar.
GRAMMAR_MAX_BOUND = 64
_BOUNDS = ("maxLength", "minLength", "maxItems", "minItems")


def grammar_schema(schema: Schema) -> dict[str, Any]:
    """The schema to constrain decoding with: large length bounds removed.

    llama.cpp (and so Ollama) writes `maxLength: 2000` as a rule repeated 2,000 times; its grammar parser refuses
    that, and llama-cpp-python 0.3 then crashes the process. Pydantic schemas still enforce every bound when the
    reply is parsed (`parse_structured`); for plain dict schemas the large bounds are not checked.
    """

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: strip(v)
                for k, v in node.items()
                if not (k in _BOUNDS and isinstance(v, int) and v > GRAMMAR_MAX_BOUND)
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return dict(strip(schema_dict(schema)))


def parse_structured(text: str, schema: Schema, *, model: str) -> Any:
    """Parse JSON text and, for a pydantic schema, validate it; raise InvalidModelOutput if it does not fit."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidModelOutput(f"{model} returned text that is not JSON: {text[:80]!r}", model=model) from exc
    if isinstance(schema, dict):
        return value
    try:
        return schema.model_validate(value)
    except ValidationError as exc:
        raise InvalidModelOutput(f"{model} returned JSON that does not match {schema.__name__}", model=model) from exc


class Stopwatch:
    """Measures latency and time to first token of one call."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first_token: float | None = None

    def mark_first_token(self) -> None:
        """Record the first generated token (only the first call counts)."""
        if self.first_token is None:
            self.first_token = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds since the call started."""
        return time.perf_counter() - self.start

    @property
    def ttft(self) -> float | None:
        """Seconds from start to the first token, if one arrived."""
        return None if self.first_token is None else self.first_token - self.start
