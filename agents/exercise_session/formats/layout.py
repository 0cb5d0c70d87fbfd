"""The printed worksheet's layout, shared by the PDF, Word and Markdown writers: sections of styled lines and a key.

The words come from `knowledge.render` (`learner_lines`, `key_line`, `TYPE_TITLES`), the one plain-text form of an
item; this module only says how each line is set: a heading per item, its instructions, the reading text's title,
options indented, a line to write on where the learner writes a whole sentence or word outside the stem, and
numbered blanks for the letters of a matching exercise.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from pydantic import BaseModel

from agents.exercise_session.formats.sheet import ExportSheet, SheetEntry
from knowledge.items import ErrorCorrectionItem, MatchingItem, ReadingItem, ReorderItem
from knowledge.render import key_line, learner_lines

LineStyle = Literal["text", "title", "option", "space", "write"]
_LETTERED = re.compile(r"^\s*[a-z]\) ")
#: What a learner writes on, under a sentence to reorder or correct.
WRITE_LINE = "_" * 60


class Line(NamedTuple):
    """One line of a section and how it is set."""

    text: str
    style: LineStyle


class Section(BaseModel):
    """One item on the worksheet."""

    heading: str
    instructions: str
    lines: list[Line]


def sections(sheet: ExportSheet) -> list[Section]:
    """Every item of the sheet as a section."""
    return [_section(entry) for entry in sheet.entries]


def key_lines(sheet: ExportSheet) -> list[str]:
    """The answer key: one numbered line per item."""
    return [f"{entry.number}. {key_line(entry.item)}" for entry in sheet.entries]


def _section(entry: SheetEntry) -> Section:
    """One entry's heading, instructions and styled lines."""
    item = entry.item
    lines = learner_lines(item)
    body = lines[1:] if item.instructions and lines and lines[0] == item.instructions else lines
    styled = [_styled(line, item) for line in _trimmed(body)]
    if isinstance(item, ReorderItem | ErrorCorrectionItem):
        styled.append(Line(WRITE_LINE, "write"))
    if isinstance(item, MatchingItem):  # where the learner writes the letters
        styled.append(Line("   ".join(f"{n} ____" for n in range(1, len(item.words) + 1)), "write"))
    return Section(heading=entry.title, instructions=item.instructions, lines=styled)


def _trimmed(lines: list[str]) -> list[str]:
    """Lines without leading or trailing blank ones."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _styled(line: str, item: object) -> Line:
    """How one learner line is set."""
    if not line.strip():
        return Line("", "space")
    if isinstance(item, ReadingItem) and line == item.title:
        return Line(line, "title")
    if _LETTERED.match(line):
        return Line(line.strip(), "option")
    return Line(line, "text")
