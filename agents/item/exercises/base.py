"""What every exercise builder shares: the knowledge kit, the build context, sentence selection, failures."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from agents.item.constraints import Constraints, WordChoice
from agents.item.meaning.base import Thresholds, defines, fluencies, mentions_word, timed_score
from agents.item.writers import SentenceSpec, Writer
from agents.models.base import ChatModel
from knowledge.exemplars import Exemplars
from knowledge.levels import Level
from knowledge.lexicon import Lexicon, WordLevel
from knowledge.nlp import Token, analyze
from knowledge.violations import Violation

#: Sentence length bounds (word tokens) for exercise stems.
MIN_WORDS, MAX_WORDS = 5, 20
#: Extra candidates generated per round, and rounds per target word.
CANDIDATES, ROUNDS = 4, 2
#: Target words searched for a human (WordNet) example sentence, and words the writer then writes for.
HUMAN_TARGETS, WRITTEN_TARGETS = 12, 3
_PROPER = frozenset({"PROPN", "NNP", "NNPS"})


class BuildFailed(Exception):
    """A builder could not make an item from what it was given; the violations say why."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.message for v in violations) or "no item could be built")
        self.violations = violations


@dataclass
class Kit:
    """The knowledge every builder uses: lexicon, exemplars, and the local model as a scorer of continuations."""

    lexicon: Lexicon
    exemplars: Exemplars
    scorer: ChatModel | None = None
    #: Seconds spent in the scorer, so runs can separate model time from orchestration.
    model_s: float = 0.0

    def word_level(self, token: Token) -> WordLevel:
        """Level of one word token (clitics like n't are looked up by their lemma)."""
        word = token.lemma if token.text.startswith(("'", "’")) or token.lower == "n't" else token.text
        return self.lexicon.level_of(word, token.tag)

    def above_level(self, tokens: list[Token], level: Level) -> list[tuple[Token, WordLevel]]:
        """Word tokens whose level is above `level` (names are skipped; unknown non-words count as above)."""
        found = []
        for token in tokens:
            if not token.is_word or token.upos in _PROPER:
                continue
            known = self.word_level(token)
            if known.level is None and known.source == "unknown" and "proper noun" in known.evidence:
                continue
            if known.level is None or known.level > level:
                found.append((token, known))
        return found

    def score(self, prefix: str, continuations: list[str]) -> list[float] | None:
        """Log-probabilities of continuations from the scorer, or None when no scorer is available or it fails."""
        return timed_score(self, prefix, continuations)


@dataclass
class BuildContext:
    """Everything one build attempt needs: the constraints, a writer, the kit, and a seeded random source."""

    constraints: Constraints
    writer: Writer
    kit: Kit
    seed: int = 0
    rng: random.Random = field(default_factory=random.Random)
    #: Evidence gathered while building (candidates tried, option scores), for the trace.
    notes: dict[str, Any] = field(default_factory=dict)
    #: Offer WordNet's example sentences before asking the writer (off when an escalation model is to write).
    human_first: bool = True
    #: The meaning checks' numbers (the policy's, calibrated or not), so builders refuse what the checks would.
    thresholds: Thresholds = field(default_factory=Thresholds)

    @property
    def level(self) -> Level:
        """The target level."""
        return self.constraints.level

    def note(self, key: str, value: Any) -> None:
        """Record evidence under a key (lists accumulate)."""
        self.notes.setdefault(key, []).append(value)


@dataclass
class Picked:
    """A sentence chosen for an exercise: its text, tokens, the target token and how it was judged."""

    sentence: str
    tokens: list[Token]
    target: Token | None
    choice: WordChoice
    model: str
    fluency: float = 0.0


def target_tokens(tokens: list[Token], choice: WordChoice) -> list[Token]:
    """Tokens that are the target word (same lemma or spelling)."""
    word = choice.word.lower()
    return [t for t in tokens if t.is_word and (t.lemma.lower() == word or t.lower == word)]


def judge_sentence(
    build: BuildContext, text: str, choice: WordChoice, *, gap_target: bool
) -> tuple[Picked | None, str]:
    """Check a candidate sentence; return it as Picked, or None and the reason it was rejected."""
    tokens = analyze(text)
    words = [t for t in tokens if t.is_word]
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return None, f"{len(words)} words (accepted {MIN_WORDS}-{MAX_WORDS})"
    if not tokens or tokens[-1].text not in {".", "!", "?"}:
        return None, "does not end with . ! or ?"
    hits = target_tokens(tokens, choice)
    if len(hits) != 1:
        return None, f"uses '{choice.word}' {len(hits)} times (needs exactly once)"
    if gap_target and hits[0].index == 0:
        return None, f"'{choice.word}' starts the sentence"
    if mentions_word(text):
        return None, "talks about the word instead of using it"
    if defines(text):
        return None, "a definition (the small model's definitions are often false)"
    above = build.kit.above_level(tokens, build.constraints.max_word_level)
    if len(above) > build.constraints.max_above_share * len(words):
        return None, "words above the level: " + ", ".join(f"{t.text} ({wl.level or '?'})" for t, wl in above)
    return Picked(text, tokens, hits[0], choice, model=""), ""


