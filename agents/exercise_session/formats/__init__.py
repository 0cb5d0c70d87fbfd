"""Classroom export formats of an exercise set: name -> file ending and writer, one module per format.

The names are the ones the exercise-session parser gives in `Command.format` (`EXPORT_FORMATS` in
agents/exercise_session/commands.py). Every writer is `render(sheet: ExportSheet) -> bytes`; `export.write_export`
puts the bytes in place atomically. A writer's module is imported only when its format is used, so exporting a
Markdown worksheet never loads the PDF, Word or Anki libraries.

| format   | ending | module    | what it is                                                      |
| -------- | ------ | --------- | --------------------------------------------------------------- |
| moodle   | .xml   | moodle    | Moodle XML, for Question bank → Import                          |
| gift     | .gift  | gift      | Moodle GIFT text (also read by other quiz tools)                |
| qti      | .zip   | qti       | IMS QTI 2.1 content package (manifest, test, one item per file) |
| anki     | .apkg  | anki      | Anki deck of the vocabulary items                               |
| pdf      | .pdf   | pdf       | printable worksheet, answer key on its own page                 |
| docx     | .docx  | word      | Word worksheet, answer key after a page break                   |
| markdown | .md    | markdown  | Markdown worksheet with the answer key at the end               |
| json     | .json  | jsondoc   | the set as one JSON document, for programs                      |

How each exercise type maps onto what a format can hold is in each module's docstring; the three question-bank
formats (moodle, gift, qti) share the mapping of `questions`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from agents.exercise_session.formats.sheet import ExportSheet

Renderer = Callable[["ExportSheet"], bytes]


@dataclass(frozen=True)
class ExportFormat:
    """One format: its name, the file endings it is written under (the first is the default) and its module."""

    name: str
    suffixes: tuple[str, ...]
    module: str
    description: str

    @property
    def suffix(self) -> str:
        """The ending a file of this format gets when none is given."""
        return self.suffixes[0]

    def render(self, sheet: ExportSheet) -> bytes:
        """The file's bytes (the writer's module is imported on first use)."""
        module = importlib.import_module(f"{__name__}.{self.module}")
        return cast(Renderer, module.render)(sheet)


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("moodle", (".xml",), "moodle", "Moodle XML question bank"),
        ExportFormat("gift", (".gift",), "gift", "Moodle GIFT text"),
        ExportFormat("qti", (".zip",), "qti", "IMS QTI 2.1 content package"),
        ExportFormat("anki", (".apkg",), "anki", "Anki deck of the vocabulary items"),
        ExportFormat("pdf", (".pdf",), "pdf", "printable PDF worksheet with answer key"),
        ExportFormat("docx", (".docx",), "word", "Word worksheet with answer key"),
        ExportFormat("markdown", (".md", ".markdown", ".txt"), "markdown", "Markdown worksheet with answer key"),
        ExportFormat("json", (".json",), "jsondoc", "JSON document of the set"),
    )
}


def get_format(name: str) -> ExportFormat:
    """The format called `name` (any case); UserInputError naming the accepted formats otherwise."""
    found = FORMATS.get(name.strip().lower())
    if found is None:
        raise UserInputError(f"Unknown export format {name!r}; accepted formats: {', '.join(FORMATS)}.")
    return found
