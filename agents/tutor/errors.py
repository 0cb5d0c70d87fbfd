"""The error-detection agent: rule-based candidates, confirmed by the local model's log-probabilities.

`knowledge.learner_errors` proposes candidates (agreement, tense, verb forms, plurals, articles, prepositions,
confusable words, misspellings) with ranked suggestions. For each sentence the model scores the learner's sentence
and every variant with one suggestion applied, in one `score` call (the shared beginning is evaluated once); a
suggestion is reported when its sentence is more likely than the learner's by the candidate's margin (1 nat for
rules, 1.5 for collocations, 3 for confusable words): "a correction should be clearly more likely than the
learner's form". Without a scorer (or when it fails) only the rules that are reliable on their own are kept.
Every reported error carries its explanation for the learner, from knowledge/data/learner-errors.yaml.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import BaseModel, Field

from agents.models.base import ChatModel
from agents.models.errors import ModelError
from knowledge.learner_errors import (
    FAMILY,
    ErrorCandidate,
    ErrorFamily,
    ErrorType,
    apply,
    explanation,
    find_candidates,
)
from knowledge.nlp import sentence_spans

#: Rules precise enough to report without the model's confirmation (used when no scorer is available).
RELIABLE_RULES = frozenset(
    {"capitalisation.i", "article.a_an", "form.regularised", "form.after_modal", "form.after_do", "form.be_agree",
     "spelling.known", "comparative.double", "agreement.be"}
)  # fmt: skip
#: Sentences longer than this are not scored (the scorer's context is short); their reliable rules still count.
MAX_SCORED_CHARS = 400
#: Variants scored per sentence at most (confusable-word checks are dropped first).
MAX_VARIANTS = 16
#: What the scored sentences follow. The embedded model's tokenizer adds no BOS token, so without a context the
#: first word is never scored and the next ones are judged oddly; a newline separated right from wrong best
#: (48 of 51 true errors above 1 nat, no false ones, on tests/tutor_error_set.py; "" gave 45 and one false).
SCORING_PREFIX = "\n"


class LearnerError(BaseModel):
    """One error in the learner's text: where, what kind, what to write instead, and how sure we are."""

    span: tuple[int, int] = Field(description="Character offsets in the learner's message.")
    text: str = Field(description="What the learner wrote there.")
    error_type: ErrorType
    suggestion: str
    rule: str = Field(description="The detector that found it (feedback templates are keyed by it).")
    family: ErrorFamily = Field(description="rule (rule-governed), lexical (collocation, word choice) or slip.")
    gain: float | None = Field(default=None, description="How much more likely (nats) the model finds the fix.")
    checked: bool = Field(default=False, description="Whether the model confirmed it (False: a reliable rule alone).")
    explanation: str = Field(default="", description="Why, in a short sentence at about A2 (learner-errors.yaml).")


class Detection(BaseModel):
    """What the agent found in one message, the corrected message, and how it got there."""

    errors: list[LearnerError] = Field(default_factory=list)
    corrected: str = Field(description="The message with every reported error corrected.")
    candidates: int = Field(default=0, description="Candidates the rules proposed.")
    scored: bool = Field(default=False, description="Whether the model checked the candidates.")
    notes: list[str] = Field(default_factory=list, description="Degradations, e.g. the scorer failing.")
    model_s: float = 0.0


