"""Curated exemplar sentences and short texts per CEFR level (knowledge/data/exemplars.yaml).

They are written for this project, checked to use only words at or below their level, and serve as the few-shot
examples the small model imitates and as the exemplars retrieval collection.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from functools import cache

import yaml
from pydantic import BaseModel, ConfigDict

from knowledge.errors import ResourceError
from knowledge.levels import Level, parse_level


class ExemplarSentence(BaseModel):
    """A sentence at a level that uses a target word."""

    model_config = ConfigDict(frozen=True)

    word: str
    pos: str
    sentence: str
    level: Level


class ExemplarText(BaseModel):
    """A short text at a level on a topic."""

    model_config = ConfigDict(frozen=True)

    topic: str
    title: str
    text: str
    level: Level


class ExemplarDefinition(BaseModel):
    """A short meaning of a word in words a learner at the level knows."""

    model_config = ConfigDict(frozen=True)

    word: str
    pos: str
    meaning: str
    level: Level


class Exemplars(BaseModel):
    """All exemplars, by level."""

    sentences: dict[Level, list[ExemplarSentence]]
    texts: dict[Level, list[ExemplarText]]
    definitions: dict[Level, list[ExemplarDefinition]]
    level_notes: dict[Level, str]

    @classmethod
    def load(cls) -> Exemplars:
        """The vendored exemplars (read once per process)."""
        return _load()

    def sentences_for(
        self, level: Level, pos: str | None = None, k: int = 4, offset: int = 0
    ) -> list[ExemplarSentence]:
        """Up to k exemplar sentences at the level, same part of speech first, rotated by `offset` for variety."""
        pool = self.sentences.get(level) or self.sentences[_nearest(level, self.sentences)]
        same = [s for s in pool if pos and s.pos == pos]
        rest = [s for s in pool if s not in same]
        ordered = _rotate(same, offset) + _rotate(rest, offset)
        return ordered[:k]

    def texts_for(self, level: Level) -> list[ExemplarText]:
        """Exemplar texts at the level (or the nearest level that has some)."""
        return self.texts.get(level) or self.texts[_nearest(level, self.texts)]

    def definitions_for(self, level: Level) -> list[ExemplarDefinition]:
        """Exemplar meanings at the level (or the nearest level that has some)."""
        return self.definitions.get(level) or self.definitions[_nearest(level, self.definitions)]

    def note(self, level: Level) -> str:
        """One phrase saying what vocabulary a learner at the level knows."""
        return self.level_notes.get(level) or self.level_notes[_nearest(level, self.level_notes)]


def _rotate(items: list[ExemplarSentence], offset: int) -> list[ExemplarSentence]:
    """The list rotated left by offset (so different calls see different examples first)."""
    if not items:
        return items
    k = offset % len(items)
    return items[k:] + items[:k]


def _nearest(level: Level, table: Mapping[Level, object]) -> Level:
    """The level in `table` closest to `level` (ties go down)."""
    return min(table, key=lambda have: (abs(have.rank - level.rank), have.rank))


@cache
def _load() -> Exemplars:
    """Parse exemplars.yaml into typed exemplars."""
    resource = importlib.resources.files("knowledge") / "data" / "exemplars.yaml"
    try:
        raw = yaml.safe_load(resource.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ResourceError(
            f"knowledge/data/exemplars.yaml is missing or unreadable ({exc}); reinstall the package."
        ) from exc
    return Exemplars(
        sentences={
            parse_level(lv): [ExemplarSentence(level=parse_level(lv), **s) for s in items]
            for lv, items in raw["sentences"].items()
        },
        texts={
            parse_level(lv): [ExemplarText(level=parse_level(lv), **t) for t in items]
            for lv, items in raw["texts"].items()
        },
        definitions={
            parse_level(lv): [ExemplarDefinition(level=parse_level(lv), **d) for d in items]
            for lv, items in raw["definitions"].items()
        },
        level_notes={parse_level(lv): str(note) for lv, note in raw["level_notes"].items()},
    )
