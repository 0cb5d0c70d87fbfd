"""Error detection: the rules alone, the real SmolLM2 confirming them on the hand-made learner set, degradation."""

from __future__ import annotations

import pytest

from agents.models.base import ChatModel
from agents.models.llamacpp import LlamaCppModel
from agents.tutor.errors import ErrorDetector
from knowledge.learner_errors import apply, find_candidates, spelling_suggestions, wants_an
from tests.support.scripted_model import ScriptedModel
from tests.support.tutor_error_set import CORRECT, ERRORS


def test_rules_propose_every_error_of_the_set() -> None:
    """Recall of the rules alone (before the model filters): each gold fix is among some candidate's suggestions."""
    for sentence, gold in ERRORS:
        found = {(c.text, s) for c in find_candidates(sentence) for s in c.suggestions}
        for wrong, right, _ in gold:
            assert (wrong, right) in found, (sentence, wrong, right, found)


def test_candidates_have_spans_into_the_text() -> None:
    text = "Yesterday she buyed three book."
    for c in find_candidates(text):
        assert text[c.span[0] : c.span[1]] == c.text
    assert apply(text, [((14, 19), "bought"), ((26, 30), "books")]) == "Yesterday she bought three books."


def test_articles_and_spelling_helpers() -> None:
    assert wants_an("apple") and wants_an("hour") and not wants_an("university") and not wants_an("dog")
    assert spelling_suggestions("freind")[0] == "friend"
    assert spelling_suggestions("friend") == ()


def test_detection_with_smollm_on_the_hand_made_set(smollm: LlamaCppModel) -> None:
    """The real model confirms the true errors and rejects the rules' false candidates."""
    detector = ErrorDetector(smollm)
    tp = fp = fn = 0
    for sentence, gold in [*ERRORS, *((s, []) for s in CORRECT)]:
        detection = detector.detect(sentence)
        assert detection.scored, detection.notes
        want = {(w, r) for w, r, _ in gold}
        got = {(e.text, e.suggestion) for e in detection.errors}
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    assert precision >= 0.95 and recall >= 0.85, (precision, recall, tp, fp, fn)


def test_detection_reports_span_type_suggestion_and_corrected_text(smollm: LlamaCppModel) -> None:
    detection = ErrorDetector(smollm).detect("Yesterday I go to the park. He like fish.")
    assert [(e.span, e.error_type, e.suggestion) for e in detection.errors] == [
        ((12, 14), "verb tense", "went"),
        ((31, 35), "subject-verb agreement", "likes"),
    ]
    assert all(e.checked and e.gain is not None and e.gain > 0 for e in detection.errors)
    assert detection.corrected == "Yesterday I went to the park. He likes fish."


#: A scorer whose every call times out (for the degradation path only).
_TIMING_OUT_SCORER = ScriptedModel(["TIMEOUT"], "timeout", scores=["TIMEOUT"])


@pytest.mark.parametrize("scorer", [None, _TIMING_OUT_SCORER])
def test_without_a_working_scorer_only_reliable_rules_are_kept(scorer: ChatModel | None) -> None:
    detection = ErrorDetector(scorer).detect("i have a apple. He like fish. I am good in math.")
    kinds = {(e.text, e.suggestion) for e in detection.errors}
    assert kinds == {("i", "I"), ("a", "an")}, kinds
    assert not detection.scored
    if scorer is not None:
        assert "scorer failed" in detection.notes[0]


