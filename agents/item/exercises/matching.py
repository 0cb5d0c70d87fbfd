"""Vocabulary matching: 4-6 topic words at the level, each with its WordNet meaning in words at the level, shuffled.

No meaning is written by a model. Each comes from WordNet: the gloss of the word's commonest sense for its part of
speech (WordNet orders senses by frequency), kept only where that sense is clearly the everyday one: no field label
such as '(computer science)', no pointer such as 'of or relating to', the bare word is not closer under MiniLM to a
later sense ('mansion' sense 1 is astrology, 'aubergine' sense 1 is the plant), and the topic does not call for a
later sense ('microwave' in a kitchen). The gloss is trimmed (first definition, no asides that narrow it) and
simplified to the level as the tutor does: words above the level are replaced by listed synonyms at the level of
their commonest sense, kept only if the result still says the same (MiniLM) and at most a tenth of its words are
one level up (none two up). Verbs read 'to ...'; definitions with the word or a relative in them, or unfit for
class, are skipped.

Words come from the graph's topic targets near the topic (MiniLM), then from B1 on from listed words of the level
band nearest the topic; the band is the level and one below (A1 at A1; C1-C2 at C1 and C2). Words are distinct,
not synonyms, of one part of speech where enough are found (the instructions name it). The item is then judged by
the meaning check every matching item gets (`agents.item.meaning.matching`); a word it blocks is replaced. Where
too few meanings survive (typically A1-A2, where definitions need harder words than the words they define), words
are matched with WordNet opposites nearest the topic (each the other's first opposite, not made from one another),
then with words of the same commonest sense, both words in the band.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from agents.item.constraints import CONTENT_POS, WordChoice
from agents.item.exercises.base import BuildContext, failure, replace_span
from agents.item.meaning import matching as meaning_check
from agents.item.meaning.base import Judge
from knowledge.embeddings import embed
from knowledge.items import MatchingItem
from knowledge.levels import Level
from knowledge.lexicon import Lexicon, normalize_pos
from knowledge.nlp import analyze, inflect
from knowledge.wordnet import gloss_label, plain_gloss

INSTRUCTIONS = "Match each word with its meaning."
OPPOSITES = "Match each word with its opposite."
SAME = "Match each word with a word that means the same."
#: Meanings may use a few words one level up (they are read, not produced), but no more than this share.
MAX_ABOVE_SHARE = 0.1
#: Sense 1 is doubtful when the bare word is closer (MiniLM) to a later sense by more than DOUBT_GAP while
#: itself below DOUBT_FIT ('jungle': 0.28 'a location marked by intense competition'), or by more than FAR_GAP.
DOUBT_GAP, DOUBT_FIT, FAR_GAP = 0.05, 0.35, 0.2
#: ... or when the topic is closer to a later sense than to the first by more than this.
TOPIC_SENSE_GAP = 0.1
#: How many of a word's senses compete with sense 1 in that test.
RIVAL_SENSES = 4
#: A simplified gloss must stay this close (MiniLM cosine) to WordNet's own words.
SAME_SENSE = 0.95
#: An opposite must be at least this close to its word (MiniLM): antonyms of the same sense are near in use.
OPPOSITE_FIT = 0.35
#: How many band words nearest the topic are tried when the graph's targets give too few meanings, and from
#: which level (below it the graph's targets suffice, and ranking the larger B1-B2 bands costs seconds).
BAND_WORDS, BAND_FROM = 40, Level.B1
#: A word must be at least this near the topic (MiniLM cosine of the bare word and the topic): measured on the
#: graph's targets for four topics, topical words scored 0.28-0.83 and words matched by accident 0.07-0.25.
TOPIC_FIT = 0.27
#: The band words are the nearest of their band already; this only drops the clearly unrelated among them.
BAND_TOPIC_FIT = 0.15
#: How many opposite (or synonym) pairs are collected before they are ranked by the topic.
LINKED_POOL = 120
#: Words that make a definition unfit to photocopy for a class ('exhibitionist' is defined by the genitals).
NOT_FOR_CLASS = frozenset({
    "genitals", "genital", "genitalia", "sexual", "sex", "intercourse", "erotic", "penis", "vagina", "prostitute",
    "prostitution", "masturbation", "orgasm", "obscene", "copulation", "copulate", "pornography", "rape",
})  # fmt: skip
#: Meaning length bounds, in words.
MIN_WORDS, MAX_WORDS = 3, 16


@dataclass(frozen=True)
class Pair:
    """A word of the item and its option (meaning, opposite or word of the same meaning)."""

    word: str
    pos: str
    option: str


def pair_count(level: Level) -> int:
    """How many pairs an item has: 4 at A1-A2, 5 at B1-B2, 6 at C1-C2."""
    return 4 if level <= Level.A2 else 5 if level <= Level.B2 else 6


def lowest_level(level: Level) -> Level:
    """The lowest word level an item at `level` uses: one below (A1 at A1; C1 at C2 and at C1)."""
    if level >= Level.C1:
        return Level.C1
    return Level.from_rank(max(1, level.rank - 1))


def build(build: BuildContext) -> MatchingItem:
    """Words with checked WordNet meanings, else opposites, else words of the same meaning; else a clear failure."""
    judge = Judge(lexicon=build.kit.lexicon, level=build.level, embed=embed)
    need = pair_count(build.level)
    pairs = _choose(build, judge, _varied(build, _meanings(build, judge), need), INSTRUCTIONS, need)
    instructions = _instructions(pairs)
    if len(pairs) < need:
        build.note("fallback", f"only {len(pairs)} of {need} meanings are true and within the level; opposites")
        pairs, instructions = _choose(build, judge, _linked(build, judge, "opposite"), OPPOSITES, need), OPPOSITES
    if len(pairs) < need:
        build.note("fallback", f"only {len(pairs)} of {need} opposites; words of the same meaning")
        pairs, instructions = _choose(build, judge, _linked(build, judge, "synonym"), SAME, need), SAME
    build.note("meaning_check_s", round(judge.model_s, 3))
    if len(pairs) < need:
        raise failure(f"only {len(pairs)} of {need} words got a checked meaning, opposite or synonym")
    return _item(build, pairs, instructions)


def _varied(build: BuildContext, pairs: list[Pair], need: int) -> list[Pair]:
    """The candidates with the first two items' worth shuffled by the request's seed.

    The items of one set then differ, while each stays among the words nearest the topic.
    """
    head, tail = pairs[: 2 * need], pairs[2 * need :]
    build.rng.shuffle(head)
    return head + tail


def _item(build: BuildContext, pairs: list[Pair], instructions: str) -> MatchingItem:
    """The item: words in order, options shuffled so that no option sits beside its word."""
    answer = {p.word: p.option for p in pairs}
    options = [p.option for p in pairs]
    build.rng.shuffle(options)
    if any(o == p.option for o, p in zip(options, pairs, strict=True)):
        options = [p.option for p in pairs[1:] + pairs[:1]]
    return MatchingItem(
        level=build.level,
        topic=build.constraints.topic,
        instructions=instructions,
        words=list(answer),
        options=options,
        answer=answer,
    )


def _instructions(pairs: list[Pair]) -> str:
    """The meaning instructions, naming the part of speech when all words share one."""
    kinds = {p.pos for p in pairs}
    return f"Match each {kinds.pop()} with its meaning." if len(kinds) == 1 else INSTRUCTIONS


def _choose(build: BuildContext, judge: Judge, candidates: list[Pair], instructions: str, need: int) -> list[Pair]:
    """`need` distinct candidates (one POS if possible) that pass the meaning check together, or fewer."""
    chosen: list[Pair] = []
    rejected: set[str] = set()
    for group in _by_pos(candidates, need):
        chosen, rejected = [], set()
        while True:
            pool = [c for c in group if c.word not in rejected and c not in chosen]
            chosen += _distinct(build, chosen, pool, need - len(chosen))
            if len(chosen) < need:
                break
            bad = _failing(build, judge, chosen, instructions)
            if not bad:
                return chosen
            rejected |= bad
            chosen = [c for c in chosen if c.word not in bad]
    return chosen


def _by_pos(candidates: list[Pair], need: int) -> list[list[Pair]]:
    """Candidate groups to try: each part of speech with enough words (largest first), then all of them mixed."""
    groups = [[c for c in candidates if c.pos == pos] for pos in CONTENT_POS]
    full = sorted((g for g in groups if len(g) >= need), key=len, reverse=True)
    return [*full, candidates]


def _distinct(build: BuildContext, kept: list[Pair], pool: list[Pair], count: int) -> list[Pair]:
    """Up to `count` pool pairs whose words and options clash with no kept or chosen one (lemma, stem, synonym)."""
    chosen: list[Pair] = []
    for pair in pool:
        if len(chosen) == count:
            break
        if not any(_clash(build, pair, other) for other in [*kept, *chosen]):
            chosen.append(pair)
    return chosen


def _clash(build: BuildContext, a: Pair, b: Pair) -> bool:
    """Whether two pairs cannot share an item: same stem, synonyms, one's word in the other's option, same option."""
    words = {a.word.lower(), b.word.lower()}
    if len(words) == 1 or a.word.lower()[:4] == b.word.lower()[:4] or a.option == b.option:
        return True
    synonyms = {s.lemma.lower() for s in build.kit.lexicon.synonyms(a.word, a.pos)}
    mentions = {t.lemma.lower() for t in analyze(a.option) if t.is_word} | {
        t.lemma.lower() for t in analyze(b.option) if t.is_word
    }
    return b.word.lower() in synonyms or bool(words & mentions) or b.option.lower() == a.word.lower()


def _failing(build: BuildContext, judge: Judge, pairs: list[Pair], instructions: str) -> set[str]:
    """Words of the pairs that the meaning check blocks (all of them if a problem names no word)."""
    item = _item(build, pairs, instructions)
    problems = [v for v in meaning_check.check(judge, item) if v.blocking]
    for v in problems:
        build.note("meaning_check", {"word": v.evidence.get("word"), "problem": v.message})
    named = {str(v.evidence["word"]) for v in problems if v.evidence.get("word")}
    return named or ({p.word for p in pairs} if problems else set())


# --- meanings from WordNet ------------------------------------------------------------------------------------


def _targets(build: BuildContext) -> list[WordChoice]:
    """The graph's topic targets that an item at the level may use: single words of the level band."""
    floor = lowest_level(build.level)
    return [
        w for w in build.constraints.targets(CONTENT_POS) if " " not in w.word and _in_band(build, w.word, w.pos, floor)
    ]


