"""The embedded SmolLM2 through our llama.cpp backend: text, JSON schema, tools, completion, timeouts, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from agents.models.base import GenerationOptions, Message, ToolSpec, grammar_schema
from agents.models.errors import InvalidModelOutput, ModelTimeout, UnknownModel
from agents.models.llamacpp import LlamaCppConfig, LlamaCppModel, embedded_gguf
from agents.models.registry import ModelRegistry, resolve_model
from knowledge.errors import ResourceError, UserInputError


class Sentence(BaseModel):
    sentence: str


WORD_LEVEL = ToolSpec(
    name="word_level",
    description="Look up the CEFR level of an English word.",
    parameters={"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]},
)


def test_embedded_gguf_ships_with_the_package() -> None:
    path = embedded_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000


def test_chat_returns_text_usage_and_timings(smollm: LlamaCppModel) -> None:
    options = GenerationOptions(max_tokens=40, seed=1)
    result = smollm.chat([Message.user("Say hello to an A1 learner.")], options=options)
    assert result.text.strip()
    assert result.model == "llamacpp:smollm2-135m"
    assert result.backend == "llamacpp"
    assert result.usage.input_tokens > 10
    assert 0 < result.usage.output_tokens <= 40
    assert result.latency_s > 0
    assert result.ttft_s is not None and 0 < result.ttft_s <= result.latency_s


def test_json_schema_output_is_valid(smollm: LlamaCppModel) -> None:
    for seed in range(3):
        result = smollm.chat(
            [Message.user("Write one short sentence about a cat.")],
            schema=Sentence,
            options=GenerationOptions(max_tokens=80, seed=seed),
        )
        assert isinstance(result.parsed, Sentence)
        assert Sentence.model_validate_json(result.text) == result.parsed


def test_dict_schema_output_is_parsed(smollm: LlamaCppModel) -> None:
    schema = {
        "type": "object",
        "properties": {"level": {"enum": ["A1", "A2", "B1"]}, "ok": {"type": "boolean"}},
        "required": ["level", "ok"],
    }
    result = smollm.chat([Message.user("Is 'cat' an A1 word?")], schema=schema, options=GenerationOptions(seed=3))
    assert result.parsed["level"] in {"A1", "A2", "B1"}
    assert isinstance(result.parsed["ok"], bool)


def test_forced_tool_call_is_well_formed(smollm: LlamaCppModel) -> None:
    result = smollm.chat(
        [Message.user("What is the CEFR level of the word 'house'?")],
        tools=[WORD_LEVEL],
        tool_choice="word_level",
        options=GenerationOptions(max_tokens=60, seed=1),
    )
    assert result.finish_reason == "tool_calls"
    assert [c.name for c in result.tool_calls] == ["word_level"]
    assert isinstance(result.tool_calls[0].arguments["word"], str)


def test_tool_result_can_be_sent_back(smollm: LlamaCppModel) -> None:
    first = smollm.chat(
        [Message.user("What is the CEFR level of 'house'?")], tools=[WORD_LEVEL], tool_choice="required",
        options=GenerationOptions(max_tokens=60, seed=2),
    )
    call = first.tool_calls[0]
    history = [
        Message.user("What is the CEFR level of 'house'?"),
        Message(role="assistant", tool_calls=[call]),
        Message(role="tool", name=call.name, tool_call_id=call.id, content="A1"),
    ]
    answer = smollm.chat(history, options=GenerationOptions(max_tokens=40, seed=2))
    assert answer.text.strip()


def test_plain_completion_and_scoring(smollm: LlamaCppModel) -> None:
    prompt = "Word: apple\nSentence: I eat an apple every day.\n\nWord: dog\nSentence:"
    result = smollm.complete(prompt, options=GenerationOptions(max_tokens=30, stop=["\n"], seed=2))
    assert "\n" not in result.text
    assert result.usage.output_tokens > 0
    apple, sky = smollm.score("I eat an", [" apple", " sky"])
    assert apple > sky


def test_timeout_is_classified(smollm: LlamaCppModel) -> None:
    with pytest.raises(ModelTimeout) as info:
        smollm.chat(
            [Message.user("Write a very long story about a dragon.")],
            options=GenerationOptions(max_tokens=2000, timeout_s=0.05, temperature=0.9),
        )
    assert info.value.model == "llamacpp:smollm2-135m"
    assert info.value.kind == "timeout"


def test_factory_errors_name_the_accepted_forms(tmp_path: Path) -> None:
    with pytest.raises(UnknownModel, match="accepted forms"):
        resolve_model("gpt:4")
    with pytest.raises(UnknownModel):
        resolve_model("smollm2")
    with pytest.raises(UserInputError, match=r"llamacpp:smollm2-135m"):
        resolve_model("llamacpp:smollm3")
    with pytest.raises(ResourceError, match="does not exist"):
        resolve_model(f"llamacpp:{tmp_path / 'missing.gguf'}")


def test_corrupt_gguf_is_a_resource_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf at all")
    model = LlamaCppModel(str(bad), LlamaCppConfig())
    with pytest.raises(ResourceError, match="could not load"):
        model.chat([Message.user("hi")])


def test_registry_returns_one_instance_per_string() -> None:
    registry = ModelRegistry()
    assert registry.get("llamacpp:smollm2-135m") is registry.get("llamacpp:smollm2-135m")
    assert registry.get("ollama:qwen2.5:7b-instruct").id == "ollama:qwen2.5:7b-instruct"



class LongText(BaseModel):
    """A schema with bounds llama.cpp's grammar parser refuses (and llama-cpp-python crashes on) if sent as is."""

    title: str = Field(min_length=2, max_length=80)
    text: str = Field(min_length=2, max_length=2000)


def test_long_length_bounds_do_not_reach_the_grammar(smollm: LlamaCppModel) -> None:
    assert "maxLength" not in json.dumps(grammar_schema(LongText))
    assert grammar_schema({"type": "string", "maxLength": 12}) == {"type": "string", "maxLength": 12}
    try:
        result = smollm.chat([Message.user("Give a title and a short text about cats.")], schema=LongText,
                             options=GenerationOptions(max_tokens=40, temperature=0))  # fmt: skip
    except (InvalidModelOutput, ModelTimeout):
        return  # a reply that breaks the bounds or runs long is classified, never a crash
    assert isinstance(result.parsed, LongText)
