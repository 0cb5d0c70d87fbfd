"""Unit tier of the validation agent: structure plus the ACI, words two levels up block, advice does not."""

from __future__ import annotations

import pytest

from agents.context import AgentContext, ItemPolicy
from agents.item.validation import Verdict, feedback_words, validate_item
from knowledge.items import GapFillItem, OpenGapItem, Question, ReadingItem
from knowledge.levels import Level
from tests.support.agent_helpers import MakeContext

pytest_plugins = ["tests.support.agent_fixtures"]


@pytest.fixture
def ctx(make_ctx: MakeContext) -> AgentContext:
    return make_ctx()


def _open_gap(stem: str, answer: str, level: Level = Level.A2) -> OpenGapItem:
    return OpenGapItem(
        level=level, topic="food", instructions="Write one word in the gap.", stem=stem, answer=answer,
        focus="preposition",
    )  # fmt: skip


def _gap_fill(stem: str, answer: str, options: list[str], level: Level = Level.A2) -> GapFillItem:
    return GapFillItem(
        level=level, topic="food", instructions="Choose the word that best completes the sentence.", stem=stem,
        options=options, answer=answer, target_word=answer, pos="noun",
    )  # fmt: skip


CLEAN = _open_gap("We had bread and cheese _____ lunch today.", "for")


def _clean_aci(ctx: AgentContext) -> float:
    aci = validate_item(ctx, CLEAN, Level.A2).aci
    assert aci is not None
    return aci


def test_a_clean_item_is_accepted_with_its_aci(ctx: AgentContext) -> None:
    verdict = validate_item(ctx, CLEAN, Level.A2)
    assert verdict.valid and verdict.structural
    assert verdict.aci is not None and verdict.aci >= ctx.policy.aci_threshold
    assert verdict.above_share == 0.0
    assert verdict.blocking == []
    assert feedback_words(verdict) == []


def test_a_word_two_levels_above_the_target_blocks_the_item(ctx: AgentContext) -> None:
    item = _open_gap("My dog is very loyal _____ me.", "to", level=Level.A1)  # 'loyal' is B1, two above A1
    verdict = validate_item(ctx, item, Level.A1)
    assert verdict.structural and not verdict.valid
    loyal = [v for v in verdict.violations if v.text == "loyal"]
    assert loyal and loyal[0].category == "vocabulary" and loyal[0].blocking
    assert loyal[0].level == "B1" and loyal[0].kind == "word_above_level"
    assert verdict.aci is not None and verdict.aci < _clean_aci(ctx)
    assert verdict.above_share is not None and verdict.above_share > ctx.policy.max_above_share
    assert "loyal" in feedback_words(verdict)


def test_a_word_one_level_above_is_a_warning_not_a_block(ctx: AgentContext) -> None:
    item = _open_gap("My dog is very intelligent and good _____ children.", "with", level=Level.A1)
    verdict = validate_item(ctx, item, Level.A1)
    one_up = [v for v in verdict.violations if v.text == "intelligent"]
    assert one_up and not one_up[0].blocking and one_up[0].level == "A2"


def test_a_structurally_broken_item_is_rejected_whatever_its_level(ctx: AgentContext) -> None:
    item = _gap_fill("I like _____ with butter and jam.", "bread", ["rice", "milk", "tea", "soup"])  # key missing
    verdict = validate_item(ctx, item, Level.A2)
    assert not verdict.structural and not verdict.valid
    assert any(v.kind == "structure" and v.blocking for v in verdict.violations)


def test_the_aci_threshold_comes_from_the_policy(make_ctx: MakeContext) -> None:
    aci = _clean_aci(make_ctx())
    assert aci < 1.0, "'We had bread' reads as a B1 past perfect: a warning that costs ACI but does not block"
    assert validate_item(make_ctx(policy=ItemPolicy(aci_threshold=aci)), CLEAN, Level.A2).valid
    assert not validate_item(make_ctx(policy=ItemPolicy(aci_threshold=1.0)), CLEAN, Level.A2).valid


def test_too_easy_is_advice_for_a_sentence_but_blocks_a_reading_text(ctx: AgentContext) -> None:
    sentence = _open_gap("The cat is _____ the box.", "in", level=Level.C1)
    advice = [v for v in validate_item(ctx, sentence, Level.C1).violations if v.kind == "too_easy"]
    assert advice and not any(v.blocking for v in advice)
    text = "I have a cat. The cat is black. It likes milk. It sleeps in a box. I love my cat."
    questions = [
        Question(kind="true_false", question=s, options=["True", "False"], answer="True", evidence=s)
        for s in ["I have a cat.", "The cat is black.", "It likes milk."]
    ]
    reading = ReadingItem(
        level=Level.C1, topic="animals", instructions="Read the text.", title="My cat", text=text, questions=questions
    )
    verdict = validate_item(ctx, reading, Level.C1)
    too_easy = [v for v in verdict.violations if v.kind == "too_easy"]
    assert too_easy and all(v.blocking for v in too_easy) and not verdict.valid


def test_a_missing_required_construction_blocks(ctx: AgentContext) -> None:
    verdict = validate_item(ctx, CLEAN, Level.A2, required=["3-3"])  # "Isn't he/she ...?"
    missing = [v for v in verdict.violations if v.kind == "missing_construction"]
    assert missing and missing[0].blocking and missing[0].node == "grammar:3-3"
    assert not verdict.valid and verdict.structural


def test_feedback_words_are_single_distinct_vocabulary_words() -> None:
    from knowledge.violations import Violation

    def vocab(text: str) -> Violation:
        return Violation(kind="word_above_level", message=text, text=text)

    verdict = Verdict(
        valid=False,
        structural=True,
        violations=[
            vocab("loyal"),
            vocab("loyal"),
            vocab("ice cream"),
            Violation(kind="construction_above_level", message="x", text="had"),
        ],
    )
    assert feedback_words(verdict) == ["loyal"]
