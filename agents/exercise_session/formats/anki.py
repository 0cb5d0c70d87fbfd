"""Anki: a deck (.apkg) of the set's vocabulary, built with genanki, for learners to review between lessons.

Only the items that practise words become cards:

- gap_fill → front: the sentence with its gap and the four options; back: the key ("d) destination") and the
  whole sentence.
- open_gap, word_formation → front: the sentence with its gap (the base word in capitals included); back: the
  answer (and the other accepted ones) and the whole sentence.
- matching → one card per pair: front the word, back its meaning.
- reorder, error_correction and reading items are left out: they practise sentences, not words to remember.

The note type and the deck have fixed ids derived from a stable hash (of the note type's name, and of the session),
and every note's guid comes from the session, the item's id and the pair, so importing a later export of the same
session updates its deck and cards instead of adding a second copy. Cards are tagged with the type, level and topic.
"""

from __future__ import annotations

import hashlib
import html
import io
import sqlite3
import tempfile
import time
import zipfile
from itertools import count
from pathlib import Path

import genanki

from agents.exercise_session.formats.sheet import ExportSheet, SheetEntry
from knowledge.errors import UserInputError
from knowledge.items import GapFillItem, MatchingItem, OpenGapItem, WordFormationItem, fill_gap
from knowledge.render import TYPE_TITLES, key_line, lettered

MODEL_NAME = "Pedagogical Forge vocabulary"
CSS = (
    ".card { font-family: sans-serif; font-size: 22px; text-align: center; }\n"
    ".small { font-size: 16px; color: #555; }"
)


def stable_id(text: str) -> int:
    """An id in the range genanki recommends for model and deck ids, the same for the same text on any machine."""
    digest = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    return (1 << 30) + digest % (1 << 30)


def render(sheet: ExportSheet) -> bytes:
    """The .apkg of the sheet's vocabulary items; UserInputError when it has none."""
    deck = genanki.Deck(stable_id(f"pedagogical-forge deck {sheet.session}"),
                        f"Pedagogical Forge::{sheet.session}")
    model = _model()
    for entry in sheet.entries:
        for n, (front, back) in enumerate(_cards(entry)):
            tags = [entry.item.type, str(sheet.level), "_".join(entry.item.topic.split()) or "topic"]
            deck.add_note(genanki.Note(model=model, fields=[front, back, TYPE_TITLES[entry.item.type]], tags=tags,
                                       guid=genanki.guid_for(sheet.session, entry.id, n)))
    if not deck.notes:
        raise UserInputError(
            "The set has no vocabulary items for an Anki deck; Anki exports gap fill, open gap, word formation "
            "and matching items."
        )
    return _package(genanki.Package(deck))


def _model() -> genanki.Model:
    """The note type: front, back and the exercise type, one card."""
    return genanki.Model(
        stable_id(MODEL_NAME),
        MODEL_NAME,
        fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Type"}],
        templates=[{
            "name": "Card 1",
            "qfmt": '{{Front}}<div class="small">{{Type}}</div>',
            "afmt": '{{FrontSide}}<hr id="answer">{{Back}}',
        }],
        css=CSS,
    )  # fmt: skip


def _cards(entry: SheetEntry) -> list[tuple[str, str]]:
    """(front, back) HTML of the cards an item gives: none for items that do not practise words."""
    item = entry.item
    if isinstance(item, MatchingItem):
        return [(_html(word), _html(item.answer[word])) for word in item.words if word in item.answer]
    if isinstance(item, GapFillItem):
        front = _html(item.stem) + "<br>" + _html("   ".join(lettered(item.options)))
        return [(front, _html(key_line(item)) + "<br>" + _small(fill_gap(item.stem, item.answer)))]
    if isinstance(item, OpenGapItem | WordFormationItem):
        sentence = fill_gap(item.stem, item.answer)
        if isinstance(item, WordFormationItem):  # the filled sentence needs no base word any more
            sentence = sentence.replace(f"({item.base_word.upper()})", "").strip()
        return [(_html(item.stem), _html(key_line(item)) + "<br>" + _small(sentence))]
    return []


def _html(text: str) -> str:
    """Text escaped for a note field."""
    return html.escape(text)


def _small(text: str) -> str:
    """Text in the card's small print."""
    return f'<span class="small">{html.escape(text)}</span>'


def _package(package: genanki.Package) -> bytes:
    """The .apkg bytes: genanki's collection written in a temporary directory that is removed afterwards.

    (genanki's own `write_to_file` leaves its temporary database behind.)
    """
    timestamp = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "collection.anki2"
        with sqlite3.connect(db_path) as conn:
            package.write_to_db(conn.cursor(), timestamp, count(int(timestamp * 1000)))
        conn.close()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as apkg:
            apkg.write(db_path, "collection.anki2")
            apkg.writestr("media", "{}")
    return buffer.getvalue()
