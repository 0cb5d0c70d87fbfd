"""Exercises in a tutoring session: when to offer one (a pure rule), what to ask the item graph for, and grading.

Rule (checked after the reply, every turn; the first that applies wins):

1. Never when exercises are off, before turn `exercise_first_turn` (3), within `exercise_cooldown` (5) turns of the
   last offer, while an offered exercise is still unanswered, or in a turn that answered one.
2. A recurring error: an error type seen in at least `recurring_min` (2) of the last `recurring_window` (6) turns,
   and practised by an exercise type -> error_correction (agreement, tense, verb forms, plurals, comparatives) or
   open_gap (articles, prepositions), at the learner's level, on the conversation's topic. Slips (spelling, the
   capital I) and confusable words get none: an exercise from the item graph would not practise them.
3. Vocabulary due for review: at least `due_words_min` (3) words due -> gap_fill on the topic those words share.
4. Otherwise none.

So a 20-turn session gets at most four offers, and the median turn never pays for item generation.
The exercise is the item graph's (`run_item`, one nested trace, with the session id). The next learner message
that looks like an answer (a few words, or the answer itself) is graded instead of being chatted about.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from agents.tutor.intent import Intent
from agents.tutor.learner import LearnerModel, recent_count
from agents.tutor.policy import TutorPolicy
from knowledge.items import (
    ErrorCorrectionItem,
    ExerciseType,
    FlatItem,
    GapFillItem,
    Item,
    MatchingItem,
    ReadingItem,
    parse_item,
)
from knowledge.learner_errors import ErrorType
from knowledge.levels import Level
from knowledge.lexicon import Lexicon
from knowledge.nlp import analyze

#: The item type that practises each error type (types not listed get no exercise).
EXERCISE_FOR: dict[ErrorType, ExerciseType] = {
    "subject-verb agreement": "error_correction",
    "verb tense": "error_correction",
    "verb form": "error_correction",
    "singular/plural noun": "error_correction",
    "comparative": "error_correction",
    "article": "open_gap",
    "preposition": "open_gap",
}
#: WordNet noun files that make good exercise topics, and the topic each becomes.
TOPIC_OF_LEXFILE = {
    "noun.animal": "animals", "noun.food": "food", "noun.body": "the body", "noun.plant": "plants",
    "noun.location": "places", "noun.time": "time", "noun.feeling": "feelings", "noun.person": "people",
    "noun.communication": "communication", "noun.event": "events", "noun.act": "activities",
    "noun.artifact": "things at home", "noun.group": "groups", "noun.object": "nature",
}  # fmt: skip
DEFAULT_TOPIC = "daily life"
#: A message this short after an exercise is its answer; up to MAX_ANSWER_WORDS it must contain the answer.
SHORT_ANSWER_WORDS = 3
MAX_ANSWER_WORDS = 8
_WORD = re.compile(r"[A-Za-z']+")


class ExercisePlan(BaseModel):
    """What to ask the item graph for, and why."""

    type: ExerciseType
    level: Level
    topic: str
    reason: str
    error_type: str | None = None
    mistake: str | None = Field(default=None, description="The planted mistake a requested point needs, if any.")
    answers: list[str] = Field(default_factory=list, description="Gap answers a requested point needs, if any.")
    words: list[str] = Field(default_factory=list, description="Keys ('lemma|pos') of the due words that led to it.")
    on_point: bool = Field(default=True, description="False when a requested point has no exercise type of its own.")


class PendingExercise(BaseModel):
    """An exercise shown to the learner and not answered yet."""

    turn: int
    type: ExerciseType
    item: FlatItem
    reason: str
    run_id: str
    trace_id: str | None = None
    words: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _typed_item(cls, data: Any) -> Any:
        """Exercises stored before items were typed may leave the item's type to the exercise's own `type`."""
        if isinstance(data, dict) and isinstance(data.get("item"), dict) and "type" not in data["item"]:
            return data | {"item": {"type": data.get("type"), **data["item"]}}
        return data


class Grade(BaseModel):
    """How the learner's answer to a pending exercise was judged."""

    correct: bool
    expected: str
    given: str
    feedback: str


def plan_exercise(
    learner: LearnerModel, turn: int, now: datetime, policy: TutorPolicy, *, pending: bool, answered: bool,
    topic: str,
) -> tuple[ExercisePlan | None, str]:  # fmt: skip
    """The exercise to offer this turn (or None) and the reason, following the rule in the module docstring."""
    blocked = _blocked(learner, turn, policy, pending=pending, answered=answered)
    if blocked:
        return None, blocked
    level = learner.level.level
    recurring = _recurring(learner, turn, policy)
    if recurring is not None:
        kind, count = recurring
        reason = f"{kind} errors in {count} of the last {policy.recurring_window} turns"
        return ExercisePlan(type=EXERCISE_FOR[kind], level=level, topic=topic, reason=reason, error_type=kind), reason
    due = learner.due(now)
    if len(due) >= policy.due_words_min:
        words = [c.word for c in due[:6]]
        reason = f"{len(due)} words due for review ({', '.join(words[:3])} ...)"
        plan = ExercisePlan(type="gap_fill", level=level, topic=words_topic(words), reason=reason,
                            words=[c.key for c in due[:6]])  # fmt: skip
        return plan, reason
    return None, "no recurring error and not enough words due for review"


