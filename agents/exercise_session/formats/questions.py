"""The set as question-bank questions: the one mapping of exercise types that Moodle XML, GIFT and QTI share.

Each item of the set becomes a `BankItem` of one or more `BankQuestion`s, in the kinds quiz tools have in common:

- gap_fill → multichoice: the stem (its gap as _____) and the four options, one right.
- open_gap, word_formation → shortanswer: the stem (the base word in capitals is part of it) and every accepted
  answer.
- reorder → ordering: the chunks as shown and their right order; a format without ordering questions writes a
  shortanswer whose answer is the ordered sentence (with and without its final full stop).
- error_correction → shortanswer: the sentence with its mistake; the corrected word(s) are the answer, and the
  whole corrected sentence is accepted too.
- matching → matching: word → meaning pairs, and every meaning in the order shown (those of no word are
  distractors).
- reading → a passage (title, text and the item's instructions) and one question per comprehension question:
  truefalse when the options are True/False, else multichoice.

Every question also carries its answer key (shown as general feedback where a format has it): the worksheet's
`knowledge.render.key_line`, except that options are named by their text, not their letter, since quiz tools
shuffle them. A reading item's instructions go with its passage, once.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from agents.exercise_session.formats.sheet import ExportSheet, SheetEntry
from knowledge.items import (
    ErrorCorrectionItem,
    GapFillItem,
    Item,
    MatchingItem,
    OpenGapItem,
    Question,
    ReadingItem,
    ReorderItem,
    WordFormationItem,
)
from knowledge.render import key_line

QuestionKind = Literal["multichoice", "truefalse", "shortanswer", "matching", "ordering"]
_FINAL_MARK = re.compile(r"[.!?]+$")


class Choice(BaseModel):
    """One option of a multichoice question."""

    text: str
    correct: bool


class BankQuestion(BaseModel):
    """One question as a quiz tool holds it."""

    kind: QuestionKind
    name: str = Field(description="Short name shown in a question bank ('3. Word formation').")
    instructions: str
    text: str = Field(description="What is asked: the stem, sentence or comprehension question.")
    choices: list[Choice] = Field(default_factory=list, description="multichoice: the options.")
    accepted: list[str] = Field(default_factory=list, description="shortanswer (and ordering's fallback).")
    pairs: list[tuple[str, str]] = Field(default_factory=list, description="matching: (word, meaning).")
    meanings: list[str] = Field(default_factory=list, description="matching: every meaning, in the order shown.")
    chunks: list[str] = Field(default_factory=list, description="ordering: the chunks as shown.")
    order: list[int] = Field(default_factory=list, description="ordering: chunk indexes in the right order.")
    truth: bool | None = Field(default=None, description="truefalse: whether the statement is true.")
    key: str = Field(description="The answer key line, as on the worksheet.")

    @property
    def distractors(self) -> list[str]:
        """matching: the meanings that belong to no word."""
        used = {meaning for _, meaning in self.pairs}
        return [m for m in self.meanings if m not in used]


class Passage(BaseModel):
    """A reading text the questions after it are about, and what to do with them."""

    title: str
    text: str
    instructions: str


class BankItem(BaseModel):
    """One item of the set as questions: a reading item is its passage and one question per question."""

    number: int
    id: str
    title: str
    passage: Passage | None = None
    questions: list[BankQuestion]


def bank_items(sheet: ExportSheet) -> list[BankItem]:
    """Every item of the sheet as question-bank questions."""
    return [_bank_item(entry) for entry in sheet.entries]


def _bank_item(entry: SheetEntry) -> BankItem:
    """One entry as a bank item."""
    item, name = entry.item, entry.title
    if isinstance(item, ReadingItem):
        questions = [_reading_question(item, q, f"{name} · question {n}") for n, q in enumerate(item.questions, 1)]
        passage = Passage(title=item.title, text=item.text, instructions=item.instructions)
        return BankItem(number=entry.number, id=entry.id, title=name, passage=passage, questions=questions)
    return BankItem(number=entry.number, id=entry.id, title=name, questions=[_question(item, name)])


def _question(item: Item, name: str) -> BankQuestion:
    """The one question of a non-reading item."""
    question = BankQuestion(kind="shortanswer", name=name, instructions=item.instructions, text="",
                            key=bank_key(item))
    if isinstance(item, GapFillItem):
        choices = [Choice(text=o, correct=o == item.answer) for o in item.options]
        return question.model_copy(update={"kind": "multichoice", "text": item.stem, "choices": choices})
    if isinstance(item, OpenGapItem | WordFormationItem):
        accepted = _unique([item.answer, *item.accepted_answers])
        return question.model_copy(update={"text": item.stem, "accepted": accepted})
    if isinstance(item, ReorderItem):
        return question.model_copy(update={
            "kind": "ordering", "text": " / ".join(item.chunks), "chunks": item.chunks,
            "order": chunk_order(item.chunks, item.answer) or [], "accepted": sentence_forms(item.answer),
        })  # fmt: skip
    if isinstance(item, ErrorCorrectionItem):
        accepted = _unique([item.correction, *sentence_forms(item.answer)])
        return question.model_copy(update={"text": item.stem, "accepted": accepted})
    if isinstance(item, MatchingItem):
        pairs = [(w, item.answer[w]) for w in item.words if item.answer.get(w) in item.options]
        return question.model_copy(update={"kind": "matching", "text": item.instructions, "pairs": pairs,
                                           "meanings": item.options})
    raise ValueError(f"no question mapping for {item.type}")  # reading items are mapped by _bank_item


def _reading_question(item: ReadingItem, question: Question, name: str) -> BankQuestion:
    """A comprehension question: truefalse for True/False options, multichoice otherwise."""
    asked = BankQuestion(kind="truefalse", name=name, instructions="", text=question.question,
                         key=question.answer)
    if sorted(o.lower() for o in question.options) == ["false", "true"]:
        return asked.model_copy(update={"truth": question.answer.lower() == "true"})
    choices = [Choice(text=o, correct=o == question.answer) for o in question.options]
    return asked.model_copy(update={"kind": "multichoice", "choices": choices})


def bank_key(item: Item) -> str:
    """The key of a question-bank question: `key_line`, but without letters where a quiz tool shuffles options."""
    if isinstance(item, GapFillItem):
        return item.answer
    if isinstance(item, MatchingItem):
        return item.answer_text()
    return key_line(item)


def chunk_order(chunks: list[str], sentence: str) -> list[int] | None:
    """The chunk indexes in the order that spells the sentence (case and final mark ignored); None if none does."""
    target = _FINAL_MARK.sub("", sentence.strip()).lower()
    words = [c.lower() for c in chunks]

    def search(position: int, left: frozenset[int]) -> list[int] | None:
        if not left:
            return [] if position == len(target) else None
        for i in sorted(left):
            end = position + len(words[i])
            if target.startswith(words[i], position) and (end == len(target) or target[end] == " "):
                rest = search(end + 1 if end < len(target) else end, left - {i})
                if rest is not None:
                    return [i, *rest]
        return None

    return search(0, frozenset(range(len(chunks))))


def sentence_forms(sentence: str) -> list[str]:
    """A sentence as a typed answer may come: as written, and without its final full stop or mark."""
    bare = _FINAL_MARK.sub("", sentence.strip())
    return _unique([sentence.strip(), bare])


def _unique(values: list[str]) -> list[str]:
    """Non-empty values, first occurrence kept."""
    return [v for v in dict.fromkeys(v.strip() for v in values) if v]