def _band_words(build: BuildContext, exclude: set[str]) -> list[WordChoice]:
    """Listed words of the level band closest to the topic (MiniLM), for when the graph's targets are too few.

    At C1-C2 the graph's topic words are mostly below the level; these keep the item at the level and near the
    topic instead of falling back on opposites at once. Only nouns and verbs of the WordNet lexicographer files
    of the graph's targets are ranked (the topic's kinds of things; embedding a whole band costs seconds).
    """
    lexicon, floor = build.kit.lexicon, lowest_level(build.level)
    files = {s.lexname for w in build.constraints.targets() for s in lexicon.senses(w.word, w.pos)[:1]}
    groups = [_file_vectors(lexicon, floor, build.level, f) for f in sorted(files) if f.startswith(("noun.", "verb."))]
    words = [w for ws, _ in groups for w in ws]
    if not words:
        return []
    vectors = np.vstack([v for ws, v in groups if ws])
    topic = np.asarray(embed([build.constraints.topic]), dtype=np.float64)[0]
    order = np.argsort(-(vectors @ topic))
    near = (words[i] for i in order if words[i].word.lower() not in exclude)
    return [w for w in near if _in_band(build, w.word, w.pos, floor)][:BAND_WORDS]


@cache
def _file_vectors(lexicon: Lexicon, floor: Level, level: Level, lexname: str) -> tuple[list[WordChoice], np.ndarray]:
    """Single words listed from `floor` to `level` whose first sense is in a lexicographer file, with vectors.

    MiniLM vectors of the bare words, computed once per process and file.
    """
    pos = "noun" if lexname.startswith("noun.") else "verb"
    words = [
        WordChoice(word=e.headword, pos=e.pos, level=e.level, node=f"word:{e.key}", source=e.citation)
        for e in lexicon.entries(max_level=level, pos=pos)
        if e.level >= floor and " " not in e.headword
        and [s.lexname for s in lexicon.wordnet.senses(e.headword, e.pos)[:1]] == [lexname]
    ]  # fmt: skip
    if not words:
        return [], np.zeros((0, 1))
    return words, np.asarray(embed([w.word for w in words]), dtype=np.float64)


