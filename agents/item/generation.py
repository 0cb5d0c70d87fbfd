"""The generation agent: one attempt at an item, by the local model or by the escalation chain.

The local model writes through `CompletionWriter` (few-shot), escalation targets through `ChatWriter` (tiered
prompts, JSON); the same builder turns what they write into an item, so escalated items are held to exactly the
same structure and validation.
"""

from __future__ import annotations

import random
import time

from pydantic import BaseModel, Field

from agents.context import AgentContext
from agents.item.constraints import Constraints
from agents.item.exercises import BuildContext, BuildFailed, Kit, build_item
from agents.item.writers import ChatWriter, CompletionWriter, Writer
from agents.models.errors import ModelError
from agents.models.fallback import EscalationChain
from knowledge.items import ExerciseType, Item
from knowledge.violations import Violation


class Outcome(BaseModel):
    """What one generation attempt produced and what it cost."""

    item: Item | None = None
    model: str
    escalated: bool
    violations: list[Violation] = Field(default_factory=list)
    model_s: float = Field(default=0.0, description="Seconds spent inside model calls (generation and scoring).")
    calls: int = 0
    errors: list[str] = Field(default_factory=list, description="Model errors met (timeouts, unreachable...).")
    chain_failures: list[str] = Field(default_factory=list, description="Why escalation models failed, if any.")
    notes: dict[str, object] = Field(default_factory=dict, description="Evidence gathered while building.")

    @property
    def local_model_failed(self) -> bool:
        """Whether the local model failed outright (errors and no item), as opposed to writing unusable text."""
        return not self.escalated and self.item is None and bool(self.errors)


def _writer(ctx: AgentContext, escalated: bool) -> tuple[Writer, EscalationChain | None]:
    """The writer for this attempt: few-shot local completion, or the chain behind tiered chat prompts.

    The chain is a session of the shared one, so this attempt's calls (who answered, why others failed) are its own.
    """
    if not escalated:
        return CompletionWriter(ctx.local, ctx.exemplars), None
    chain = ctx.escalation.session()
    return ChatWriter(chain, ctx.exemplars), chain


def attempt_item(
    ctx: AgentContext, kind: ExerciseType, constraints: Constraints, *, seed: int, escalated: bool
) -> Outcome:
    """Build one item of `kind` under the constraints; failures come back as violations, never as exceptions."""
    writer, chain = _writer(ctx, escalated)
    kit = Kit(ctx.checker.lexicon, ctx.exemplars, ctx.local)
    build = BuildContext(
        constraints=constraints, writer=writer, kit=kit, seed=seed, rng=random.Random(seed), human_first=not escalated,
        thresholds=ctx.policy.thresholds,
    )
    start = time.perf_counter()
    item, violations, errors = None, [], []
    try:
        item = build_item(kind, build)
    except BuildFailed as exc:
        violations = exc.violations
    except ModelError as exc:  # a model failed outside a writer (e.g. scoring): degrade, do not crash
        errors.append(f"{exc.kind}: {exc}")
    model_id = (chain.answered_by or chain.id) if chain else ctx.local.id
    return Outcome(
        item=item,
        model=model_id,
        escalated=escalated,
        violations=violations,
        model_s=round(writer.stats.model_s + build.kit.model_s, 4),
        calls=writer.stats.calls,
        errors=errors + writer.stats.errors,
        chain_failures=chain.failures() if chain else [],
        notes={**build.notes, "build_s": round(time.perf_counter() - start, 4)},
    )
