"""Short explanations of grammar points and confusable words (knowledge/data/grammar-explanations.yaml).

Written for this project in plain words; each entry names the CEFR-J Grammar Profile item it corresponds to. The
tutor answers grammar questions from them ("When do I use the present perfect?", "make or do?").
`Explanations.find(text)` picks the entry a question is about: the longest alias that occurs in it as a phrase,
or, for "the difference between X and Y", the confusable entry whose words include both.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterable
from functools import cache
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from knowledge.errors import ResourceError
from knowledge.levels import Level

DATA_FILE = "grammar-explanations.yaml"
FORMAT_VERSION = 1
_WORDS = re.compile(r"[a-z']+")


class Explanation(BaseModel):
    """One grammar point or confusable pair, explained with two examples, its level and its source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: Literal["grammar", "confusable"]
    title: str
    level: Level
    aliases: list[str]
    words: list[str] = Field(default_factory=list, description="The confusable words (confusables only).")
    explanation: str
    examples: list[str] = Field(min_length=2)
    source: str


def normal(text: str) -> str:
    """Lower-case words separated by single spaces, with spaces around (for phrase matching)."""
    return " " + " ".join(_WORDS.findall(text.lower().replace("’", "'"))) + " "


class Explanations:
    """All explanations, with lookup by what a learner calls the point."""

    def __init__(self, entries: Iterable[Explanation]) -> None:
        self.entries = list(entries)
        self._aliases = sorted(((normal(a), e) for e in self.entries for a in [e.title, *e.aliases]),
                               key=lambda pair: -len(pair[0]))  # fmt: skip

    @classmethod
    def load(cls) -> Explanations:
        """The vendored explanations (read once per process)."""
        return _load()

    def get(self, entry_id: str) -> Explanation:
        """An entry by id (KeyError if there is none)."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def find(self, text: str) -> Explanation | None:
        """The entry a question is about: the longest alias in it, else a confusable set naming two of its words."""
        said = normal(text)
        for alias, entry in self._aliases:
            if alias.strip() and alias in said:
                return entry
        return None

    def confusable(self, words: Iterable[str]) -> Explanation | None:
        """The confusable entry whose words include all the given ones (at least two), if any."""
        wanted = {w.lower().strip() for w in words if w.strip()}
        if len(wanted) < 2:
            return None
        return next((e for e in self.entries if e.kind == "confusable" and wanted <= set(e.words)), None)


@cache
def _load() -> Explanations:
    """Read and validate the data file."""
    try:
        raw = importlib.resources.files("knowledge").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
        document = yaml.safe_load(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise ResourceError(f"knowledge/data/{DATA_FILE} cannot be read: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
        raise ResourceError(f"knowledge/data/{DATA_FILE} is not format {FORMAT_VERSION}.")
    return Explanations(Explanation.model_validate(e) for e in document["entries"])
