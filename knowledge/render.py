"""Items as people read them: the lines a learner sees (instructions, stem, lettered options) and the key.

One plain-text form for every exercise type, used by `forge generate`, worksheets and the tutor's offers, so an
item reads the same wherever it is shown. Options are lettered a), b), ...; matching words are numbered and their
meanings lettered, and the key names the letters.
"""

from __future__ import annotations

import string

from knowledge.items import (
    ErrorCorrectionItem,
    GapFillItem,
    Item,
    MatchingItem,
    OpenGapItem,
    ReadingItem,
    ReorderItem,
    WordFormationItem,
)

TYPE_TITLES: dict[str, str] = {
    "gap_fill": "Gap fill",
    "open_gap": "Open gap",
    "word_formation": "Word formation",
    "reorder": "Word order",
    "error_correction": "Error correction",
    "matching": "Matching",
    "reading": "Reading",
}


def lettered(options: list[str]) -> list[str]:
    """Options as 'a) x', 'b) y', ..."""
    return [f"{letter}) {o}" for letter, o in zip(string.ascii_lowercase, options, strict=False)]


def learner_lines(item: Item) -> list[str]:
    """What a learner reads, instructions first; an empty string separates blocks."""
    lines = [item.instructions] if item.instructions else []
    if isinstance(item, MatchingItem):
        return lines + [f"{i}. {w}" for i, w in enumerate(item.words, 1)] + ["", *lettered(item.options)]
    if isinstance(item, ReadingItem):
        lines += ["", item.title, item.text, ""]
        for n, q in enumerate(item.questions, 1):
            lines.append(f"{n}. {q.question}")
            lines += ["   " + "   ".join(lettered(q.options))] if q.options else []
        return lines
    if isinstance(item, GapFillItem):
        return [*lines, item.stem, "   ".join(lettered(item.options))]
    if isinstance(item, ReorderItem):
        return [*lines, " / ".join(item.chunks)]
    return [*lines, item.stem]


def key_line(item: Item) -> str:
    """The answer key of one item, compactly (letters where the learner chooses from letters)."""
    if isinstance(item, GapFillItem):
        letter = string.ascii_lowercase[item.options.index(item.answer)] if item.answer in item.options else "?"
        return f"{letter}) {item.answer}"
    if isinstance(item, MatchingItem):
        letters = {m: letter for letter, m in zip(string.ascii_lowercase, item.options, strict=False)}
        return "  ".join(f"{i}-{letters.get(item.answer.get(w, ''), '?')}" for i, w in enumerate(item.words, 1))
    if isinstance(item, ReadingItem):
        return "  ".join(f"{n}. {_question_key(q.options, q.answer)}" for n, q in enumerate(item.questions, 1))
    if isinstance(item, ErrorCorrectionItem):
        return f"{item.error} → {item.correction}  ({item.answer})"
    if isinstance(item, OpenGapItem | WordFormationItem):
        also = [a for a in item.accepted_answers if a != item.answer]
        return item.answer + (f" (also: {', '.join(also)})" if also else "")
    return item.answer


def _question_key(options: list[str], answer: str) -> str:
    """A question's key: its letter and answer when it has options, else the answer."""
    if answer in options and len(options) > 2:
        return f"{string.ascii_lowercase[options.index(answer)]}) {answer}"
    return answer
