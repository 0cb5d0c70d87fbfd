"""Vocabulary matching: 4-6 topic words at the level and a short meaning for each, shuffled.

Meanings come from the writer (few-shot, in words at the level) or, failing that, from WordNet glosses; a meaning is
kept only if it does not contain its word or a relative of it, is 3-16 words long, and stays within the level.
Words are distinct lemmas and not synonyms of each other, so each meaning fits exactly one word. When too few
meanings stay within the level (typical at A1, where definitions need harder words than the words they define),
the item matches words with their opposites instead: WordNet antonym pairs with both words at or below the level.
"""

from __future__ import annotations

from agents.item.constraints import WordChoice
from agents.item.exercises.base import BuildContext, failure
from agents.item.writers import SentenceSpec
from knowledge.items import MatchingItem
from knowledge.levels import Level
from knowledge.nlp import analyze

INSTRUCTIONS = "Match each word with its meaning."
OPPOSITES = "Match each word with its opposite."
#: Meanings may use a few words one level up (they are read, not produced), but no more than this share.
MAX_ABOVE_SHARE = 0.1
MEANING_TRIES = 2


def pair_count(level: Level) -> int:
    """How many pairs an item has: 4 at A1-A2, 5 at B1-B2, 6 at C1-C2."""
    return 4 if level <= Level.A2 else 5 if level <= Level.B2 else 6


def _meaning_ok(build: BuildContext, word: WordChoice, meaning: str) -> str:
    """Why a meaning cannot be used for the word, or '' if it can."""
    tokens = [t for t in analyze(meaning) if t.is_word]
    if not 3 <= len(tokens) <= 16:
        return f"{len(tokens)} words"
    stem = word.word.lower()[:4]
    if any(t.lemma.lower() == word.word.lower() or t.lower.startswith(stem) for t in tokens):
        return "contains the word or a relative of it"
    above = build.kit.above_level(tokens, build.level)
    if len(above) > MAX_ABOVE_SHARE * len(tokens):
        return "words above the level: " + ", ".join(t.text for t, _ in above)
    return ""


def _meaning(build: BuildContext, word: WordChoice) -> str | None:
    """A usable meaning for the word: the writer's first, then WordNet's gloss."""
    spec = SentenceSpec(word=word.word, pos=word.pos, level=build.level)
    drafts = [d.text for d in build.writer.meanings(spec, MEANING_TRIES, build.seed * 31)]
    gloss = build.kit.lexicon.gloss(word.word, word.pos)
    for text in [*drafts, *([gloss] if gloss else [])]:
        reason = _meaning_ok(build, word, text)
        build.note("meanings", {"word": word.word, "meaning": text, "rejected": reason or None})
        if not reason:
            return text
    return None


def _distinct(build: BuildContext, words: list[WordChoice]) -> list[WordChoice]:
    """Words with different lemmas and stems that are not synonyms of each other, in order."""
    kept: list[WordChoice] = []
    for word in words:
        synonyms = {s.lemma.lower() for s in build.kit.lexicon.synonyms(word.word, word.pos)}
        clash = any(k.word.lower() in synonyms or k.word.lower()[:4] == word.word.lower()[:4] for k in kept)
        if not clash and " " not in word.word:
            kept.append(word)
    return kept


def _opposites(build: BuildContext, need: int) -> dict[str, str]:
    """Word -> opposite for `need` WordNet antonym pairs with both words at or below the level, no word twice."""
    lexicon = build.kit.lexicon
    pairs: dict[str, str] = {}
    used: set[str] = set()
    entries = [e for pos in ("adjective", "verb", "adverb") for e in lexicon.entries(max_level=build.level, pos=pos)]
    build.rng.shuffle(entries)
    for entry in entries:
        for word, _ in lexicon.wordnet.antonyms(entry.headword, entry.pos):
            level = lexicon.level_of(word, entry.pos).level
            if level is None or level > build.level or {entry.headword, word} & used or " " in word:
                continue
            pairs[entry.headword] = word
            used |= {entry.headword, word}
            break
        if len(pairs) == need:
            break
    return pairs


def build(build: BuildContext) -> MatchingItem:
    """Collect words with usable meanings until the item has enough pairs; else match words with opposites."""
    need = pair_count(build.level)
    answer: dict[str, str] = {}
    for word in _distinct(build, build.constraints.targets()):
        meaning = _meaning(build, word)
        if meaning and meaning not in answer.values():
            answer[word.word] = meaning
        if len(answer) == need:
            break
    instructions = INSTRUCTIONS
    if len(answer) < need:
        build.note("fallback", f"only {len(answer)} of {need} meanings within the level; matching opposites")
        answer, instructions = _opposites(build, need), OPPOSITES
    if len(answer) < need:
        raise failure(f"only {len(answer)} of {need} words got a usable meaning or opposite", words=list(answer))
    words = list(answer)
    options = list(answer.values())
    build.rng.shuffle(options)
    if options == [answer[w] for w in words]:
        options = options[1:] + options[:1]
    return MatchingItem(
        level=build.level,
        topic=build.constraints.topic,
        instructions=instructions,
        words=words,
        options=options,
        answer=answer,
    )