def _meanings(build: BuildContext, judge: Judge) -> list[Pair]:
    """Targets with a usable meaning from WordNet, in the graph's order; then band words nearest the topic."""
    pairs = _meanings_of(build, judge, _on_topic(build, _targets(build)))
    if build.level >= BAND_FROM and len(pairs) < 2 * pair_count(build.level):
        seen = {w.word.lower() for w in build.constraints.targets()}
        pairs += _meanings_of(build, judge, _on_topic(build, _band_words(build, seen), BAND_TOPIC_FIT))
    return pairs


def _on_topic(build: BuildContext, words: list[WordChoice], least: float = 0.0) -> list[WordChoice]:
    """The words whose bare form is near the topic under MiniLM.

    The graph's list can hold words it matched only by a function word of the topic ('accessibility' for 'a
    trip to the zoo').
    """
    if not words:
        return []
    vectors = np.asarray(embed([build.constraints.topic, *(w.word for w in words)]), dtype=np.float64)
    sims = vectors[1:] @ vectors[0]
    floor = least or TOPIC_FIT
    for word, sim in zip(words, sims, strict=True):
        if sim < floor:
            build.note("meanings", {"word": word.word, "meaning": None, "rejected": f"off the topic ({sim:.2f})"})
    return [w for w, sim in zip(words, sims, strict=True) if sim >= floor]


