"""Word families for word-formation exercises: derived words paired with their base words, from the lexicon.

A pair is kept only when both words are listed in the vocabulary lists (so both have a level and a source), a
derivation rule links their spellings (happy -> happiness by "-ness"), and WordNet 3.0 links them as
derivationally related forms (or, for negative prefixes, as antonyms) in their common senses, which rules out
look-alikes such as busy -> business and play -> display.
Each pair records its rule, so an exercise can say why the answer is what it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from knowledge.levels import Level
from knowledge.lexicon import LexEntry, Lexicon

#: (suffix, base POS, derived POS, name). Spelling changes are tried by `_bases`.
SUFFIX_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("ness", "adjective", "noun", "-ness"),
    ("ity", "adjective", "noun", "-ity"),
    ("ment", "verb", "noun", "-ment"),
    ("ation", "verb", "noun", "-ation"),
    ("tion", "verb", "noun", "-tion"),
    ("sion", "verb", "noun", "-sion"),
    ("ance", "verb", "noun", "-ance"),
    ("ence", "verb", "noun", "-ence"),
    ("er", "verb", "noun", "-er (person)"),
    ("or", "verb", "noun", "-or (person)"),
    ("ist", "noun", "noun", "-ist (person)"),
    ("ful", "noun", "adjective", "-ful"),
    ("less", "noun", "adjective", "-less"),
    ("ous", "noun", "adjective", "-ous"),
    ("al", "noun", "adjective", "-al"),
    ("y", "noun", "adjective", "-y"),
    ("able", "verb", "adjective", "-able"),
    ("ible", "verb", "adjective", "-ible"),
    ("ive", "verb", "adjective", "-ive"),
    ("ly", "adjective", "adverb", "-ly"),
    ("en", "adjective", "verb", "-en"),
    ("ise", "adjective", "verb", "-ise"),
    ("ize", "adjective", "verb", "-ize"),
)
#: Negative prefixes: same POS, opposite meaning.
PREFIX_RULES: tuple[tuple[str, str], ...] = (
    ("un", "un-"),
    ("dis", "dis-"),
    ("im", "im-"),
    ("in", "in-"),
    ("ir", "ir-"),
)


@dataclass(frozen=True, slots=True)
class Derivation:
    """A derived word, its base word and the rule that links them, both traceable to their list entries."""

    base: str
    base_pos: str
    base_level: Level
    derived: str
    derived_pos: str
    derived_level: Level
    rule: str


def _bases(stem: str) -> Iterable[str]:
    """Spellings the base may have once a suffix is removed (happi -> happy, creat -> create, runn -> run)."""
    yield stem
    yield stem + "e"
    if stem.endswith("i"):
        yield stem[:-1] + "y"
    if len(stem) > 2 and stem[-1] == stem[-2]:
        yield stem[:-1]
    if stem.endswith("abil"):
        yield stem[:-4] + "able"


def _find(lexicon: Lexicon, word: str, pos: str) -> LexEntry | None:
    """The list entry for an exact spelling and POS, if any."""
    found = [e for e in lexicon.lookup(word) if e.pos == pos]
    return min(found, key=lambda e: e.level.rank) if found else None


def _related(lexicon: Lexicon, derived: LexEntry, base: LexEntry) -> bool:
    """Whether WordNet lists the two words as derivationally related (either direction)."""
    family = {w.lower() for w, _ in lexicon.wordnet.family(derived.headword, derived.pos)}
    if base.headword.lower() in family:
        return True
    return derived.headword.lower() in {w.lower() for w, _ in lexicon.wordnet.family(base.headword, base.pos)}


def _suffix_pairs(lexicon: Lexicon, entry: LexEntry) -> Iterable[Derivation]:
    """Derivations where `entry` is the derived word of a suffix rule."""
    word = entry.headword.lower()
    for suffix, base_pos, derived_pos, name in SUFFIX_RULES:
        if entry.pos != derived_pos or not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        for base in _bases(word[: -len(suffix)]):
            found = _find(lexicon, base, base_pos)
            if found is not None and found.headword.lower() != word and _related(lexicon, entry, found):
                yield Derivation(found.headword, base_pos, found.level, entry.headword, derived_pos, entry.level, name)
                break


def _prefix_pairs(lexicon: Lexicon, entry: LexEntry) -> Iterable[Derivation]:
    """Derivations where `entry` is a negative-prefix word (unhappy <- happy)."""
    word = entry.headword.lower()
    for prefix, name in PREFIX_RULES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            found = _find(lexicon, word[len(prefix) :], entry.pos)
            if found is not None and (entry.pos == "adverb" or _antonym_shape(lexicon, entry, found)):
                yield Derivation(found.headword, entry.pos, found.level, entry.headword, entry.pos, entry.level, name)


def _antonym_shape(lexicon: Lexicon, derived: LexEntry, base: LexEntry) -> bool:
    """A negative prefix counts only when WordNet lists the two as antonyms (unhappy/happy, not display/play)."""
    return base.headword.lower() in {w.lower() for w, _ in lexicon.wordnet.antonyms(derived.headword, derived.pos)}


@cache
def derivations(lexicon: Lexicon) -> tuple[Derivation, ...]:
    """Every base/derived pair the rules find among the listed single words (computed once per lexicon)."""
    pairs: dict[tuple[str, str], Derivation] = {}
    for entry in lexicon.entries():
        if " " in entry.headword or not entry.headword.isalpha():
            continue
        for pair in (*_suffix_pairs(lexicon, entry), *_prefix_pairs(lexicon, entry)):
            pairs.setdefault((pair.derived.lower(), pair.derived_pos), pair)
    return tuple(pairs.values())


def derivations_at(lexicon: Lexicon, level: Level) -> list[Derivation]:
    """Pairs a learner at `level` can be asked: the derived word at or below the level, the base word too."""
    return [d for d in derivations(lexicon) if d.derived_level <= level and d.base_level <= level]
