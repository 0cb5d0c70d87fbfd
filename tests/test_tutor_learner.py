"""The tutor's pure logic: the learner model (level smoothing, errors, Leitner schedule), the feedback policy and its
texts, the exercise rule and answer grading, and the reply routing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agents.tutor.errors import LearnerError
from agents.tutor.exercise import PendingExercise, grade, looks_like_answer, plan_exercise, words_topic
from agents.tutor.feedback import (
    _EXPLANATIONS,
    _GENERIC_HINT,
    _HINTS,
    _RECAST_TEXT,
    REPEATED,
    choose_strategy,
    give_feedback,
    recast_sentence,
)
from agents.tutor.intent import Intent
from agents.tutor.learner import (
    LEITNER_INTERVALS,
    ErrorStat,
    ExerciseRecord,
    LearnerModel,
    TurnLevel,
    miss_word,
    new_learner,
    prior,
    recent_count,
    record_errors,
    update_level,
    use_word,
)
from agents.tutor.policy import TutorPolicy
from graphs.common import AttemptFacts
from graphs.tutor.routing import decide_reply, decide_start
from knowledge.aci import AlignmentChecker
from knowledge.levels import Level

F = AttemptFacts
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _error(kind: str, rule: str, family: str, text: str = "go", suggestion: str = "went") -> LearnerError:
    return LearnerError(span=(2, 2 + len(text)), text=text, error_type=kind, suggestion=suggestion,  # type: ignore[arg-type]
                        rule=rule, family=family)  # type: ignore[arg-type]


# --- level --------------------------------------------------------------------------------------------------


def test_prior_is_centred_on_the_start_level_and_sums_to_one() -> None:
    probs = prior(Level.B1)
    assert max(probs, key=lambda k: probs[k]) == "B1"
    assert probs["A2"] > probs["A1"] and probs["B2"] > probs["C1"]
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-3)


def test_level_moves_with_evidence_but_one_short_turn_does_not_swing_it() -> None:
    belief = new_learner(Level.A2).level
    c1 = {"A1": 0.0, "A2": 0.0, "B1": 0.05, "B2": 0.15, "C1": 0.7, "C2": 0.1}
    short = update_level(belief, TurnLevel(turn=1, level=Level.C1, words=3, probabilities=c1))
    assert short.level == Level.A2, "three words outweighed the prior"
    belief = short
    for turn in range(2, 6):
        belief = update_level(belief, TurnLevel(turn=turn, level=Level.C1, words=20, probabilities=c1))
    assert belief.level == Level.C1
    assert [e.turn for e in belief.evidence] == [1, 2, 3, 4, 5]
    assert belief.expected_rank > 4


def test_an_unjudged_turn_is_kept_as_evidence_without_changing_the_level() -> None:
    belief = new_learner(Level.A2).level
    after = update_level(belief, TurnLevel(turn=1, level=None, reason="no words with a level"))
    assert after.probabilities == belief.probabilities and after.evidence[-1].reason


# --- errors -------------------------------------------------------------------------------------------------


def test_error_counts_and_recent_turns() -> None:
    stats: dict[str, ErrorStat] = {}
    agreement = _error("subject-verb agreement", "agreement.third", "rule")
    stats = record_errors(stats, [agreement, agreement], 1, T0)
    stats = record_errors(stats, [agreement], 4, T0)
    stat = stats["subject-verb agreement"]
    assert stat.count == 3 and stat.turns == [1, 4] and stat.last_turn == 4
    assert recent_count(stat, 4, 6) == 2 and recent_count(stat, 8, 3) == 0


# --- Leitner ------------------------------------------------------------------------------------------------


def test_leitner_promotes_only_when_due_and_demotes_on_a_miss() -> None:
    cards: dict = {}
    use_word(cards, "cinema", "noun", Level.A1, T0)
    card = cards["cinema|noun"]
    assert card.box == 1 and card.due == T0 + LEITNER_INTERVALS[1]
    use_word(cards, "cinema", "noun", Level.A1, T0 + timedelta(minutes=5))
    assert cards["cinema|noun"].box == 1 and cards["cinema|noun"].uses == 2, "a use before the due time promoted"
    now = T0
    for box in range(2, 6):
        now = cards["cinema|noun"].due
        use_word(cards, "cinema", "noun", Level.A1, now)
        assert cards["cinema|noun"].box == box
    assert cards["cinema|noun"].mastered
    miss_word(cards, "cinema", "noun", Level.A1, now + timedelta(days=1))
    card = cards["cinema|noun"]
    assert card.box == 1 and card.errors == 1 and not card.mastered


def test_due_words_oldest_first_and_mastered_never_due() -> None:
    learner = new_learner(Level.A2)
    for i, word in enumerate(("apple", "river", "ticket")):
        use_word(learner.words, word, "noun", Level.A1, T0 + timedelta(minutes=i))
    later = T0 + timedelta(hours=1)
    assert [c.word for c in learner.due(later)] == ["apple", "river", "ticket"]
    assert learner.due(T0) == []
    summary = learner.summary(later)
    assert summary["words_met"] == 3 and summary["due"] == ["apple", "river", "ticket"]


# --- feedback -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "family", "repeats", "expected"),
    [
        (Level.A1, "rule", 1, "recast"),
        (Level.A2, "rule", REPEATED, "explanation"),
        (Level.A2, "lexical", REPEATED, "recast"),
        (Level.A2, "slip", 9, "recast"),
        (Level.B1, "rule", 1, "hint"),
        (Level.B2, "lexical", 1, "recast"),
        (Level.B1, "lexical", REPEATED, "explanation"),
        (Level.B2, "rule", REPEATED, "explanation"),
        (Level.C1, "rule", 1, "explanation"),
        (Level.C2, "lexical", 1, "explanation"),
        (Level.C1, "slip", 1, "recast"),
    ],
)
def test_feedback_policy(level: Level, family: str, repeats: int, expected: str) -> None:
    assert choose_strategy(level, family, repeats) == expected  # type: ignore[arg-type]


def test_feedback_texts_are_within_their_levels() -> None:
    """Explanations and recasts may reach A2 learners; hints are given from B1."""
    checker = AlignmentChecker.default()
    values = {"text": "go", "suggestion": "went", "context": "I went home"}
    for level, texts in (("A2", [*_EXPLANATIONS.values(), _RECAST_TEXT]), ("B1", [*_HINTS.values(), _GENERIC_HINT])):
        for template in texts:
            report = checker.check(template.format(**values), level)
            above = [v.message for v in report.violations
                     if v.kind in ("word_above_level", "unknown_word", "construction_above_level")]
            assert not above, (template, above)


def test_feedback_recasts_the_sentence_in_the_tutors_voice() -> None:
    text = "Yesterday I go to the park with my freind."
    errors = [
        _error("verb tense", "tense.past_marker", "rule", "go", "went") .model_copy(update={"span": (12, 14)}),
        _error("spelling", "spelling.edit_distance", "slip", "freind", "friend").model_copy(update={"span": (35, 41)}),
    ]
    fed = give_feedback(text, errors, Level.A2, {})
    assert fed.recast.endswith("yesterday you went to the park with your friend.")
    assert [c.strategy for c in fed.corrections] == ["recast", "recast"]
    assert fed.corrections[0].public() == {"span": [12, 14], "error_type": "verb tense", "suggestion": "went",
                                           "explanation": 'Better: "I went to".'}
    hinted = give_feedback(text, errors, Level.B1, {})
    assert hinted.corrections[0].strategy == "hint" and "went" not in hinted.corrections[0].explanation


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("I was tired and my sister was sad.", "Oh, you were tired and your sister was sad."),
        ("Tom likes pizza.", "Oh, Tom likes pizza."),
        ("I'm a student.", "Oh, you're a student."),
        ("Did you go to the cinema?", 'Better: "Did you go to the cinema?"'),
        ("My friend likes you.", 'Better: "My friend likes you."'),
    ],
)
def test_recast_sentence(sentence: str, expected: str) -> None:
    assert recast_sentence(sentence) == expected


# --- exercises ----------------------------------------------------------------------------------------------


def _learner_with(errors: dict[str, list[int]], turns: int, exercises: list[int] | None = None) -> LearnerModel:
    learner = new_learner(Level.A2)
    stats = {k: ErrorStat(count=len(v), turns=v, last_turn=v[-1]) for k, v in errors.items()}
    records = [ExerciseRecord(turn=t, type="open_gap", reason="", status="correct") for t in exercises or []]
    return learner.model_copy(update={"errors": stats, "turns": turns, "exercises": records})


def test_exercise_rule() -> None:
    policy = TutorPolicy()
    recurring = _learner_with({"subject-verb agreement": [2, 4]}, 4)
    plan, why = plan_exercise(recurring, 5, T0, policy, pending=False, answered=False, topic="food")
    assert plan is not None and plan.type == "error_correction" and plan.level == Level.A2 and plan.topic == "food"
    assert "subject-verb agreement" in why
    for blocked_turn, kwargs, reason in [
        (2, {}, "before turn"),
        (5, {"pending": True}, "waiting"),
        (5, {"answered": True}, "answering"),
    ]:
        flags = {"pending": False, "answered": False} | kwargs
        plan, why = plan_exercise(recurring, blocked_turn, T0, policy, **flags, topic="food")
        assert plan is None and reason in why
    cooled = _learner_with({"subject-verb agreement": [2, 4]}, 4, exercises=[3])
    assert plan_exercise(cooled, 5, T0, policy, pending=False, answered=False, topic="food")[0] is None
    slips = _learner_with({"spelling": [1, 2, 3, 4]}, 4)
    assert plan_exercise(slips, 5, T0, policy, pending=False, answered=False, topic="food")[0] is None
    articles = _learner_with({"article": [3, 5]}, 5)
    plan, _ = plan_exercise(articles, 5, T0, policy, pending=False, answered=False, topic="food")
    assert plan is not None and plan.type == "open_gap"
    off = TutorPolicy(exercises=False)
    assert plan_exercise(recurring, 5, T0, off, pending=False, answered=False, topic="food")[0] is None


def test_due_vocabulary_gives_a_gap_fill_on_their_topic() -> None:
    learner = new_learner(Level.A2)
    for word in ("apple", "banana", "bread", "cheese"):
        use_word(learner.words, word, "noun", Level.A1, T0)
    plan, why = plan_exercise(learner, 6, T0 + timedelta(hours=2), TutorPolicy(), pending=False, answered=False,
                              topic="daily life")
    assert plan is not None and plan.type == "gap_fill" and plan.topic == "food" and "due for review" in why
    assert plan.words[0] == "apple|noun"
    assert words_topic(["apple", "banana"]) == "food"


def test_answers_are_recognised_and_graded() -> None:
    pending = PendingExercise(turn=3, type="error_correction", run_id="r", reason="", item={
        "level": "A1", "topic": "pets", "instructions": "Correct the mistake.", "error_type": "agreement",
        "stem": "She have a cat.", "error": "have", "correction": "has", "answer": "She has a cat."})
    assert looks_like_answer(pending, "has") and looks_like_answer(pending, "She has a cat.")
    assert not looks_like_answer(pending, "I went to the cinema with my friends yesterday evening.")
    assert not looks_like_answer(pending, "My sister is a nurse now.")
    assert grade(pending, "has").correct and grade(pending, "She has a cat").correct
    wrong = grade(pending, "had")
    assert not wrong.correct and '"has"' in wrong.feedback
    gap = PendingExercise(turn=3, type="open_gap", run_id="r", reason="", item={
        "level": "A1", "topic": "places", "instructions": "Write one word.", "focus": "preposition",
        "stem": "I live _____ London.", "answer": "in", "accepted_answers": []})
    assert grade(gap, "In").correct and not grade(gap, "at").correct


# --- routing ------------------------------------------------------------------------------------------------


def test_start_routing() -> None:
    answer, chat = Intent(kind="exercise_answer", reason="short"), Intent(kind="conversation", reason="chat")
    assert decide_start(True, answer)[0] == "grade"
    assert decide_start(True, chat)[0] == "detect"
    assert decide_start(False, chat)[0] == "detect"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (F(passed=True, escalated=False, local_attempts=1, escalated_attempts=0, reachable=False), "offer"),
        (F(passed=False, escalated=False, local_attempts=1, escalated_attempts=0, reachable=False), "write"),
        (F(passed=False, escalated=False, local_attempts=2, escalated_attempts=0, reachable=True), "escalate"),
        (F(passed=False, escalated=False, local_attempts=2, escalated_attempts=0, reachable=False), "offer"),
        (F(passed=False, escalated=False, local_attempts=1, escalated_attempts=0, reachable=True,
                    local_failed=True), "escalate"),
        (F(passed=False, escalated=False, local_attempts=1, escalated_attempts=0, reachable=False,
                    local_failed=True), "offer"),
        (F(passed=False, escalated=True, local_attempts=2, escalated_attempts=1, reachable=True), "offer"),
        (F(passed=True, escalated=True, local_attempts=2, escalated_attempts=1, reachable=True), "offer"),
    ],
)
def test_reply_routing(facts: AttemptFacts, expected: str) -> None:
    route, reason = decide_reply(facts, TutorPolicy())
    assert route == expected and reason


# --- the reply prompt ---------------------------------------------------------------------------------------


def test_reply_prompt_and_cleaning() -> None:
    from agents.tutor.reply import EXAMPLES, _examples, band, clean
    from prompts.loader import load_prompt

    prompt = load_prompt("tutor_reply")
    text = prompt.render_completion(examples=_examples(Level.A2), message="I like cats.")
    assert text.endswith("Learner: I like cats.\nTeacher:") and text.count("Teacher:") == len(EXAMPLES["A"]) + 1
    system = prompt.render_system(level="B1", level_note="everyday words.", avoid=["vehicle"],
                                  examples=_examples(Level.B1), message="I like cats.")
    assert "vehicle" in system and "## Output rules" in system
    assert [band(lv) for lv in (Level.A1, Level.A2, Level.B1, Level.B2, Level.C1, Level.C2)] == list("AABBCC")
    assert clean('"Teacher: Where do you live? I live in Paris."') == "Where do you live?"
    assert clean("That is nice! Where is it? And why?") == "That is nice! Where is it?"


def test_reply_examples_use_words_of_their_band() -> None:
    from agents.tutor.reply import EXAMPLES

    checker = AlignmentChecker.default()
    for band_name, level in (("A", "A2"), ("B", "B2"), ("C", "C2")):
        for learner, teacher in EXAMPLES[band_name]:
            report = checker.check(f"{learner} {teacher}", level)
            assert not [v for v in report.violations if v.kind == "word_above_level"], (band_name, teacher)
