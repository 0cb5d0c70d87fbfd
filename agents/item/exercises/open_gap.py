"""Open cloze: a model-written sentence with one grammar word gapped (article, preposition, auxiliary, ...).

Which word to gap is decided by code: a function word of a class the level practises. The local model then scores
every member of that class in the gap; the gap is kept only if the original word clearly wins, and any other
word nearly as likely is listed as an accepted answer (at most one), so the key is never ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.item.exercises.base import HUMAN_TARGETS, BuildContext, failure, replace_span, sentences_for
from agents.item.meaning.sentences import FUNCTION_WORDS, MODALS, takes_only
from knowledge.items import GAP, OpenGapItem
from knowledge.levels import Level
from knowledge.nlp import Token

INSTRUCTIONS = "Write one word in the gap."


@dataclass(frozen=True)
class FocusClass:
    """A class of grammar words that can be gapped, and how to recognise one in tagged text."""

    name: str
    tags: frozenset[str]
    words: tuple[str, ...]


CLASSES = (
    FocusClass("article", frozenset({"DT"}), ("a", "an", "the")),
    FocusClass(
        "preposition",
        frozenset({"IN", "TO"}),
        ("in", "on", "at", "to", "for", "with", "from", "of", "by", "about", "into"),
    ),
    FocusClass(
        "pronoun",
        frozenset({"PRP", "PRP$"}),
        ("he", "she", "it", "they", "we", "his", "her", "their", "its", "our", "my", "your"),
    ),
    FocusClass(
        "auxiliary",
        frozenset({"VBZ", "VBP", "VBD", "MD"}),
        ("is", "are", "was", "were", "has", "have", "had", "do", "does", "did", "will", "can"),
    ),
    FocusClass("conjunction", frozenset({"CC", "IN"}), ("and", "but", "or", "because", "so", "when", "if", "although")),
)
#: Classes each level practises first (later ones are fallbacks).
ORDER: dict[Level, tuple[str, ...]] = {
    Level.A1: ("article", "pronoun", "preposition", "auxiliary"),
    Level.A2: ("preposition", "article", "auxiliary", "pronoun"),
    Level.B1: ("preposition", "auxiliary", "conjunction", "article"),
}
_DEFAULT_ORDER = ("conjunction", "preposition", "auxiliary", "article")


def _focus_of(token: Token) -> FocusClass | None:
    """The class a token belongs to, if it is a gappable grammar word."""
    for cls in CLASSES:
        if token.tag in cls.tags and token.lower in cls.words:
            return cls
    return None


def _candidates(build: BuildContext, tokens: list[Token]) -> list[tuple[Token, FocusClass]]:
    """Gappable tokens (not the first word), in the order the level prefers their classes."""
    order = ORDER.get(build.level, _DEFAULT_ORDER)
    found = [
        (t, c) for t in tokens[1:] if (c := _focus_of(t)) is not None and c.name in order and t.lower not in MODALS
    ]
    return sorted(found, key=lambda pair: order.index(pair[1].name))


def _judge(
    build: BuildContext, sentence: str, token: Token, cls: FocusClass
) -> tuple[bool, list[str], dict[str, float]]:
    """Score the class's words in the gap as the meaning check will: (one clear answer, close ones, all scores).

    The margins are the validator's (`agents.item.meaning.sentences`): a free preposition needs a wide one, a
    dependent preposition (interested in) the usual one; at most one close alternative becomes an accepted answer.
    """
    pool = FUNCTION_WORDS.get(cls.name, cls.words)
    alternatives = [w for w in pool if w != token.lower]
    forms = [token.text, *(_like(w, token.text) for w in alternatives)]
    scores = build.kit.score(sentence[: token.start], [f + sentence[token.end :] for f in forms])
    if scores is None:
        return True, [], {}
    free = cls.name == "preposition" and not takes_only(sentence[: token.start], token.lower)
    margin = build.thresholds.free_preposition_margin if free else build.thresholds.gap_margin
    best_other = max(scores[1:])
    close = [forms[i] for i in range(1, len(forms)) if scores[i] > scores[0] - margin]
    return scores[0] >= best_other and len(close) <= 1, close, dict(zip(forms, scores, strict=True))


def _like(word: str, model: str) -> str:
    """The word with the capitalisation of the one it replaces."""
    return word.capitalize() if model[:1].isupper() else word


def build(build: BuildContext) -> OpenGapItem:
    """Find a sentence with a grammar word whose gap has one clear answer (or one accepted alternative)."""
    for _, picked in sentences_for(build, build.constraints.targets()[:HUMAN_TARGETS], gap_target=False):
        for token, cls in _candidates(build, picked.tokens):
            ok, close, scores = _judge(build, picked.sentence, token, cls)
            build.note("gap_scores", {"sentence": picked.sentence, "word": token.text, "scores": scores, "ok": ok})
            if not ok:
                continue
            return OpenGapItem(
                level=build.level,
                topic=build.constraints.topic,
                instructions=INSTRUCTIONS,
                stem=replace_span(picked.sentence, token.start, token.end, GAP),
                answer=token.text,
                accepted_answers=close,
                focus=cls.name,
            )
    raise failure("no sentence with a grammar word that has one clear answer")
