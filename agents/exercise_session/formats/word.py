"""Word (.docx): the worksheet as an editable document (python-docx), the answer key after a page break.

Teachers often adapt a worksheet before printing it, so this is the format to edit: real headings (Heading 1 for
the title, Heading 2 per item, so Word's navigation pane lists the items), instructions in italics, options
indented, a line to write on under sentences to reorder or correct, and paragraphs kept with the next one so an
item does not start at the bottom of a page. Every exercise type prints as on the PDF and Markdown worksheets
(`layout`, from `knowledge.render`). The document's title property is the set's.
"""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_BREAK
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from agents.exercise_session.formats.layout import Line, Section, key_lines, sections
from agents.exercise_session.formats.sheet import ExportSheet


def render(sheet: ExportSheet) -> bytes:
    """The .docx bytes of the worksheet and its answer key."""
    document = Document()
    _page_setup(document)
    document.core_properties.title = sheet.title
    document.core_properties.author = "Pedagogical Forge"
    document.add_heading(sheet.title, level=1)
    _grey(document.add_paragraph(sheet.subtitle))
    document.add_paragraph("Name: " + "_" * 30 + "     Date: " + "_" * 14)
    for section in sections(sheet):
        _section(document, section)
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.add_heading("Answer key", level=1)
    _grey(document.add_paragraph(sheet.subtitle))
    for line in key_lines(sheet):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _page_setup(document: DocumentObject) -> None:
    """A4 with 2 cm margins and an 11 pt body font."""
    page = document.sections[0]
    page.page_height, page.page_width = Cm(29.7), Cm(21.0)
    page.left_margin = page.right_margin = page.top_margin = page.bottom_margin = Cm(2)
    document.styles["Normal"].font.size = Pt(11)


def _section(document: DocumentObject, section: Section) -> None:
    """One item: heading, instructions and its lines, kept together."""
    heading = document.add_heading(section.heading, level=2)
    heading.paragraph_format.keep_with_next = True
    if section.instructions:
        instructions = document.add_paragraph()
        instructions.add_run(section.instructions).italic = True
        instructions.paragraph_format.keep_with_next = True
    paragraphs: list[Paragraph] = []
    gap = False
    for line in section.lines:
        if line.style == "space":  # no empty paragraph: space before the next one
            gap = True
            continue
        paragraphs.append(_line(document, line))
        if gap:
            paragraphs[-1].paragraph_format.space_before = Pt(8)
            gap = False
    for paragraph in paragraphs[:-1]:
        paragraph.paragraph_format.keep_with_next = True


def _line(document: DocumentObject, line: Line) -> Paragraph:
    """One learner line, set by its style."""
    paragraph = document.add_paragraph()
    run = paragraph.add_run(line.text)
    form = paragraph.paragraph_format
    form.space_after = Pt(3)
    if line.style == "title":
        run.bold = True
    elif line.style == "option":
        form.left_indent = Cm(0.8)
    elif line.style == "write":
        form.space_before = Pt(10)
    return paragraph


def _grey(paragraph: Paragraph) -> None:
    """Set a paragraph in small grey print."""
    for run in paragraph.runs:
        run.font.size = Pt(9)
        run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
