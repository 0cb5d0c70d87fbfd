"""A scripted chat model for testing routing logic in isolation (never to claim the system works)."""

from __future__ import annotations

from itertools import cycle

from agents.models.base import (
    Availability,
    Capabilities,
    ChatModel,
    ChatResult,
    GenerationOptions,
    Message,
    Schema,
    ToolChoice,
    ToolSpec,
    Usage,
)
from agents.models.errors import ModelTimeout


class ScriptedModel(ChatModel):
    """Answers every call with the next scripted text; 'TIMEOUT' raises a ModelTimeout instead."""

    backend = "scripted"

    def __init__(self, replies: list[str], name: str = "scripted") -> None:
        self.id = f"scripted:{name}"
        self.model_name = name
        self.capabilities = Capabilities(tools=False, json_schema=False, completion=True, logprobs=False)
        self._replies = cycle(replies)
        self.calls = 0

    def _next(self) -> ChatResult:
        self.calls += 1
        text = next(self._replies)
        if text == "TIMEOUT":
            raise ModelTimeout(f"{self.id} scripted timeout", model=self.id)
        return ChatResult(text=text, model=self.id, backend=self.backend, usage=Usage(input_tokens=1, output_tokens=1))

    def _chat(
        self,
        messages: list[Message],
        options: GenerationOptions,
        schema: Schema | None,
        tools: list[ToolSpec],
        tool_choice: ToolChoice | None,
    ) -> ChatResult:
        return self._next()

    def _complete(self, prompt: str, options: GenerationOptions) -> ChatResult:
        return self._next()

    def availability(self) -> Availability:
        return Availability(model=self.id, reachable=True, detail="scripted")
