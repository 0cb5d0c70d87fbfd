"""Can-do descriptors A1-C2 by competence, from knowledge/data/descriptors.yaml.

The descriptors are written in our own words, paraphrasing the ideas of the public CEFR illustrative scales
(Council of Europe 2001 and Companion Volume 2020); none is copied from them. Each names its level, one or more
competences (linguistic, sociolinguistic, pragmatic, interaction) and the CEFR scale area it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import yaml

from knowledge.errors import ResourceError, UserInputError
from knowledge.levels import Level, parse_level

DATA_FILE = "descriptors.yaml"
SOURCE = "Pedagogical Forge can-do descriptors (paraphrasing the CEFR illustrative scales)"
COMPETENCES: tuple[str, ...] = ("linguistic", "sociolinguistic", "pragmatic", "interaction")


@dataclass(frozen=True, slots=True)
class Descriptor:
    """One can-do statement: id, level, competences, scale area and text."""

    id: str
    level: Level
    competences: tuple[str, ...]
    area: str
    text: str


class Descriptors:
    """The descriptor set, queryable by level and competence."""

    def __init__(self, descriptors: list[Descriptor]) -> None:
        self._all = descriptors

    @classmethod
    def load(cls) -> Descriptors:
        """The vendored descriptors (read once per process)."""
        return _cached_descriptors()

    def all(self) -> list[Descriptor]:
        """Every descriptor, A1 first."""
        return list(self._all)

    def for_level(self, level: str | Level, competence: str | None = None) -> list[Descriptor]:
        """Descriptors of exactly one level, optionally of one competence."""
        wanted = parse_level(level)
        chosen = [d for d in self._all if d.level == wanted]
        if competence is None:
            return chosen
        name = competence.strip().lower()
        if name not in COMPETENCES:
            raise UserInputError(f"Unknown competence {competence[:30]!r}; accepted are {', '.join(COMPETENCES)}.")
        return [d for d in chosen if name in d.competences]


def _parse(entry: dict[str, object]) -> Descriptor:
    """One descriptor from its YAML mapping; a ResourceError names a malformed one."""
    try:
        competences = tuple(str(c) for c in entry["competences"])  # type: ignore[attr-defined]
        if not competences or set(competences) - set(COMPETENCES):
            raise ValueError(f"competences must be some of {COMPETENCES}")
        return Descriptor(
            id=str(entry["id"]), level=parse_level(str(entry["level"])), competences=competences,
            area=str(entry["area"]), text=str(entry["text"]),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise ResourceError(f"Malformed descriptor {entry!r:.80} in knowledge/data/{DATA_FILE}: {exc}") from exc


@cache
def _cached_descriptors() -> Descriptors:
    """The process-wide descriptor set."""
    try:
        document = yaml.safe_load((files("knowledge") / "data" / DATA_FILE).read_text(encoding="utf-8"))
        entries = document["descriptors"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ResourceError(f"knowledge/data/{DATA_FILE} is missing or malformed: {exc}") from exc
    return Descriptors([_parse(e) for e in entries])