def _meanings_of(build: BuildContext, judge: Judge, words: list[WordChoice]) -> list[Pair]:
    """The words that have a usable meaning from WordNet, with it."""
    pairs = []
    for word in words:
        meaning, reason = _meaning(build, judge, word)
        build.note("meanings", {"word": word.word, "meaning": meaning, "rejected": reason or None})
        if meaning:
            pairs.append(Pair(word.word, word.pos, meaning))
    return pairs


def _meaning(build: BuildContext, judge: Judge, word: WordChoice) -> tuple[str | None, str]:
    """The word's commonest-sense gloss, trimmed and simplified to the level, or None and why not."""
    wordnet = build.kit.lexicon.wordnet
    # The form itself first: 'premises' (a building) is not the plural of 'premise' (a statement).
    exact = wordnet.senses(word.word, word.pos) if wordnet.has(word.word, word.pos) else []
    senses = exact or build.kit.lexicon.senses(word.word, word.pos)
    if not senses:
        return None, "not in WordNet"
    label = gloss_label(senses[0])
    if label:
        return None, label
    glosses = [s.gloss for s in senses[:RIVAL_SENSES]]
    if _doubtful_first_sense(judge, word.word, glosses):
        return None, "the word is closer to a later WordNet sense than to the first"
    if _doubtful_first_sense(judge, build.constraints.topic, glosses, masked=word.word, gap=TOPIC_SENSE_GAP):
        return None, "the topic calls for a later WordNet sense than the first"
    original = _as_definition(plain_gloss(senses[0].gloss), word.pos)
    if not original:
        return None, f"the gloss does not read as a definition of a {word.pos}: {senses[0].gloss[:40]!r}"
    meaning = _simplify(build, original)
    reason = _meaning_problem(build, judge, word, meaning)
    if not reason and meaning != original and _similarity(judge, meaning, original) < SAME_SENSE:
        reason = f"simplified to {meaning!r}, which no longer says the same"
    return (None, reason) if reason else (meaning, "")


def _as_definition(gloss: str, pos: str) -> str:
    """The gloss as a learner's dictionary puts it: 'to ...' for a verb; '' when its shape does not fit the POS.

    A noun's definition opens with a noun phrase ('works for an expert to learn a trade' does not define
    'apprentice' as a thing, though the tagger reads 'works' as a plural), a verb's with a verb.
    """
    tokens = [t for t in analyze(gloss) if t.is_word]
    if not tokens:
        return ""
    first = tokens[0]
    if pos == "verb":
        return f"to {gloss}" if first.upos == "VERB" or first.tag.startswith("VB") else ""
    opens_clause = first.tag == "NNS" and len(tokens) > 1 and tokens[1].upos in ("ADP", "DET")
    if pos == "noun" and (first.tag in ("VBZ", "VBD", "VBP") or first.upos in ("ADP", "AUX") or opens_clause):
        return ""
    return gloss


