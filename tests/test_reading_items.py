"""Reading items: facts planned by code, questions in other words keyed from the plan, and the meaning check.

The builder tests script the one sentence the model writes; the last test uses the real SmolLM2 (run it under
/tmp/forge-model.lock). The meaning-check tests use items as the old builder and other chatbots wrote them.
"""

from __future__ import annotations

import random

import pytest

from agents.context import AgentContext
from agents.item.constraints import Constraints
from agents.item.exercises import BuildFailed, build_item
from agents.item.exercises import reading_plan as rp
from agents.item.exercises.reading import MAX_WORDS
from agents.item.meaning.base import Judge
from agents.item.meaning.reading import (
    COPY_RUN,
    check,
    copies_text,
    supported,
    swaps_text,
    words,
)
from agents.item.writers import CompletionWriter
from agents.models.llamacpp import LlamaCppModel
from knowledge.items import Question, ReadingItem, item_from_record
from knowledge.levels import TARGET_LEVELS, Level
from knowledge.nlp import sentences
from knowledge.validators import validate
from tests.support.agent_helpers import MakeContext, build_context, constraints_for

pytest_plugins = ["tests.support.agent_fixtures"]

#: The continuation the scripted model writes after "Sentence: She" / "Sentence: He".
ZOO = "went to the zoo and watched the monkeys."


@pytest.fixture
def ctx(make_ctx: MakeContext) -> AgentContext:
    return make_ctx()


def _constraints(ctx: AgentContext, level: Level, topic: str = "a trip to the zoo") -> Constraints:
    return constraints_for(ctx, level, topic)


def _reading(ctx: AgentContext, level: Level, replies: list[str], seed: int = 3) -> ReadingItem:
    build, _ = build_context(ctx, _constraints(ctx, level), replies, seed=seed)
    item = build_item("reading", build)
    assert isinstance(item, ReadingItem)
    return item


def _runs(text: str) -> list[str]:
    """Every run of COPY_RUN consecutive words of a text."""
    found = words(text)
    return [" ".join(found[i : i + COPY_RUN]) for i in range(len(found) - COPY_RUN + 1)]


def _judge(ctx: AgentContext, level: Level) -> Judge:
    return Judge(lexicon=ctx.checker.lexicon, level=level)


def _item(text: str, questions: list[Question], level: Level = Level.A2) -> ReadingItem:
    return ReadingItem(level=level, topic="family", instructions="Read.", title="Tom", text=text, questions=questions)


@pytest.mark.parametrize("level", TARGET_LEVELS)
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_question_asks_about_a_planned_fact_in_other_words(ctx: AgentContext, level: Level, seed: int) -> None:
    item = _reading(ctx, level, [ZOO], seed=seed)
    assert "the zoo and watched the monkeys" in item.text
    assert validate(item, ctx.checker.lexicon) == []
    assert check(_judge(ctx, level), item) == [], "the builder's items pass the meaning check"
    assert 4 <= len(item.questions) <= 5
    for q in item.questions:
        assert q.slot is not None and q.evidence in item.text
        for sentence in sentences(item.text):
            assert not set(_runs(q.question)) & set(_runs(sentence)), "no run of six words of the text"
        if q.kind == "multiple_choice":
            assert len(q.options) == 4 and q.question.endswith("?")
            if q.slot != "main_idea":
                assert supported(q.answer, q.evidence), "the key is stated in its sentence"
                assert not any(supported(o, item.text) for o in q.options if o != q.answer)


@pytest.mark.parametrize("level", TARGET_LEVELS)
def test_true_and_false_statements_are_mixed_and_a_main_idea_comes_from_b1(ctx: AgentContext, level: Level) -> None:
    items = [_reading(ctx, level, [ZOO], seed=s) for s in range(6)]
    for item in items:
        keys = [q.answer for q in item.questions if q.kind == "true_false"]
        assert sorted(keys) == ["False", "True"]
        assert any(q.slot == "main_idea" for q in item.questions) == (level >= Level.B1)
    main = [q for item in items for q in item.questions if q.slot == "main_idea"]
    assert all(q.answer == "A trip to the zoo" for q in main)


def test_a_false_statement_gives_another_value_of_the_same_slot() -> None:
    plan = rp.plan_facts("a rainy weekend", Level.A2, random.Random(5), lambda _: True)
    assert plan.day in ("Saturday", "Sunday"), "a weekend topic keeps the day at the weekend"
    false = rp.statement(plan, "time", False, random.Random(1))
    true = rp.statement(plan, "time", True, random.Random(1))
    assert plan.hour in true.question and plan.hour not in false.question
    assert any(h in false.question for h in rp.HOURS)
    assert (true.answer, false.answer) == ("True", "False")


@pytest.mark.parametrize(
    "sentence",
    [
        "saw Tom at the zoo.",  # another person
        "went to the zoo on Monday.",  # a day the plan does not control
        "saw three lions at the zoo.",  # a number
        "likes the zoo very much.",  # not the past
        "went to the zoo because it was sunny.",  # a reason
        "and I went to the zoo together.",  # the narrator
        "met her friend at the zoo and they ate ice cream.",  # more people
        "went to the zoo and " + "saw many animals and " * 4 + "went home.",  # too long
    ],
)
def test_a_model_sentence_that_adds_facts_is_not_used(ctx: AgentContext, sentence: str) -> None:
    build, model = build_context(ctx, _constraints(ctx, Level.B1), [sentence])
    with pytest.raises(BuildFailed, match="no usable sentence"):
        build_item("reading", build)
    assert model.calls == 8, "two rounds of four candidates"
    assert all(c["rejected"] for c in build.notes["candidates"])
    assert MAX_WORDS < 30


