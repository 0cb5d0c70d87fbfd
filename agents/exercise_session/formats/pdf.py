"""PDF: a printable A4 worksheet (fpdf2), the answer key on a page of its own so it can be kept back.

Every exercise type prints as on the Markdown worksheet (`layout`, from `knowledge.render`): a heading per item
("3. Word formation"), its instructions in italics, the stem or text, options indented, and a line to write on under
sentences to reorder or correct; an item is never split across two pages. The page after the last item starts the
answer key, one line per item.

Font: DejaVu Sans, a Unicode TrueType font embedded in the file, so → ’ é and any other character in an item print
as they are. Debian installs it with fonts-dejavu-core (on this project's machines from the start); its usual paths
are searched. Where it is missing the PDF falls back to the PDF core font Helvetica, which only has Latin-1: text is
then transliterated (→ becomes ->, curly quotes straight, accents kept where Latin-1 has them, anything else '?'),
so the worksheet still prints rather than failing.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import cast

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from agents.exercise_session.formats.layout import Line, Section, key_lines, sections
from agents.exercise_session.formats.sheet import ExportSheet

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
)
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
#: Characters Helvetica lacks and what they become when the fallback font is used.
ASCII_FOR = {"→": "->", "‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "·": "-"}
MARGIN = 18
LINE = 6.0


class _Worksheet(FPDF):
    """An A4 page with the set's name and the page number in the footer."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.body_font = _fonts(self)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)

    def footer(self) -> None:
        """The set's name on the left, the page number on the right."""
        self.set_y(-12)
        self.set_font(self.body_font, "", 8)
        self.set_text_color(120)
        self.cell(0, 5, self.safe(self.footer_text), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"{self.page_no()}", align="R")
        self.set_text_color(0)

    def safe(self, text: str) -> str:
        """Text the current font can print (transliterated only with the fallback core font)."""
        return text if self.body_font == "DejaVu" else transliterate(text)

    def line_of(self, text: str, size: float, style: str = "", indent: float = 0, height: float = LINE) -> None:
        """A paragraph at the left margin (plus `indent`), wrapped to the page width."""
        self.set_font(self.body_font, style, size)
        self.set_x(self.l_margin + indent)
        self.multi_cell(self.epw - indent, height, self.safe(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def font_dir() -> Path | None:
    """The first directory holding the three DejaVu Sans files, if any."""
    return next((d for d in FONT_DIRS if all((d / f).is_file() for f in FONT_FILES.values())), None)


def _fonts(pdf: FPDF) -> str:
    """Register DejaVu Sans (regular, bold, italic) when it is installed; the family to use."""
    found = font_dir()
    if found is None:
        return "helvetica"
    for style, name in FONT_FILES.items():
        pdf.add_font("DejaVu", style, found / name)
    return "DejaVu"


def transliterate(text: str) -> str:
    """Text in Latin-1 for the core fonts: known symbols spelled out, accents kept or dropped, others '?'."""
    out = []
    for char in text:
        char = ASCII_FOR.get(char, char)
        if len(char) == 1 and ord(char) > 255:
            char = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1") or "?"
        out.append(char)
    return "".join(out)


def render(sheet: ExportSheet) -> bytes:
    """The PDF of the worksheet and its answer key."""
    pdf = _Worksheet(f"{sheet.title} · {sheet.subtitle}")
    pdf.set_title(sheet.title)
    pdf.set_creator("Pedagogical Forge")
    pdf.add_page()
    _header(pdf, sheet)
    for section in sections(sheet):
        _section(pdf, section)
    pdf.add_page()
    pdf.line_of("Answer key", 16, "B", height=9)
    pdf.line_of(sheet.subtitle, 9)
    pdf.ln(3)
    for line in key_lines(sheet):
        pdf.line_of(line, 11)
        pdf.ln(1)
    return bytes(pdf.output())


def _header(pdf: _Worksheet, sheet: ExportSheet) -> None:
    """Title, level and topic, and lines for the learner's name and the date."""
    pdf.line_of(sheet.title, 18, "B", height=9)
    pdf.set_text_color(90)
    pdf.line_of(sheet.subtitle, 10)
    pdf.set_text_color(0)
    pdf.ln(4)
    pdf.line_of("Name: " + "_" * 34 + "     Date: " + "_" * 16, 10)
    pdf.ln(4)


def _section(pdf: _Worksheet, section: Section) -> None:
    """One item, kept together on a page."""
    with pdf.unbreakable() as recorder:
        page = cast(_Worksheet, recorder)  # records the calls, and replays them on a new page if they do not fit
        page.ln(2)
        page.line_of(section.heading, 12, "B", height=7)
        if section.instructions:
            page.line_of(section.instructions, 10, "I")
        page.ln(1)
        for line in section.lines:
            _line(page, line)
        page.ln(3)


def _line(pdf: _Worksheet, line: Line) -> None:
    """One learner line, set by its style."""
    if line.style == "space":
        pdf.ln(2)
    elif line.style == "title":
        pdf.line_of(line.text, 11, "B")
    elif line.style == "option":
        pdf.line_of(line.text, 11, indent=6)
    elif line.style == "write":
        pdf.ln(3)
        pdf.line_of(line.text, 11)
    else:
        pdf.line_of(line.text, 11)
