"""Escalation: when a case goes to the Ollama chain, and the chain seen as one chat model by the writers.

`ChainModel` lets the chat writer use the whole chain: each call tries the chain's models in order and the
attempts (with why each failed) are kept, so the item can report why escalation did or did not help.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

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
)
from agents.models.fallback import ChainAttempt, EscalationChain

Reason = Literal["hard_level", "hard_text", "validation_failed", "local_model_failed"]


class ChainModel(ChatModel):
    """The escalation chain behind the ChatModel interface (chat only; spans come from the chain and its models)."""

    backend = "chain"

    def __init__(self, chain: EscalationChain) -> None:
        self.chain = chain
        self.id = "chain:" + ",".join(chain.ids)
        self.model_name = self.id
        self.capabilities = Capabilities(tools=True, json_schema=True, completion=False, logprobs=False)
        self.attempts: list[ChainAttempt] = []
        self.answered_by: str | None = None

    def chat(
        self,
        messages: Sequence[Message],
        *,
        options: GenerationOptions | None = None,
        schema: Schema | None = None,
        tools: Sequence[ToolSpec] | None = None,
        tool_choice: ToolChoice | None = None,
    ) -> ChatResult:
        """Send the chat along the chain; remember every attempt and which model answered."""
        try:
            out = self.chain.chat(messages, options=options, schema=schema, tools=tools, tool_choice=tool_choice)
        except Exception as exc:
            self.attempts += list(getattr(exc, "chain_attempts", []))
            raise
        self.attempts += out.attempts
        self.answered_by = out.model
        return out.result

    def _chat(
        self,
        messages: list[Message],
        options: GenerationOptions,
        schema: Schema | None,
        tools: list[ToolSpec],
        tool_choice: ToolChoice | None,
    ) -> ChatResult:
        return self.chat(messages, options=options, schema=schema, tools=tools, tool_choice=tool_choice)

    def availability(self) -> Availability:
        """Reachable if any model of the chain is."""
        states = self.chain.availability()
        return Availability(
            model=self.id,
            reachable=any(s.reachable for s in states),
            detail="; ".join(f"{s.model}: {s.detail}" for s in states),
        )

    def failures(self) -> list[str]:
        """Why chain models failed, one line each."""
        return [f"{a.model}: {a.error_type}: {a.message}" for a in self.attempts if not a.ok]
