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
