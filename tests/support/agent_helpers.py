"""Helpers for the item agents' unit tier (fixtures are in `tests.support.agent_fixtures`)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from agents.context import AgentContext
from agents.item.constraints import Constraints, WordChoice, build_constraints
from agents.item.exercises import BuildContext, Kit
from agents.item.retrieval import retrieve
from agents.item.writers import CompletionWriter
from knowledge.aci import AlignmentChecker
from knowledge.exemplars import Exemplars
from knowledge.graph import KnowledgeGraph
from knowledge.level_estimator import LevelEstimator
from knowledge.levels import Level
from tests.support.scripted_model import ScriptedModel

#: make_ctx(local=None, *, index=None, policy=None, escalation=None) -> AgentContext
MakeContext = Callable[..., AgentContext]


@dataclass(frozen=True)
class Knowledge:
    """The real knowledge layer, loaded once per session."""

    graph: KnowledgeGraph
    checker: AlignmentChecker
    estimator: LevelEstimator
    exemplars: Exemplars


def constraints_for(ctx: AgentContext, level: Level, topic: str, seed: int = 1, **kwargs: object) -> Constraints:
    """The constraints the graph gives for a topic and level (graph-only retrieval when the context has no index)."""
    found = retrieve(ctx, topic, level)
    return build_constraints(ctx.graph, level, topic, found, random.Random(seed), **kwargs)  # type: ignore[arg-type]


def word_choice(ctx: AgentContext, word: str, pos: str) -> WordChoice:
    """A WordChoice for a listed word, with its level and graph node as the knowledge graph has them."""
    key = f"word:{word}|{pos}"
    node = ctx.graph.node(key)
    if node.level is None:
        raise ValueError(f"{key} has no level")
    return WordChoice(word=word, pos=pos, level=node.level, node=key, score=1.0)


def build_context(
    ctx: AgentContext, constraints: Constraints, replies: list[str], seed: int = 3
) -> tuple[BuildContext, ScriptedModel]:
    """A BuildContext whose writer completes with the scripted replies (and no scorer: the model cannot score)."""
    model = ScriptedModel(replies)
    writer = CompletionWriter(model, ctx.exemplars)
    kit = Kit(ctx.checker.lexicon, ctx.exemplars, model)
    return BuildContext(constraints=constraints, writer=writer, kit=kit, seed=seed, rng=random.Random(seed)), model


def hit_value(hit: object, name: str) -> object:
    """A field of a retrieval hit, whether `Retrieved` holds it as a dict or as a typed model."""
    return hit[name] if isinstance(hit, dict) else getattr(hit, name)
