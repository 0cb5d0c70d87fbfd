"""CEFR word levels: CEFR-J Wordlist 1.5 (A1-B2) and the Octanove C1/C2 profile, with frequency estimates beyond them.

Every answer says where it came from: a listed entry names its list, file and row; a word in no list gets a level
estimated from its Zipf frequency (`source="frequency-estimate"`, the zipf value as evidence) or `level=None` with
the reason (not English, not a word, a number, a proper noun). WordNet (see `knowledge.wordnet`) adds synonyms,
glosses, examples and topics for the listed words.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from knowledge.errors import ResourceError, UserInputError
from knowledge.levels import Level, parse_level

if TYPE_CHECKING:
    from knowledge.wordnet import Synset, WordNet

CEFRJ_FILE = "cefrj-vocabulary-profile-1.5.csv"
OCTANOVE_FILE = "octanove-vocabulary-profile-c1c2-1.0.csv"
CEFRJ_SOURCE = "CEFR-J Wordlist 1.5"
OCTANOVE_SOURCE = "Octanove C1/C2 Vocabulary Profile 1.0"
ESTIMATE_SOURCE = "frequency-estimate"
UNKNOWN_SOURCE = "unknown"

#: The parts of speech the two lists use (after the repairs below).
LEXICON_POS: tuple[str, ...] = (
    "noun", "verb", "adjective", "adverb", "pronoun", "preposition", "determiner", "conjunction", "number",
    "modal auxiliary", "be-verb", "do-verb", "have-verb", "interjection", "infinitive-to",
)  # fmt: skip

#: Obvious slips in the source rows, repaired on load (documented in docs/knowledge-graph.md).
_POS_REPAIRS = {("vern", "remonstrate"): "verb", ("", "batter"): "noun"}

#: Universal POS tags (and lemminflect's) for each list POS.
_UPOS_OF = {
    "noun": "NOUN", "verb": "VERB", "adjective": "ADJ", "adverb": "ADV", "pronoun": "PRON",
    "preposition": "ADP", "determiner": "DET", "conjunction": "CCONJ", "number": "NUM", "modal auxiliary": "AUX",
    "be-verb": "AUX", "do-verb": "AUX", "have-verb": "AUX", "interjection": "INTJ", "infinitive-to": "PART",
}  # fmt: skip
_POS_OF_UPOS = {
    "NOUN": ("noun",), "PROPN": ("noun",), "VERB": ("verb", "be-verb", "do-verb", "have-verb"),
    "AUX": ("modal auxiliary", "be-verb", "do-verb", "have-verb", "verb"), "ADJ": ("adjective",),
    "ADV": ("adverb",), "PRON": ("pronoun",), "ADP": ("preposition",), "DET": ("determiner",),
    "CCONJ": ("conjunction",), "SCONJ": ("conjunction", "preposition"), "NUM": ("number",),
    "INTJ": ("interjection",), "PART": ("infinitive-to", "adverb"),
}  # fmt: skip
_PENN_TO_UPOS = {
    "NN": "NOUN", "NNS": "NOUN", "NNP": "PROPN", "NNPS": "PROPN", "VB": "VERB", "VBD": "VERB", "VBG": "VERB",
    "VBN": "VERB", "VBP": "VERB", "VBZ": "VERB", "MD": "AUX", "JJ": "ADJ", "JJR": "ADJ", "JJS": "ADJ",
    "RB": "ADV", "RBR": "ADV", "RBS": "ADV", "WRB": "ADV", "PRP": "PRON", "PRP$": "PRON", "WP": "PRON",
    "WP$": "PRON", "EX": "PRON", "IN": "ADP", "DT": "DET", "PDT": "DET", "WDT": "DET", "CC": "CCONJ",
    "CD": "NUM", "UH": "INTJ", "TO": "PART", "RP": "PART",
}  # fmt: skip

#: Tagger tags with no vocabulary-list part of speech: the word is looked up under any POS.
_NO_LIST_POS = frozenset(
    {"FW", "LS", "POS", "SYM", "X", "$", "#", ".", ",", ":", "``", "''", "-LRB-", "-RRB-", "PUNCT"}
)

#: Zipf frequency bands for words in no list: each floor is the midpoint between the median zipf of the listed
#: single words of two neighbouring levels (A1 5.02, A2 4.57, B1 4.19, B2 3.75, C1 3.31, C2 2.88; measured with
#: wordfreq 3.1.1, see docs/knowledge-graph.md). A word at least as frequent as a floor gets that band's level.
ZIPF_BANDS: tuple[tuple[float, Level], ...] = (
    (4.80, Level.A1), (4.38, Level.A2), (3.97, Level.B1), (3.53, Level.B2), (3.10, Level.C1), (0.0, Level.C2),
)  # fmt: skip

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)*|\d*[.,]\d+)(st|nd|rd|th|%)?$", re.IGNORECASE)
_MAX_WORD = 60
_PROPER_TAGS = frozenset({"PROPN", "NNP", "NNPS"})
_PROPER_REASON = "a proper noun (capitalised and in no list): names have no CEFR level"


@dataclass(frozen=True, slots=True)
class LexEntry:
    """One row of a vocabulary list for one spelling: `headword` is this spelling, `variants` all of the row's."""

    headword: str
    pos: str
    level: Level
    source: str
    source_file: str
    row: int
    variants: tuple[str, ...]
    note: str = ""

    @property
    def key(self) -> str:
        """Identity of the word in the graph: lower-cased spelling and list POS, e.g. 'colour|noun'."""
        return f"{self.headword.lower()}|{self.pos}"

    @property
    def citation(self) -> str:
        """Where the entry comes from, precise enough to find the row again."""
        return f"{self.source} ({self.source_file}, line {self.row})"