def test_a_topical_sentence_is_preferred(ctx: AgentContext) -> None:
    replies = ["cleaned the kitchen and washed the floor.", ZOO]
    item = _reading(ctx, Level.A2, replies)
    assert "zoo" in item.text and "kitchen" not in item.text


def test_old_items_without_slots_still_parse() -> None:
    q = {"kind": "true_false", "question": "A.", "options": ["True", "False"], "answer": "True", "evidence": "A."}
    assert Question.model_validate(q).slot is None


# --- the meaning check on items others wrote -------------------------------------------------------------------

TEXT = "Tom lives in a small town. He works in a bakery. Every morning he makes bread for his neighbours at six."


def test_copied_and_gapped_sentences_are_flagged(ctx: AgentContext) -> None:
    gapped = Question(
        kind="multiple_choice",
        question="He works in a _____.",
        options=["bakery", "bank", "zoo", "park"],
        answer="bakery",
        evidence="He works in a bakery.",
    )
    copied = Question(
        kind="true_false",
        question="Every morning he makes bread for his neighbours at six.",
        options=["True", "False"],
        answer="True",
        evidence="Every morning he makes bread for his neighbours at six.",
    )
    found = check(_judge(ctx, Level.A2), _item(TEXT, [gapped, copied, copied]))
    assert [v.kind for v in found] == ["meaning"] * 3
    assert all("copies a sentence" in v.message for v in found)
    assert copies_text("What does Tom make every morning?", TEXT) is None


def test_a_statement_with_one_word_swapped_is_flagged(ctx: AgentContext) -> None:
    record = {
        "type": "reading",
        "level": "A1",
        "topic": "football",
        "title": "Football",
        "text": "It's my family's favorite sport. My brother and sister love it too. We play together every day. "
        "They help me with the house work.",
        "questions": [
            {
                "kind": "true_false",
                "question": "My college and sister love it too.",
                "options": ["True", "False"],
                "answer": "False",
                "evidence": "My brother and sister love it too.",
            }
        ]
        * 3,
    }
    item = item_from_record(record)
    found = check(_judge(ctx, Level.A1), item)
    assert found and all("word swapped" in v.message for v in found if v.blocking)
    assert swaps_text("Tom lives in a big town.", TEXT) == "Tom lives in a small town."
    assert swaps_text("Tom's home is in a big city.", TEXT) is None


def test_an_unsupported_key_and_two_supported_options_are_flagged(ctx: AgentContext) -> None:
    where = Question(
        kind="multiple_choice",
        question="Where does Tom work?",
        options=["In a bank", "In a hotel", "In a school", "In a shop"],
        answer="In a bank",
        evidence="He works in a bakery.",
    )
    both = where.model_copy(update={"answer": "In a bakery", "options": ["In a bakery", "In a small town", "At a zoo"]})
    time = Question(
        kind="multiple_choice",
        question="When does Tom make bread?",
        options=["At six", "At seven", "At eight", "At nine"],
        answer="At six",
        evidence=TEXT.split(". ")[-1],
    )
    found = check(_judge(ctx, Level.A2), _item(TEXT, [where, both, time]))
    assert [(v.kind, v.message.split(":")[0]) for v in found] == [
        ("meaning", "question 1"),
        ("ambiguous_key", "question 2"),
    ]


def test_the_main_idea_key_must_be_clearly_closest_to_the_text(ctx: AgentContext) -> None:
    vectors = {TEXT: [1.0, 0.0], "A baker's day": [0.9, 0.1], "A day at the bakery": [0.9, 0.12], "Football": [0, 1]}
    judge = Judge(lexicon=ctx.checker.lexicon, level=Level.A2, embed=lambda texts: [vectors[t] for t in texts])
    main = Question(
        kind="multiple_choice",
        question="What is the text mainly about?",
        options=["A baker's day", "A day at the bakery", "Football"],
        answer="A baker's day",
        evidence="He works in a bakery.",
    )
    found = check(judge, _item(TEXT, [main] * 3))
    assert found and all(v.kind == "ambiguous_key" for v in found)
    clear = main.model_copy(update={"options": ["A baker's day", "Football"]})
    assert check(judge, _item(TEXT, [clear] * 3)) == []


def test_the_real_model_writes_a_usable_sentence(ctx: AgentContext, local_smollm: LlamaCppModel) -> None:
    """Model-backed: SmolLM2 writes the topic sentence; the item passes the structural and meaning checks."""
    build, _ = build_context(ctx, _constraints(ctx, Level.B1, "a new job"), [], seed=4)
    build.writer = CompletionWriter(local_smollm, ctx.exemplars)
    build.kit.scorer = local_smollm
    item = build_item("reading", build)
    assert isinstance(item, ReadingItem)
    assert validate(item, ctx.checker.lexicon) == [] and check(_judge(ctx, Level.B1), item) == []
    activity = build.notes["activity"][0][0]["text"]
    assert activity[1:] in item.text, "the model's sentence follows the day"