#: The item type that practises each explained grammar point (others get a vocabulary gap fill on the topic).
#: The item graph takes a type, level and topic, not a grammar point: error_correction plants tense, agreement and
#: comparative mistakes first, open_gap gaps grammar words (articles, prepositions, auxiliaries, pronouns).
EXERCISE_FOR_POINT: dict[str, ExerciseType] = {
    "present-simple": "error_correction", "present-continuous": "error_correction", "past-simple": "error_correction",
    "past-continuous": "error_correction", "present-perfect": "error_correction",
    "present-perfect-continuous": "error_correction", "past-perfect": "error_correction",
    "comparatives": "error_correction", "questions": "open_gap", "future-forms": "open_gap", "modals": "open_gap",
    "articles": "open_gap", "in-on-at": "open_gap", "countable-uncountable": "open_gap", "passive": "open_gap",
    "relative-clauses": "open_gap", "reported-speech": "open_gap", "gerund-infinitive": "open_gap",
    "used-to": "open_gap", "zero-conditional": "open_gap", "first-conditional": "open_gap",
    "second-conditional": "open_gap", "third-conditional": "open_gap", "conditionals": "open_gap",
    "for-since": "open_gap", "much-many": "open_gap", "few-a-few": "open_gap",
}  # fmt: skip


#: The planted mistake an error-correction item must have to practise a point (the item graph plants the level's
#: typical mistakes; the tutor asks again with another seed when the first item practises something else).
MISTAKE_FOR_POINT: dict[str, str] = {
    "past-simple": "verb tense", "present-perfect": "verb tense", "past-perfect": "verb tense",
    "past-continuous": "verb tense", "present-simple": "subject-verb agreement",
    "present-continuous": "subject-verb agreement", "present-perfect-continuous": "verb tense",
    "comparatives": "comparative",
}  # fmt: skip


#: The gap answers an open-gap item must have to practise a point ("articles": the gap is a, an or the).
ANSWERS_FOR_POINT: dict[str, frozenset[str]] = {
    "articles": frozenset({"a", "an", "the"}), "in-on-at": frozenset({"in", "on", "at"}),
    "for-since": frozenset({"for", "since"}), "much-many": frozenset({"much", "many"}),
    "relative-clauses": frozenset({"who", "which", "that", "where", "whose"}),
    "modals": frozenset({"can", "could", "must", "should", "might", "may", "will", "would"}),
    "future-forms": frozenset({"will", "going"}), "questions": frozenset({"do", "does", "did"}),
}  # fmt: skip


def practises(plan: ExercisePlan, item: Item) -> bool:
    """Whether an item practises what the plan asked for: the planted mistake or the gap's answer for a point."""
    if not plan.on_point:
        return False
    if plan.answers:
        return item.answer_text().lower() in plan.answers
    return plan.mistake is None or (isinstance(item, ErrorCorrectionItem) and item.error_type == plan.mistake)


def plan_requested(intent: Intent, level: Level, topic: str, policy: TutorPolicy) -> tuple[ExercisePlan | None, str]:
    """The exercise the learner asked for: the point's item type, or a gap fill on the topic they named.

    A request is honoured whenever exercises are on, whatever the cooldown (the cooldown spaces the tutor's own
    offers, not the learner's wishes).
    """
    if not policy.exercises:
        return None, "Exercises are switched off in this session, but I'm happy to keep talking."
    if intent.point is not None and intent.point not in EXERCISE_FOR_POINT:
        # no item type practises this point (make/do, say): an exercise on the topic, and the learner is told so
        reason = f"the learner asked for an exercise on {intent.point}, which has no exercise type yet"
        return ExercisePlan(type="gap_fill", level=level, topic=topic, reason=reason, on_point=False), reason
    if intent.point is not None:
        kind = EXERCISE_FOR_POINT[intent.point]
        reason = f"the learner asked for an exercise on {intent.point}"
        mistake = MISTAKE_FOR_POINT.get(intent.point) if kind == "error_correction" else None
        answers = sorted(ANSWERS_FOR_POINT.get(intent.point, ())) if kind == "open_gap" else []
        plan = ExercisePlan(type=kind, level=level, topic=topic, reason=reason, mistake=mistake, answers=answers)
        return plan, reason
    chosen = intent.topic or topic
    reason = f"the learner asked for an exercise about {chosen}"
    return ExercisePlan(type="gap_fill", level=level, topic=chosen, reason=reason), reason


