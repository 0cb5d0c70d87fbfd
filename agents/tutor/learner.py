"""The learner model: estimated level with its evidence, recurring error types, and words on a Leitner schedule.

Everything here is a pure function of the previous model and what one turn showed, so the tutoring graph can keep
the model in its checkpointed state and tests can replay sessions with an injected clock.

Level. Each turn the LevelEstimator judges the learner's message *as corrected* (a misspelling has no CEFR level
and would read as a hard word). The turn's level probabilities are blended into the running belief, weighted by
the words they rest on, with older evidence decaying by `LEVEL_DECAY` per turn:

    p = (DECAY * W * p_before + w * p_turn) / (DECAY * W + w),    W = DECAY * W_before + w

The belief starts as a prior centred on the session's starting level worth `PRIOR_WORDS` words, so a first
three-word message cannot swing it to C2; the level is the most probable one.

Errors. Counts per error type, the turns they were seen in (the last ten) and when last seen; the feedback policy
calls a type repeated from `feedback.REPEATED` occurrences, the exercise rule looks at the recent turns.

Words (Leitner, five boxes). A content word (noun, verb, adjective, adverb with a CEFR level) enters box 1 when
the learner first uses it, when a correction supplies it, or when the tutor's exercise uses it. Box intervals:
1: 10 minutes, 2: 1 day, 3: 3 days, 4: 7 days, 5: 21 days; a word is due when its interval has passed since it was
last placed. Using a word correctly *when it is due* moves it up one box (using it again before then only counts
the use: spacing is what makes a review count); getting it wrong (a misspelling, a wrong form of it, a wrong
exercise answer) sends it back to box 1. A word in box 5 is mastered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from agents.tutor.errors import LearnerError
from knowledge.level_estimator import LevelEstimate, WordEvidence
from knowledge.levels import TARGET_LEVELS, Level
from knowledge.lexicon import Lexicon

#: How much of the level evidence one turn older still counts.
LEVEL_DECAY = 0.7
#: The prior's weight, in words of evidence.
PRIOR_WORDS = 10.0
#: Probability the prior puts on the starting level (the rest goes to its neighbours, then further away).
PRIOR_PEAK = 0.6
#: Turns of level evidence kept in the model.
EVIDENCE_TURNS = 5
#: Leitner box -> time until the word is due again.
LEITNER_INTERVALS: dict[int, timedelta] = {
    1: timedelta(minutes=10),
    2: timedelta(days=1),
    3: timedelta(days=3),
    4: timedelta(days=7),
    5: timedelta(days=21),
}
MASTERED_BOX = 5
#: Recent turns remembered per error type.
ERROR_TURNS = 10
#: Parts of speech whose words are tracked, and lemmas too common to track.
_CONTENT_POS = frozenset({"noun", "verb", "adjective", "adverb"})
_UNTRACKED = frozenset({"be", "have", "do", "get", "go", "say", "make", "not", "so", "very", "then", "there", "here"})
#: Error types that say the learner does not yet own the word itself (not only the grammar around it).
_WORD_ERRORS = frozenset({"spelling", "verb form", "singular/plural noun", "word choice"})


class TurnLevel(BaseModel):
    """What one turn said about the learner's level."""

    turn: int
    level: Level | None
    expected_rank: float | None = None
    words: int = 0
    probabilities: dict[str, float] = Field(default_factory=dict)
    hardest_words: list[str] = Field(default_factory=list, description="Its highest-level words, e.g. 'cinema (A2)'.")
    constructions: list[str] = Field(default_factory=list, description="Its highest-level CEFR-J constructions.")
    reason: str = ""


class LevelBelief(BaseModel):
    """The learner's estimated level: smoothed probabilities over turns, with the recent turns as evidence."""

    level: Level
    probabilities: dict[str, float]
    expected_rank: float
    weight: float = Field(description="Words of evidence behind the belief (decayed), the prior included.")
    start: Level = Field(description="The level the session started from (the prior's centre).")
    evidence: list[TurnLevel] = Field(default_factory=list, description="The last turns' estimates, newest last.")


class ErrorStat(BaseModel):
    """How often an error type occurred, and when."""

    count: int = 0
    turns: list[int] = Field(default_factory=list, description="Turns it occurred in (the last ten).")
    last_turn: int = 0
    last_seen: datetime | None = None


class WordCard(BaseModel):
    """A word the learner has met, with its Leitner box and due time."""

    word: str
    pos: str
    level: Level | None = None
    box: int = Field(default=1, ge=1, le=MASTERED_BOX)
    due: datetime
    first_seen: datetime
    last_seen: datetime
    uses: int = 0
    errors: int = 0

    @property
    def mastered(self) -> bool:
        """Whether the word reached the last box."""
        return self.box >= MASTERED_BOX

    @property
    def key(self) -> str:
        """The card's key in `LearnerModel.words` ('lemma|pos')."""
        return card_key(self.word, self.pos)