def _doubtful_first_sense(
    judge: Judge, text: str, glosses: list[str], *, masked: str = "", gap: float | None = None
) -> bool:
    """Whether a text is closer (MiniLM) to a later sense than to the first: sense 1 is not the one meant.

    With the bare word as the text: sense 1 is not the usual one. With the topic (and `gap`): the topic calls
    for another sense ('microwave' in 'cooking at home' is the oven, not the wave). The word and its relatives are
    masked in the glosses first ('the quantity contained in a box' is not closer to 'box' for saying 'box').
    """
    if len(glosses) < 2 or judge.embed is None:
        return False
    word = masked or text
    vectors = meaning_check.unit_vectors(judge, [text, *(_masked(word, g) for g in glosses)])
    sims = vectors[1:] @ vectors[0]
    distance = float(np.max(sims[1:]) - sims[0])
    if gap is not None:
        return distance > gap
    return distance > FAR_GAP or (distance > DOUBT_GAP and sims[0] < DOUBT_FIT)


def _masked(word: str, text: str) -> str:
    """The text without the word and words spelt like it (box, boxes; lion, lionized)."""
    stem = word.lower()[: max(3, len(word) - 2)]
    return " ".join(w for w in text.split() if not w.lower().startswith(stem))


def _similarity(judge: Judge, a: str, b: str) -> float:
    """MiniLM cosine of two texts (1.0 without an embedder: nothing to compare with)."""
    found = judge.similarity(a, b)
    return 1.0 if found is None else found


def _simplify(build: BuildContext, gloss: str) -> str:
    """The gloss with each word above the level replaced by a listed synonym at the level in its commonest sense.

    Only the commonest sense's synonyms are used (any sense's would change the meaning: 'appliance' ->
    'convenience'); a word without one stays, and the meaning is then too hard for the level.
    """
    text = gloss
    lexicon = build.kit.lexicon
    for token, _ in reversed(build.kit.above_level(analyze(gloss), build.level)):
        pos = normalize_pos(token.tag)
        senses = lexicon.senses(token.lemma, pos)
        simpler = [w for w in senses[0].words if " " not in w and w.lower() != token.lemma.lower()] if senses else []
        simpler = [w for w in simpler if _in_band(build, w, pos or "", Level.A1)]
        if simpler:
            text = replace_span(text, token.start, token.end, inflect(simpler[0], token.tag))
    return text


def _meaning_problem(build: BuildContext, judge: Judge, word: WordChoice, meaning: str) -> str:
    """Why a meaning cannot be shown for the word (length, gives the word away, too hard, not for class), or ''."""
    tokens = [t for t in analyze(meaning) if t.is_word]
    if not MIN_WORDS <= len(tokens) <= MAX_WORDS:
        return f"{len(tokens)} words"
    if any(t.lemma.lower() in NOT_FOR_CLASS or t.lower in NOT_FOR_CLASS for t in tokens):
        return "not for the classroom"
    relative = meaning_check.gives_away(judge, word.word, meaning)
    if relative:
        return f"contains the word or a relative of it ({relative})"
    above = build.kit.above_level(tokens, build.level)
    far = [t for t, found in above if found.level is None or found.level.rank > build.level.rank + 1]
    if far or len(above) > MAX_ABOVE_SHARE * len(tokens):
        return "words above the level: " + ", ".join(t.text for t, _ in above)
    return ""


# --- opposites and words of the same meaning ------------------------------------------------------------------


def _linked(build: BuildContext, judge: Judge, mode: str) -> list[Pair]:
    """Word -> WordNet opposite (or synonym) pairs, both words in the level band, nearest the topic first.

    The graph's targets come first; then every listed word of the band with a partner, ranked by MiniLM
    similarity to the topic ('wet' - 'dry' before 'sell' - 'buy' for a rainy weekend).
    """
    floor = lowest_level(build.level)
    heads = [(w.word, w.pos) for w in _on_topic(build, _targets(build))]
    general = [
        (e.headword, e.pos)
        for pos in ("adjective", "verb", "adverb", "noun")
        for e in build.kit.lexicon.entries(max_level=build.level, pos=pos)
        if e.level >= floor and " " not in e.headword
    ]
    build.rng.shuffle(general)
    found: list[Pair] = []
    for headword, pos in [*heads, *general]:
        if len(found) >= LINKED_POOL:
            break
        if _in_band(build, headword, pos, floor):
            found += [Pair(headword, pos, other) for other in _partners(build, judge, headword, pos, mode)]
    pairs = _nearest_topic(build, found[: len(heads)]) + _nearest_topic(build, found[len(heads) :])
    return _unique(pairs)


