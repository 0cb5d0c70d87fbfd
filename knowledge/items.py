"""Exercise types: one output schema each, plus the violations validators report.

These are pedagogical facts about what a well-formed exercise is, so they live with the rest of the knowledge and
can be used by tools (checking a learner's answer), agents (building items) and the CLI alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, TypeAdapter

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

    def key_text(self) -> str:
        """The text that identifies the item in a set (two items with the same one repeat each other)."""
        return str(getattr(self, "stem", ""))

    def taught_words(self) -> list[str]:
        """The words the item teaches: its target or base word, else a one-word answer (lower case).

        Used to keep later items of a set off words the set already teaches.
        """
        for key in ("target_word", "base_word", "answer"):
            value = getattr(self, key, None)
            if isinstance(value, str) and value and " " not in value.strip():
                return [value.lower()]
        return []

    def expected_answers(self) -> list[str]:
        """What counts as a right answer: the answer, the correction, accepted alternatives (no repeats)."""
        found = [v for v in (getattr(self, "answer", None), getattr(self, "correction", None)) if isinstance(v, str)]
        found += list(getattr(self, "accepted_answers", []))
        return list(dict.fromkeys(found))

    def choices(self) -> list[str]:
        """What the learner chooses from or arranges (options, meanings or chunks; empty for open items)."""
        return list(getattr(self, "options", None) or getattr(self, "chunks", None) or [])

    def headline(self) -> str:
        """The part of the item a person scans first (the stem, for most types)."""
        return self.key_text()

    def answer_text(self) -> str:
        """The key, compactly."""
        return str(getattr(self, "answer", ""))


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

    def key_text(self) -> str:
        """The words to match."""
        return ", ".join(self.words)

    def taught_words(self) -> list[str]:
        """The words to match."""
        return [word.lower() for word in self.words]

    def answer_text(self) -> str:
        """Word = meaning pairs."""
        return "; ".join(f"{k} = {v}" for k, v in self.answer.items())


#: The facts a planned reading text states, each asked about in other words: who, where, when, what time, how many /
#: how old, why, and what the whole text is about.
QuestionSlot = Literal["who", "where", "when", "time", "number", "why", "main_idea"]


class Question(BaseModel):
    """One comprehension question about a reading text."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["multiple_choice", "true_false"]
    question: str
    options: list[str]
    answer: str
    evidence: str = Field(description="The sentence of the text that answers the question.")
    slot: QuestionSlot | None = Field(
        default=None, description="The planned fact the question asks about, when the text was planned by code."
    )


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

    def key_text(self) -> str:
        """The text."""
        return self.text

    def taught_words(self) -> list[str]:
        """None: a reading text practises the words of the set it is built around."""
        return []

    def choices(self) -> list[str]:
        """None at the item level (each question has its options)."""
        return []

    def headline(self) -> str:
        """Title and the start of the text."""
        return f"{self.title}: {self.text[:120]}…"

    def answer_text(self) -> str:
        """The answers in question order."""
        return " / ".join(self.answer)


Item = Annotated[
    GapFillItem | OpenGapItem | WordFormationItem | ReorderItem | ErrorCorrectionItem | MatchingItem | ReadingItem,
    Field(discriminator="type"),
]

def item_fields(item: BaseModel) -> dict[str, Any]:
    """The item as the flat JSON object the CLI prints (reading items get 'answer' from their questions)."""
    data = item.model_dump(mode="json")
    if isinstance(item, ReadingItem):
        data["answer"] = item.answer
        data.setdefault("options", None)
    return data


#: Keys `item_fields` adds to a reading item (derived from its questions), dropped when reading it back.
_DERIVED = {"reading": ("answer", "options")}


def _readable(value: Any) -> Any:
    """A flat item object as `item_fields` writes it, without the keys derived from others; typed items pass."""
    if not isinstance(value, Mapping):
        return value
    data = dict(value)
    for key in _DERIVED.get(str(data.get("type")), ()):
        data.pop(key, None)
    return data


#: An item held typed and written flat (`item_fields`) wherever it is dumped: JSON, exports, checkpoints. Flat
#: objects, such as those checkpoints stored before items were typed, are read back as their type.
FlatItem = Annotated[Item, BeforeValidator(_readable), PlainSerializer(item_fields)]
_ITEM: TypeAdapter[Item] = TypeAdapter(FlatItem)


def parse_item(fields: Mapping[str, Any]) -> Item:
    """The typed item of a flat item object as `item_fields` gives it (the one reader of such objects)."""
    return _ITEM.validate_python(fields)


ITEM_TYPES: dict[str, type[_ItemBase]] = {
    "gap_fill": GapFillItem, "open_gap": OpenGapItem, "word_formation": WordFormationItem, "reorder": ReorderItem,
    "error_correction": ErrorCorrectionItem, "matching": MatchingItem, "reading": ReadingItem,
}  # fmt: skip


def taught_words(item: _ItemBase | None) -> list[str]:
    """The words an item teaches (see `taught_words` of the item types); none for no item."""
    return item.taught_words() if item is not None else []


def item_from_record(record: Mapping[str, Any]) -> Item:
    """The item in a record as scripts write it, judged afresh: the fields of its type only.

    Reads the objects `forge generate --json` prints under `items` and the reviewed-items schema (the item under
    `item`); what a run added (status, ACI, violations, model, timings ...) is ignored, and fields added to the
    schema later do not make older records unreadable. ValueError says what is wrong with a record.
    """
    inner = record.get("item")
    data = dict(inner if isinstance(inner, Mapping) else record)
    kind = data.get("type")
    model = ITEM_TYPES.get(str(kind))
    if model is None:
        raise ValueError(f"unknown exercise type {kind!r}; accepted: {', '.join(ITEM_TYPES)}")
    data.setdefault("topic", record.get("topic") or "")
    data.setdefault("level", record.get("level"))
    data["instructions"] = data.get("instructions") or ""
    kept = {k: v for k, v in data.items() if k in model.model_fields and k not in _DERIVED.get(str(kind), ())}
    return _ITEM.validate_python(kept)
