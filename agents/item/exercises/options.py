"""Choosing distractors: same part of speech, inflected like the answer, plausible, and not also correct.

Candidates come from the constraint agent's distractor pool (graph words at or below the level). A candidate is
dropped if it is the answer's lemma, a WordNet synonym of it, shares its stem, or breaks an article cue (a/an).
The local model then scores each option in the gap: a distractor must be clearly less likely than the answer
(by the gap margin the gap-fill check uses, 2 nats by default), otherwise it might also be correct; among those
left, the most likely are the most plausible.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.item.constraints import WordChoice
from agents.item.exercises.base import BuildContext
from agents.item.meaning.base import DEFAULT_THRESHOLDS, kindred
from knowledge.lexicon import Lexicon
from knowledge.nlp import Token, analyze, inflect

#: How much less likely (in nats, over the rest of the sentence) a distractor must be than the answer by default;
#: a build uses its `thresholds.gap_margin`, the number the gap-fill check judges with.
MARGIN = DEFAULT_THRESHOLDS.gap_margin
#: How many pool words are considered (scored) per item.
POOL_SAMPLE = 14
_VOWEL_SOUND = tuple("aeiou")


@dataclass
class Options:
    """Chosen distractors and the evidence: every candidate's score and why others were dropped."""

    distractors: list[str]
    answer_score: float | None
    scores: dict[str, float]
    dropped: dict[str, str]


def _stem(word: str) -> str:
    """A crude stem for spotting morphological relatives (teach/teacher, happy/happiness)."""
    return word.lower()[:5] if len(word) > 5 else word.lower()


def _article_ok(previous: str | None, form: str) -> bool:
    """Whether an option agrees with a preceding 'a'/'an' (otherwise the article gives the answer away)."""
    if previous == "an":
        return form.lower().startswith(_VOWEL_SOUND)
    if previous == "a":
        return not form.lower().startswith(_VOWEL_SOUND)
    return True


def candidate_forms(build: BuildContext, target: Token, choice: WordChoice, tokens: list[Token]) -> dict[str, str]:
    """Pool words inflected like the target, keyed by form, after the lexical filters; records drops in notes."""
    synonyms = {w.lemma.lower() for w in build.kit.lexicon.synonyms(choice.word, choice.pos)}
    previous = tokens[target.index - 1].lower if target.index > 0 else None
    pool = [w for w in build.constraints.pool(choice.pos) if w.word.lower() != choice.word.lower()]
    build.rng.shuffle(pool)
    forms: dict[str, str] = {}
    for word in pool:
        form = _match_case(inflect(word.word, target.tag) or word.word, target.text)
        reason = _drop_reason(word, form, choice, synonyms, previous, tokens, build.kit.lexicon)
        if reason:
            build.note("dropped_options", {word.word: reason})
            continue
        forms.setdefault(form, word.word)
        if len(forms) >= POOL_SAMPLE:
            break
    return forms


def _drop_reason(
    word: WordChoice,
    form: str,
    answer: WordChoice,
    synonyms: set[str],
    previous: str | None,
    tokens: list[Token],
    lexicon: Lexicon,
) -> str:
    """Why a pool word cannot be a distractor here, or '' if it can."""
    if " " in word.word or not form.isalpha():
        return "not a single word"
    if word.word.lower() in synonyms:
        return f"a synonym of '{answer.word}'"
    if _stem(word.word) == _stem(answer.word):
        return f"shares a stem with '{answer.word}'"
    kind = kindred(lexicon, answer.word, word.word, answer.pos)
    if kind:
        return f"a kind of {kind}, like '{answer.word}'"
    if not _article_ok(previous, form):
        return f"does not agree with '{previous}'"
    if any(t.lower == form.lower() for t in tokens):
        return "already in the sentence"
    return ""


def _match_case(form: str, like: str) -> str:
    """Give a form the capitalisation of the word it replaces."""
    return form[:1].upper() + form[1:] if like[:1].isupper() else form


def choose_distractors(build: BuildContext, sentence: str, target: Token, choice: WordChoice, k: int = 3) -> Options:
    """Pick k distractors for the target token of a sentence, scored by the local model where available."""
    forms = candidate_forms(build, target, choice, analyze(sentence))
    prefix, suffix = sentence[: target.start], sentence[target.end :]
    names = [target.text, *forms]
    scores = build.kit.score(prefix, [name + suffix for name in names])
    if scores is None:
        return Options(list(forms)[:k], None, {}, {})
    answer_score, by_form = scores[0], dict(zip(names[1:], scores[1:], strict=True))
    dropped = {
        f: f"scores {s:.1f}, too close to the answer's {answer_score:.1f}"
        for f, s in by_form.items()
        if s > answer_score - build.thresholds.gap_margin
    }
    kept = sorted((f for f in by_form if f not in dropped), key=lambda f: -by_form[f])
    return Options(kept[:k], answer_score, by_form, dropped)