class WordLevel(BaseModel):
    """The level of a word and why: a list entry, a frequency estimate, or unknown with the reason."""

    model_config = ConfigDict(frozen=True)

    word: str
    lemma: str
    pos: str | None
    level: Level | None
    source: str
    evidence: str
    zipf: float | None = None

    @property
    def is_listed(self) -> bool:
        """True when the level comes from one of the vocabulary lists, not from an estimate."""
        return self.source in (CEFRJ_SOURCE, OCTANOVE_SOURCE)


def normalize_pos(pos: str | None) -> str | None:
    """Map a list POS ('noun'), a Universal tag ('NOUN') or a Penn tag ('NNS') to a list POS; None passes through."""
    if pos is None or not str(pos).strip():
        return None
    text = str(pos).strip()
    if text.lower() in LEXICON_POS:
        return text.lower()
    upos = _PENN_TO_UPOS.get(text, text.upper())
    if upos in _POS_OF_UPOS:
        return _POS_OF_UPOS[upos][0]
    if text in _NO_LIST_POS:  # tags the tagger gives that no list uses (a foreign word, a symbol): any POS
        return None
    raise UserInputError(
        f"Unknown part of speech {text[:20]!r}; accepted are {', '.join(LEXICON_POS)}, "
        "Universal POS tags (NOUN, VERB, ADJ ...) and Penn tags (NN, VBD ...)."
    )


def _compatible(entry_pos: str, pos: str) -> bool:
    """Whether an entry's POS answers a query for `pos` (a 'verb' query also finds be/do/have-verb entries)."""
    if entry_pos == pos:
        return True
    return pos == "verb" and entry_pos in ("be-verb", "do-verb", "have-verb", "modal auxiliary")


def _data_text(name: str) -> str:
    """Text of a vendored data file, or a ResourceError saying which file is missing."""
    try:
        return (files("knowledge") / "data" / name).read_text(encoding="utf-8")
    except OSError as exc:
        raise ResourceError(f"Vendored vocabulary file knowledge/data/{name} is missing or unreadable.") from exc


