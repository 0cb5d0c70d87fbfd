"""What the retrieval agent hands the constraint agent: typed hits by collection (a leaf module, data only).

Scores are rounded to four places; levels are `Level`s (None when a document has none). `model_dump(mode="json")`
gives the plain values the state, checkpoints and traces store.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from knowledge.levels import Level


class LexiconHit(BaseModel):
    """A word the index or the graph relates to the topic."""

    id: str = Field(description="Knowledge-graph node id, e.g. 'word:apple|noun'.")
    word: str
    pos: str
    level: Level | None = None
    score: float = Field(default=0.0, description="Relevance to the topic (higher is closer).")
    via: Literal["index", "graph"]


class TextHit(BaseModel):
    """A construction, descriptor or exemplar: its id, the start of its text, its level and its score."""

    id: str
    text: str = ""
    level: Level | None = None
    score: float = 0.0


class Retrieved(BaseModel):
    """Ids, texts and scores of what was found, by collection, plus how it was found."""

    lexicon: list[LexiconHit] = Field(default_factory=list)
    constructions: list[TextHit] = Field(default_factory=list)
    descriptors: list[TextHit] = Field(default_factory=list)
    exemplars: list[TextHit] = Field(default_factory=list)
    topic_nodes: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="Degradations, e.g. the index being unavailable.")
