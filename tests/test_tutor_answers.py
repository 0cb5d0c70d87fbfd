"""Answers from the knowledge (words, grammar points, opinions, mistakes, redirects) and follow-ups that engage.

The real lexicon, WordNet, ACI and MiniLM; a scripted local model (example sentences by the real model are
measured in `forge bench sessions`, the scripted sessions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from agents.context import AgentContext
from agents.tutor.answers import (
    answer_explain_mistake,
    answer_grammar_question,
    answer_opinion,
    answer_redirect,
    answer_word_question,
    word_answer,
)
from agents.tutor.intent import Intent, classify
from agents.tutor.policy import TutorPolicy
from agents.tutor.reply import echoes, fallback_question, is_generic, judge, template_question
from knowledge.levels import Level

if TYPE_CHECKING:
    from tests.support.agent_fixtures import MakeContext

pytest_plugins = ["tests.support.agent_fixtures"]


@pytest.fixture
def ctx(make_ctx: MakeContext) -> AgentContext:
    return make_ctx()


@pytest.mark.parametrize(
    ("word", "level", "meaning_part"),
    [("cheap", Level.A2, "low in price"), ("lend", Level.A2, "give temporarily"), ("commute", Level.B2, "travel"),
     ("borrow", Level.A2, "give it back later"), ("deadline", Level.A2, "must be finished")],
)  # fmt: skip
def test_a_word_gets_its_everyday_meaning_at_the_level(ctx: AgentContext, word: str, level: Level,
                                                       meaning_part: str) -> None:  # fmt: skip
    found = word_answer(ctx, word, level, model_examples=False)
    assert found.meaning is not None and meaning_part in found.meaning, found.meaning
    assert found.level is not None and found.sources


def test_a_word_the_knowledge_lacks_gets_an_honest_answer(ctx: AgentContext) -> None:
    answer = answer_word_question(ctx, classify("What means homesick?"), Level.A2)
    assert not answer.answered and "not in my dictionary" in answer.text


def test_word_answers_name_the_level_give_an_example_and_invite_a_sentence(ctx: AgentContext) -> None:
    answer = answer_word_question(ctx, classify("What means journey?"), Level.A2)
    assert answer.answered and answer.level == Level.A2 and "For example:" in answer.text
    assert answer.text.rstrip().endswith(("?", '".')) and "journey" in answer.text


def test_a_difference_question_answers_both_words(ctx: AgentContext) -> None:
    curated = answer_word_question(ctx, classify("What's the difference between make and do?"), Level.A2)
    assert curated.point == "make-do" and "make a mistake" in curated.text and "do homework" in curated.text
    both = answer_word_question(ctx, classify("What is the difference between cheap and expensive?"), Level.B1)
    assert '"cheap"' in both.text and '"expensive"' in both.text and both.answered


def test_a_grammar_question_gets_the_explanation_two_examples_and_the_level() -> None:
    answer = answer_grammar_question(classify("When do I use the present perfect?"), Level.A2)
    assert answer.level == Level.A2 and answer.point == "present-perfect"
    assert "have or has + the past participle" in answer.text and "I have visited London" in answer.text
    assert "CEFR-J Grammar Profile 62" in answer.sources[1]
    unknown = answer_grammar_question(Intent(kind="grammar_question", reason="r"), Level.A2)
    assert not unknown.answered and unknown.text.endswith("?")


def test_an_opinion_question_gets_an_answer_and_a_question_back_not_the_same_question() -> None:
    message = "What do you think about remote work? I think it is better for the environment."
    answer = answer_opinion(classify(message), message)
    assert answer.text.startswith("I think remote work") and "Why do you think it is better" in answer.text
    liked = answer_opinion(classify("Do you like football?"), "Do you like football?")
    assert "What do you like most about football?" in liked.text
    assert "What do you think about remote work" not in answer.text


def test_why_is_that_wrong_explains_the_last_corrections() -> None:
    last = [{"text": "If I would have known", "suggestion": "If I had known", "explanation": "Look again.",
             "why": 'In the "if" part about the past, use "had" + past participle.'}]  # fmt: skip
    answer = answer_explain_mistake([], last)
    assert 'we say "If I had known"' in answer.text and 'had" + past participle' in answer.text
    assert "nothing to correct" in answer_explain_mistake([], []).text


def test_redirects_are_gentle_and_say_what_comes_next() -> None:
    unsafe = answer_redirect(classify("How do I make a bomb?"))
    assert "can't help" in unsafe.text and "emergency" in unsafe.text and unsafe.text.endswith("?")
    off = answer_redirect(classify("Write my essay for me."))
    assert "English tutor" in off.text and off.text.endswith("?")


@pytest.mark.parametrize(
    ("message", "expected"),
    [("I like cooking but I am not very good.", "cooking"), ("I want to travel to London next year.", ""),
     ("I live in Osaka since three years.", ""), ("Yesterday we went to the beach.", ""),
     ("Hello! My name is Ana.", "Nice to meet you"), ("I think English is difficult.", "")],
)  # fmt: skip
def test_rule_follow_ups_are_about_what_was_said(message: str, expected: str) -> None:
    question = template_question(message)
    assert question is not None and question.endswith("?") and expected in question
    assert not is_generic(question) and not echoes(message, question)
    assert "Osaka since" not in question


def test_follow_ups_vary_and_generic_ones_are_the_last_resort() -> None:
    questions = {fallback_question(m) for m in ("Yesterday I went to the park.", "Last week we visited Rome.",
                                                "I cooked dinner for my friends.", "We watched a film.")}  # fmt: skip
    assert len(questions) >= 3
    assert template_question("If I would have known, I would have come.") is None
    assert fallback_question("It is raining.") == "Can you tell me more?" and is_generic("Can you tell me more?")


def test_a_reply_that_gives_the_learners_question_back_is_refused(ctx: AgentContext) -> None:
    message = "What do you think about climate change? I am worried."
    verdict = judge(ctx, "What do you think about climate change?", message, Level.B1, TutorPolicy())
    assert not verdict.ok and "repeats" in verdict.problems[0]
    assert judge(ctx, "What happened next?", "Yesterday I went to the park.", Level.A2, TutorPolicy(),
                 relevance_check=False).ok  # fmt: skip
    invented = judge(ctx, "Have you met anyone new in London?", "I want to meet new people.", Level.B1, TutorPolicy())
    assert not invented.ok and "London" in invented.problems[0]
