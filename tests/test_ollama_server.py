"""The test server itself, spoken to with plain httpx: Ollama's JSON shapes, status codes and the fault controls."""

from __future__ import annotations

import json
from typing import Any

import httpx
import ollama
import pytest

from tests.support.ollama_server import OllamaTestServer

pytest_plugins = ["tests.support.ollama_fixtures"]
pytestmark = pytest.mark.timeout(180)  # hang guard only

CHAT: dict[str, Any] = {
    "model": "qwen2.5:7b-instruct",
    "messages": [{"role": "user", "content": "Say hello."}],
    "options": {"num_predict": 6, "seed": 1, "temperature": 0},
}


def test_streamed_chat_is_ndjson_ending_with_statistics(ollama_api: OllamaTestServer) -> None:
    with httpx.stream("POST", f"{ollama_api.url}/api/chat", json=CHAT, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in response.iter_lines() if line]
    *chunks, final = lines
    assert chunks and all(c["done"] is False and c["message"]["role"] == "assistant" for c in chunks)
    assert final["done"] is True and final["done_reason"] == "length"
    assert final["eval_count"] == 6 and final["prompt_eval_count"] > 0
    assert {"total_duration", "load_duration", "prompt_eval_duration", "eval_duration", "created_at"} <= set(final)


def test_unstreamed_chat_is_one_object(ollama_api: OllamaTestServer) -> None:
    body = httpx.post(f"{ollama_api.url}/api/chat", json=CHAT | {"stream": False}, timeout=60).json()
    assert body["done"] is True and body["message"]["content"]
    assert body["model"] == "qwen2.5:7b-instruct"


def test_json_format_and_tool_calls_have_ollamas_shape(ollama_api: OllamaTestServer) -> None:
    client = ollama.Client(host=ollama_api.url, timeout=60)
    messages = [{"role": "user", "content": "Level of the word 'house'? Answer in JSON."}]
    reply = client.chat("qwen2.5:7b-instruct", messages, format="json", options={"num_predict": 80, "temperature": 0})
    assert isinstance(json.loads(reply.message.content or ""), dict | list)
    parameters = {"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]}
    tool = {"type": "function", "function": {"name": "word_level", "description": "Level", "parameters": parameters}}
    reply = client.chat("qwen2.5:7b-instruct", messages, tools=[tool], options={"num_predict": 40, "seed": 1})
    assert reply.message.tool_calls is not None
    assert reply.message.tool_calls[0].function.name == "word_level"


def test_listing_show_version_and_errors(ollama_api: OllamaTestServer) -> None:
    client = ollama.Client(host=ollama_api.url, timeout=10)
    assert sorted(m.model or "" for m in client.list().models) == ["mistral:7b-instruct", "qwen2.5:7b-instruct"]
    assert client.show("mistral:7b-instruct").capabilities == ["completion", "tools"]
    assert httpx.get(f"{ollama_api.url}/api/version").json()["version"]
    assert httpx.get(ollama_api.url).text == "Ollama is running"
    missing = httpx.post(f"{ollama_api.url}/api/chat", json=CHAT | {"model": "llama3"})
    assert (missing.status_code, missing.json()) == (404, {"error": "model 'llama3' not found"})
    assert httpx.post(f"{ollama_api.url}/api/chat", json={"messages": []}).status_code == 400
    assert httpx.post(f"{ollama_api.url}/api/chat", content=b"{not json").status_code == 400
    assert httpx.get(f"{ollama_api.url}/api/nothing").status_code == 404


def test_faults_over_http_apply_n_times_then_recover(ollama_api: OllamaTestServer) -> None:
    fault = {"kind": "status", "status": 503, "times": 2, "model": "mistral:7b-instruct", "message": "busy"}
    assert httpx.post(f"{ollama_api.url}/_forge/faults", json=fault).status_code == 200
    url, body = f"{ollama_api.url}/api/chat", CHAT | {"stream": False}
    assert httpx.post(url, json=body, timeout=60).status_code == 200  # other model: untouched
    mistral = body | {"model": "mistral:7b-instruct"}
    assert [httpx.post(url, json=mistral, timeout=60).status_code for _ in range(3)] == [503, 503, 200]
    assert [r.fault for r in ollama_api.requests] == [None, "status", "status", None]
    assert httpx.delete(f"{ollama_api.url}/_forge/faults").status_code == 200


def test_dropped_connection_breaks_the_chunked_body(ollama_api: OllamaTestServer) -> None:
    ollama_api.inject("drop")
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("POST", f"{ollama_api.url}/api/chat", json=CHAT) as r:
        list(r.iter_lines())
