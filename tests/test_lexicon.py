"""The lexicon over the real vendored lists and the derived WordNet file."""

from __future__ import annotations

import pytest

from knowledge.errors import UserInputError
from knowledge.levels import Level
from knowledge.lexicon import (
    CEFRJ_SOURCE,
    ESTIMATE_SOURCE,
    OCTANOVE_SOURCE,
    UNKNOWN_SOURCE,
    Lexicon,
    estimate_level,
    normalize_pos,
)
from knowledge.wordnet import WordNet

LEX = Lexicon.load()


def test_both_lists_are_loaded_with_variants_expanded() -> None:
    keys = {e.key for e in LEX.entries()}
    assert len(keys) >= 9900
    am = LEX.lookup("A.M.")
    assert am and am[0].variants == ("a.m.", "A.M.", "am", "AM")
    assert {e.headword for e in LEX.lookup("colour") + LEX.lookup("color")} == {"colour", "color"}
    assert {e.source for e in LEX.entries(level="C2")} == {OCTANOVE_SOURCE}
    assert {e.source for e in LEX.entries(max_level="B2")} == {CEFRJ_SOURCE}


def test_lookup_through_lemmas_and_pos() -> None:
    went = LEX.level_of("went")
    assert (went.lemma, went.pos, went.level) == ("go", "verb", Level.A1)
    assert "cefrj-vocabulary-profile-1.5.csv, line" in went.evidence
    assert LEX.level_of("can", "noun").level == Level.A2
    assert LEX.level_of("can", "MD").pos == "modal auxiliary"
    assert LEX.level_of("running", "VBG").lemma == "run"
    assert LEX.level_of("ice-cream").level == Level.A1


def test_several_entries_lowest_level_without_pos() -> None:
    # 'behind' is A1 in CEFR-J and C1 (another sense) in Octanove: the lowest level wins
    assert LEX.level_of("behind").level == Level.A1
    # asked as a POS it does not have: the lowest entry, and the evidence says so
    found = LEX.level_of("abolish", "noun")
    assert found.level == Level.B2 and "no entry as noun" in found.evidence


def test_unlisted_word_gets_a_marked_estimate() -> None:
    found = LEX.level_of("selfie")
    assert found.source == ESTIMATE_SOURCE and found.level is not None
    assert found.zipf is not None and found.zipf > 0 and "zipf" in found.evidence
    assert not found.is_listed


@pytest.mark.parametrize(
    ("word", "reason"),
    [("xqzvvk", "not a word"), ("123", "a number"), ("кошка", "not English"), ("London", "proper noun"),
     ("\x00\x01", "not a word"), ("!!!", "not a word")],
)  # fmt: skip
def test_unknown_words_say_why(word: str, reason: str) -> None:
    found = LEX.level_of(word)
    assert found.level is None and found.source == UNKNOWN_SOURCE
    assert reason in found.evidence


def test_proper_noun_tag_is_respected() -> None:
    assert "proper noun" in LEX.level_of("Smithfield", "NNP").evidence


@pytest.mark.parametrize("bad", ["", "   ", "x" * 200])
def test_bad_input_is_a_user_error(bad: str) -> None:
    with pytest.raises(UserInputError):
        LEX.level_of(bad)


def test_bad_pos_and_level_are_user_errors() -> None:
    with pytest.raises(UserInputError, match="part of speech"):
        normalize_pos("Z9")
    with pytest.raises(UserInputError, match="CEFR level"):
        LEX.entries(level="Z9")


def test_frequency_bands_are_ordered() -> None:
    assert estimate_level(7.0) == Level.A1
    assert estimate_level(4.0) == Level.B1
    assert estimate_level(0.5) == Level.C2
    assert LEX.zipf("house") > LEX.zipf("dwelling") > 0


def test_synonyms_at_or_below_a_level() -> None:
    simpler = LEX.synonyms("purchase", "verb", max_level="A2")
    assert [s.word for s in simpler] == ["buy"]
    assert all(s.level is not None and s.level.rank <= Level.B1.rank for s in LEX.synonyms("enormous", max_level="B1"))


def test_glosses_examples_topics() -> None:
    assert "Canis" in (LEX.gloss("dog", "noun") or "")
    assert LEX.examples("run", "verb")
    assert "noun.food" in LEX.topics("apple", "noun")
    assert LEX.entries(max_level="A1", pos="noun", topic="food")


def test_wordnet_covers_at_least_90_percent_of_entries() -> None:
    wordnet = WordNet.load()
    keys = {e.key: e for e in LEX.entries()}
    covered = sum(1 for e in keys.values() if wordnet.senses(e.headword, e.pos))
    assert covered / len(keys) >= 0.90


def test_every_tag_the_tagger_gives_can_be_looked_up() -> None:
    """A foreign word or a symbol (tags with no list POS) is looked up under any POS, never an error."""
    from knowledge.nlp import PENN_TAGS

    for tag in PENN_TAGS:
        LEX.level_of("cafe", tag)
    assert LEX.level_of("cafe", "FW").level is not None
    assert LEX.level_of("n't", "RB").level == Level.A1 and LEX.level_of("'ll", "MD").level == Level.A1
