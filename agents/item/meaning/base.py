"""What every meaning check shares: the judge (lexicon, local model as scorer, sentence embedder) and violations.

Structural validators (`knowledge.validators`) check an item's form; meaning checks ask whether it works for a
learner: the sentence reads naturally, the key is the only answer, the distractors are clearly wrong, a definition
is true, a question is answerable from the text in other words, and the item is about its topic. They need the
local model's log-probabilities and MiniLM, so they live with the agents; the item graph's accept decision and
`forge validate` run the same checks.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, Field

from agents.models.base import ChatModel
from agents.models.errors import ModelError
from knowledge.levels import Level
from knowledge.lexicon import Lexicon
from knowledge.violations import Violation, ViolationKind

Embed = Callable[[Sequence[str]], Any]
Score = Callable[[str, list[str]], "list[float] | None"]

#: Mean log-probability per word (nats) below which the local model finds a sentence too odd to give learners:
#: below 93% of the project's human-written exemplar sentences (knowledge/data/exemplars.yaml, 58 sentences
#: A1-C2, measured on SmolLM2-135M: median -4.8, 10th percentile -6.1). A low floor: the small model's likelihood
#: tells garbage from English, not a meaningful sentence from an odd one (reviewed items it accepted scored
#: -4.5 to -5.4, like usable ones), so sense is left to the key checks and to human example sentences.
FLUENCY_FLOOR = -6.2


def kindred(lexicon: Lexicon, word: str, other: str, pos: str) -> str | None:
    """The kind two words share in WordNet (tea and coffee: 'beverage'), or None.

    A co-hyponym of the key fits the same sentences, so it cannot be a distractor.
    """
    mine = {h for s in lexicon.senses(word, pos)[:2] for h in s.hypernyms}
    if not mine:
        return None
    theirs = {h for s in lexicon.senses(other, pos)[:2] for h in s.hypernyms}
    shared = sorted(mine & theirs)
    return shared[0] if shared else None


_MENTION = re.compile(r"""\bthe (word|term|phrase)\b|["“”]""", re.IGNORECASE)


def mentions_word(text: str) -> bool:
    """Whether a sentence talks about a word ('The word "mate" is ...') rather than using it."""
    return bool(_MENTION.search(text))


_DEFINITION = re.compile(
    r"^(a|an|the)\s+[\w-]+\s+(is|are|was)\s+(a|an|the)\b|\b(a|an)\s+(person|people|place|thing|kind|type)\s+"
    r"(who|that|which|where|of)\b|\b(is|are|was|were)\s+(someone|somebody|something)\s+(who|that|which)\b",
    re.IGNORECASE,
)


def defines(text: str) -> bool:
    """Whether a sentence is a definition ("A butcher is a person who ..."): the small model's are often false."""
    return bool(_DEFINITION.search(text.strip()))


def fluency(score: Score, sentence: str) -> float | None:
    """Mean log-probability per word of a whole sentence under the local model (None without a scorer)."""
    values = fluencies(score, [sentence])
    return values[0] if values else None


def fluencies(score: Score, sentences: list[str]) -> list[float] | None:
    """`fluency` of several sentences in one scoring call."""
    from knowledge.nlp import analyze

    scores = score("", sentences)
    if scores is None:
        return None
    counts = [max(1, sum(t.is_word for t in analyze(s))) for s in sentences]
    return [total / n for total, n in zip(scores, counts, strict=True)]


class _Scoring(Protocol):
    """Something that scores with the local model and counts the seconds it spends doing so."""

    scorer: ChatModel | None
    model_s: float


def timed_score(owner: _Scoring, prefix: str, continuations: list[str]) -> list[float] | None:
    """The owner's scorer's log-probabilities, its time added to `owner.model_s`; None if it cannot score or fails."""
    scorer = owner.scorer
    if scorer is None or not scorer.capabilities.scoring:
        return None
    start = time.perf_counter()
    try:
        return scorer.score(prefix, continuations)
    except ModelError:
        return None
    finally:
        owner.model_s += time.perf_counter() - start


class Thresholds(BaseModel):
    """The accept decision's numbers: measured defaults (see each check), fitted to reviews by `forge review calibrate`.

    Margins are in nats of the local model's log-probability, or in MiniLM cosine.
    """

    fluency_floor: float = Field(default=FLUENCY_FLOOR, le=0, description="Lowest mean log-probability per word.")
    gap_margin: float = Field(default=2.0, ge=0, description="Nats by which a gap's key beats every rival.")
    free_preposition_margin: float = Field(default=6.0, ge=0, description="The same for a free preposition gap.")
    same_pos_margin: float = Field(default=5.0, ge=0, description="Nats a derived word beats a same-POS base word.")
    reorder_margin: float = Field(default=5.0, ge=0, description="Nats the key order beats every other order.")
    matching_margin: float = Field(default=0.03, ge=0, description="Cosine by which a meaning fits its own word best.")
    main_idea_margin: float = Field(default=0.03, ge=0, description="Cosine by which a main-idea key is closest.")


#: The measured defaults (each check's module explains its numbers).
DEFAULT_THRESHOLDS = Thresholds()


@dataclass
class Judge:
    """The knowledge a meaning check uses, and the seconds it spent in models."""

    lexicon: Lexicon
    level: Level
    scorer: ChatModel | None = None
    embed: Embed | None = None
    model_s: float = 0.0
    thresholds: Thresholds = field(default_factory=Thresholds)

    def score(self, prefix: str, continuations: list[str]) -> list[float] | None:
        """Log-probabilities of continuations after a prefix, or None when no scorer is available or it fails."""
        return timed_score(self, prefix, continuations) if continuations else None

    def similarity(self, a: str, b: str) -> float | None:
        """Cosine similarity of two texts under MiniLM, or None when no embedder is available."""
        if self.embed is None:
            return None
        start = time.perf_counter()
        try:
            vectors = np.asarray(self.embed([a, b]), dtype=np.float64)
        finally:
            self.model_s += time.perf_counter() - start
        norms = np.linalg.norm(vectors, axis=1)
        return float(vectors[0] @ vectors[1] / max(1e-9, norms[0] * norms[1]))


def problem(kind: ViolationKind, message: str, *, warning: bool = False, **evidence: Any) -> Violation:
    """A meaning violation (blocking unless `warning`), with what the check looked at."""
    return Violation(kind=kind, severity="warning" if warning else "error", message=message, evidence=evidence)
