"""Tools over the real knowledge, and prompt files rendered strictly."""

from __future__ import annotations

import pytest

from knowledge.exemplars import Exemplars
from knowledge.graph import KnowledgeGraph
from knowledge.level_estimator import LevelEstimator
from knowledge.lexicon import Lexicon
from prompts.loader import MissingVariables, PromptError, available_prompts, load_prompt
from tools import choose_word_tool, make_toolbox


@pytest.fixture(scope="module")
def toolbox(cache_dir):  # type: ignore[no-untyped-def]
    lexicon = Lexicon.load()
    return make_toolbox(
        lexicon, KnowledgeGraph.load(cache_dir / "knowledge"), LevelEstimator.default(), Exemplars.load()
    )


def test_word_level_cites_its_source(toolbox) -> None:  # type: ignore[no-untyped-def]
    out = toolbox.run("lookup_word_level", {"word": "apple", "pos": "noun"})
    assert out.ok and out.result["level"] == "A1" and "CEFR-J" in out.result["source"]


def test_simpler_word_and_examples(toolbox) -> None:  # type: ignore[no-untyped-def]
    out = toolbox.run("find_simpler_word", {"word": "purchase", "level": "A2", "pos": "verb"})
    assert out.ok and any(s["word"] == "buy" for s in out.result["simpler"])
    example = toolbox.run("get_example_sentence", {"word": "improve", "level": "B1"})
    assert example.ok and example.result["examples"]


def test_check_answer_counts_gaps_and_options(toolbox) -> None:  # type: ignore[no-untyped-def]
    out = toolbox.run("check_answer", {"stem": "I eat an _____ .", "options": ["apple", "car"], "answer": "apple"})
    assert out.result == {
        "gaps": 1,
        "filled": "I eat an apple .",
        "answer_among_options": True,
        "times_among_options": 1,
    }


def test_model_errors_come_back_as_readable_errors(toolbox) -> None:  # type: ignore[no-untyped-def]
    assert not toolbox.run("lookup_word_level", {"wrd": "x"}).ok
    bad = toolbox.run("nope", {})
    assert not bad.ok and "available" in (bad.error or "")
    assert "level" in (toolbox.run("find_simpler_word", {"word": "x", "level": "Z9"}).error or "")


def test_choice_tool_only_admits_candidates() -> None:
    tool = choose_word_tool(["bike", "train"], Lexicon.load())
    assert tool.run({"word": "bike"}).ok
    assert not tool.run({"word": "plane"}).ok
    assert tool.parameters()["properties"]["word"]["enum"] == ["bike", "train"]


def test_every_prompt_file_loads_and_renders_strictly() -> None:
    names = available_prompts()
    assert {"sentence", "reading_text", "definition"} <= set(names)
    sentence = load_prompt("sentence")
    with pytest.raises(MissingVariables) as info:
        sentence.render_completion(word="cat")
    assert "examples" in info.value.missing and "pos" in info.value.missing
    text = sentence.render_completion(
        word="cat", pos="noun", examples=[{"word": "dog", "pos": "noun", "sentence": "I have a dog."}]
    )
    assert text.endswith("Word: cat (noun)\nSentence:")
    system = sentence.render_system(
        word="cat", pos="noun", level="A1", topic="", form=None, avoid=[], level_note="everyday words.", examples=[]
    )
    assert system.index("## Output rules") < system.index("## Task") < system.index("## Avoid")
    with pytest.raises(PromptError, match="available"):
        load_prompt("no_such_prompt")