def read_lists() -> list[LexEntry]:
    """Every row of both lists, one entry per '/'-separated spelling, in file order."""
    entries: list[LexEntry] = []
    for name, source in ((CEFRJ_FILE, CEFRJ_SOURCE), (OCTANOVE_FILE, OCTANOVE_SOURCE)):
        reader = csv.DictReader(_data_text(name).splitlines())
        for line, row in enumerate(reader, start=2):
            entries.extend(_expand_row(row, name, source, line))
    return entries


def _expand_row(row: dict[str, str], name: str, source: str, line: int) -> Iterator[LexEntry]:
    """Entries for one CSV row: one per distinct spelling in its headword."""
    headword = (row.get("headword") or "").strip()
    pos = (row.get("pos") or "").strip()
    pos = _POS_REPAIRS.get((pos, headword), pos)
    variants = tuple(dict.fromkeys(v.strip() for v in headword.split("/") if v.strip()))
    seen: set[str] = set()
    for variant in variants:
        if variant.lower() in seen:
            continue
        seen.add(variant.lower())
        yield LexEntry(
            headword=variant, pos=pos, level=parse_level(row["CEFR"]), source=source, source_file=name,
            row=line, variants=variants, note=(row.get("notes") or "").strip(),
        )  # fmt: skip


#: Contracted forms as the tagger splits them ("did" + "n't"), read as the words they stand for.
_CLITICS = {"n't": "not", "'m": "am", "'re": "are", "'ve": "have", "'ll": "will", "'d": "would"}


