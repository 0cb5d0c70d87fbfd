"""The KG-constraint agent: turn retrieved material into a typed `Constraints` object for one item.

The knowledge graph, not the model, decides which words an item targets, which words may serve as distractors,
which constructions the level calls for or forbids and which can-do descriptors it serves. Every choice keeps the
graph node it came from, so a reviewer can trace it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import cache

from pydantic import BaseModel, Field

from agents.item.retrieved import LexiconHit, Retrieved
from knowledge.graph import KnowledgeGraph, Node
from knowledge.levels import Level

#: Parts of speech an exercise may target (the lists' names).
CONTENT_POS = ("noun", "verb", "adjective", "adverb")


class WordChoice(BaseModel):
    """A word the item may use, traceable to its lexicon entry / graph node."""

    word: str
    pos: str
    level: Level
    node: str = Field(description="Knowledge-graph node id, e.g. 'word:apple|noun'.")
    score: float = Field(default=0.0, description="Relevance to the topic (higher is closer).")
    source: str = Field(default="", description="Where the level comes from, e.g. 'CEFR-J Wordlist 1.5'.")


class ConstructionRef(BaseModel):
    """A grammar construction by graph id, with its level and name."""

    id: str
    name: str
    level: Level


class Constraints(BaseModel):
    """What the knowledge graph allows and asks for at this level."""

    level: Level
    topic: str
    max_word_level: Level = Field(description="Words above this level are violations.")
    max_above_share: float = Field(default=0.05, description="Share of word tokens allowed above the level.")
    target_words: list[WordChoice] = Field(default_factory=list, description="Words to build the item around.")
    distractor_pool: list[WordChoice] = Field(default_factory=list, description="Words options may be drawn from.")
    target_constructions: list[ConstructionRef] = Field(default_factory=list)
    forbidden_constructions: list[ConstructionRef] = Field(default_factory=list)
    descriptors: list[str] = Field(default_factory=list, description="Can-do descriptor ids the item serves.")
    topic_nodes: list[str] = Field(default_factory=list, description="Graph topic nodes the topic matched.")
    avoid_words: list[str] = Field(default_factory=list, description="Words earlier attempts misused.")

    def targets(self, pos: Sequence[str] | None = None) -> list[WordChoice]:
        """Target words, optionally only of some parts of speech."""
        return [w for w in self.target_words if pos is None or w.pos in pos]

    def pool(self, pos: str) -> list[WordChoice]:
        """Distractor candidates of one part of speech."""
        return [w for w in self.distractor_pool if w.pos == pos]


def choose_targets(candidates: Sequence[WordChoice], level: Level, k: int, rng: random.Random) -> list[WordChoice]:
    """Pick k target words: at the level itself first (that is what the level teaches), then the level below.

    Within a band, higher topic relevance first, with a little randomness so repeated requests differ.
    """

    def key(w: WordChoice) -> tuple[int, float]:
        band = 0 if w.level == level else 1 if w.level.rank == level.rank - 1 else 2
        return band, -(w.score + rng.random() * 0.15)

    usable = [w for w in candidates if " " not in w.word and w.pos in CONTENT_POS and w.level <= level]
    return sorted(usable, key=key)[:k]


def _word_choices(hits: Sequence[LexiconHit]) -> list[WordChoice]:
    """Retrieved lexicon hits as WordChoices (hits without a level are dropped)."""
    return [
        WordChoice(word=hit.word, pos=hit.pos, level=hit.level, node=hit.id, score=hit.score)
        for hit in hits
        if hit.level is not None
    ]


@cache
def _level_pool(graph: KnowledgeGraph, level: Level) -> tuple[WordChoice, ...]:
    """Content words at the level or one below: where distractors come from (same difficulty as the answer)."""
    low = Level.from_rank(max(1, level.rank - 1))
    return tuple(
        WordChoice(
            word=n.label, pos=str(n.attrs.get("pos")), level=n.level, node=n.key, source=str(n.attrs.get("source", ""))
        )
        for n in graph.words(max_level=level)
        if n.level is not None and n.level >= low and n.attrs.get("pos") in CONTENT_POS and " " not in n.label
    )


def build_constraints(
    graph: KnowledgeGraph,
    level: Level,
    topic: str,
    retrieved: Retrieved,
    rng: random.Random,
    *,
    targets: int = 6,
    max_above_share: float = 0.05,
    used_words: Sequence[str] = (),
) -> Constraints:
    """The constraints for one item from what retrieval found and what the graph knows about the level.

    Words in `used_words` (targets of the set's other items) are passed over while enough other candidates remain.
    """
    candidates = _word_choices(retrieved.lexicon)
    used = {w.lower() for w in used_words}
    fresh = [w for w in candidates if w.word.lower() not in used]
    chosen = choose_targets(fresh, level, targets, rng)
    if len(chosen) < min(targets, 2):
        chosen = choose_targets(candidates, level, targets, rng)
    chosen_keys = {w.node for w in chosen}
    pool = [w for w in _level_pool(graph, level) if w.node not in chosen_keys]
    rng.shuffle(pool)
    return Constraints(
        level=level,
        topic=topic,
        max_word_level=level,
        max_above_share=max_above_share,
        target_words=chosen,
        distractor_pool=pool[:300],
        target_constructions=[_construction(graph, c.id) for c in retrieved.constructions[:4]],
        forbidden_constructions=[_construction(graph, n.key) for n in _above(graph, level)],
        descriptors=[d.id for d in retrieved.descriptors[:4]],
        topic_nodes=retrieved.topic_nodes,
    )


def _construction(graph: KnowledgeGraph, key: str) -> ConstructionRef:
    """A construction node as a reference."""
    node = graph.node(key)
    return ConstructionRef(id=key, name=str(node.attrs.get("name", node.label)), level=node.level or Level.C2)


@cache
def _above(graph: KnowledgeGraph, level: Level) -> tuple[Node, ...]:
    """Detectable constructions one level above the target: the ones generation must not use (the nearest risk)."""
    if level is Level.C2:
        return ()
    return tuple(n for n in graph.constructions(level=Level.from_rank(level.rank + 1)) if n.attrs.get("detector"))[:12]