class ExerciseRecord(BaseModel):
    """An exercise offered during the session and how it went."""

    turn: int
    type: str
    reason: str
    status: str = Field(description="offered, correct, wrong or skipped.")
    words: list[str] = Field(default_factory=list)


class LearnerModel(BaseModel):
    """Everything the tutor knows about the learner, updated every turn."""

    level: LevelBelief
    errors: dict[str, ErrorStat] = Field(default_factory=dict)
    words: dict[str, WordCard] = Field(default_factory=dict, description="By key 'lemma|pos'.")
    exercises: list[ExerciseRecord] = Field(default_factory=list)
    turns: int = Field(default=0, description="Learner turns so far.")

    def due(self, now: datetime) -> list[WordCard]:
        """Words due for review (not mastered), the longest overdue first."""
        cards = [c for c in self.words.values() if c.due <= now and not c.mastered]
        return sorted(cards, key=lambda c: c.due)

    def summary(self, now: datetime) -> dict[str, object]:
        """The model as the CLI's JSON shows it: level with evidence, errors, word counts and due words."""
        return {
            "level": self.level.level.value,
            "probabilities": self.level.probabilities,
            "expected_rank": self.level.expected_rank,
            "evidence": [e.model_dump(mode="json") for e in self.level.evidence],
            "errors": {k: v.model_dump(mode="json") for k, v in self.errors.items()},
            "words_met": len(self.words),
            "words_mastered": sum(c.mastered for c in self.words.values()),
            "due": [c.word for c in self.due(now)],
            "words": [_card_json(c) for c in sorted(self.words.values(), key=lambda c: c.first_seen)],
            "exercises": [e.model_dump(mode="json") for e in self.exercises],
            "turns": self.turns,
        }


def _card_json(card: WordCard) -> dict[str, object]:
    """One word as the JSON shows it."""
    return {
        "word": card.word, "pos": card.pos, "level": card.level.value if card.level else None, "box": card.box,
        "due": card.due.isoformat(), "uses": card.uses, "errors": card.errors, "mastered": card.mastered,
    }  # fmt: skip


# --- level ----------------------------------------------------------------------------------------------------


def new_learner(start: Level) -> LearnerModel:
    """A learner model for a new session, centred on the starting level."""
    probs = prior(start)
    return LearnerModel(
        level=LevelBelief(level=start, probabilities=probs, expected_rank=_rank(probs), weight=PRIOR_WORDS, start=start)
    )


def prior(start: Level) -> dict[str, float]:
    """PRIOR_PEAK on the starting level, the rest spread over the others, halving with each level away."""
    raw = {lv: 0.5 ** abs(lv.rank - start.rank) for lv in TARGET_LEVELS if lv != start}
    total = sum(raw.values())
    probs = {str(lv): (1 - PRIOR_PEAK) * w / total for lv, w in raw.items()}
    probs[str(start)] = PRIOR_PEAK
    return {str(lv): round(probs[str(lv)], 4) for lv in TARGET_LEVELS}


def turn_level(turn: int, estimate: LevelEstimate) -> TurnLevel:
    """One turn's level estimate as evidence: level, probabilities, hardest words and constructions."""
    words = sorted(
        (w for w in estimate.words if w.level is not None and w.kind in ("listed", "estimated")),
        key=lambda w: -w.level.rank if w.level else 0,
    )
    hardest = [f"{w.text} ({w.level})" for w in words[:3] if w.level is not None and w.level > Level.A1]
    constructions = sorted(estimate.constructions, key=lambda c: -(c.level.rank if c.level else 0))
    return TurnLevel(
        turn=turn, level=estimate.level, expected_rank=estimate.expected_rank, words=estimate.word_count,
        probabilities=estimate.probabilities, hardest_words=hardest,
        constructions=[f"{c.name} ({c.level}, CEFR-J {c.item_id})" for c in constructions[:2] if c.level],
        reason=estimate.reason,
    )  # fmt: skip


def update_level(belief: LevelBelief, evidence: TurnLevel) -> LevelBelief:
    """Blend one turn's estimate into the belief (see the module docstring); unjudged turns change nothing."""
    kept = [*belief.evidence, evidence][-EVIDENCE_TURNS:]
    if evidence.level is None or not evidence.probabilities or evidence.words == 0:
        return belief.model_copy(update={"evidence": kept})
    old = LEVEL_DECAY * belief.weight
    weight = old + evidence.words
    probs = {
        key: round((old * belief.probabilities.get(key, 0.0) + evidence.words * value) / weight, 4)
        for key, value in evidence.probabilities.items()
    }
    level = max(TARGET_LEVELS, key=lambda lv: probs.get(str(lv), 0.0))
    return belief.model_copy(
        update={"level": level, "probabilities": probs, "expected_rank": _rank(probs), "weight": round(weight, 3),
                "evidence": kept}
    )  # fmt: skip