class Lexicon:
    """Word levels by spelling and POS, with WordNet senses, synonyms and topics of the listed words."""

    def __init__(self, entries: Iterable[LexEntry], wordnet: WordNet | None = None) -> None:
        self._entries = list(entries)
        self._by_form: dict[str, list[LexEntry]] = defaultdict(list)
        for entry in self._entries:
            self._by_form[entry.headword.lower()].append(entry)
        self._wordnet = wordnet

    @classmethod
    def load(cls) -> Lexicon:
        """The lexicon of the vendored lists (read once per process)."""
        return _cached_lexicon()

    @property
    def wordnet(self) -> WordNet:
        """The derived WordNet data (loaded on first use)."""
        if self._wordnet is None:
            from knowledge.wordnet import WordNet

            self._wordnet = WordNet.load()
        return self._wordnet

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, form: str, pos: str | None = None) -> list[LexEntry]:
        """Entries spelt exactly `form` (any case), optionally only those compatible with `pos`."""
        found = self._by_form.get(form.strip().lower(), [])
        wanted = normalize_pos(pos)
        return [e for e in found if wanted is None or _compatible(e.pos, wanted)]

    def entries(
        self,
        level: str | Level | None = None,
        max_level: str | Level | None = None,
        pos: str | None = None,
        topic: str | None = None,
    ) -> list[LexEntry]:
        """Listed entries filtered by exact level, highest level, POS and topic (lexicographer file or domain)."""
        exact = parse_level(level) if level is not None else None
        ceiling = parse_level(max_level) if max_level is not None else None
        wanted = normalize_pos(pos)
        chosen = [
            e
            for e in self._entries
            if (exact is None or e.level == exact)
            and (ceiling is None or e.level.rank <= ceiling.rank)
            and (wanted is None or _compatible(e.pos, wanted))
        ]
        if topic is None:
            return chosen
        return [e for e in chosen if _topic_matches(topic, self.topics(e.headword, e.pos))]

    def level_of(self, word: str, pos: str | None = None) -> WordLevel:
        """The level of a surface form: its list entry (via lemmas and POS), else an estimate or 'unknown' and why."""
        text = _clean_word(word)
        text = _CLITICS.get(text.lower().replace("’", "'"), text)
        wanted = normalize_pos(pos)
        candidates = self._candidates(text, wanted)
        if candidates:
            return _listed(text, wanted, candidates)
        proper = str(pos).strip().upper() in _PROPER_TAGS
        return self._unlisted(text, wanted, proper)

    def _candidates(self, text: str, pos: str | None) -> list[tuple[str, LexEntry]]:
        """(lemma, entry) pairs for the form itself and for each of its lemmas under a compatible POS."""
        found = [(text.lower(), e) for e in self._by_form.get(text.lower(), [])]
        for upos, lemma in _lemmas(text, pos):
            found += [(lemma, e) for e in self._by_form.get(lemma, []) if e.pos in _POS_OF_UPOS.get(upos, ())]
        if not found and "-" in text:
            found = [(text.lower(), e) for e in self._by_form.get(text.lower().replace("-", " "), [])]
        return found

    def _unlisted(self, text: str, pos: str | None, proper: bool = False) -> WordLevel:
        """An estimate from frequency, or unknown with the reason."""
        reason = _PROPER_REASON if proper else _not_a_word(text, pos)
        lemma = next((lemma for _, lemma in _lemmas(text, pos)), text.lower())
        if reason:
            return WordLevel(word=text, lemma=lemma, pos=pos, level=None, source=UNKNOWN_SOURCE, evidence=reason)
        zipf = max(self.zipf(text), self.zipf(lemma))
        if zipf <= 0.0:
            evidence = "not a word: it is in no vocabulary list and has no frequency in English (wordfreq zipf 0)"
            return WordLevel(word=text, lemma=lemma, pos=pos, level=None, source=UNKNOWN_SOURCE, evidence=evidence)
        level = estimate_level(zipf)
        evidence = f"in no vocabulary list; estimated from its frequency, wordfreq zipf {zipf:.2f}"
        return WordLevel(
            word=text, lemma=lemma, pos=pos, level=level, source=ESTIMATE_SOURCE, evidence=evidence, zipf=zipf
        )

    def zipf(self, word: str) -> float:
        """Zipf frequency of a word in English (wordfreq): about 7 for 'the', 0 for unseen strings."""
        from wordfreq import zipf_frequency

        return float(zipf_frequency(word, "en"))

    def synonyms(self, word: str, pos: str | None = None, max_level: str | Level | None = None) -> list[WordLevel]:
        """WordNet synonyms of a word, most common sense first; with max_level only listed words at or below it."""
        ceiling = parse_level(max_level) if max_level is not None else None
        lemma, wanted = self._lemma_pos(word, pos)
        result: dict[str, WordLevel] = {}
        for name in self.wordnet.synonyms(lemma, wanted):
            if name.lower() == lemma.lower() or name in result:
                continue
            found = self.level_of(name, wanted)
            if ceiling is not None and not (
                found.is_listed and found.level is not None and found.level.rank <= ceiling.rank
            ):
                continue
            result[name] = found
        return list(result.values())

    def gloss(self, word: str, pos: str | None = None) -> str | None:
        """The WordNet definition of the word's most common sense (for the POS if given), or None."""
        lemma, wanted = self._lemma_pos(word, pos)
        senses = self.wordnet.senses(lemma, wanted)
        return senses[0].gloss if senses else None

    def senses(self, word: str, pos: str | None = None) -> list[Synset]:
        """The WordNet senses of the word (of its lemma, for the POS if given), most common first."""
        lemma, wanted = self._lemma_pos(word, pos)
        return self.wordnet.senses(lemma, wanted)

    def examples(self, word: str, pos: str | None = None) -> list[str]:
        """WordNet example sentences using the word (most common sense first)."""
        lemma, wanted = self._lemma_pos(word, pos)
        found = (ex for s in self.wordnet.senses(lemma, wanted) for ex in s.examples)
        return list(dict.fromkeys(found))

    def topics(self, word: str, pos: str | None = None) -> list[str]:
        """Topics of the word's main senses: lexicographer files (noun.food) and WordNet topic domains (cooking)."""
        lemma, wanted = self._lemma_pos(word, pos)
        return self.wordnet.topics(lemma, wanted)

    def _lemma_pos(self, word: str, pos: str | None) -> tuple[str, str | None]:
        """The lemma to look up in WordNet and the list POS (from the listed entry when one is found)."""
        found = self.level_of(word, pos)
        return found.lemma, normalize_pos(pos) or (found.pos if found.is_listed else None)


