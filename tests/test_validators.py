"""Structural validators catch the failures teachers see in chatbot exercises; word families are real families."""

from __future__ import annotations

from typing import Any

import pytest

from knowledge.items import (
    ITEM_TYPES,
    ErrorCorrectionItem,
    GapFillItem,
    MatchingItem,
    Question,
    ReadingItem,
    ReorderItem,
    WordFormationItem,
    taught_words,
)
from knowledge.levels import Level
from knowledge.lexicon import Lexicon
from knowledge.morphology import derivations_at
from knowledge.validators import validate

LEX = Lexicon.load()
BASE = {"level": Level.A2, "topic": "food", "instructions": "x"}


def gap(**overrides: object) -> GapFillItem:
    fields: dict[str, object] = {
        "stem": "I eat an _____ every morning.",
        "options": ["apple", "egg", "orange", "chair"],
        "answer": "apple",
        "target_word": "apple",
        "pos": "noun",
    }
    return GapFillItem(**(BASE | fields | overrides))  # type: ignore[arg-type]


def messages(item: object) -> str:
    return " | ".join(v.message for v in validate(item, LEX))


def test_a_good_gap_fill_passes() -> None:
    assert validate(gap(), LEX) == []


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"stem": "I eat an _____ and a _____."}, "2 gaps"),
        ({"answer": "banana"}, "not among the options exactly once"),
        ({"options": ["apple", "apple", "egg", "chair"]}, "not distinct"),
        ({"options": ["apple", "egg", "chair"]}, "exactly 4"),
        ({"stem": "An apple: I eat an _____ every morning."}, "visible in the stem"),
        ({"options": ["apple", "egg", "quickly", "chair"]}, "'quickly' is not a noun"),
        ({"options": ["quickly", "egg", "orange", "chair"], "answer": "quickly"}, "reads as"),
    ],
)
def test_gap_fill_failures_are_named(overrides: dict[str, object], fragment: str) -> None:
    assert fragment in messages(gap(**overrides))


def test_other_types() -> None:
    wf = WordFormationItem(**BASE, stem="She smiled _____ at her friends. (HAPPY)", base_word="HAPPY", answer="happily")
    assert validate(wf, LEX) == []
    assert "base word itself" in messages(wf.model_copy(update={"answer": "happy"}))
    ro = ReorderItem(**BASE, stem="x", chunks=["dog", "my", "is", "big"], answer="My dog is big.")
    assert validate(ro, LEX) == []
    assert "not exactly the words" in messages(ro.model_copy(update={"chunks": ["dog", "my", "is", "small"]}))
    ec = ErrorCorrectionItem(
        **BASE,
        stem="She go to school by bus.",
        error="go",
        correction="goes",
        error_type="agreement",
        answer="She goes to school by bus.",
    )
    assert validate(ec, LEX) == []
    assert "exactly once" in messages(ec.model_copy(update={"error": "went"}))
    mt = MatchingItem(
        **BASE,
        words=["cat", "bread", "car", "rain"],
        options=["a pet", "food", "a vehicle", "water"],
        answer={"cat": "a pet", "bread": "food", "car": "a vehicle", "rain": "water"},
    )
    assert validate(mt, LEX) == []
    leak = mt.model_copy(update={"answer": mt.answer | {"cat": "a cat"}})
    assert "key does not match" in messages(leak)


def test_reading_questions_must_be_answerable_from_the_text() -> None:
    text = "Tom lives in a small town. He works in a bakery. Every morning he makes bread for his neighbours."
    good = [
        Question(
            kind="multiple_choice",
            question="He works in a _____.",
            options=["bakery", "bank", "zoo", "park"],
            answer="bakery",
            evidence="He works in a bakery.",
        ),
        Question(
            kind="true_false",
            question="Tom lives in a big town.",
            options=["True", "False"],
            answer="False",
            evidence="Tom lives in a small town.",
        ),
        Question(
            kind="true_false",
            question="Every morning he makes bread for his neighbours.",
            options=["True", "False"],
            answer="True",
            evidence="Every morning he makes bread for his neighbours.",
        ),
    ]
    item = ReadingItem(**BASE, title="Tom", text=text + " He likes his job very much and he sings.", questions=good)
    assert validate(item, LEX) == []
    invented = good[0].model_copy(update={"evidence": "He works in a bank."})
    assert "not answerable from the text" in messages(item.model_copy(update={"questions": [invented, *good[1:]]}))
    wrong_key = good[2].model_copy(update={"answer": "False"})
    assert "disagrees with the text" in messages(item.model_copy(update={"questions": [*good[:2], wrong_key]}))


def test_word_families_are_real() -> None:
    pairs = {(d.base, d.derived) for d in derivations_at(LEX, Level.C2)}
    assert ("happy", "happiness") in pairs and ("happy", "unhappy") in pairs and ("teach", "teacher") in pairs
    assert ("busy", "business") not in pairs and ("play", "display") not in pairs
    assert all(d.derived_level <= Level.A2 and d.base_level <= Level.A2 for d in derivations_at(LEX, Level.A2))


def test_taught_words_are_what_an_item_teaches() -> None:
    def partial(kind: str, **fields: Any) -> Any:
        return ITEM_TYPES[kind].model_construct(**fields)

    assert taught_words(partial("gap_fill", answer="apples", target_word="apple")) == ["apple"]
    assert taught_words(partial("word_formation", base_word="HAPPY", answer="happiness")) == ["happy"]
    assert taught_words(partial("matching", words=["Cat", "dog"])) == ["cat", "dog"]
    assert taught_words(partial("reorder", answer="I like tea.")) == []
    assert taught_words(None) == []
