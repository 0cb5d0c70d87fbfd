"""The Alignment Consistency Index: planted words and constructions, required items, too easy, the formula."""

from __future__ import annotations

import pytest

from knowledge.aci import WEIGHTS, AlignmentChecker, above_level_share, fit_part, target_level
from knowledge.errors import UserInputError
from knowledge.levels import Level

CHECKER = AlignmentChecker.default()
ORDINARY_A2 = (
    "My sister lives in a small house near the sea. She has two cats and a dog. "
    "Every morning she walks to work and buys a coffee."
)


def test_an_ordinary_a2_text_passes_at_a2() -> None:
    report = CHECKER.check(ORDINARY_A2, "A2")
    assert report.passed and report.score >= 0.9
    assert report.errors == []
    assert report.above_level_share == 0.0 and report.word_count == 27


def test_planted_c1_words_are_flagged_with_source_and_simpler_words() -> None:
    report = CHECKER.check("My timid brother detests tedious lessons at school.", "A2")
    assert not report.passed
    flagged = {v.text: v for v in report.violations if v.kind == "word_above_level"}
    assert set(flagged) == {"timid", "detests", "tedious"}
    timid = flagged["timid"]
    assert timid.severity == "error" and timid.level == Level.C1 and timid.node == "word:timid|adjective"
    assert "Octanove" in timid.source
    assert [s.word for s in timid.suggestions] == ["shy"] and timid.suggestions[0].level == Level.A1
    assert "hate" in [s.word for s in flagged["detests"].suggestions]
    assert report.above_level_share == pytest.approx(3 / 8, abs=1e-4)
    assert any(v.kind == "too_many_words_above" and v.severity == "error" for v in report.violations)


def test_above_level_constructions_are_flagged_with_item_and_span() -> None:
    text = "If I had known about the party, I would have come."
    report = CHECKER.check(text, "A2")
    above = {v.item_id: v for v in report.violations if v.kind == "construction_above_level"}
    third_conditional = above["216"]
    assert third_conditional.level == Level.C1 and third_conditional.severity == "error"
    assert third_conditional.node == "grammar:216" and "line" in third_conditional.source
    start, end = third_conditional.span or (0, 0)
    assert text[start:end] == third_conditional.text
    assert report.parts["grammar"] < 0.5 and not report.passed


def test_required_constructions_found_through_variants_or_reported_missing() -> None:
    report = CHECKER.check("I have lived here for two years.", "A2", required=["62", "TA.PASTPF.AFF"])
    assert report.found_required == ["62"] and report.required == ["62", "67"]
    missing = [v for v in report.violations if v.kind == "missing_construction"]
    assert [v.item_id for v in missing] == ["67"] and missing[0].severity == "error"
    assert report.parts["coverage"] == 0.5
    negative = CHECKER.check("I have not seen it.", "A2", required=["62"])
    assert negative.found_required == ["62"], "the negative variant 62-1 counts for item 62"


def test_a_c1_activity_in_a1_english_is_too_easy() -> None:
    report = CHECKER.check("I like my cat. It is black. We play every day.", "C1")
    too_easy = [v for v in report.violations if v.kind == "too_easy"]
    assert too_easy and too_easy[0].severity == "error" and not report.passed
    assert report.parts["fit"] < 0.5 and report.near_level_share < 0.2


def test_names_and_numbers_do_not_count_unknown_words_do() -> None:
    names = CHECKER.check("Tom and Anna have 3 cats in Brighton.", "A2")
    assert names.word_count == 4 and names.words_above == 0  # and, have, cats, in
    unknown = CHECKER.check("I like zorblax very much.", "A2")
    assert [v.kind for v in unknown.violations if v.text == "zorblax"] == ["unknown_word"]
    assert unknown.words_above == 1 and unknown.above_level_share == pytest.approx(0.2)


def test_score_is_the_documented_weighted_sum() -> None:
    report = CHECKER.check("We will commence the meeting when the ubiquitous reporters leave.", "A2")
    assert report.score == pytest.approx(sum(WEIGHTS[k] * report.parts[k] for k in WEIGHTS), abs=1e-3)
    assert all(0.0 <= v <= 1.0 for v in report.parts.values())
    assert fit_part(2.0, Level.A2) == 1.0 and fit_part(5.0, Level.A2) == 0.0 and fit_part(4.0, Level.A2) == 0.5


def test_above_level_share_matches_the_report() -> None:
    text = "The ubiquitous cat sat on the floor."
    assert above_level_share(text, "A2") == pytest.approx(1 / 7)
    assert CHECKER.check(text, "A2").above_level_share == pytest.approx(1 / 7, abs=1e-4)
    assert above_level_share(text, Level.C2) == 0.0


def test_non_english_text_scores_zero() -> None:
    report = CHECKER.check("Der Hund ist sehr groß und die Katze ist klein.", "A2")
    assert report.score == 0.0 and not report.passed
    assert [v.kind for v in report.violations] == ["not_english"]


@pytest.mark.parametrize(("level", "fragment"), [("Z9", "Unknown target level 'Z9'"), ("Pre-A1", "not supported")])
def test_bad_target_levels_are_user_errors(level: str, fragment: str) -> None:
    with pytest.raises(UserInputError, match=fragment):
        target_level(level)
    with pytest.raises(UserInputError, match=fragment):
        CHECKER.check("I like tea.", level)


def test_unknown_required_item_is_a_user_error() -> None:
    with pytest.raises(UserInputError, match="No grammar item"):
        CHECKER.check("I like tea.", "A2", required=["NOPE-1"])