@cache
def _cached_lexicon() -> Lexicon:
    """The process-wide lexicon (the lists never change while the program runs)."""
    return Lexicon(read_lists())


def estimate_level(zipf: float) -> Level:
    """The level a word of this Zipf frequency most likely has (bands from the listed words' frequencies)."""
    return next(level for floor, level in ZIPF_BANDS if zipf >= floor)


def _listed(text: str, pos: str | None, candidates: list[tuple[str, LexEntry]]) -> WordLevel:
    """The answer for a listed word: the entry for the POS if any, else the lowest-level entry."""
    matching = [(lemma, e) for lemma, e in candidates if pos is not None and _compatible(e.pos, pos)]
    pool = matching or candidates
    lemma, entry = min(pool, key=lambda pair: (pair[1].level.rank, pair[1].row))
    evidence = entry.citation
    if pos is not None and not matching:
        evidence += f"; no entry as {pos}, so the lowest-level entry ({entry.pos}) is given"
    return WordLevel(word=text, lemma=lemma, pos=entry.pos, level=entry.level, source=entry.source, evidence=evidence)


def _lemmas(text: str, pos: str | None) -> list[tuple[str, str]]:
    """(upos, lemma) pairs from lemminflect, restricted to the POS when one is given."""
    from lemminflect import getAllLemmas

    if not text.replace(" ", "").replace("-", "").replace("'", "").isalpha():
        return []
    upos_wanted = _UPOS_OF.get(pos) if pos else None
    pairs = [
        (upos, lemma.lower())
        for upos, lemmas in getAllLemmas(text).items()
        for lemma in lemmas
        if upos_wanted is None or upos == upos_wanted or (upos_wanted == "AUX" and upos == "VERB")
    ]
    if text != text.lower():
        pairs += [(upos, lemma) for upos, lemma in _lemmas(text.lower(), pos) if (upos, lemma) not in pairs]
    return pairs


def _clean_word(word: object) -> str:
    """The word stripped of surrounding space; UserInputError for empty, non-text or over-long input."""
    if isinstance(word, bytes):
        word = word.decode("utf-8", errors="replace")
    if not isinstance(word, str) or not word.strip():
        raise UserInputError("The word is empty; give one English word or short phrase, such as 'house'.")
    text = " ".join(word.split())
    if len(text) > _MAX_WORD:
        raise UserInputError(f"The word is {len(text)} characters long; give one word or a phrase of at most 60.")
    return text


def _not_a_word(text: str, pos: str | None) -> str | None:
    """Why an unlisted string gets no level at all, or None when a frequency estimate makes sense."""
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        return "not a word: it contains control or binary characters"
    if _NUMBER.match(text.replace(" ", "")):
        return "a number: numerals have no CEFR level of their own"
    letters = _LETTER.findall(text)
    if not letters:
        return "not a word: it contains no letters"
    if any(not _is_latin(ch) for ch in letters):
        return "not English: it is written in a non-Latin script"
    if pos in (None, "noun") and text[:1].isupper() and text[1:] == text[1:].lower():
        return _PROPER_REASON
    return None


def _is_latin(ch: str) -> bool:
    """Whether a letter belongs to the Latin script (accents allowed: café, naïve)."""
    try:
        return unicodedata.name(ch).startswith("LATIN")
    except ValueError:
        return False


def _topic_matches(topic: str, topics: Iterable[str]) -> bool:
    """Whether a topic query ('food', 'noun.food', 'cooking') names one of the given topics."""
    wanted = topic.strip().lower()
    return any(t.lower() == wanted or t.lower().split(".", 1)[-1] == wanted for t in topics)
