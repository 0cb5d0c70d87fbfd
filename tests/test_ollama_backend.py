"""The real OllamaModel through the real `ollama` client over real HTTP to the test server (SmolLM2 behind it).

Covers plain chat, JSON schema output, tool calls, streaming usage and time to first token, every injected fault
(with the number of attempts and the error class), availability, OLLAMA_HOST, and `forge models`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import ollama
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel
from typer.testing import CliRunner

from agents.models.base import GenerationOptions, Message, ToolCall, ToolSpec
from agents.models.errors import InvalidModelOutput, ModelBug, ModelNotFound, ModelTimeout, ModelUnavailable
from agents.models.ollama import (
    ModelLacksCapability,
    OllamaConfig,
    OllamaModel,
    _ollama_messages,
    _tool_parameters,
)
from agents.models.registry import BackendConfig, resolve_model
from forge.cli.app import app
from tests.support.ollama_server import OllamaTestServer

pytest_plugins = ["tests.support.ollama_fixtures"]
pytestmark = pytest.mark.timeout(180)  # hang guard only; no test asserts how fast anything is

QWEN = "qwen2.5:7b-instruct"
MISTRAL = "mistral:7b-instruct"
SHORT = GenerationOptions(max_tokens=8, seed=1, temperature=0.0)
HI = [Message.user("Say hello.")]

WORD_LEVEL = ToolSpec(
    name="word_level",
    description="Look up the CEFR level of an English word.",
    parameters={"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]},
)
DEFINE = ToolSpec(
    name="define",
    description="Give a learner's definition of an English word.",
    parameters={"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]},
)


class Sentence(BaseModel):
    sentence: str


def model(server: OllamaTestServer, name: str = QWEN, **config: Any) -> OllamaModel:
    """An OllamaModel pointed at the test server, with quick retries."""
    settings: dict[str, Any] = {"timeout_s": 60.0, "retries": 2, "backoff_s": 0.01, "backoff_max_s": 0.05}
    return OllamaModel(name, OllamaConfig(host=server.url, **(settings | config)))


# --- Working calls ------------------------------------------------------------------------------------------------


def test_plain_chat_streams_with_usage_and_ttft(ollama_api: OllamaTestServer) -> None:
    result = model(ollama_api).chat(HI, options=GenerationOptions(max_tokens=16, seed=1))
    assert result.text.strip()
    assert (result.model, result.backend) == ("ollama:qwen2.5:7b-instruct", "ollama")
    assert result.usage.input_tokens > 5
    assert 0 < result.usage.output_tokens <= 16
    assert result.ttft_s is not None and 0 < result.ttft_s <= result.latency_s
    assert result.finish_reason in ("stop", "length")
    assert result.attempts == 1
    assert ollama_api.chat_requests(QWEN) == 1


def test_length_limit_reports_length(ollama_api: OllamaTestServer) -> None:
    result = model(ollama_api).chat([Message.user("Write a long story about a dog.")], options=SHORT)
    assert result.finish_reason == "length"
    assert result.usage.output_tokens == 8


def test_pydantic_schema_output_is_parsed(ollama_api: OllamaTestServer) -> None:
    result = model(ollama_api).chat(
        [Message.user("Write one short sentence about a cat as JSON.")],
        schema=Sentence,
        options=GenerationOptions(max_tokens=60, seed=2),
    )
    assert isinstance(result.parsed, Sentence)
    assert Sentence.model_validate_json(result.text) == result.parsed


def test_dict_schema_output_matches_the_schema(ollama_api: OllamaTestServer) -> None:
    schema = {
        "type": "object",
        "properties": {"level": {"enum": ["A1", "A2", "B1"]}, "ok": {"type": "boolean"}},
        "required": ["level", "ok"],
    }
    ask = [Message.user("Is 'cat' an A1 word? Answer in JSON.")]
    result = model(ollama_api).chat(ask, schema=schema, options=GenerationOptions(max_tokens=40, seed=1))
    assert set(result.parsed) == {"level", "ok"}
    assert result.parsed["level"] in ("A1", "A2", "B1")
    assert isinstance(result.parsed["ok"], bool)


def test_required_tool_call_comes_back_as_tool_call(ollama_api: OllamaTestServer) -> None:
    result = model(ollama_api).chat(
        [Message.user("What is the CEFR level of the word 'house'?")],
        tools=[WORD_LEVEL],
        tool_choice="required",
        options=GenerationOptions(max_tokens=40, seed=1),
    )
    assert result.finish_reason == "tool_calls"
    assert [c.name for c in result.tool_calls] == ["word_level"]
    assert isinstance(result.tool_calls[0].arguments["word"], str)
    assert result.usage.output_tokens > 0


def test_named_tool_choice_offers_only_that_tool(ollama_api: OllamaTestServer) -> None:
    result = model(ollama_api).chat(
        [Message.user("Explain the word 'house'.")],
        tools=[WORD_LEVEL, DEFINE],
        tool_choice="define",
        options=GenerationOptions(max_tokens=40, seed=3),
    )
    assert [c.name for c in result.tool_calls] == ["define"]


def test_required_tool_call_missing_is_invalid_output_without_retry(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("ignore_tools")
    with pytest.raises(InvalidModelOutput, match="tool call was required") as info:
        model(ollama_api).chat([Message.user("Level of 'house'?")], tools=[WORD_LEVEL], tool_choice="required",
                           options=SHORT)
    assert info.value.attempts == 1
    assert ollama_api.chat_requests() == 1


def test_unknown_tool_choice_is_our_bug(ollama_api: OllamaTestServer) -> None:
    with pytest.raises(ModelBug, match="names no tool"):
        model(ollama_api).chat(HI, tools=[WORD_LEVEL], tool_choice="translate", options=SHORT)
    assert ollama_api.chat_requests() == 0


def test_conversation_with_tool_results_is_accepted(ollama_api: OllamaTestServer) -> None:
    call = ToolCall(name="word_level", arguments={"word": "house"})
    messages = [
        Message.user("Level of 'house'?"),
        Message(role="assistant", tool_calls=[call]),
        Message(role="tool", tool_call_id=call.id, content='{"level": "A1"}'),
    ]
    result = model(ollama_api).chat(messages, options=SHORT)
    assert result.text


def test_messages_map_to_ollama_shape() -> None:
    call = ToolCall(name="word_level", arguments={"word": "house"})
    wire = _ollama_messages(
        [Message(role="assistant", tool_calls=[call]), Message(role="tool", tool_call_id=call.id, content="A1")]
    )
    assert wire[0]["tool_calls"] == [{"function": {"name": "word_level", "arguments": {"word": "house"}}}]
    assert wire[1] == {"role": "tool", "content": "A1", "tool_name": "word_level"}


def test_tool_parameters_fit_ollamas_subset() -> None:
    class Level(BaseModel):
        name: str

    class Args(BaseModel):
        word: str
        pos: str | None = None
        level: Level | None = None

    params = _tool_parameters(Args.model_json_schema())
    assert params["required"] == ["word"]
    assert params["properties"]["pos"]["type"] == ["string", "null"]
    assert params["properties"]["level"]["type"] == ["object", "null"]
    # What the official client would send survives its own validation unchanged in the essentials.
    tool = ollama.Tool.model_validate({"type": "function", "function": {"name": "x", "parameters": params}})
    assert tool.function is not None and tool.function.parameters is not None
    assert tool.function.parameters.properties is not None
    assert tool.function.parameters.properties["pos"].type == ["string", "null"]


# --- Faults -------------------------------------------------------------------------------------------------------


def test_slow_server_times_out_after_every_retry(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("delay", delay_s=30)
    with pytest.raises(ModelTimeout, match=r"did not finish within 0\.5 s") as info:
        model(ollama_api, timeout_s=0.5, retries=2).chat(HI, options=SHORT)
    assert info.value.attempts == 3
    assert ollama_api.chat_requests() == 3


def test_dripping_server_times_out_despite_steady_bytes(ollama_api: OllamaTestServer) -> None:
    # Every chunk comes well within httpx's read timeout; only the wall-clock deadline can stop this.
    ollama_api.inject("drip", delay_s=0.25)
    with pytest.raises(ModelTimeout) as info:
        model(ollama_api, timeout_s=1.0, retries=1).chat(HI, options=GenerationOptions(max_tokens=16, seed=1))
    assert info.value.attempts == 2


def test_per_call_timeout_overrides_the_config(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("delay", delay_s=30)
    with pytest.raises(ModelTimeout, match=r"within 0\.3 s") as info:
        model(ollama_api, timeout_s=20, retries=0).chat(HI, options=GenerationOptions(max_tokens=8, timeout_s=0.3))
    assert info.value.attempts == 1


def test_a_deadline_cuts_the_attempt_and_stops_the_retries(ollama_api: OllamaTestServer) -> None:
    from agents.models.deadline import deadline

    ollama_api.inject("hang")
    with deadline(1.5, label="turn"), pytest.raises(ModelTimeout, match=r"within 1\.\d s") as info:
        model(ollama_api, timeout_s=60, retries=2).chat(HI, options=SHORT)
    assert info.value.attempts == 1 and ollama_api.chat_requests() == 1


def test_http_500_is_retried_then_unavailable(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("status", status=500, message="runner crashed")
    with pytest.raises(ModelUnavailable, match="HTTP 500: runner crashed") as info:
        model(ollama_api).chat(HI, options=SHORT)
    assert type(info.value) is ModelUnavailable
    assert isinstance(info.value.__cause__, ollama.ResponseError)
    assert info.value.attempts == 3
    assert ollama_api.chat_requests() == 3


def test_fail_twice_then_recover_succeeds_on_the_third_attempt(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("status", status=503, times=2)
    result = model(ollama_api).chat(HI, options=SHORT)
    assert result.attempts == 3
    assert result.text
    assert ollama_api.chat_requests() == 3


def test_dropped_connection_is_retried_then_unavailable(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("drop")
    with pytest.raises(ModelUnavailable, match="dropped the connection") as info:
        model(ollama_api).chat(HI, options=SHORT)
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)
    assert info.value.attempts == 3


def test_invalid_json_is_retried_then_unavailable(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("invalid_json")
    with pytest.raises(ModelUnavailable, match="not Ollama's JSON") as info:
        model(ollama_api).chat(HI, options=SHORT)
    assert isinstance(info.value.__cause__, json.JSONDecodeError)
    assert info.value.attempts == 3


def test_invalid_json_once_then_recover(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("invalid_json", times=1)
    assert model(ollama_api).chat(HI, options=SHORT).attempts == 2


def test_error_line_mid_stream_is_retried_then_unavailable(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("stream_error", message="an error was encountered while running the model")
    with pytest.raises(ModelUnavailable, match="failed while generating") as info:
        model(ollama_api).chat(HI, options=SHORT)
    assert info.value.attempts == 3


def test_unknown_model_is_not_found_at_once_and_lists_models(ollama_api: OllamaTestServer) -> None:
    with pytest.raises(ModelNotFound) as info:
        model(ollama_api, "llama3:70b").chat(HI, options=SHORT)
    assert info.value.attempts == 1
    assert ollama_api.chat_requests() == 1
    assert "qwen2.5:7b-instruct" in str(info.value) and "mistral:7b-instruct" in str(info.value)
    assert "ollama pull llama3:70b" in str(info.value)


def test_other_4xx_is_our_bug_and_not_retried(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("status", status=400, message="invalid options")
    with pytest.raises(ModelBug, match="HTTP 400") as info:
        model(ollama_api).chat(HI, options=SHORT)
    assert info.value.attempts == 1


def test_missing_capability_is_not_retried(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("status", status=400, message="registry.ollama.ai/library/mistral does not support tools")
    with pytest.raises(ModelLacksCapability) as info:
        model(ollama_api, MISTRAL).chat(HI, tools=[WORD_LEVEL], options=SHORT)
    assert info.value.attempts == 1


def test_faults_can_target_one_model(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("status", model=MISTRAL)
    assert model(ollama_api, QWEN).chat(HI, options=SHORT).attempts == 1
    with pytest.raises(ModelUnavailable):
        model(ollama_api, MISTRAL, retries=0).chat(HI, options=SHORT)


def test_closed_port_is_unavailable_after_retries(closed_port_url: str) -> None:
    config = OllamaConfig(host=closed_port_url, timeout_s=2, retries=1, backoff_s=0.01)
    with pytest.raises(ModelUnavailable, match="cannot connect") as info:
        OllamaModel(QWEN, config).chat(HI, options=SHORT)
    assert type(info.value) is ModelUnavailable
    assert info.value.attempts == 2


def test_retries_are_span_events(ollama_api: OllamaTestServer, spans: InMemorySpanExporter) -> None:
    ollama_api.inject("status", times=1)
    model(ollama_api).chat(HI, options=SHORT)
    (span,) = [s for s in spans.get_finished_spans() if s.name == f"chat {QWEN}"]
    assert [e.name for e in span.events] == ["forge.retry"]
    assert span.events[0].attributes is not None and span.events[0].attributes["error.type"] == "unavailable"
    assert span.attributes is not None and span.attributes["forge.attempts"] == 2


# --- Availability, OLLAMA_HOST, registry, CLI ---------------------------------------------------------------------


def test_availability_reports_the_model(ollama_api: OllamaTestServer) -> None:
    avail = model(ollama_api).availability()
    assert avail.reachable and ollama_api.url in avail.detail


def test_availability_of_a_model_the_server_lacks(ollama_api: OllamaTestServer) -> None:
    avail = model(ollama_api, "llama3:70b").availability()
    assert not avail.reachable
    assert "lacks this model" in avail.detail and "qwen2.5:7b-instruct" in avail.detail


def test_availability_of_a_closed_port(closed_port_url: str) -> None:
    avail = OllamaModel(QWEN, OllamaConfig(host=closed_port_url)).availability()
    assert not avail.reachable and "cannot connect" in avail.detail


def test_availability_does_not_wait_for_a_slow_server(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("delay", delay_s=30, path="/api/tags")
    avail = model(ollama_api, probe_timeout_s=0.3).availability()
    assert not avail.reachable and "did not answer" in avail.detail


def test_ollama_host_is_honoured_when_no_host_is_configured(
    ollama_api: OllamaTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama_api.url)
    m = OllamaModel(QWEN)
    assert m.host == ollama_api.url
    assert m.availability().reachable


def test_registry_resolves_ollama_strings(ollama_api: OllamaTestServer) -> None:
    m = resolve_model(f"ollama:{MISTRAL}", BackendConfig(ollama=OllamaConfig(host=ollama_api.url)))
    assert isinstance(m, OllamaModel)
    assert m.chat(HI, options=SHORT).model == "ollama:mistral:7b-instruct"


def test_forge_models_shows_ollama_models_reachable(
    ollama_api: OllamaTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORGE_OLLAMA_HOST", ollama_api.url)
    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["model"]: row for row in json.loads(result.stdout)}
    for spec in (f"ollama:{QWEN}", f"ollama:{MISTRAL}"):
        assert rows[spec]["reachable"] is True
        assert rows[spec]["capabilities"]["tools"] is True


def test_forge_models_marks_unreachable_server(closed_port_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGE_OLLAMA_HOST", closed_port_url)
    runner = CliRunner()
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["model"]: row for row in json.loads(result.stdout)}
    assert rows[f"ollama:{QWEN}"]["reachable"] is False
    assert "cannot connect" in rows[f"ollama:{QWEN}"]["detail"]
    table = runner.invoke(app, ["models"])
    assert table.exit_code == 0 and "Traceback" not in table.output
    assert "cannot connect" in " ".join(table.output.split())