def sentences_for(
    build: BuildContext, choices: list[WordChoice], *, gap_target: bool = True, written: int = WRITTEN_TARGETS
) -> Iterator[tuple[WordChoice, Picked]]:
    """Sentences for target words, people's first, for a builder to take the first that suits it.

    First a WordNet example for any of the first HUMAN_TARGETS words, then the writer's sentences for the first
    `written` words. Teachers rejected most one-sentence items whose sentence the small model wrote (they mean
    little) and few made from WordNet's examples, so a less central topic word with a human sentence beats a
    written one.
    """
    if build.human_first:
        for choice in choices[:HUMAN_TARGETS]:
            human = _human_pick(build, choice, gap_target=gap_target)
            if human is not None:
                yield choice, human
    for choice in choices[:written]:
        picked = _written_pick(build, choice, gap_target=gap_target)
        if picked is not None:
            yield choice, picked


def pick_sentence(build: BuildContext, choice: WordChoice, *, gap_target: bool = True) -> Picked | None:
    """One sentence for one word: a WordNet example if one passes, else the writer's most fluent that passes."""
    return next((p for _, p in sentences_for(build, [choice], gap_target=gap_target, written=1)), None)


def _written_pick(build: BuildContext, choice: WordChoice, *, gap_target: bool) -> Picked | None:
    """Ask the writer for sentences with the word until one passes `judge_sentence` and reads naturally.

    Candidates are overgenerated and reranked by the local model's fluency (mean log-probability per word, the
    measure the meaning checks accept with); one below the fluency floor is never picked.
    """
    spec = SentenceSpec(
        word=choice.word,
        pos=choice.pos,
        level=build.level,
        topic=build.constraints.topic,
        avoid=build.constraints.avoid_words,
    )
    for round_no in range(ROUNDS):
        seed = build.seed * 101 + round_no * CANDIDATES
        passed = []
        for draft in build.writer.sentences(spec, CANDIDATES, seed):
            picked, reason = judge_sentence(build, draft.text, choice, gap_target=gap_target)
            build.note("candidates", {"word": choice.word, "text": draft.text, "rejected": reason or None})
            if picked is not None:
                picked.model = draft.model
                passed.append(picked)
        best = _most_fluent(build, passed)
        if best is not None:
            return best
    return None


#: Finite verb tags: an example with none is a phrase ("children skating on a frozen brook"), not a sentence.
_FINITE = frozenset({"VBD", "VBZ", "VBP", "MD"})
HUMAN_SOURCE = "wordnet-3.0:example"


def human_sentences(build: BuildContext, choice: WordChoice) -> list[str]:
    """WordNet's own example sentences for the word's two commonest senses, as full sentences.

    People wrote these, so they mean something, which the small model's sentences often do not; only complete
    sentences (a finite verb, no quotations) are kept, capitalised and closed with a full stop.
    """
    found = []
    for sense in build.kit.lexicon.senses(choice.word, choice.pos)[:2]:
        for example in sense.examples:
            text = example.strip()
            if not text or any(c in text for c in '"`;:()'):
                continue
            text = text[:1].upper() + text[1:]
            text = text if text.endswith((".", "!", "?")) else text + "."
            if any(t.tag in _FINITE for t in analyze(text)):
                found.append(text)
    return list(dict.fromkeys(found))


def _human_pick(build: BuildContext, choice: WordChoice, *, gap_target: bool) -> Picked | None:
    """The most fluent WordNet example that passes the same checks as a written sentence, if any."""
    passed = []
    for text in human_sentences(build, choice):
        picked, reason = judge_sentence(build, text, choice, gap_target=gap_target)
        build.note(
            "candidates", {"word": choice.word, "text": text, "source": HUMAN_SOURCE, "rejected": reason or None}
        )
        if picked is not None:
            picked.model = HUMAN_SOURCE
            passed.append(picked)
    return _most_fluent(build, passed)


def _most_fluent(build: BuildContext, picks: list[Picked]) -> Picked | None:
    """The candidate the local model finds most fluent, if it reads naturally enough (the first without a scorer)."""
    if not picks:
        return None
    values = fluencies(build.kit.score, [p.sentence for p in picks])
    if values is None:
        return picks[0]
    for pick, value in zip(picks, values, strict=True):
        pick.fluency = value
    best = max(picks, key=lambda p: p.fluency)
    if best.fluency < build.thresholds.fluency_floor:
        build.note("unnatural", {p.sentence: round(p.fluency, 2) for p in picks})
        return None
    return best


def replace_span(text: str, start: int, end: int, new: str) -> str:
    """The text with characters [start, end) replaced."""
    return text[:start] + new + text[end:]


def failure(message: str, **evidence: Any) -> BuildFailed:
    """A BuildFailed with one structural violation."""
    return BuildFailed([Violation(kind="structure", message=message, evidence=evidence)])
