"""WordNet 3.0 senses of the vocabulary lists' words, read from the derived file knowledge/data/wordnet-lexicon.json.gz.

The file is built at dev time by `knowledge/build/wordnet.py` from Debian's `wordnet-base`; it holds glosses,
examples, synonyms, immediate hypernyms, lexicographer files (noun.food, verb.motion ...) and topic domains of every
sense of every listed spelling. WordNet 3.0 Copyright 2006 by Princeton University (licence in WORDNET-LICENSE.txt).
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from knowledge.errors import ResourceError

DATA_FILE = "wordnet-lexicon.json.gz"
SOURCE = "WordNet 3.0"
FORMAT_VERSION = 1
#: WordNet parts of speech for each vocabulary-list POS ('number' words are WordNet nouns and adjectives).
WN_POS: dict[str, tuple[str, ...]] = {
    "noun": ("n",), "verb": ("v",), "adjective": ("a",), "adverb": ("r",), "number": ("a", "n"),
    "be-verb": ("v",), "do-verb": ("v",), "have-verb": ("v",), "modal auxiliary": ("v",),
}  # fmt: skip
#: How many of a word's commonest senses count for its topics and graph edges (rarer senses add noise).
MAIN_SENSES = 3
#: Leading labels that make a gloss a pointer to another word or a note on use rather than a definition.
_POINTER_LABELS = re.compile(
    r"^\((comparative|superlative) of|^\((from|sentence connectors?)\b|^(of or )?(relating|pertaining) to\b"
    r"|^of or (relating|pertaining|belonging) to\b|^in an? \w+ (manner|way)\b",
    re.IGNORECASE,
)
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
#: Asides that widen or qualify a definition: dropping them would make it false ('any day except Sunday (and
#: sometimes except Saturday)'), so they stay.
_QUALIFYING = re.compile(r"^\s*\((and|or|but|except|not)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Synset:
    """One WordNet sense: its words, definition, examples, hypernym words, lexicographer file and topic domains."""

    id: int
    pos: str
    lexname: str
    words: tuple[str, ...]
    gloss: str
    examples: tuple[str, ...]
    hypernyms: tuple[str, ...]
    domains: tuple[str, ...]


class WordNet:
    """Senses of listed spellings by WordNet POS, most frequent first."""

    def __init__(self, document: dict[str, Any]) -> None:
        if document.get("format") != FORMAT_VERSION:
            raise ResourceError(
                f"knowledge/data/{DATA_FILE} has format {document.get('format')!r}, expected {FORMAT_VERSION}; "
                "rebuild it with `python -m knowledge.build.wordnet`."
            )
        self._lexnames: list[str] = document["lexnames"]
        self._rows: list[list[Any]] = document["synsets"]
        self._words: dict[str, dict[str, list[int]]] = document["words"]
        self._ancestors: dict[str, dict[str, list[str]]] = document["ancestors"]
        self._derivations: dict[str, dict[str, list[list[str]]]] = document.get("derivations", {})
        self._antonyms: dict[str, dict[str, list[list[str]]]] = document.get("antonyms", {})
        self._cache: dict[int, Synset] = {}

    @classmethod
    def load(cls) -> WordNet:
        """The derived WordNet data (read once per process)."""
        return _cached_wordnet()

    def synset(self, number: int) -> Synset:
        """A sense by its id in the derived file."""
        if number not in self._cache:
            pos, lex, words, gloss, examples, hypernyms, domains = self._rows[number]
            self._cache[number] = Synset(
                number, pos, self._lexnames[lex], tuple(words), gloss, tuple(examples), tuple(hypernyms),
                tuple(domains),
            )  # fmt: skip
        return self._cache[number]

    def senses(self, lemma: str, pos: str | None = None) -> list[Synset]:
        """Senses of a spelling for a vocabulary-list POS (all WordNet POS when None), commonest first."""
        key = lemma.strip().lower()
        return [self.synset(n) for wn_pos in _wn_pos(pos) for n in self._words[wn_pos].get(key, [])]

    def has(self, lemma: str, pos: str | None = None) -> bool:
        """Whether WordNet knows the spelling under that POS."""
        key = lemma.strip().lower()
        return any(key in self._words[wn_pos] for wn_pos in _wn_pos(pos))

    def synonyms(self, lemma: str, pos: str | None = None) -> list[str]:
        """Lemma names sharing a sense with the spelling, commonest sense first, without duplicates."""
        names = (w for s in self.senses(lemma, pos) for w in s.words)
        return list(dict.fromkeys(names))

    def main_senses(self, lemma: str, pos: str | None = None) -> list[Synset]:
        """The commonest senses (at most MAIN_SENSES per WordNet POS) that topics and graph edges rely on."""
        key = lemma.strip().lower()
        ids = (n for wn_pos in _wn_pos(pos) for n in self._words[wn_pos].get(key, [])[:MAIN_SENSES])
        return [self.synset(n) for n in ids]

    def topics(self, lemma: str, pos: str | None = None) -> list[str]:
        """Lexicographer files and topic domains of the main senses, e.g. ['noun.food', 'noun.plant']."""
        found = (t for s in self.main_senses(lemma, pos) for t in (s.lexname, *s.domains))
        return list(dict.fromkeys(found))

    def related(self, lemma: str, pos: str | None = None) -> list[str]:
        """Immediate hypernym words of the main senses ('dog' -> 'canine', 'domestic animal')."""
        found = (h for s in self.main_senses(lemma, pos) for h in s.hypernyms)
        return list(dict.fromkeys(found))

    def ancestors(self, lemma: str, pos: str | None = None) -> list[str]:
        """Words on the hypernym chains of the two commonest senses, nearest first ('dog' -> ... 'animal')."""
        key = lemma.strip().lower()
        found = (a for wn_pos in _wn_pos(pos) for a in self._ancestors[wn_pos].get(key, []))
        return list(dict.fromkeys(found))

    def family(self, lemma: str, pos: str | None = None) -> list[tuple[str, str]]:
        """Derivationally related forms of the commonest senses as (word, WordNet POS): happy -> happiness (n)."""
        return _pointed(self._derivations, lemma, pos)

    def antonyms(self, lemma: str, pos: str | None = None) -> list[tuple[str, str]]:
        """Antonyms of the commonest senses as (word, WordNet POS): happy -> unhappy (a)."""
        return _pointed(self._antonyms, lemma, pos)

    def lexnames(self) -> list[str]:
        """All 45 lexicographer file names."""
        return list(self._lexnames)


def plain_gloss(gloss: str) -> str:
    """A gloss as a learner reads it: its first definition (before ';'), without parenthetical asides.

    'a (usually rectangular) container; may have a lid' -> 'a container'. Dropping asides and alternatives keeps a
    WordNet definition true (they narrow or add to it) and makes it shorter; asides that widen or qualify it
    ('(and sometimes except Saturday)', '(or ...)') stay, since without them it would say too much.
    """
    first = gloss.split(";", 1)[0]
    kept: list[str] = []

    def drop(match: re.Match[str]) -> str:
        if _QUALIFYING.match(match.group(0)):
            kept.append(match.group(0))
            return f"\x00{len(kept) - 1}\x00"
        return ""

    while _PARENTHESES.search(first):
        first = _PARENTHESES.sub(drop, first)
    for number, aside in enumerate(kept):
        first = first.replace(f"\x00{number}\x00", aside)
    return " ".join(first.replace("`", "'").split()).strip(" ,:")


def gloss_label(synset: Synset) -> str | None:
    """Why a sense's gloss is not a plain everyday definition, or None when it is.

    A leading field label on a sense with a topic domain ('(computer science) the code that identifies ...' for
    address) marks a technical sense; '(comparative of good)', '(sentence connectors)', 'of or relating to X' and
    'in an X manner' point to another word instead of saying what this one means.
    """
    if _POINTER_LABELS.search(synset.gloss):
        return f"the gloss points to another word or a use: {synset.gloss[:40]!r}"
    if synset.gloss.startswith("(") and synset.domains:
        return f"a sense of a field ({', '.join(synset.domains)})"
    return None


def _pointed(table: dict[str, dict[str, list[list[str]]]], lemma: str, pos: str | None) -> list[tuple[str, str]]:
    """(word, WordNet POS) pairs a pointer table lists for a spelling under a list POS."""
    key = lemma.strip().lower()
    found = ((word, wn) for wn_pos in _wn_pos(pos) for word, wn in table.get(wn_pos, {}).get(key, []))
    return list(dict.fromkeys(found))


def _wn_pos(pos: str | None) -> tuple[str, ...]:
    """WordNet POS letters for a vocabulary-list POS (all four when None, none for function words)."""
    if pos is None:
        return ("n", "v", "a", "r")
    return WN_POS.get(pos, ())


@cache
def _cached_wordnet() -> WordNet:
    """The process-wide WordNet data."""
    try:
        raw = (files("knowledge") / "data" / DATA_FILE).read_bytes()
        document = json.loads(gzip.decompress(raw))
    except (OSError, ValueError, EOFError) as exc:
        raise ResourceError(
            f"knowledge/data/{DATA_FILE} is missing or corrupt; rebuild it with `python -m knowledge.build.wordnet`."
        ) from exc
    return WordNet(document)
