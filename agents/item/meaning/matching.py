"""Meaning checks of matching items: every meaning is true of its word, and of no other word of the item.

A meaning is compared under MiniLM with what WordNet says of each word of the item: the glosses of all its senses
(whole and plain, see `knowledge.wordnet.plain_gloss`) and its synonyms. The keyed word must fit clearly
(`MIN_FIT`), better than every other word by `MARGIN`, and fit no other word closely (`MAX_OTHER`), else
`ambiguous_key`. A noun's definition must also name a kind of thing WordNet relates to the word ('laundry' = 'a
dirty room' fails: a laundry is no kind of room), unless the fit is near-certain (`SURE_FIT`). A meaning that
contains its word or a relative gives it away; a word WordNet does not know cannot be checked and blocks (an
accepted item must be one a teacher can photocopy).

Calibration (tests/test_matching_items.py): the false meanings of the three reviewed matching items
(../shared/data/review-panel) all fail; of 32 false meanings (those, and the small model's) 25 are flagged; of 65
true ones 42 pass (true definitions in other words than WordNet's fail more often than WordNet's own glosses, which
pass). The check errs towards rejecting.

Items that match words with opposites or with words of the same meaning are checked against WordNet's antonym and
synonym links instead. Words far below the item's level make it trivial for the class it is for: two levels below
is a warning (a one-word edit), three or more blocks (the reviewers rejected the C2 item with 'shopping' and
'clothes').
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.item.meaning.base import DEFAULT_THRESHOLDS, Judge, problem
from knowledge.items import Item, MatchingItem
from knowledge.levels import Level
from knowledge.nlp import Token, analyze
from knowledge.violations import Violation
from knowledge.wordnet import Synset, plain_gloss

#: A meaning must be at least this close (cosine) to one of its word's glosses or synonyms.
MIN_FIT = 0.55
#: ... and closer to its own word than to any other word of the item by this much.
MARGIN = DEFAULT_THRESHOLDS.matching_margin
#: A meaning this close to another word's gloss fits that word too, however well it fits its own
#: ('someone who works with their hands' for labourer beside workman, 0.81).
MAX_OTHER = 0.75
#: Above this fit the embedding alone vouches for a meaning (its kind of thing is not looked at).
SURE_FIT = 0.8
#: Levels below the item's level from which a word is flagged (warning) and blocks the item.
WARN_BELOW, BLOCK_BELOW = 2, 3
#: Heads of a definition that say nothing about the kind of thing ('a person who ...', 'something that ...').
GENERIC_HEADS = frozenset({
    "thing", "something", "someone", "somebody", "anything", "person", "people", "place", "way", "one", "act",
    "action", "process", "state", "quality", "condition", "result", "situation", "time", "area", "object", "activity",
})  # fmt: skip
#: Heads that pass the kind to the noun after 'of' ('a piece of clothing', 'one of the foods').
OF_HEADS = frozenset({
    "piece", "kind", "type", "sort", "part", "variety", "set", "group", "amount", "number", "lot", "pair", "member",
    "form",
})  # fmt: skip
#: Hypernyms so general that sharing them says nothing ('overcoat' and 'fabric' are both artifacts).
TOP_NODES = frozenset({
    "entity", "physical entity", "abstraction", "abstract entity", "object", "physical object", "whole", "unit",
    "artifact", "artefact", "matter", "psychological feature", "event", "happening", "occurrence", "act",
    "human action", "attribute", "state", "relation", "measure", "quantity", "group", "grouping", "thing",
    "living thing", "organism", "being", "structure", "covering",
})  # fmt: skip

Mode = str  # "meaning" | "opposite" | "synonym"


@dataclass(frozen=True)
class Fit:
    """How well one meaning fits its own word and the best other word of the item."""

    word: str
    meaning: str
    own: float
    other: float
    other_word: str
    reference: str


def check(judge: Judge, item: Item) -> list[Violation]:
    """What makes a matching item unusable for a learner although its form is right."""
    if not isinstance(item, MatchingItem):
        return []
    found = _below_level(judge, item)
    mode = mode_of(item.instructions)
    if mode == "meaning":
        return found + _meaning_problems(judge, item)
    return found + _link_problems(judge, item, mode)


def mode_of(instructions: str) -> Mode:
    """What the options are, from the instructions: meanings, opposites or words of the same meaning."""
    text = instructions.lower()
    if "opposite" in text:
        return "opposite"
    if "same" in text or "synonym" in text:
        return "synonym"
    return "meaning"


def fits(judge: Judge, item: MatchingItem) -> list[Fit] | None:
    """For each keyed pair, its best fit to its own word and to any other word (None without an embedder)."""
    if judge.embed is None:
        return None
    words = list(item.answer)
    refs = {w: references(judge, w) for w in words}
    texts = list(dict.fromkeys([*item.answer.values(), *(r for w in words for r in refs[w])]))
    vectors = unit_vectors(judge, texts)
    row = {t: i for i, t in enumerate(texts)}
    result = []
    for word, meaning in item.answer.items():
        m = vectors[row[meaning]]
        scores = {w: [(float(vectors[row[r]] @ m), r) for r in refs[w]] or [(0.0, "")] for w in words}
        own, ref = max(scores[word])
        others = [(max(scores[w])[0], w) for w in words if w != word]
        other, other_word = max(others) if others else (0.0, "")
        result.append(Fit(word, meaning, own, other, other_word, ref))
    return result


def references(judge: Judge, word: str) -> list[str]:
    """What WordNet says a word means: the glosses of all its senses, whole and plain, and its synonyms."""
    senses = _senses(judge, word)
    glosses = [g for s in senses for g in (s.gloss, plain_gloss(s.gloss))]
    synonyms = [w for s in senses for w in s.words if w.lower() != word.lower()]
    return list(dict.fromkeys(t for t in [*glosses, *synonyms] if t))


def _senses(judge: Judge, word: str) -> list[Synset]:
    """WordNet senses of a word under every part of speech, of the form itself and of its lemma."""
    wordnet = judge.lexicon.wordnet
    lemma = judge.lexicon.level_of(word).lemma if word.strip() else word
    forms = dict.fromkeys([word.strip().lower(), lemma.lower()])
    return list({s.id: s for f in forms for s in wordnet.senses(f)}.values())


def _meaning_problems(judge: Judge, item: MatchingItem) -> list[Violation]:
    """Meanings that fit no sense of their word, or fit another word of the item about as well."""
    found = fits(judge, item)
    if found is None:
        return [problem("meaning", "the meanings could not be checked (no sentence embedder)", warning=True)]
    problems = []
    for fit in found:
        evidence: dict[str, Any] = {
            "word": fit.word, "meaning": fit.meaning, "fit": round(fit.own, 3), "closest": fit.reference,
        }  # fmt: skip
        if not _senses(judge, fit.word):
            problems.append(
                problem("meaning", f"'{fit.word}' is not in WordNet, so its meaning cannot be checked", word=fit.word)
            )
        elif relative := gives_away(judge, fit.word, fit.meaning):
            problems.append(problem("meaning", f"the meaning of '{fit.word}' gives it away ('{relative}')", **evidence))
        elif fit.own < MIN_FIT:
            problems.append(problem("meaning", f"'{fit.meaning}' matches no WordNet sense of '{fit.word}'", **evidence))
        elif fit.own < SURE_FIT and (head := wrong_kind(judge, fit.word, fit.meaning)):
            problems.append(
                problem("meaning", f"'{fit.word}' is not a kind of '{head}' in WordNet", head=head, **evidence)
            )
        elif fit.own - fit.other < judge.thresholds.matching_margin or fit.other >= MAX_OTHER:
            problems.append(
                problem(
                    "ambiguous_key",
                    f"'{fit.meaning}' fits '{fit.other_word}' about as well as '{fit.word}'",
                    other=fit.other_word,
                    other_fit=round(fit.other, 3),
                    **evidence,
                )
            )
    return problems


def gives_away(judge: Judge, word: str, meaning: str) -> str | None:
    """A word of the meaning that is the word or a relative of it ('actress' = 'a female actor'), or None."""
    lemma = judge.lexicon.level_of(word).lemma.lower()
    family = {w.lower() for w, _ in judge.lexicon.wordnet.family(lemma)} | {lemma, word.lower()}
    for token in analyze(meaning):
        forms = {token.lower, token.lemma.lower(), *token.lower.split("-")}
        if token.is_word and (forms & family or any(_related_spelling(f, lemma) for f in forms)):
            return token.text
    return None


def _related_spelling(a: str, b: str) -> bool:
    """Whether two spellings look like one word's relatives.

    They share all but their last two letters (absent/absence, actor/actress, cook/cooker) or, from four letters,
    three fifths of the shorter (sponsorship/sponsoring), or one of five letters or more is inside the other
    (tourism/ecotourism).
    """
    common = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    shorter, longer = sorted((a, b), key=len)
    near = common >= 3 and (common >= len(shorter) - 2 or (common >= 4 and common >= 0.6 * len(shorter)))
    return near or (len(shorter) >= 5 and shorter in longer)


def wrong_kind(judge: Judge, word: str, meaning: str) -> str | None:
    """The head noun of a noun's definition when WordNet does not relate it to the word ('laundry' = 'a room').

    A definition names a kind of thing and then narrows it; the kind must be the word itself, one of its
    hypernyms (at any distance, but not the top of the hierarchy), a synonym, or a sibling under a shared hypernym
    ('lion' = 'a large cat'). Generic heads ('a person who ...') and heads WordNet does not know pass.
    """
    if meaning.lower().startswith("to ") or not judge.lexicon.wordnet.has(word, "noun"):
        return None
    head = _head_noun(judge, analyze(meaning))
    if head is None or head in GENERIC_HEADS:
        return None
    kinds = _kinds(judge, word)
    wordnet = judge.lexicon.wordnet
    near = {
        head,
        *(w.lower() for s in wordnet.senses(head, "noun") for w in s.words),
        *map(str.lower, wordnet.related(head, "noun")),
    }
    return None if near & kinds else head


def _head_noun(judge: Judge, tokens: list[Token]) -> str | None:
    """A definition's head noun: the last of its first run of nouns, past 'a piece of' and 'one of the'.

    None when the definition does not open with a noun phrase, or its head is a name WordNet does not know.
    """
    words = [t for t in tokens if t.is_word]
    for i, token in enumerate(words[:6]):
        if token.upos == "NOUN" or (token.lower == "one" and i == 0):
            run = [token]
            while i + len(run) < len(words) and words[i + len(run)].upos == "NOUN":
                run.append(words[i + len(run)])
            last, after = run[-1], i + len(run)
            if last.lemma.lower() in OF_HEADS | {"one"} and after < len(words) and words[after].lower == "of":
                return _head_noun(judge, words[after + 1 :])
            forms = (last.lower, last.lemma.lower())
            return next((f for f in forms if judge.lexicon.wordnet.has(f, "noun")), None)
        if token.upos not in ("DET", "ADJ", "ADV", "NUM") and token.tag not in ("VBN", "VBG"):
            return None
    return None


def _kinds(judge: Judge, word: str) -> set[str]:
    """What a noun is a kind of in WordNet: itself, synonyms, hypernyms near and far, and their head words."""
    wordnet = judge.lexicon.wordnet
    senses = [s for s in _senses(judge, word) if s.pos == "n"]
    lemma = judge.lexicon.level_of(word).lemma
    names = {word.lower(), lemma.lower(), *(w.lower() for s in senses for w in (*s.words, *s.hypernyms))}
    names |= {a.lower() for f in (word, lemma) for a in wordnet.ancestors(f, "noun")}
    names |= {n.rsplit(" ", 1)[-1] for n in names if " " in n}
    return names - TOP_NODES


def _link_problems(judge: Judge, item: MatchingItem, mode: Mode) -> list[Violation]:
    """Options that are not WordNet opposites (or synonyms) of their word, or are of another word too."""
    problems = []
    relation = "an opposite" if mode == "opposite" else "a word of the same meaning"
    for word, option in item.answer.items():
        if option.lower() not in linked(judge, word, mode):
            problems.append(problem("meaning", f"'{option}' is not {relation} of '{word}' in WordNet", word=word))
        also = [w for w in item.answer if w != word and option.lower() in linked(judge, w, mode)]
        if also:
            problems.append(
                problem("ambiguous_key", f"'{option}' is also {relation} of '{also[0]}'", word=word, other=also[0])
            )
    return problems


def linked(judge: Judge, word: str, mode: Mode) -> set[str]:
    """Lower-cased WordNet antonyms ('opposite') or synonyms of a word, under any part of speech."""
    wordnet = judge.lexicon.wordnet
    lemma = judge.lexicon.level_of(word).lemma
    forms = dict.fromkeys([word.lower(), lemma.lower()])
    if mode == "opposite":
        return {w.lower() for f in forms for w, _ in wordnet.antonyms(f)}
    return {w.lower() for f in forms for w in wordnet.synonyms(f) if w.lower() not in forms}


def _below_level(judge: Judge, item: MatchingItem) -> list[Violation]:
    """Words two or more levels below the item's level (a warning), three or more (blocking)."""
    found = []
    for word in item.words:
        level = judge.lexicon.level_of(word).level
        if level is None:
            continue
        below = item.level.rank - level.rank
        if below >= WARN_BELOW:
            found.append(
                problem(
                    "too_easy",
                    f"'{word}' is {level}, {below} levels below {item.level}",
                    warning=below < BLOCK_BELOW,
                    word=word,
                    level=level.value,
                )
            )
    return found


def level_floor(level: Level) -> Level:
    """The lowest word level a matching item at `level` should use without a warning (one level below)."""
    return Level.from_rank(max(1, level.rank - WARN_BELOW + 1))


def unit_vectors(judge: Judge, texts: list[str]) -> np.ndarray:
    """Unit MiniLM vectors of texts in one call (zeros without an embedder), timed as the judge's model time."""
    if judge.embed is None:
        return np.zeros((len(texts), 1))
    start = time.perf_counter()
    try:
        vectors = np.asarray(judge.embed(texts), dtype=np.float64)
    finally:
        judge.model_s += time.perf_counter() - start
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9, None)