class ErrorDetector:
    """Finds a learner's errors: rules propose, the scorer (the local model) confirms."""

    def __init__(self, scorer: ChatModel | None) -> None:
        self.scorer = scorer if scorer is not None and scorer.capabilities.scoring else None

    def detect(self, text: str) -> Detection:
        """The errors of a message (rules + model check), in text order, and the corrected message."""
        candidates = find_candidates(text)
        detection = Detection(corrected=text, candidates=len(candidates), scored=self.scorer is not None)
        for start, end in sentence_spans(text):
            mine = [c for c in candidates if start <= c.span[0] < end]
            if mine:
                detection.errors += self._judge(text[start:end], start, mine, detection)
        detection.corrected = apply(text, [(e.span, e.suggestion) for e in detection.errors])
        return detection

    def _judge(
        self, sentence: str, offset: int, found: list[ErrorCandidate], detection: Detection
    ) -> list[LearnerError]:
        """The candidates of one sentence that the model confirms (or the reliable ones without a model)."""
        certain = [_error(c, c.suggestions[0], None, checked=False) for c in found if c.certain]
        rest = [c for c in found if not c.certain]
        if not rest:
            return certain
        if self.scorer is None or len(sentence) > MAX_SCORED_CHARS:
            return certain + _reliable(rest)
        start = time.perf_counter()
        try:
            return certain + self._scored(sentence, offset, rest)
        except ModelError as exc:
            detection.notes.append(f"the scorer failed ({exc.kind}: {exc}); kept the reliable rules only")
            detection.scored = False
            return certain + _reliable(rest)
        finally:
            detection.model_s += time.perf_counter() - start

    def _scored(self, sentence: str, offset: int, found: list[ErrorCandidate]) -> list[LearnerError]:
        """Two rounds of scoring: each candidate alone, then the rest again with the first round's fixes applied.

        The second round catches errors that only look wrong once another is fixed ("Yesterday I go ... and play":
        'played' next to 'go' reads worse than 'play' until 'go' becomes 'went').
        """
        found = _limit(found)
        kept = self._round(sentence, offset, [], found)
        rest = [c for c in found if not any(_overlaps(c.span, e.span) for e in kept)]
        if kept and rest:
            kept += self._round(sentence, offset, kept, rest)
        return sorted(kept, key=lambda e: e.span)

    def _round(
        self, sentence: str, offset: int, fixed: list[LearnerError], found: list[ErrorCandidate]
    ) -> list[LearnerError]:
        """Score the sentence (with `fixed` applied) and one variant per suggestion; keep winning candidates."""
        base = [((e.span[0] - offset, e.span[1] - offset), e.suggestion) for e in fixed]
        variants = [(c, s) for c in found for s in c.suggestions]
        texts = [apply(sentence, base)]
        texts += [apply(sentence, [*base, ((c.span[0] - offset, c.span[1] - offset), s)]) for c, s in variants]
        scores = self.scorer.score(SCORING_PREFIX, texts) if self.scorer else []
        best: dict[int, tuple[float, str]] = {}
        for k, (cand, suggestion) in enumerate(variants):
            gain = scores[k + 1] - scores[0]
            if id(cand) not in best or gain > best[id(cand)][0]:
                best[id(cand)] = (gain, suggestion)
        return [
            _error(cand, best[id(cand)][1], round(best[id(cand)][0], 3), checked=True)
            for cand in found
            if best[id(cand)][0] >= cand.margin
        ]


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two character spans share a character."""
    return a[0] < b[1] and b[0] < a[1]


def _limit(found: Sequence[ErrorCandidate]) -> list[ErrorCandidate]:
    """At most MAX_VARIANTS suggestions in all, confusable-word candidates last."""
    ordered = sorted(found, key=lambda c: c.rule == "word_choice.confusable")
    kept, total = [], 0
    for cand in ordered:
        if total + len(cand.suggestions) > MAX_VARIANTS:
            continue
        kept.append(cand)
        total += len(cand.suggestions)
    return kept


def _reliable(found: Sequence[ErrorCandidate]) -> list[LearnerError]:
    """Candidates from rules precise enough on their own, with their first suggestion."""
    kept = [c for c in found if c.rule in RELIABLE_RULES]
    kept += [c for c in found if c.rule == "spelling.edit_distance" and len(c.suggestions) == 1]
    return [_error(c, c.suggestions[0], None, checked=False) for c in sorted(kept, key=lambda c: c.span)]


def _error(candidate: ErrorCandidate, suggestion: str, gain: float | None, *, checked: bool) -> LearnerError:
    """A reported error from a candidate and the suggestion chosen for it."""
    return LearnerError(
        span=candidate.span,
        text=candidate.text,
        error_type=candidate.error_type,
        suggestion=suggestion,
        rule=candidate.rule,
        family=FAMILY[candidate.error_type],
        gain=gain,
        checked=checked,
        explanation=explanation(candidate, suggestion),
    )
