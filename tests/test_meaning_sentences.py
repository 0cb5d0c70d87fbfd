"""Meaning checks of one-sentence items, on the real SmolLM2: the key is the only answer, the sentence reads well.

Each pair holds the same kind of item twice, once as teachers accept it and once with the flaw reviewers reject
(a distractor that also fits, the base word that fits unchanged, a second natural order, a "mistake" that is
not one). The scripted-model tests check the logic without a model: no scorer, no meaning verdict.
"""

from __future__ import annotations

import pytest

from agents.context import AgentContext, ItemPolicy
from agents.item.meaning.base import Judge, fluency
from agents.item.meaning.sentences import alternative_orders, check, correct_sentence, rivals
from agents.item.validation import validate_item
from agents.models.llamacpp import LlamaCppModel
from knowledge.items import ErrorCorrectionItem, GapFillItem, OpenGapItem, ReorderItem, WordFormationItem
from knowledge.levels import Level
from knowledge.nlp import analyze
from tests.support.agent_helpers import Knowledge, MakeContext

pytest_plugins = ["tests.support.agent_fixtures"]


def _gap_fill(stem: str, answer: str, options: list[str]) -> GapFillItem:
    return GapFillItem(
        level=Level.A2, topic="food", instructions="Choose the word that best completes the sentence.", stem=stem,
        options=options, answer=answer, target_word=answer, pos="noun",
    )  # fmt: skip


def _kinds(judge: Judge, item: object) -> set[str]:
    return {v.kind for v in check(judge, item) if v.blocking}  # type: ignore[arg-type]


@pytest.fixture
def judge(knowledge: Knowledge, local_smollm: LlamaCppModel) -> Judge:
    return Judge(lexicon=knowledge.checker.lexicon, level=Level.A2, scorer=local_smollm)


def test_a_distractor_that_fits_makes_the_key_ambiguous(judge: Judge) -> None:
    good = _gap_fill(
        "We drink _____ with our breakfast every morning.", "coffee", ["coffee", "chair", "pencil", "road"]
    )
    bad = _gap_fill("We drink _____ with our breakfast every morning.", "coffee", ["coffee", "tea", "pencil", "road"])
    assert "ambiguous_key" not in _kinds(judge, good)
    assert "ambiguous_key" in _kinds(judge, bad)


def test_the_base_word_must_not_fit_unchanged(judge: Judge) -> None:
    def item(stem: str, base: str, answer: str) -> WordFormationItem:
        return WordFormationItem(
            level=Level.B1, topic="work", instructions="Use the word in capitals.", stem=stem, base_word=base,
            answer=answer,
        )  # fmt: skip

    assert "ambiguous_key" not in _kinds(judge, item("She has a lot of _____ for her teacher. (ADMIRE)", "ADMIRE",
                                                    "admiration"))  # fmt: skip
    assert "ambiguous_key" in _kinds(judge, item("The _____ is very cold today. (WATER)", "WATER", "waters"))


def test_an_open_gap_lists_every_word_that_fits(judge: Judge) -> None:
    stem = "The children played _____ the garden all afternoon."
    unlisted = OpenGapItem(level=Level.A2, topic="home", instructions="Write one word.", stem=stem, answer="in",
                           focus="preposition")  # fmt: skip
    problems = [v for v in check(judge, unlisted) if v.kind == "ambiguous_key"]
    assert problems, "'outside'/'around'/'at' also fit; the item must list them or be rejected"


def test_a_second_natural_order_is_found(judge: Judge) -> None:
    sentence = "My brother gave the book to my sister."
    orders = alternative_orders(sentence, analyze(sentence))
    assert "My sister gave the book to my brother." in orders
    item = ReorderItem(level=Level.A2, topic="family", instructions="Put the words in order.",
                       stem="x", chunks=sentence[:-1].split(), answer=sentence)  # fmt: skip
    assert "ambiguous_key" in _kinds(judge, item)


def test_a_planted_error_must_be_an_error(judge: Judge) -> None:
    def item(stem: str, error: str, correction: str, answer: str) -> ErrorCorrectionItem:
        return ErrorCorrectionItem(
            level=Level.A2, topic="food", instructions="Correct the mistake.", stem=stem, error=error,
            correction=correction, error_type="agreement", answer=answer,
        )  # fmt: skip

    real = item("She eat an apple every day.", "eat", "eats", "She eats an apple every day.")
    not_wrong = item("They eat an apple every day.", "eat", "eats", "They eats an apple every day.")
    assert "ambiguous_key" not in _kinds(judge, real)
    assert "ambiguous_key" in _kinds(judge, not_wrong)


def test_nonsense_reads_less_fluently_than_plain_english(judge: Judge) -> None:
    plain = fluency(judge.score, "I went to the museum to learn about history.")
    odd = fluency(judge.score, "The clammy of blood was sooty that it was almost imperceptible.")
    assert plain is not None and odd is not None and plain > odd


def test_validate_item_carries_meaning_problems(make_ctx: MakeContext, local_smollm: LlamaCppModel) -> None:
    ctx: AgentContext = make_ctx(local_smollm)
    bad = _gap_fill("We drink _____ with our breakfast every morning.", "coffee", ["coffee", "tea", "pencil", "road"])
    verdict = validate_item(ctx, bad, Level.A2)
    assert not verdict.valid and any(v.kind == "ambiguous_key" for v in verdict.blocking)
    assert not any(v.category == "meaning" for v in validate_item(make_ctx(local_smollm, policy=ItemPolicy(
        meaning_checks=False)), bad, Level.A2).violations)  # fmt: skip


def test_without_a_scorer_only_the_knowledge_checks_run(knowledge: Knowledge) -> None:
    judge = Judge(lexicon=knowledge.checker.lexicon, level=Level.A2)
    fine = _gap_fill(
        "We drink _____ with our breakfast every morning.", "coffee", ["coffee", "chair", "pencil", "road"]
    )
    assert check(judge, fine) == []
    kindred = _gap_fill(
        "We drink _____ with our breakfast every morning.", "coffee", ["coffee", "tea", "chair", "road"]
    )
    assert [v.message for v in check(judge, kindred)] == ["'tea' is, like 'coffee', a kind of beverage: it may fit too"]


def test_a_sentence_about_a_word_is_not_an_exercise(knowledge: Knowledge) -> None:
    judge = Judge(lexicon=knowledge.checker.lexicon, level=Level.B2)
    item = _gap_fill('The word "_____" can be found in many cultures.', "mate", ["mate", "phase", "rag", "logo"])
    assert "meaning" in _kinds(judge, item)


def test_rivals_and_answered_sentences() -> None:
    assert rivals({"a": -1.0, "b": -2.5, "c": -4.0}, "a", set()) == ["b"]
    assert rivals({"a": -1.0, "b": -2.5}, "a", {"b"}) == []
    item = WordFormationItem(level=Level.B1, topic="x", instructions="", stem="It was a _____ day. (SUN)",
                             base_word="SUN", answer="sunny")  # fmt: skip
    assert correct_sentence(item) == "It was a sunny day."


def test_model_definitions_are_recognised() -> None:
    from agents.item.meaning.base import defines

    assert defines("A butcher is a person who makes animals for food.")
    assert defines("A walkabout is someone who has been off their feet.")
    assert not defines("She has a passion for gardening.") and not defines(
        "The movement of the animal is a form of locomotion."
    )
