"""Markdown: the worksheet as text, items numbered, the answer key after a rule at the end.

Readable as it is (in a terminal, an editor, a chat) and rendered nicely wherever Markdown is. Every exercise type
prints as on the PDF and Word worksheets (`layout`, from `knowledge.render`): a "## N. Type" heading, the
instructions in italics, the learner's lines, and an "Answer:" line under sentences to reorder or correct.
"""

from __future__ import annotations

from agents.exercise_session.formats.layout import WRITE_LINE, Line, key_lines, sections
from agents.exercise_session.formats.sheet import ExportSheet

#: A line to write on; never alone on its line, where underscores would make a horizontal rule.
WRITE = "Answer: " + "_" * 40


def worksheet(sheet: ExportSheet) -> str:
    """The Markdown text of the worksheet and its key."""
    lines = [f"# {sheet.title}", "", sheet.subtitle, ""]
    for section in sections(sheet):
        lines += [f"## {section.heading}", ""]
        if section.instructions:
            lines += [f"*{section.instructions}*", ""]
        lines += [*_block(section.lines), ""]
    lines += ["---", "", "## Answer key", "", *key_lines(sheet)]
    return "\n".join(lines) + "\n"


def render(sheet: ExportSheet) -> bytes:
    """The worksheet as UTF-8 bytes."""
    return worksheet(sheet).encode("utf-8")


def _block(lines: list[Line]) -> list[str]:
    """Learner lines as Markdown: hard line breaks inside a block, a blank line between blocks."""
    out: list[str] = []
    for line in lines:
        if line.style == "space":
            out.append("")
        elif line.style == "title":
            out.append(f"**{line.text}**  ")
        elif line.style == "option":
            out.append(f"   {line.text}  ")  # indented: under a numbered question it stays part of it
        elif line.style == "write":
            out += ["", WRITE if line.text == WRITE_LINE else line.text]
        else:
            out.append(line.text + "  ")
    return [text.rstrip() if n + 1 == len(out) or not out[n + 1] else text for n, text in enumerate(out)]