def _rank(probs: dict[str, float]) -> float:
    """Probability-weighted mean rank (A1 = 1 ... C2 = 6)."""
    return round(sum(Level(k).rank * p for k, p in probs.items()), 3)


# --- errors ---------------------------------------------------------------------------------------------------


def record_errors(errors: dict[str, ErrorStat], found: Sequence[LearnerError], turn: int, now: datetime) -> dict[
    str, ErrorStat
]:  # fmt: skip
    """Counts, recent turns and last-seen time per error type after one turn."""
    updated = dict(errors)
    for error in found:
        stat = updated.get(error.error_type, ErrorStat())
        turns = stat.turns if stat.turns and stat.turns[-1] == turn else [*stat.turns, turn]
        updated[error.error_type] = ErrorStat(
            count=stat.count + 1, turns=turns[-ERROR_TURNS:], last_turn=turn, last_seen=now
        )
    return updated


def recent_count(stat: ErrorStat, turn: int, window: int) -> int:
    """In how many of the last `window` turns (this one included) an error type occurred."""
    return sum(1 for t in stat.turns if turn - window < t <= turn)


# --- words ----------------------------------------------------------------------------------------------------


def card_key(lemma: str, pos: str) -> str:
    """The key of a word card."""
    return f"{lemma.lower()}|{pos}"


def tracked_words(words: Iterable[WordEvidence]) -> list[WordEvidence]:
    """The listed content words worth tracking (nouns, verbs, adjectives, adverbs), first occurrence of each."""
    found: dict[str, WordEvidence] = {}
    for word in words:
        if word.kind != "listed" or word.pos not in _CONTENT_POS or word.lemma.lower() in _UNTRACKED:
            continue
        found.setdefault(card_key(word.lemma, word.pos), word)
    return list(found.values())


def use_word(cards: dict[str, WordCard], lemma: str, pos: str, level: Level | None, now: datetime) -> None:
    """The learner used a word correctly: a new card, a promotion if it was due, or just the use counted."""
    key = card_key(lemma, pos)
    card = cards.get(key)
    if card is None:
        cards[key] = WordCard(word=lemma, pos=pos, level=level, box=1, due=now + LEITNER_INTERVALS[1],
                              first_seen=now, last_seen=now, uses=1)  # fmt: skip
        return
    if card.due <= now and card.box < MASTERED_BOX:
        box = card.box + 1
        cards[key] = card.model_copy(
            update={"box": box, "due": now + LEITNER_INTERVALS[box], "last_seen": now, "uses": card.uses + 1}
        )
        return
    cards[key] = card.model_copy(update={"last_seen": now, "uses": card.uses + 1})


def miss_word(cards: dict[str, WordCard], lemma: str, pos: str, level: Level | None, now: datetime) -> None:
    """The learner got a word wrong: back to box 1 (a new card if it was not there)."""
    key = card_key(lemma, pos)
    card = cards.get(key)
    base = card or WordCard(word=lemma, pos=pos, level=level, due=now, first_seen=now, last_seen=now)
    cards[key] = base.model_copy(
        update={"box": 1, "due": now + LEITNER_INTERVALS[1], "last_seen": now, "errors": base.errors + 1}
    )


def review(cards: dict[str, WordCard], key: str, *, correct: bool, now: datetime) -> None:
    """An exercise reviewed a word the learner has a card for: a right answer counts as a use, a wrong one a miss."""
    card = cards.get(key)
    if card is not None:
        (use_word if correct else miss_word)(cards, card.word, card.pos, card.level, now)


def word_errors(found: Sequence[LearnerError]) -> list[LearnerError]:
    """The errors that are about a word itself (spelling, its form, a confusable), not the grammar around it."""
    return [e for e in found if e.error_type in _WORD_ERRORS]


def assess(
    learner: LearnerModel, errors: Sequence[LearnerError], estimate: LevelEstimate, lexicon: Lexicon, turn: int,
    now: datetime,
) -> tuple[TurnLevel, LearnerModel]:  # fmt: skip
    """What one turn says about the learner: its level evidence, and the learner model updated with it.

    The level comes from the corrected message blended over turns; errors are counted by type; words the learner
    got wrong are marked missed and the words used correctly are practised (Leitner boxes).
    """
    evidence = turn_level(turn, estimate)
    cards = dict(learner.words)
    missed = set()
    for error in word_errors(errors):
        found = lexicon.level_of(error.suggestion.split()[0])
        if found.is_listed and found.pos:
            miss_word(cards, found.lemma, found.pos, found.level, now)
            missed.add(found.lemma.lower())
    for word in tracked_words(estimate.words):
        if word.lemma.lower() not in missed and word.pos:
            use_word(cards, word.lemma, word.pos, word.level, now)
    updated = learner.model_copy(update={
        "level": update_level(learner.level, evidence),
        "errors": record_errors(learner.errors, errors, turn, now),
        "words": cards,
    })  # fmt: skip
    return evidence, updated