def _nearest_topic(build: BuildContext, pairs: list[Pair]) -> list[Pair]:
    """Pairs ordered by MiniLM similarity of 'word option' to the topic, nearest first."""
    if len(pairs) < 2:
        return pairs
    vectors = np.asarray(embed([build.constraints.topic, *(f"{p.word} {p.option}" for p in pairs)]), dtype=np.float64)
    sims = vectors[1:] @ vectors[0]
    return [pairs[i] for i in np.argsort(-sims)]


def _unique(pairs: list[Pair]) -> list[Pair]:
    """The pairs without any word used twice (as a word or as an option)."""
    used: set[str] = set()
    kept = []
    for pair in pairs:
        words = {pair.word.lower(), pair.option.lower()}
        if not words & used:
            kept.append(pair)
            used |= words
    return kept


def _partners(build: BuildContext, judge: Judge, word: str, pos: str, mode: str) -> list[str]:
    """Single-word opposites (or synonyms of the commonest sense) of the word, listed within the level band.

    Only words whose first sense is a plain one; opposites must be of that sense as far as the data shows (the
    closest under MiniLM of the listed ones, and close enough: 'conventional' - 'nuclear' is the weapons sense) and
    not made from the word by a prefix ('tangled' - 'untangled' gives itself away).
    """
    lexicon = build.kit.lexicon
    senses = lexicon.senses(word, pos)
    if " " in word or not senses or gloss_label(senses[0]):
        return []
    if mode == "opposite":  # each the other's first opposite: 'second' - 'first', but 'first' - 'last'
        found = [w for w, _ in lexicon.wordnet.antonyms(word, pos) if _first_opposite(build, w, pos) == word.lower()]
    else:  # words whose own commonest sense is this one: 'fiend' is not first of all a 'fanatic'
        found = [
            w for w in senses[0].words if w.lower() != word.lower() and _first_sense_is(build, w, pos, senses[0].id)
        ]
    found = [o for o in found if " " not in o and not _same_stem(word, o)]
    if mode == "opposite" and found and judge.embed is not None:
        vectors = meaning_check.unit_vectors(judge, [word, *found])
        sims = vectors[1:] @ vectors[0]
        found = [found[int(np.argmax(sims))]] if float(np.max(sims)) >= OPPOSITE_FIT else []
    return [o for o in found[:1] if _in_band(build, o, pos, lowest_level(build.level))]


def _first_opposite(build: BuildContext, word: str, pos: str) -> str:
    """A word's first WordNet opposite for the POS, lower-cased ('' if none)."""
    found = build.kit.lexicon.wordnet.antonyms(word, pos)
    return found[0][0].lower() if found else ""


def _first_sense_is(build: BuildContext, word: str, pos: str, synset: int) -> bool:
    """Whether a word's commonest sense for the POS is the given WordNet synset."""
    senses = build.kit.lexicon.senses(word, pos)
    return bool(senses) and senses[0].id == synset


def _spelling(word: str) -> str:
    """A word with British/American spelling differences evened out (manoeuvre, maneuver -> manever)."""
    text = word.lower().replace("oe", "e").replace("ae", "e").replace("our", "or").replace("ise", "ize")
    return text[:-2] + "er" if text.endswith("re") else text


def _same_stem(a: str, b: str) -> bool:
    """Whether the words are made from one another or are spellings of one word.

    tangled/untangled, hopeful/hopeless, underestimate/overestimate (a shared ending of five letters),
    scrutinize/scrutinise.
    """
    x, y = _spelling(a), _spelling(b)
    prefix = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y)))
    if prefix >= 4 and prefix * 2 >= min(len(x), len(y)):
        return True
    suffix = next((i for i, (p, q) in enumerate(zip(x[::-1], y[::-1], strict=False)) if p != q), min(len(x), len(y)))
    return x in y or y in x or _edits(x, y) <= 2 or suffix >= 5


def _edits(a: str, b: str) -> int:
    """Levenshtein distance of two short strings."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def _in_band(build: BuildContext, word: str, pos: str, floor: Level) -> bool:
    """Whether a word is listed (under the POS) between the floor and the item's level, in any reading of it."""
    lexicon = build.kit.lexicon
    found = [lexicon.level_of(word, pos or None), lexicon.level_of(word)]
    return all(f.is_listed and f.level is not None and floor <= f.level <= build.level for f in found)
