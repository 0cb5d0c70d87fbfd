"""The one scripted chat model of the tests: routing logic in isolation (never to claim the system works).

Each chat or completion call answers with the next step of the script. Steps given with `enqueue` (as simonw/llm's
`MockModel`) are used once, in order, before the constructor's replies, which repeat for as long as the model is
called. A step is one of:

- a string: the reply text ('TIMEOUT' raises a `ModelTimeout` instead); with a schema the text is *not* parsed, as
  from a model that ignores the schema;
- a `ModelError`: raised as the backend would raise it;
- a `ToolCall`: a reply that calls that tool;
- a `Reply`: anything else — JSON parsed against the request's schema, several tool calls, a delay (a delay beyond
  the call's `timeout_s` ends in a `ModelTimeout`), backend retries (recorded as the Ollama backend records them);
- a `ChatResult`: returned as it is.

Every request (`requests`) and completion prompt (`prompts`) is kept, and `calls` counts both.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import cycle
from typing import Any, Literal

from opentelemetry import trace

from agents.models.base import (
    Availability,
    Capabilities,
    ChatModel,
    ChatResult,
    GenerationOptions,
    ModelRequest,
    Schema,
    ToolCall,
    Usage,
    parse_structured,
)
from agents.models.errors import ModelError, ModelTimeout

#: The capabilities a scripted model reports unless told otherwise.
DEFAULT_CAPABILITIES = Capabilities(tools=False, json_schema=False, completion=True, logprobs=False)


@dataclass(frozen=True)
class Reply:
    """One scripted answer beyond plain text."""

    text: str = ""
    #: A JSON value: the reply text is its dump, and `parsed` the value checked against the request's schema.
    json: Any = None
    tool_calls: Sequence[ToolCall] = ()
    #: Seconds the call takes; beyond the call's `timeout_s` it times out after that budget.
    delay_s: float = 0.0
    #: Backend retries before this answer (each a `forge.retry` span event, as the Ollama backend records them).
    retries: int = 0


Step = str | ModelError | ToolCall | Reply | ChatResult
Score = list[float] | ModelError | Literal["TIMEOUT"]


def _as_reply(step: str | ToolCall | Reply) -> Reply:
    if isinstance(step, Reply):
        return step
    return Reply(tool_calls=[step]) if isinstance(step, ToolCall) else Reply(text=step)


class ScriptedModel(ChatModel):
    """Answers every call with the next scripted step (see the module docstring)."""

    def __init__(
        self,
        replies: Sequence[Step] = (),
        name: str = "scripted",
        *,
        backend: str = "scripted",
        completions: Sequence[Step] | None = None,
        scores: Sequence[Score] | None = None,
        capabilities: Capabilities | None = None,
        reachable: bool = True,
    ) -> None:
        """`completions` script `complete` apart from `chat` (by default both follow `replies`); `scores` script
        `score` (each a list of log-probabilities, a ModelError or 'TIMEOUT') and turn on the scoring capability."""
        self.backend = backend
        self.id = f"{backend}:{name}"
        self.model_name = name
        self.capabilities = capabilities or DEFAULT_CAPABILITIES.model_copy(update={"scoring": scores is not None})
        self.reachable = reachable
        self._replies = cycle(list(replies))
        self._completions = cycle(list(completions)) if completions is not None else None
        self._scores = cycle(list(scores)) if scores is not None else None
        self._queue: deque[Step] = deque()
        self.requests: list[ModelRequest] = []
        self.prompts: list[str] = []
        self.calls = 0

    def enqueue(self, *steps: Step) -> ScriptedModel:
        """Answer the next calls with these steps, one each, before the constructor's replies; returns the model."""
        self._queue.extend(steps)
        return self

    def _next(self, script: cycle[Step]) -> Step:
        self.calls += 1
        if self._queue:
            return self._queue.popleft()
        step = next(script, None)
        if step is None:
            raise AssertionError(f"{self.id} has no scripted reply left")
        return step

    def _answer(self, step: Step, prompt_words: int, options: GenerationOptions, schema: Schema | None) -> ChatResult:
        """The result of one step (or the error it scripts)."""
        if isinstance(step, ChatResult):
            return step
        if isinstance(step, ModelError):
            raise step
        if step == "TIMEOUT":
            raise ModelTimeout(f"{self.id} scripted timeout", model=self.id)
        reply = _as_reply(step)
        start = time.perf_counter()
        if reply.delay_s:
            budget = options.timeout_s
            time.sleep(min(reply.delay_s, budget) if budget is not None else reply.delay_s)
            if budget is not None and reply.delay_s > budget:
                raise ModelTimeout(f"{self.id} did not finish within {budget:g} s (scripted)", model=self.id)
        for attempt in range(1, reply.retries + 1):
            trace.get_current_span().add_event("forge.retry", {"forge.attempt": attempt, "error.type": "timeout"})
        text = json.dumps(reply.json) if reply.json is not None else reply.text
        parsed = parse_structured(text, schema, model=self.id) if reply.json is not None and schema else None
        return ChatResult(
            text=text,
            tool_calls=list(reply.tool_calls),
            parsed=parsed,
            model=self.id,
            backend=self.backend,
            usage=Usage(input_tokens=prompt_words, output_tokens=len(text.split())),
            latency_s=time.perf_counter() - start,
            finish_reason="tool_calls" if reply.tool_calls else "stop",
            attempts=1 + reply.retries,
        )

    def _chat(self, request: ModelRequest) -> ChatResult:
        self.requests.append(request)
        words = sum(len(m.content.split()) for m in request.messages)
        return self._answer(self._next(self._replies), words, request.options, request.schema)

    def _complete(self, prompt: str, options: GenerationOptions) -> ChatResult:
        self.prompts.append(prompt)
        return self._answer(self._next(self._completions or self._replies), len(prompt.split()), options, None)

    def _score(self, prefix: str, continuations: list[str]) -> list[float]:
        if self._scores is None:
            return super()._score(prefix, continuations)
        step = next(self._scores)
        if isinstance(step, ModelError):
            raise step
        if step == "TIMEOUT":
            raise ModelTimeout(f"{self.id} scripted timeout", model=self.id)
        return step

    def availability(self) -> Availability:
        return Availability(model=self.id, reachable=self.reachable, detail="scripted")
