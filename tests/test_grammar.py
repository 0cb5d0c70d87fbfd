"""The CEFR-J Grammar Profile: levels, repairs, prerequisites, and every detector against its own examples."""

from __future__ import annotations

import pytest

from knowledge.errors import UserInputError
from knowledge.grammar import Detector, GrammarMatch, GrammarProfile, compile_pattern, first_level
from knowledge.levels import Level
from knowledge.nlp import analyze

PROFILE = GrammarProfile.load()


def test_profile_has_every_row_with_a_level_and_its_source() -> None:
    items = PROFILE.items()
    assert len(items) == 500
    assert all(item.level is not None for item in items)
    sources = {item.level_source.split()[0] for item in items}
    assert sources <= {"CEFR-J", "EGP", "Core", "GSELO", "parent", "editorial"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("A1-A2, C1", Level.A1), ("B2-B1", Level.B1), ("A2-B2*", Level.A2), ("N/A", None), ("", None),
     ("A1ーB1", Level.A1), ("B2、C2", Level.B2), ("A1 (adverbs)/A2(adjectives)-B1", Level.A1), ("B2.2*", Level.B2)],
)  # fmt: skip
def test_first_level_rule(value: str, expected: Level | None) -> None:
    assert first_level(value) == expected


def test_level_comes_from_cefrj_first_then_egp() -> None:
    assert PROFILE.item("62").level == Level.A2 and PROFILE.item("62").level_source == "CEFR-J Level"
    assert PROFILE.item("62-2").level == Level.A2 and PROFILE.item("62-2").level_source == "Core Inventory"
    assert PROFILE.item("1-1").level == Level.A1


def test_shifted_rows_are_repaired() -> None:
    might = PROFILE.item("132")
    assert might.sentence_type == "AFF. DEC."
    assert might.raw_levels["CEFR-J Level"] == "B1.1"
    assert might.level == Level.B1
    assert PROFILE.item("136-1").raw_levels["EGP"] == "B2-C1"


def test_variants_link_to_parent_and_prerequisites() -> None:
    assert PROFILE.item("62-1").parent == "62"
    assert "62" in PROFILE.prerequisites("62-1")
    assert set(PROFILE.prerequisites("62")) >= {"58", "59", "61"}  # A1 tense items below the A2 present perfect
    assert "67" in PROFILE.prerequisites("216")  # editorial: third conditional needs the past perfect


def test_item_by_code_and_unknown_item() -> None:
    assert PROFILE.item("TA.PRPF.AFF").id == "62"
    with pytest.raises(UserInputError, match="No grammar item"):
        PROFILE.item("Z9")


def test_detector_coverage() -> None:
    assert len(PROFILE.detected_items()) >= 450


@pytest.mark.parametrize("detector", PROFILE.detectors(), ids=lambda d: d.item_id)
def test_detector_fires_on_positives_only(detector: Detector) -> None:
    assert detector.positive, f"item {detector.item_id} has no positive example"
    assert detector.negative, f"item {detector.item_id} has no negative example"
    for sentence in detector.positive:
        found = {m.item_id for m in PROFILE.detect(sentence)}
        assert detector.item_id in found, f"{detector.item_id} missed: {sentence}"
    for sentence in detector.negative:
        found = {m.item_id for m in PROFILE.detect(sentence)}
        assert detector.item_id not in found, f"{detector.item_id} fired on negative: {sentence}"


def test_detect_reports_level_span_and_text() -> None:
    text = "Hello. If I had known, I would have come."
    matches = PROFILE.detect(text)
    third = next(m for m in matches if m.item_id == "216")
    assert isinstance(third, GrammarMatch)
    assert third.level == Level.C1
    assert text[third.span[0] : third.span[1]] == third.text
    assert third.text.startswith("If I had known")


def test_detect_accepts_tokens() -> None:
    tokens = analyze("She has lived here for years.")
    assert "62" in {m.item_id for m in PROFILE.detect(tokens)}


@pytest.mark.parametrize("junk", ["", "   ", "\x00\x01\xff", "asdf qwer zxcv", "12345"])
def test_junk_gives_no_matches(junk: str) -> None:
    assert PROFILE.detect(junk) == []


def test_pattern_language_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="unknown macro"):
        compile_pattern("@NOPE")
    with pytest.raises(ValueError, match="bad constraint"):
        compile_pattern("[colour=red]")
