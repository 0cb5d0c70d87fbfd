"""Moodle XML: a question bank file for Moodle's Question bank → Import → "Moodle XML format".

The questions land in a category named after the session and version ($course$/top/Pedagogical Forge/…), in set
order, each named "N. Type". How each exercise type maps (see `questions`):

- gap_fill → multichoice (single answer, options shuffled; the right one 100 %, the others 0 %).
- open_gap, word_formation → shortanswer, every accepted answer at 100 %, case-insensitive.
- reorder → shortanswer whose answer is the ordered sentence (with or without its full stop): Moodle's own
  question types have no ordering question (the Ordering plugin is not everywhere).
- error_correction → shortanswer: the corrected word(s), or the whole corrected sentence.
- matching → matching: one subquestion per word; meanings that belong to no word become answers without a
  question (Moodle's way of adding distractors).
- reading → a description question holding the title, instructions and text, then one truefalse or
  multichoice question per comprehension question (each names the text it is about).

Texts are written as HTML (escaped, in <p> paragraphs); every question's general feedback is the worksheet's
answer key line. The file is built with ElementTree, never by string concatenation.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Callable

from agents.exercise_session.formats.questions import BankItem, BankQuestion, Passage, bank_items
from agents.exercise_session.formats.sheet import ExportSheet

#: Moodle's usual penalty for a wrong try in interactive quizzes (a third of the mark).
PENALTY = "0.3333333"


def render(sheet: ExportSheet) -> bytes:
    """The Moodle XML file of a sheet."""
    quiz = ET.Element("quiz")
    quiz.append(_category(sheet))
    for item in bank_items(sheet):
        for element in _item(item):
            quiz.append(element)
    ET.indent(quiz)
    return ET.tostring(quiz, encoding="utf-8", xml_declaration=True) + b"\n"


def _category(sheet: ExportSheet) -> ET.Element:
    """The pseudo-question that puts the following questions in the set's category."""
    question = ET.Element("question", type="category")
    _text(ET.SubElement(question, "category"), f"$course$/top/Pedagogical Forge/{sheet.session} v{sheet.version}")
    _text(ET.SubElement(question, "info", format="html"), _html(sheet.subtitle))
    return question


def _item(item: BankItem) -> list[ET.Element]:
    """The questions of one item (a reading item's passage first, as a description)."""
    elements = [_description(item.title, item.passage)] if item.passage else []
    return elements + [_question(q, item.passage) for q in item.questions]


def _description(name: str, passage: Passage) -> ET.Element:
    """A description question: the reading text, shown before its questions."""
    text = f"<h3>{html.escape(passage.title)}</h3>{_html(passage.instructions)}{_html(passage.text)}"
    question = _head("description", name, text, "")
    ET.SubElement(question, "defaultgrade").text = "0"
    ET.SubElement(question, "penalty").text = "0"
    ET.SubElement(question, "hidden").text = "0"
    return question


def _question(q: BankQuestion, passage: Passage | None) -> ET.Element:
    """One gradable question."""
    about = f"<p><em>{html.escape(passage.title)}</em></p>" if passage else ""
    text = about + _html(q.instructions) + _html(q.text if q.kind != "matching" else "")
    kind = "shortanswer" if q.kind == "ordering" else q.kind
    question = _head(kind, q.name, text, _html(f"Answer: {q.key}"))
    for tag, value in (("defaultgrade", "1"), ("penalty", PENALTY), ("hidden", "0")):
        ET.SubElement(question, tag).text = value
    _ANSWERS[kind](question, q)
    return question


def _head(kind: str, name: str, text: str, feedback: str) -> ET.Element:
    """A question element with its name, text and general feedback."""
    question = ET.Element("question", type=kind)
    _text(ET.SubElement(question, "name"), name)
    _text(ET.SubElement(question, "questiontext", format="html"), text)
    _text(ET.SubElement(question, "generalfeedback", format="html"), feedback)
    return question


def _multichoice(question: ET.Element, q: BankQuestion) -> None:
    """One right option among the others."""
    for tag, value in (("single", "true"), ("shuffleanswers", "true"), ("answernumbering", "abc")):
        ET.SubElement(question, tag).text = value
    for choice in q.choices:
        _answer(question, "100" if choice.correct else "0", html.escape(choice.text), "html")


def _truefalse(question: ET.Element, q: BankQuestion) -> None:
    """The statement is true or false."""
    _answer(question, "100" if q.truth else "0", "true")
    _answer(question, "0" if q.truth else "100", "false")


def _shortanswer(question: ET.Element, q: BankQuestion) -> None:
    """Typed answers, any letter case; '*' would be Moodle's wildcard, so a literal one is escaped."""
    ET.SubElement(question, "usecase").text = "0"
    for accepted in q.accepted:
        _answer(question, "100", accepted.replace("*", "\\*"))


def _matching(question: ET.Element, q: BankQuestion) -> None:
    """Words to match with meanings; distractor meanings are subquestions without a question text."""
    ET.SubElement(question, "shuffleanswers").text = "true"
    rows = [*q.pairs, *(("", meaning) for meaning in q.distractors)]
    for word, meaning in rows:
        sub = ET.SubElement(question, "subquestion", format="html")
        _text(sub, _html(word) if word else "")
        _text(ET.SubElement(sub, "answer"), meaning)


_ANSWERS: dict[str, Callable[[ET.Element, BankQuestion], None]] = {
    "multichoice": _multichoice, "truefalse": _truefalse, "shortanswer": _shortanswer, "matching": _matching,
}


def _answer(question: ET.Element, fraction: str, text: str, fmt: str = "moodle_auto_format") -> None:
    """An answer with its grade (percent) and an empty feedback."""
    answer = ET.SubElement(question, "answer", fraction=fraction, format=fmt)
    _text(answer, text)
    _text(ET.SubElement(answer, "feedback", format="html"), "")


def _text(parent: ET.Element, value: str) -> None:
    """The <text> child Moodle keeps every string in."""
    ET.SubElement(parent, "text").text = value


def _html(text: str) -> str:
    """Plain text as HTML paragraphs (one per line), escaped; empty text gives nothing."""
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())
