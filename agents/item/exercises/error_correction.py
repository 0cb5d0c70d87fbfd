"""Error correction: a correct model-written sentence with exactly one mistake planted by a rule.

Mistakes are the ones learners at the level make (agreement, plurals, articles, verb forms, prepositions,
comparatives). The local model scores both versions: the planted version must be clearly less likely than the
original, otherwise the "mistake" might be acceptable English and the item would have no single answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agents.item.exercises.base import HUMAN_TARGETS, BuildContext, failure, replace_span, sentences_for
from agents.item.meaning.sentences import second_fix
from knowledge.items import ErrorCorrectionItem
from knowledge.levels import Level
from knowledge.nlp import Token, inflect

INSTRUCTIONS = "One word in this sentence is wrong. Find it and correct it."
#: How much less likely (nats) the sentence with the mistake must be than the original.
MARGIN = 2.0
_PREPOSITION_SWAPS = {
    "in": "on",
    "on": "in",
    "at": "in",
    "to": "at",
    "for": "to",
    "with": "by",
    "from": "of",
    "of": "from",
    "about": "of",
}


@dataclass(frozen=True)
class Mistake:
    """A rule that turns one correct token into a typical learner mistake (or None if it does not apply)."""

    name: str
    apply: Callable[[Token], str | None]


def _agreement(token: Token) -> str | None:
    """He goes -> he go; they are -> they is."""
    swaps = {"VBZ": "VBP", "VBP": "VBZ"}
    if token.tag not in swaps:
        return None
    if token.lemma == "be":
        return {"is": "are", "are": "is", "am": "is"}.get(token.lower)
    wrong = inflect(token.lemma, swaps[token.tag])
    return wrong if wrong and wrong.lower() != token.lower else None


def _plural(token: Token) -> str | None:
    """Three books -> three book."""
    if token.tag != "NNS":
        return None
    wrong = inflect(token.lemma, "NN")
    return wrong if wrong and wrong.lower() != token.lower else None


def _past(token: Token) -> str | None:
    """Yesterday she walked -> Yesterday she walk."""
    if token.tag != "VBD" or token.lemma == "be":
        return None
    return token.lemma if token.lemma.lower() != token.lower else None


def _article(token: Token) -> str | None:
    """An apple -> a apple; a dog -> an dog."""
    return {"a": "an", "an": "a"}.get(token.lower)


def _preposition(token: Token) -> str | None:
    """Interested in -> interested on."""
    return _PREPOSITION_SWAPS.get(token.lower) if token.tag == "IN" else None


def _comparative(token: Token) -> str | None:
    """Bigger -> more big."""
    if token.tag != "JJR" or not token.lower.endswith("er"):
        return None
    return f"more {token.lemma}"


MISTAKES = {
    "subject-verb agreement": Mistake("subject-verb agreement", _agreement),
    "singular/plural noun": Mistake("singular/plural noun", _plural),
    "verb tense": Mistake("verb tense", _past),
    "article": Mistake("article", _article),
    "preposition": Mistake("preposition", _preposition),
    "comparative": Mistake("comparative", _comparative),
}
#: Mistake kinds by level, most typical first.
ORDER: dict[Level, tuple[str, ...]] = {
    Level.A1: ("subject-verb agreement", "singular/plural noun", "article", "verb tense"),
    Level.A2: ("verb tense", "subject-verb agreement", "singular/plural noun", "preposition", "comparative"),
}
_DEFAULT_ORDER = ("preposition", "verb tense", "subject-verb agreement", "comparative", "singular/plural noun")


def _plants(build: BuildContext, tokens: list[Token]) -> list[tuple[Token, str, str]]:
    """(token, wrong form, mistake kind) for every rule that applies, in the level's order of kinds."""
    found = []
    for kind in ORDER.get(build.level, _DEFAULT_ORDER):
        for token in tokens:
            wrong = MISTAKES[kind].apply(token) if token.is_word else None
            if wrong and not any(t.lower == wrong.lower() for t in tokens):
                found.append((token, _like(wrong, token.text), kind))
    return found


def _like(word: str, model: str) -> str:
    """The word with the capitalisation of the one it replaces."""
    return word[:1].upper() + word[1:] if model[:1].isupper() else word


def _clearly_wrong(build: BuildContext, sentence: str, token: Token, wrong: str) -> bool:
    """Whether the model finds the planted version clearly less likely (True when no scorer is available)."""
    rest = sentence[token.end :]
    scores = build.kit.score(sentence[: token.start], [token.text + rest, wrong + rest])
    if scores is not None:
        build.note("mistake_scores", {"right": token.text, "wrong": wrong, "scores": scores})
    return scores is None or scores[1] < scores[0] - MARGIN


def build(build: BuildContext) -> ErrorCorrectionItem:
    """Find a sentence where a level-typical mistake can be planted and is clearly wrong."""
    for _, picked in sentences_for(build, build.constraints.targets()[:HUMAN_TARGETS], gap_target=False):
        for token, wrong, kind in _plants(build, picked.tokens):
            stem = replace_span(picked.sentence, token.start, token.end, wrong)
            other = second_fix(stem, picked.sentence, kind)
            if other:
                build.note("rejected", {"sentence": stem, "reason": other})
                continue
            if not _clearly_wrong(build, picked.sentence, token, wrong):
                continue
            return ErrorCorrectionItem(
                level=build.level,
                topic=build.constraints.topic,
                instructions=INSTRUCTIONS,
                stem=stem,
                error=wrong,
                correction=token.text,
                error_type=kind,
                answer=picked.sentence,
            )
    raise failure("no sentence where a typical mistake could be planted unambiguously")
