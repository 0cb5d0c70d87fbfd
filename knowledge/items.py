"""Exercise types: one output schema each, plus the violations validators report.

These are pedagogical facts about what a well-formed exercise is, so they live with the rest of the knowledge and
can be used by tools (checking a learner's answer), agents (building items) and the CLI alike.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.levels import Level

ExerciseType = Literal["gap_fill", "open_gap", "word_formation", "reorder", "error_correction", "matching", "reading"]
EXERCISE_TYPES: tuple[ExerciseType, ...] = (
    "gap_fill",
    "open_gap",
    "word_formation",
    "reorder",
    "error_correction",
    "matching",
    "reading",
)
TYPE_DESCRIPTIONS: dict[str, str] = {
    "gap_fill": "multiple-choice gap-fill: one gap, four options, one correct",
    "open_gap": "open cloze: one gap for a grammar word, no options",
    "word_formation": "word formation: form the right word from the base word in capitals",
    "reorder": "sentence reordering: put the words in the right order",
    "error_correction": "error correction: find and correct the one mistake",
    "matching": "vocabulary matching: match each word to its meaning",
    "reading": "short reading text at the level with 3-5 comprehension questions",
}

GAP = "_____"
_GAP_RE = re.compile(r"_{3,}")


def gap_count(text: str) -> int:
    """Number of gaps (runs of three or more underscores) in a text."""
    return len(_GAP_RE.findall(text))


def fill_gap(stem: str, answer: str) -> str:
    """The stem with its (first) gap filled by the answer."""
    return _GAP_RE.sub(answer, stem, count=1)


class _ItemBase(BaseModel):
    """Fields every exercise shares."""

    model_config = ConfigDict(extra="forbid")

    level: Level
    topic: str
    instructions: str = Field(description="What the learner is asked to do, in words at the level.")

    def learner_text(self) -> str:
        """Everything the learner reads, for level checks of the whole item."""
        raise NotImplementedError


class GapFillItem(_ItemBase):
    """Multiple-choice gap-fill: a sentence with one gap and four options, exactly one of which fits."""

    type: Literal["gap_fill"] = "gap_fill"
    stem: str
    options: list[str]
    answer: str
    target_word: str = Field(description="Lemma of the answer as listed in the lexicon.")
    pos: str = Field(description="Part of speech of the answer.")

    def learner_text(self) -> str:
        """Stem and options."""
        return " ".join([self.stem, *self.options])


class OpenGapItem(_ItemBase):
    """Open cloze: one gap for a grammar word, answered without options."""

    type: Literal["open_gap"] = "open_gap"
    stem: str
    answer: str
    accepted_answers: list[str] = Field(default_factory=list, description="Other answers that also fit.")
    focus: str = Field(description="What the gap tests, e.g. 'preposition', 'article', 'auxiliary'.")

    def learner_text(self) -> str:
        """The stem."""
        return self.stem


class WordFormationItem(_ItemBase):
    """Word formation: a gap to fill with a form derived from the base word shown in capitals."""

    type: Literal["word_formation"] = "word_formation"
    stem: str
    base_word: str
    answer: str
    accepted_answers: list[str] = Field(default_factory=list)

    def learner_text(self) -> str:
        """Stem and the base word."""
        return f"{self.stem} {self.base_word}"


class ReorderItem(_ItemBase):
    """Sentence reordering: shuffled chunks to put back into one sentence."""

    type: Literal["reorder"] = "reorder"
    stem: str = Field(description="The shuffled chunks joined with ' / '.")
    chunks: list[str]
    answer: str

    def learner_text(self) -> str:
        """The answer sentence (the chunks are its words)."""
        return self.answer


class ErrorCorrectionItem(_ItemBase):
    """Error correction: a sentence with exactly one mistake, its location and its correction."""

    type: Literal["error_correction"] = "error_correction"
    stem: str
    error: str = Field(description="The wrong word(s) as they appear in the stem.")
    correction: str = Field(description="What replaces them.")
    error_type: str = Field(description="Kind of mistake, e.g. 'subject-verb agreement'.")
    answer: str = Field(description="The corrected sentence.")

    def learner_text(self) -> str:
        """The corrected sentence (the stem differs in one planted mistake)."""
        return self.answer


class MatchingItem(_ItemBase):
    """Vocabulary matching: words and shuffled meanings, matched one to one."""

    type: Literal["matching"] = "matching"
    words: list[str]
    options: list[str] = Field(description="The meanings, shuffled.")
    answer: dict[str, str] = Field(description="Word -> its meaning.")

    def learner_text(self) -> str:
        """Words and meanings."""
        return " ".join([*self.words, *self.options])


class Question(BaseModel):
    """One comprehension question about a reading text."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["multiple_choice", "true_false"]
    question: str
    options: list[str]
    answer: str
    evidence: str = Field(description="The sentence of the text that answers the question.")


class ReadingItem(_ItemBase):
    """A short text at the level and 3-5 questions answerable from it."""

    type: Literal["reading"] = "reading"
    title: str
    text: str
    questions: list[Question]

    @property
    def answer(self) -> list[str]:
        """The answers of the questions in order."""
        return [q.answer for q in self.questions]

    def learner_text(self) -> str:
        """Text, questions and options."""
        parts = [self.title, self.text]
        for q in self.questions:
            parts += [q.question, *q.options]
        return " ".join(parts)


Item = Annotated[
    GapFillItem | OpenGapItem | WordFormationItem | ReorderItem | ErrorCorrectionItem | MatchingItem | ReadingItem,
    Field(discriminator="type"),
]

ViolationKind = Literal["structure", "vocabulary", "grammar", "missing_construction", "length", "safety"]


class Violation(BaseModel):
    """One reason an output is not acceptable (or less aligned), with the evidence to trace it."""

    model_config = ConfigDict(extra="forbid")

    kind: ViolationKind
    message: str = Field(description="Human-readable, e.g. \"'ubiquitous' is C2, above A2\".")
    evidence: dict[str, Any] = Field(default_factory=dict, description="Graph node ids, levels, spans.")
    blocking: bool = Field(default=True, description="Whether it makes the item unacceptable on its own.")


def item_fields(item: BaseModel) -> dict[str, Any]:
    """The item as the flat JSON object the CLI prints (reading items get 'answer' from their questions)."""
    data = item.model_dump(mode="json")
    if isinstance(item, ReadingItem):
        data["answer"] = item.answer
        data.setdefault("options", None)
    return data


def taught_words(item: dict[str, Any] | None) -> list[str]:
    """The words a flat item teaches (a matching item's words, else its target, base word or one-word answer).

    Used to keep later items of a set off words the set already teaches.
    """
    if not item:
        return []
    if item.get("type") == "matching":
        return [str(word).lower() for word in item.get("words", [])]
    for key in ("target_word", "base_word", "answer"):
        value = item.get(key)
        if isinstance(value, str) and value and " " not in value.strip():
            return [value.lower()]
    return []
