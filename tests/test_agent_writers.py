"""Unit tier of the writers: scripted model text into sentences, texts and meanings, with stats and errors."""

from __future__ import annotations

import pytest

from agents.item.writers import (
    ChatWriter,
    CompletionWriter,
    SentenceSpec,
    TextSpec,
    clean_meaning,
    clean_sentence,
)
from agents.models.fallback import EscalationChain
from knowledge.levels import Level
from tests.support.agent_helpers import Knowledge
from tests.support.scripted_model import ScriptedModel

pytest_plugins = ["tests.support.agent_fixtures"]

SPEC = SentenceSpec(word="bread", pos="noun", level=Level.A2, topic="food")
TEXT = TextSpec(level=Level.A2, topic="food", words=["bread", "cheese"], sentences=4)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("We eat bread every day.", "We eat bread every day."),
        ('  "We eat bread every day."  ', "We eat bread every day."),
        ("1. We eat bread. Then we sleep.", "We eat bread."),
        ("- Do you like bread? I do.", "Do you like bread?"),
        ("We eat bread", "We eat bread"),
        ("", ""),
        ("x" * 300, "x" * 220),
    ],
)
def test_clean_sentence(raw: str, clean: str) -> None:
    assert clean_sentence(raw) == clean


def test_clean_sentence_trims_after_a_quoted_sentence() -> None:
    # A closing quote after the full stop still ends the sentence: the fragment after it is cut.
    assert clean_sentence('"We eat bread every day." And then') == "We eat bread every day."


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a food made from flour.", "a food made from flour"),
        ('"a food made from flour"\nWord: cheese', "a food made from flour"),
        ("2) a yellow fruit", "a yellow fruit"),
        ("   ", ""),
        ("y" * 200, "y" * 120),
    ],
)
def test_clean_meaning(raw: str, clean: str) -> None:
    assert clean_meaning(raw) == clean


def test_completion_sentences_are_cleaned_and_counted(knowledge: Knowledge) -> None:
    model = ScriptedModel(['"We eat bread every day. And more', "1. I buy bread at the shop.", "Bread is nice."])
    writer = CompletionWriter(model, knowledge.exemplars)
    drafts = writer.sentences(SPEC, 3, seed=4)
    assert [d.text for d in drafts] == ["We eat bread every day.", "I buy bread at the shop.", "Bread is nice."]
    assert all(d.model == model.id and d.call is not None and d.error is None for d in drafts)
    assert writer.stats.calls == 3 == model.calls
    assert writer.stats.errors == []


def test_empty_completions_are_dropped_but_counted(knowledge: Knowledge) -> None:
    model = ScriptedModel(["", "We eat bread.", "   "])
    writer = CompletionWriter(model, knowledge.exemplars)
    assert [d.text for d in writer.sentences(SPEC, 3, seed=0)] == ["We eat bread."]
    assert writer.stats.calls == 3 and writer.stats.errors == []


def test_model_errors_become_empty_drafts_and_recorded_errors(knowledge: Knowledge) -> None:
    model = ScriptedModel(["TIMEOUT", "We eat bread.", "TIMEOUT"])
    writer = CompletionWriter(model, knowledge.exemplars)
    drafts = writer.sentences(SPEC, 3, seed=0)
    assert [d.text for d in drafts] == ["We eat bread."]
    assert writer.stats.calls == 3
    assert len(writer.stats.errors) == 2
    assert all(e.startswith("timeout: ") and "scripted timeout" in e for e in writer.stats.errors)
    failed = CompletionWriter(ScriptedModel(["TIMEOUT"]), knowledge.exemplars).text(TEXT, seed=1)
    assert failed.text == "" and failed.error and failed.error.startswith("timeout: ") and failed.call is None


def test_completion_text_is_titled(knowledge: Knowledge) -> None:
    model = ScriptedModel([" Lunch at home\nText: We eat bread and cheese. It is good."])
    writer = CompletionWriter(model, knowledge.exemplars)
    draft = writer.text(TEXT, seed=2)
    assert draft.text == "Title: Lunch at home\nText: We eat bread and cheese. It is good."
    assert draft.model == model.id and writer.stats.calls == 1


def test_completion_meanings_are_cleaned(knowledge: Knowledge) -> None:
    model = ScriptedModel(["a food made from flour and water.\nWord: milk", ""])
    writer = CompletionWriter(model, knowledge.exemplars)
    assert [d.text for d in writer.meanings(SPEC, 2, seed=0)] == ["a food made from flour and water"]
    assert writer.stats.calls == 2


def test_stats_accumulate_across_calls(knowledge: Knowledge) -> None:
    writer = CompletionWriter(ScriptedModel(["We eat bread."]), knowledge.exemplars)
    writer.sentences(SPEC, 2, seed=0)
    writer.meanings(SPEC, 2, seed=0)
    writer.text(TEXT, seed=0)
    assert writer.stats.calls == 5 and writer.stats.model_s >= 0.0


def test_chat_writer_records_model_errors(knowledge: Knowledge) -> None:
    writer = ChatWriter(ScriptedModel(["TIMEOUT"]), knowledge.exemplars)
    assert writer.sentences(SPEC, 2, seed=0) == []
    assert writer.meanings(SPEC, 1, seed=0) == []
    assert writer.text(TEXT, seed=0).text == ""
    assert writer.stats.calls == 4 and len(writer.stats.errors) == 4


def test_chat_writer_needs_a_parsed_reply(knowledge: Knowledge) -> None:
    """The chat writer reads the schema-parsed reply, never raw text (a model that ignores the schema gives nothing)."""
    writer = ChatWriter(ScriptedModel(['{"sentence": "We eat bread every day."}']), knowledge.exemplars)
    assert writer.sentences(SPEC, 2, seed=0) == []
    assert writer.stats.calls == 2 and writer.stats.errors == []


def test_chat_writer_over_a_failing_chain_records_why(knowledge: Knowledge) -> None:
    chain = EscalationChain([ScriptedModel(["TIMEOUT"], name="a"), ScriptedModel(["TIMEOUT"], name="b")]).session()
    writer = ChatWriter(chain, knowledge.exemplars)
    assert writer.sentences(SPEC, 1, seed=0) == []
    assert len(writer.stats.errors) == 1 and "scripted:a" in writer.stats.errors[0]
    assert [f.split(":")[1] for f in chain.failures()] == ["a", "b"]
    assert chain.answered_by is None