#: The errors the scripted sessions of issue 11 planted, with the correction a teacher gives.
PLANTED = [
    ("I have 25 years.", "I am 25 years old."),
    ("This present is for we.", "This present is for us."),
    ("I live here since three years.", "I live here for three years."),
    ("If I would have known, I would have come.", "If I had known, I would have come."),
    ("Despite of the rain, we went out.", "Despite the rain, we went out."),
    ("I am looking forward to meet you.", "I am looking forward to meeting you."),
    ("I have went to Paris two years ago.", "I went to Paris two years ago."),
    ("I like very much the football.", "I like football very much."),
    ("I am agree with you.", "I agree with you."),
    ("I need some informations.", "I need some information."),
    ("She cook very well.", "She cooks very well."),
]
#: More of the frequent learner error types (CLC codes, Swan and Smith), one sentence each.
MORE_ERRORS = [
    ("It depends of the weather.", "It depends on the weather."),
    ("People is very friendly here.", "People are very friendly here."),
    ("There is many cars in the street.", "There are many cars in the street."),
    ("This is more big than that.", "This is bigger than that."),
    ("I make my homework after dinner.", "I do my homework after dinner."),
    ("He said me the truth.", "He told me the truth."),
    ("Can you borrow me your pen?", "Can you lend me your pen?"),
    ("If it will rain, we will stay at home.", "If it rains, we will stay at home."),
    ("I enjoy to swim in the sea.", "I enjoy swimming in the sea."),
    ("My mother let me to go.", "My mother let me go."),
    ("Can you tell me where is the station?", "Can you tell me where the station is?"),
    ("I want go home.", "I want to go home."),
    ("I listen music every day.", "I listen to music every day."),
    ("Everyone have a phone now.", "Everyone has a phone now."),
    ("Between you and I, it is bad.", "Between you and me, it is bad."),
]
#: Correct sentences with the same words and constructions: they must come back unchanged.
CORRECT_TWINS = [
    "I am 25 years old.", "This present is for us.", "I have lived here for three years.",
    "If I had known, I would have come.", "Despite the rain, we went out.", "I look forward to meeting you.",
    "I went to Paris two years ago.", "I like football very much.", "I agree with you.", "She cooks very well.",
    "It depends on the weather.", "People are very friendly here.", "There are many cars in the street.",
    "I do my homework after dinner.", "He told me the truth.", "Can you tell me where the station is?",
    "I want to go home.", "We have known them since 2019.", "She has lived in Rome for two years.",
    "He asked me to help him with his homework.",
]  # fmt: skip


@pytest.mark.parametrize(("sentence", "right"), [*PLANTED, *MORE_ERRORS])
def test_rules_propose_the_teachers_correction(sentence: str, right: str) -> None:
    """Without the model: applying some suggestion of each candidate gives the teacher's sentence."""
    found = find_candidates(sentence)
    assert found, sentence
    options = [sentence]
    for cand in reversed(found):
        options += [apply(o, [(cand.span, s)]) for o in options for s in cand.suggestions]
    assert right in options, (sentence, [(c.text, c.suggestions, c.rule) for c in found])


def test_every_rule_has_a_type_and_an_explanation() -> None:
    from knowledge import error_patterns
    from knowledge.learner_errors import ERROR_TYPES

    rules = error_patterns.rules()
    assert all(
        r.error_type in ERROR_TYPES and r.explain and r.source in error_patterns.sources() for r in rules.values()
    )
    assert {p.rule for p in error_patterns.patterns()} <= set(rules)
    for sentence, _ in [*PLANTED, *MORE_ERRORS]:
        assert all(c.rule in rules for c in find_candidates(sentence)), sentence


def test_smollm_corrects_the_planted_errors_and_leaves_correct_twins_alone(smollm: LlamaCppModel) -> None:
    detector = ErrorDetector(smollm)
    fixed = [s for s, right in [*PLANTED, *MORE_ERRORS] if detector.detect(s).corrected == right]
    changed = [s for s in CORRECT_TWINS if detector.detect(s).corrected != s]
    assert len(fixed) >= 0.8 * len(PLANTED + MORE_ERRORS), [s for s, _ in PLANTED + MORE_ERRORS if s not in fixed]
    assert len(changed) <= 1, changed


def test_explanations_are_filled_in_and_name_the_fix(smollm: LlamaCppModel) -> None:
    detection = ErrorDetector(smollm).detect("I am agree with you.")
    [error] = detection.errors
    assert "verb" in error.explanation and "am or is" not in error.explanation and '"agree"' in error.explanation
