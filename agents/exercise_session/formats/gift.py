r"""Moodle GIFT: the set as plain-text quiz questions (Question bank → Import → "GIFT format").

Every question is "::N. Type::text {answers}", questions are separated by blank lines, and the set's questions go
to a category named after the session and version. GIFT's special characters ~ = # { } : (and the backslash
itself) are escaped with a backslash wherever they occur in our text. How each exercise type maps (see
`questions`):

- gap_fill → multichoice in GIFT's missing-word form: the answer block stands where the gap is
  ("They have a {~passage =destination ~shrimp ~workplace} for next month.").
- open_gap, word_formation → shortanswer, also in the gap ("the tour of {=the =a} city"), every accepted answer.
- reorder → shortanswer whose answers are the ordered sentence with and without its full stop (GIFT has no
  ordering questions).
- error_correction → shortanswer: the corrected word(s) or the whole corrected sentence.
- matching → matching pairs "=word -> meaning"; GIFT cannot hold meanings without a word, so distractor meanings
  are left out.
- reading → a description question (no answer block) with the title and text, then one question per
  comprehension question: {T}/{F} for true/false, multichoice otherwise.

Each answer block ends with general feedback (####) holding the worksheet's answer key line.
"""

from __future__ import annotations

import re

from agents.exercise_session.formats.questions import BankItem, BankQuestion, bank_items
from agents.exercise_session.formats.sheet import ExportSheet
from knowledge.items import gap_count

#: GIFT's special characters; the backslash comes first so escapes are not escaped again.
SPECIAL = "\\~=#{}:"
_GAP_RE = re.compile(r"_{3,}")


def escape(text: str) -> str:
    """Text safe inside a GIFT question: special characters escaped, line breaks as GIFT's backslash-n."""
    for char in SPECIAL:
        text = text.replace(char, "\\" + char)
    return "\\n".join(text.splitlines())


def render(sheet: ExportSheet) -> bytes:
    """The GIFT file of a sheet."""
    blocks = [
        f"// {sheet.title}: level {sheet.level}, topic {sheet.topic}, version {sheet.version}\n"
        f"$CATEGORY: $course$/top/Pedagogical Forge/{sheet.session} v{sheet.version}"
    ]
    for item in bank_items(sheet):
        blocks += _item(item)
    return ("\n\n".join(blocks) + "\n").encode("utf-8")


def _item(item: BankItem) -> list[str]:
    """The question blocks of one item (a reading item's passage first, as a description)."""
    blocks: list[str] = []
    if item.passage:
        passage = item.passage
        blocks.append(_block(f"{item.title}: the text", item.title, [passage.title, passage.instructions],
                             escape(passage.text)))
    about = [item.passage.title] if item.passage else []
    for q in item.questions:
        blocks.append(_block(q.name, q.name, [*about, q.instructions], _body(q)))
    return blocks


def _block(comment: str, title: str, lines: list[str], body: str) -> str:
    """One question: a comment, then '::title::' and its lines; never a blank line, which would end the question."""
    text = "\n".join(escape(line) for line in lines if line.strip())
    return f"// {comment}\n::{escape(title)}::" + "\n".join(part for part in (text, body) if part)


def _body(q: BankQuestion) -> str:
    """The question's text with its answer block (in the gap, for gapped stems)."""
    block = "{" + _answers(q) + f" ####{escape('Answer: ' + q.key)}" + "}"
    if q.kind in ("multichoice", "shortanswer") and gap_count(q.text) == 1:
        before, after = _GAP_RE.split(q.text, maxsplit=1)
        return f"{escape(before)}{block}{escape(after)}"
    text = escape(q.text) if q.kind != "matching" else ""
    return f"{text} {block}".strip()


def _answers(q: BankQuestion) -> str:
    """The inside of the answer block."""
    if q.kind == "multichoice":
        return " ".join(("=" if c.correct else "~") + escape(c.text) for c in q.choices)
    if q.kind == "truefalse":
        return "T" if q.truth else "F"
    if q.kind == "matching":
        return "".join(f"\n={escape(word)} -> {escape(meaning)}" for word, meaning in q.pairs) + "\n"
    return " ".join("=" + escape(a) for a in q.accepted)  # shortanswer, and ordering written as one