def _blocked(learner: LearnerModel, turn: int, policy: TutorPolicy, *, pending: bool, answered: bool) -> str:
    """Why no exercise may be offered this turn, or '' if one may."""
    last = max((e.turn for e in learner.exercises), default=None)
    if not policy.exercises:
        return "exercises are switched off"
    if answered or pending:
        return "the learner is answering an exercise" if answered else "an exercise is waiting for an answer"
    if turn < policy.exercise_first_turn:
        return f"no exercise before turn {policy.exercise_first_turn}"
    if last is not None and turn - last < policy.exercise_cooldown:
        return f"the last exercise was {turn - last} turn(s) ago (at least {policy.exercise_cooldown} apart)"
    return ""


def _recurring(learner: LearnerModel, turn: int, policy: TutorPolicy) -> tuple[ErrorType, int] | None:
    """The error type with an exercise that occurred in the most recent turns, if it reaches the minimum."""
    best: tuple[ErrorType, int] | None = None
    for kind, exercise in EXERCISE_FOR.items():
        stat = learner.errors.get(kind)
        if stat is None or exercise is None:
            continue
        count = recent_count(stat, turn, policy.recurring_window)
        if count >= policy.recurring_min and (best is None or count > best[1]):
            best = (kind, count)
    return best


def conversation_topic(messages: Sequence[str], lexicon: Lexicon | None = None) -> str:
    """The topic of the learner's recent messages: the WordNet file most of their nouns share, else their noun."""
    nouns = [t.lemma.lower() for m in messages[-4:] for t in analyze(m) if t.tag in {"NN", "NNS"} and t.is_word]
    return words_topic(nouns, lexicon) if nouns else DEFAULT_TOPIC


def words_topic(words: Sequence[str], lexicon: Lexicon | None = None) -> str:
    """The topic several words share (a WordNet noun file we name), else the commonest listed word itself."""
    lex = lexicon or Lexicon.load()
    files = Counter(f for w in words for f in lex.topics(w, "noun")[:1] if f in TOPIC_OF_LEXFILE)
    if files:
        return TOPIC_OF_LEXFILE[files.most_common(1)[0][0]]
    listed = [w for w in words if lex.level_of(w, "noun").is_listed and w.isalpha()]
    return Counter(listed).most_common(1)[0][0] if listed else DEFAULT_TOPIC


# --- answers --------------------------------------------------------------------------------------------------


def expected_answers(pending: PendingExercise) -> list[str]:
    """What counts as a right answer: the answer, accepted alternatives, the correction or corrected sentence."""
    return _typed(pending).expected_answers()


def _normal(text: str) -> str:
    """Lower-case words only, for comparing answers."""
    return " ".join(_WORD.findall(text.lower()))


def looks_like_answer(pending: PendingExercise, message: str) -> bool:
    """Whether a message answers the pending exercise rather than going on with the chat.

    An answer is at most `SHORT_ANSWER_WORDS` words, or contains an expected answer of several words and is at most
    `MAX_ANSWER_WORDS` words, or (error correction) repeats most of the exercise sentence.
    """
    said = _normal(message)
    words = said.split()
    if len(words) <= SHORT_ANSWER_WORDS:
        return True
    expected = [_normal(a) for a in expected_answers(pending) if _normal(a)]
    if any(a == said or (len(words) <= MAX_ANSWER_WORDS and " " in a and f" {a} " in f" {said} ") for a in expected):
        return True
    stem = set(_normal(_typed(pending).key_text()).split())
    return pending.type == "error_correction" and bool(stem) and len(stem & set(words)) >= 0.6 * len(stem)


def grade(pending: PendingExercise, message: str) -> Grade:
    """Judge an answer: right if it is (or, for a short answer, contains) one of the expected answers."""
    said = _normal(message)
    expected = expected_answers(pending)
    right = any(_matches(said, _normal(a), pending.type) for a in expected if _normal(a))
    item = _typed(pending)
    shown = item.correction if isinstance(item, ErrorCorrectionItem) else expected[0] if expected else ""
    feedback = f'Yes, "{shown}" is right!' if right else f'Not quite: the answer is "{shown}".'
    return Grade(correct=right, expected=shown, given=message.strip()[:200], feedback=feedback)


def _matches(said: str, answer: str, kind: str) -> bool:
    """Exact match, or the answer word among at most three words (an error correction's fixed word)."""
    if said == answer:
        return True
    words = said.split()
    return kind in ("error_correction", "open_gap", "gap_fill") and len(words) <= 3 and answer in words


def render_exercise(shown: Item | Mapping[str, Any]) -> str:
    """An exercise as the learner sees it: instructions, the task and the options, without the answer.

    Takes the typed item, or a flat item object as stored in a turn's payload.
    """
    item = shown if isinstance(shown, BaseModel) else parse_item(shown)
    lines = [item.instructions, "" if isinstance(item, MatchingItem | ReadingItem) else item.stem]
    if isinstance(item, GapFillItem | MatchingItem) and item.options:
        lines.append("Options: " + " / ".join(item.options))
    if isinstance(item, MatchingItem):
        lines.append("Words: " + ", ".join(item.words))
    return "\n".join(line for line in lines if line)


def _typed(pending: PendingExercise) -> Item:
    """The pending exercise's item (typed since it was read)."""
    return pending.item
