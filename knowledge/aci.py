"""The Alignment Consistency Index (ACI): how well a text fits a target CEFR level, and every reason it does not.

    score = 0.40 * vocabulary + 0.25 * grammar + 0.15 * coverage + 0.20 * fit          (each part in [0, 1])

- vocabulary = max(0, 1 - 4 * E), E = (sum over counted words above the target of min(3, levels above)) / counted
  words. Counted words: every alphabetic word except proper nouns; a word with no level at all (a misspelling, a
  word of another script) counts as one level above. Numbers and punctuation are not words.
- grammar = max(0, 1 - 0.25 * sum over distinct CEFR-J constructions above the target of min(3, levels above)).
- coverage = share of the required constructions found (1 when none is required); a variant (62-1) counts for
  its main item (62).
- fit = 1 when the estimated level (probability-weighted mean rank) is within one level of the target, falling
  linearly to 0 at three levels away: a C1 exercise written in A2 English fails here.

`passed` means score >= 0.8 and no error-severity violation. Errors: a word or construction two or more levels
above the target, more than 5 % of counted words above it, a required construction missing, an estimated level two
or more below the target (too easy), or text that is not English. See docs/level-and-aci.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from knowledge.errors import UserInputError
from knowledge.level_estimator import (
    ConstructionEvidence,
    LevelEstimate,
    LevelEstimator,
    WordEvidence,
    check_text,
    word_evidence,
)
from knowledge.levels import TARGET_LEVELS, Level, parse_level
from knowledge.lexicon import Lexicon
from knowledge.nlp import analyze
from knowledge.violations import Suggestion, Violation

if TYPE_CHECKING:
    from knowledge.grammar import GrammarProfile

#: Weights of the four parts of the score.
WEIGHTS: dict[str, float] = {"vocabulary": 0.40, "grammar": 0.25, "coverage": 0.15, "fit": 0.20}
#: Share of weighted above-level words at which the vocabulary part reaches 0.
VOCABULARY_TOLERANCE = 0.25
#: What each level of a construction above the target costs the grammar part.
GRAMMAR_COST = 0.25
#: Largest distance (in levels) counted for one word or construction.
MAX_DISTANCE = 3
#: The product goal: at most this share of counted words above the target level.
MAX_ABOVE_SHARE = 0.05
#: Lowest score that passes.
PASS_SCORE = 0.8
#: Levels above (or below, for "too easy") at which a violation blocks.
BLOCKING_DISTANCE = 2
MAX_SUGGESTIONS = 3

class AlignmentReport(BaseModel):
    """The ACI of a text for a target level: score, parts, violations and the figures they come from."""

    model_config = ConfigDict(frozen=True)

    score: float
    passed: bool
    level: Level
    """The target level."""
    estimated_level: Level | None
    expected_rank: float | None
    parts: dict[str, float]
    weights: dict[str, float]
    violations: list[Violation]
    above_level_share: float
    """Share of counted words above the target level (the product's "at most 5 %" figure)."""
    near_level_share: float
    """Share of counted words at most one level below the target or higher (low for a too-easy text)."""
    word_count: int
    """Counted words (alphabetic words that are not proper nouns)."""
    words_above: int
    required: list[str]
    found_required: list[str]
    words: list[WordEvidence]
    constructions: list[ConstructionEvidence]

    @property
    def errors(self) -> list[Violation]:
        """The violations that block the text."""
        return [v for v in self.violations if v.severity == "error"]


class AlignmentChecker:
    """Scores texts against target levels; build once and reuse (the loaded resources are shared)."""

    def __init__(self, lexicon: Lexicon, grammar: GrammarProfile, estimator: LevelEstimator) -> None:
        self.lexicon = lexicon
        self.grammar = grammar
        self.estimator = estimator
        self._suggestions: dict[tuple[str, str | None, Level], list[Suggestion]] = {}

    @classmethod
    def default(cls) -> AlignmentChecker:
        """The checker over the vendored resources (built once per process)."""
        return _cached_checker()

    def check(self, text: str, level: str | Level, required: Iterable[str] = ()) -> AlignmentReport:
        """The ACI of `text` for the target `level`, requiring the given CEFR-J construction ids or codes."""
        target = target_level(level)
        wanted = [self.grammar.item(r).id for r in dict.fromkeys(required)]
        estimate = self.estimator.estimate(check_text(text))
        if not estimate.sentences:
            return self._not_english(target, wanted, estimate)
        words, constructions = estimate.words, estimate.constructions
        found = self._found(wanted, constructions)
        violations = [
            *self._word_violations(words, target),
            *self._construction_violations(constructions, target),
            *self._missing(wanted, found),
            *_fit_violations(estimate, target, near_level_share(words, target)),
        ]
        if estimate.level is None:
            violations.append(Violation(kind="not_judged", severity="warning", message=f"No level: {estimate.reason}."))
        parts = {
            "vocabulary": vocabulary_part(words, target),
            "grammar": grammar_part(constructions, target),
            "coverage": len(found) / len(wanted) if wanted else 1.0,
            "fit": fit_part(estimate.expected_rank, target),
        }
        return _report(target, estimate, parts, violations, wanted, found)

    def _word_violations(self, words: Sequence[WordEvidence], target: Level) -> list[Violation]:
        """One violation per word above the target, then one for the share if it exceeds the goal."""
        found = [self._word_violation(w, target) for w in _counted(words) if _distance(w, target) > 0]
        share = above_share(words, target)
        if share > MAX_ABOVE_SHARE:
            count = sum(1 for w in _counted(words) if _distance(w, target) > 0)
            found.append(
                Violation(
                    kind="too_many_words_above",
                    severity="error",
                    level=target,
                    message=f"{count} of {len(_counted(words))} words ({share:.0%}) are above {target}; "
                    f"at most {MAX_ABOVE_SHARE:.0%} are allowed.",
                )
            )
        return found

    def _word_violation(self, word: WordEvidence, target: Level) -> Violation:
        """The violation for one word above the target, with simpler synonyms when the lexicon has them."""
        distance = _distance(word, target)
        if word.level is None:
            return Violation(
                kind="unknown_word", severity="warning", text=word.text, span=(word.start, word.end),
                message=f"'{word.text}' has no CEFR level ({word.evidence}); it counts as above {target}.",
                source=word.evidence,
            )  # fmt: skip
        how = "estimated " if word.kind == "estimated" else ""
        return Violation(
            kind="word_above_level", severity="error" if distance >= BLOCKING_DISTANCE else "warning",
            text=word.text, span=(word.start, word.end), level=word.level, node=word.node, source=word.evidence,
            message=f"'{word.text}' is {how}{word.level}, above {target}.",
            suggestions=self.suggestions(word, target),
        )  # fmt: skip

    def suggestions(self, word: WordEvidence, target: Level) -> list[Suggestion]:
        """Listed WordNet synonyms of a word at or below the target, commonest sense first (cached)."""
        key = (word.lemma.lower(), word.pos, target)
        if key not in self._suggestions:
            found = self.lexicon.synonyms(word.lemma, word.pos, max_level=target)
            self._suggestions[key] = [
                Suggestion(word=s.word, level=s.level, node=f"word:{s.lemma.lower()}|{s.pos}", source=s.evidence)
                for s in found[:MAX_SUGGESTIONS]
                if s.level is not None
            ]
        return self._suggestions[key]

    def _construction_violations(self, constructions: Sequence[ConstructionEvidence], target: Level) -> list[Violation]:
        """One violation per construction occurrence above the target."""
        found: list[Violation] = []
        for c in constructions:
            if c.level is None or c.level.rank <= target.rank:
                continue
            distance = c.level.rank - target.rank
            found.append(
                Violation(
                    kind="construction_above_level",
                    severity="error" if distance >= BLOCKING_DISTANCE else "warning",
                    text=c.text,
                    span=c.span,
                    level=c.level,
                    item_id=c.item_id,
                    node=c.node,
                    source=c.source,
                    message=f"'{c.text}' is {c.name} (CEFR-J item {c.item_id}), {c.level}, above {target}.",
                )
            )
        return found

    def _found(self, wanted: Sequence[str], constructions: Sequence[ConstructionEvidence]) -> list[str]:
        """The required items found in the text, directly or through one of their variants."""
        present = {c.item_id for c in constructions}
        present |= {parent for c in constructions if (parent := self.grammar.item(c.item_id).parent)}
        return [item_id for item_id in wanted if item_id in present]

    def _missing(self, wanted: Sequence[str], found: Sequence[str]) -> list[Violation]:
        """One error per required construction the text lacks."""
        missing = [self.grammar.item(i) for i in wanted if i not in found]
        return [
            Violation(
                kind="missing_construction",
                severity="error",
                item_id=item.id,
                node=f"grammar:{item.id}",
                level=item.level,
                source=item.citation,
                message=f"The required construction {item.name} (CEFR-J item {item.id}) is not in the text.",
            )
            for item in missing
        ]

    def _not_english(self, target: Level, wanted: list[str], estimate: LevelEstimate) -> AlignmentReport:
        """The report for a text that cannot be judged at all: score 0 and the reason."""
        violation = Violation(kind="not_english", severity="error", message=f"Not judged: {estimate.reason}.")
        parts = dict.fromkeys(WEIGHTS, 0.0)
        return _report(target, estimate, parts, [violation], wanted, [])


@cache
def _cached_checker() -> AlignmentChecker:
    """The process-wide default checker (sharing the default estimator's lexicon and grammar profile)."""
    from knowledge.grammar import GrammarProfile

    return AlignmentChecker(Lexicon.load(), GrammarProfile.load(), LevelEstimator.default())


def target_level(level: str | Level) -> Level:
    """A target level A1..C2; UserInputError for anything else (Pre-A1 has no word list to check against)."""
    try:
        parsed = parse_level(level)
    except UserInputError as exc:
        given = str(level)[:20]
        raise UserInputError(f"Unknown target level {given!r}; give one of A1, A2, B1, B2, C1 or C2.") from exc
    if parsed not in TARGET_LEVELS:
        raise UserInputError(f"Target level {parsed} is not supported; give one of A1, A2, B1, B2, C1 or C2.")
    return parsed


# --- the parts ------------------------------------------------------------------------------------------------


def _counted(words: Sequence[WordEvidence]) -> list[WordEvidence]:
    """The words that count: every word except proper nouns."""
    return [w for w in words if w.kind != "name"]


def _distance(word: WordEvidence, target: Level) -> int:
    """Levels above the target (0 at or below it); a word with no level counts as one above."""
    if word.level is None:
        return 1
    return max(0, min(MAX_DISTANCE, word.level.rank - target.rank))


def above_share(words: Sequence[WordEvidence], target: Level) -> float:
    """Share of counted words above the target level (0 when there are none)."""
    counted = _counted(words)
    return sum(1 for w in counted if _distance(w, target) > 0) / len(counted) if counted else 0.0


def near_level_share(words: Sequence[WordEvidence], target: Level) -> float:
    """Share of counted words at most one level below the target, or above it."""
    counted = _counted(words)
    near = sum(1 for w in counted if w.level is None or w.level.rank >= target.rank - 1)
    return near / len(counted) if counted else 0.0


def vocabulary_part(words: Sequence[WordEvidence], target: Level) -> float:
    """1 - 4 x the distance-weighted share of counted words above the target, floored at 0."""
    counted = _counted(words)
    if not counted:
        return 1.0
    excess = sum(_distance(w, target) for w in counted) / len(counted)
    return max(0.0, 1.0 - excess / VOCABULARY_TOLERANCE)


def grammar_part(constructions: Sequence[ConstructionEvidence], target: Level) -> float:
    """1 - 0.25 x the levels above the target summed over distinct constructions, floored at 0."""
    worst: dict[str, int] = {}
    for c in constructions:
        if c.level is not None and c.level.rank > target.rank:
            worst[c.item_id] = max(worst.get(c.item_id, 0), min(MAX_DISTANCE, c.level.rank - target.rank))
    return max(0.0, 1.0 - GRAMMAR_COST * sum(worst.values()))


def fit_part(expected_rank: float | None, target: Level) -> float:
    """1 within one level of the target, falling linearly to 0 at three levels away (1 when unknown)."""
    if expected_rank is None:
        return 1.0
    gap = abs(expected_rank - target.rank)
    return max(0.0, min(1.0, 1.0 - (gap - 1.0) / 2.0))


def _fit_violations(estimate: LevelEstimate, target: Level, near: float) -> list[Violation]:
    """A too-easy error or a too-hard warning when the estimated level is two or more levels from the target."""
    rank, level = estimate.expected_rank, estimate.level
    if rank is None or level is None:
        return []
    gap = rank - target.rank
    source = f"level model {estimate.model}; probabilities {estimate.probabilities}"
    if gap <= -BLOCKING_DISTANCE:
        message = (
            f"The text reads as {level} (mean rank {rank:.2f}), two or more levels below {target}; "
            f"only {near:.0%} of its words are at {Level.from_rank(target.rank - 1)} or above."
        )
        return [Violation(kind="too_easy", severity="error", level=level, message=message, source=source)]
    if gap >= BLOCKING_DISTANCE:
        message = f"The text reads as {level} (mean rank {rank:.2f}), two or more levels above {target}."
        return [Violation(kind="too_hard", severity="warning", level=level, message=message, source=source)]
    return []


def _report(
    target: Level,
    estimate: LevelEstimate,
    parts: dict[str, float],
    violations: list[Violation],
    wanted: list[str],
    found: list[str],
) -> AlignmentReport:
    """Assemble the report: the weighted score, the pass decision and the figures."""
    score = round(sum(WEIGHTS[name] * value for name, value in parts.items()), 4)
    words = estimate.words
    blocking = any(v.severity == "error" for v in violations)
    return AlignmentReport(
        score=score, passed=score >= PASS_SCORE and not blocking, level=target, estimated_level=estimate.level,
        expected_rank=estimate.expected_rank, parts={k: round(v, 4) for k, v in parts.items()}, weights=WEIGHTS,
        violations=violations, above_level_share=round(above_share(words, target), 4),
        near_level_share=round(near_level_share(words, target), 4), word_count=len(_counted(words)),
        words_above=sum(1 for w in _counted(words) if _distance(w, target) > 0), required=wanted,
        found_required=found, words=words, constructions=estimate.constructions,
    )  # fmt: skip


def above_level_share(text: str, level: str | Level, lexicon: Lexicon | None = None) -> float:
    """Share of the counted word tokens of `text` above `level` (proper nouns excluded; unlevelled words above)."""
    target = target_level(level)
    words = word_evidence(lexicon or Lexicon.load(), analyze(check_text(text)))
    return above_share(words, target)
