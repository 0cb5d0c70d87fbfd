"""The retrieval agent: gather level- and topic-filtered material from the index and the knowledge graph.

Two sources are combined. The chromadb index matches the free-text topic semantically against word glosses,
constructions, descriptors and exemplars (filtered to the target level or below). The knowledge graph adds the
words its topic nodes and WordNet hierarchy link to the topic (`topics_for`). If the index is unavailable the
graph alone is used and the result says so; retrieval never fails a run.
"""

from __future__ import annotations

from agents import telemetry
from agents.context import AgentContext
from agents.item.retrieved import LexiconHit, Retrieved, TextHit
from knowledge.errors import ForgeError
from knowledge.levels import Level
from knowledge.retrieval import CONSTRUCTIONS, DESCRIPTORS, EXEMPLARS, LEXICON, Hit, RetrievalIndex

LEXICON_HITS = 60
GRAPH_HITS = 80


def _level(value: object) -> Level | None:
    """A document's level from its metadata (None when it has none)."""
    return Level(str(value)) if value else None


def _from_index(ctx: AgentContext, topic: str, level: Level, found: Retrieved) -> None:
    """Semantic hits from the chromadb index (skipped, with a note, if it fails)."""
    if ctx.index is None:
        found.notes.append("no retrieval index configured; using the knowledge graph only")
        return
    try:
        for hit in _query(ctx.index, LEXICON, topic, LEXICON_HITS, level):
            meta = hit.metadata
            found.lexicon.append(
                LexiconHit(
                    id=hit.id,
                    word=str(meta.get("word")),
                    pos=str(meta.get("pos")),
                    level=_level(meta.get("level")),
                    score=round(hit.score, 4),
                    via="index",
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


def _plain(hit: Hit) -> TextHit:
    """A non-lexicon hit: id, the start of its text, level and score."""
    return TextHit(id=hit.id, text=hit.text[:200], level=_level(hit.metadata.get("level")), score=round(hit.score, 4))


def _from_graph(ctx: AgentContext, topic: str, level: Level, found: Retrieved) -> None:
    """Words the graph links to the topic, at or below the level."""
    hits = ctx.graph.topics_for(topic)
    found.topic_nodes = [h.key for h in hits if h.kind in ("topic", "domain")][:10]
    seen = {h.id for h in found.lexicon}
    words = [h.key for h in hits if h.kind == "word" and h.key not in seen]
    for key in words[:GRAPH_HITS]:
        node = ctx.graph.node(key)
        if node.level is not None and node.level <= level:
            pos = str(node.attrs.get("pos", ""))
            found.lexicon.append(LexiconHit(id=key, word=node.label, pos=pos, level=node.level, score=0.5, via="graph"))


def _graph_extras(ctx: AgentContext, level: Level, found: Retrieved) -> None:
    """Constructions and descriptors for the level from the graph, when the index gave none."""
    if not found.constructions:
        nodes = [n for n in ctx.graph.constructions(level=level) if n.attrs.get("detector")][:8]
        found.constructions = [TextHit(id=n.key, text=n.label, level=n.level) for n in nodes]
    if not found.descriptors:
        nodes = ctx.graph.descriptors(level=level)[:6]
        found.descriptors = [TextHit(id=n.key, text=str(n.attrs.get("text", "")), level=n.level) for n in nodes]


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
