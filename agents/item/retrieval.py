"""The retrieval agent: gather level- and topic-filtered material from the index and the knowledge graph.

Two sources are combined. The chromadb index matches the free-text topic semantically against word glosses,
constructions, descriptors and exemplars (filtered to the target level or below). The knowledge graph adds the
words its topic nodes and WordNet hierarchy link to the topic (`topics_for`). If the index is unavailable the
graph alone is used and the result says so; retrieval never fails a run.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents import telemetry
from agents.context import AgentContext
from knowledge.errors import ForgeError
from knowledge.levels import Level
from knowledge.retrieval import CONSTRUCTIONS, DESCRIPTORS, EXEMPLARS, LEXICON, Hit, RetrievalIndex

LEXICON_HITS = 60
GRAPH_HITS = 80


class Retrieved(BaseModel):
    """Ids, texts and scores of what was found, by collection, plus how it was found."""

    lexicon: list[dict[str, object]] = Field(default_factory=list)
    constructions: list[dict[str, object]] = Field(default_factory=list)
    descriptors: list[dict[str, object]] = Field(default_factory=list)
    exemplars: list[dict[str, object]] = Field(default_factory=list)
    topic_nodes: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="Degradations, e.g. the index being unavailable.")


def _hit(node: str, word: str, pos: str, level: Level | None, score: float, via: str) -> dict[str, object]:
    """One lexicon hit as stored in the state and the trace."""
    return {
        "id": node,
        "word": word,
        "pos": pos,
        "level": str(level) if level else None,
        "score": round(score, 4),
        "via": via,
    }


def _from_index(ctx: AgentContext, topic: str, level: Level, found: Retrieved) -> None:
    """Semantic hits from the chromadb index (skipped, with a note, if it fails)."""
    if ctx.index is None:
        found.notes.append("no retrieval index configured; using the knowledge graph only")
        return
    try:
        for hit in _query(ctx.index, LEXICON, topic, LEXICON_HITS, level):
            meta = hit.metadata
            found.lexicon.append(
                _hit(
                    hit.id,
                    str(meta.get("word")),
                    str(meta.get("pos")),
                    Level(str(meta.get("level"))),
                    hit.score,
                    "index",
                )
            )
        found.constructions = [_plain(h) for h in _query(ctx.index, CONSTRUCTIONS, topic, 8, level)]
        found.descriptors = [_plain(h) for h in _query(ctx.index, DESCRIPTORS, topic, 6, level)]
        found.exemplars = [_plain(h) for h in _query(ctx.index, EXEMPLARS, topic, 4, level)]
    except ForgeError as exc:
        found.notes.append(f"retrieval index unavailable ({exc}); using the knowledge graph only")


def _query(index: RetrievalIndex, collection: str, topic: str, n: int, level: Level) -> list[Hit]:
    """One level-filtered query, recorded as a `retrieval` span with the ids and scores it returned."""
    with telemetry.retrieval_span(collection, topic, top_k=n) as span:
        hits = index.query(collection, topic, n=n, max_level=level)
        telemetry.retrieved(span, [(h.id, round(h.score, 4)) for h in hits])
        return hits


def _plain(hit: object) -> dict[str, object]:
    """A non-lexicon hit: id, text, level and score."""
    meta = getattr(hit, "metadata", {})
    return {
        "id": getattr(hit, "id", ""),
        "text": getattr(hit, "text", "")[:200],
        "level": meta.get("level"),
        "score": round(float(getattr(hit, "score", 0.0)), 4),
    }


def _from_graph(ctx: AgentContext, topic: str, level: Level, found: Retrieved) -> None:
    """Words the graph links to the topic, at or below the level."""
    hits = ctx.graph.topics_for(topic)
    found.topic_nodes = [h.key for h in hits if h.kind in ("topic", "domain")][:10]
    seen = {h["id"] for h in found.lexicon}
    words = [h.key for h in hits if h.kind == "word" and h.key not in seen]
    for key in words[:GRAPH_HITS]:
        node = ctx.graph.node(key)
        if node.level is not None and node.level <= level:
            found.lexicon.append(_hit(key, node.label, str(node.attrs.get("pos", "")), node.level, 0.5, "graph"))


def _graph_extras(ctx: AgentContext, level: Level, found: Retrieved) -> None:
    """Constructions and descriptors for the level from the graph, when the index gave none."""
    if not found.constructions:
        nodes = [n for n in ctx.graph.constructions(level=level) if n.attrs.get("detector")][:8]
        found.constructions = [{"id": n.key, "text": n.label, "level": str(n.level), "score": 0.0} for n in nodes]
    if not found.descriptors:
        found.descriptors = [
            {"id": n.key, "text": n.attrs.get("text", ""), "level": str(n.level), "score": 0.0}
            for n in ctx.graph.descriptors(level=level)
        ][:6]


def retrieve(ctx: AgentContext, topic: str, level: Level) -> Retrieved:
    """Everything the constraint agent needs for one item (remembered per topic and level within a process)."""
    key = ("retrieve", topic, level.value)
    cached = ctx.memo.get(key)
    if isinstance(cached, Retrieved):
        return cached.model_copy(update={"notes": [*cached.notes, "reused this process's retrieval for the topic"]})
    found = _retrieve(ctx, topic, level)
    if not any("unavailable" in note for note in found.notes):
        ctx.memo[key] = found
    return found


def _retrieve(ctx: AgentContext, topic: str, level: Level) -> Retrieved:
    """Query the index and the graph."""
    found = Retrieved()
    _from_index(ctx, topic, level, found)
    _from_graph(ctx, topic, level, found)
    _graph_extras(ctx, level, found)
    return found
