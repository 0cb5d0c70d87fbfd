"""Settings precedence and provenance, `forge config show`, `forge ask`, and bad-input handling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forge.settings import load_settings
from knowledge.errors import UserInputError
from tests.support.cli_helpers import assert_clean_error, forge_json, run_forge


def test_defaults_env_file_and_cli_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "forge.toml").write_text('ollama_retries = 5\nlocal_timeout_s = 7.5\nn_ctx = 1024\n')
    monkeypatch.setenv("FORGE_LOCAL_TIMEOUT_S", "9")
    settings, sources = load_settings({"n_ctx": 2048})
    assert settings.ollama_retries == 5 and sources["ollama_retries"] == "file"
    assert settings.local_timeout_s == 9 and sources["local_timeout_s"] == "env"
    assert settings.n_ctx == 2048 and sources["n_ctx"] == "cli"
    assert sources["escalation_chain"] == "default"
    assert sources["data_dir"] == "env"


def test_ollama_host_falls_back_to_ollama_host(monkeypatch: pytest.MonkeyPatch) -> None:
    settings, sources = load_settings()
    assert settings.resolved_ollama_host == "http://127.0.0.1:11434"
    monkeypatch.setenv("OLLAMA_HOST", "http://10.0.0.5:11434")
    settings, sources = load_settings()
    assert settings.resolved_ollama_host == "http://10.0.0.5:11434" and sources["ollama_host"] == "env"
    monkeypatch.setenv("FORGE_OLLAMA_HOST", "http://127.0.0.1:9")
    settings, _ = load_settings()
    assert settings.resolved_ollama_host == "http://127.0.0.1:9"


def test_lora_adapters_keyed_by_level(tmp_path: Path) -> None:
    (tmp_path / "forge.toml").write_text('[lora_adapters]\nb1 = "/adapters/b1.gguf"\n')
    settings, _ = load_settings()
    assert settings.lora_adapters == {"B1": Path("/adapters/b1.gguf")}
    (tmp_path / "forge.toml").write_text('[lora_adapters]\nZ9 = "/adapters/x.gguf"\n')
    with pytest.raises(UserInputError, match="accepted levels"):
        load_settings()


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ("ollama_retries = ", "is not valid TOML"),
        ("olama_host = 'x'\n", "Unknown setting 'olama_host'"),
        ("ollama_retries = 'many'\n", "Invalid value for setting 'ollama_retries'"),
        ("local_model = 'ollama:qwen'\n", "llamacpp:smollm2-135m"),
    ],
)
def test_bad_config_file_is_one_clear_sentence(tmp_path: Path, toml: str, fragment: str) -> None:
    (tmp_path / "forge.toml").write_text(toml)
    proc = run_forge("config", "show")
    assert_clean_error(proc, fragment)


def test_unknown_env_setting_and_debug_traceback() -> None:
    proc = run_forge("config", "show", env={"FORGE_OLAMA_HOST": "x"})
    assert_clean_error(proc, "Unknown setting FORGE_OLAMA_HOST", "FORGE_OLLAMA_HOST")
    debug = run_forge("--debug", "config", "show", env={"FORGE_OLAMA_HOST": "x"})
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_config_show_json_reports_sources(tmp_path: Path) -> None:
    (tmp_path / "forge.toml").write_text("ollama_retries = 4\n")
    shown = forge_json("config", "show", env={"FORGE_TRACING": "false"})
    assert shown["config_file"].endswith("forge.toml")
    assert shown["settings"]["ollama_retries"] == {"value": 4, "source": "file"}
    assert shown["settings"]["tracing"] == {"value": False, "source": "env"}
    assert shown["settings"]["local_model"]["source"] == "default"


def test_ask_json_from_the_embedded_model() -> None:
    reply = forge_json("ask", "Say hello to an A1 learner.", "--max-tokens", "40", "--seed", "1")
    assert reply["text"].strip()
    assert reply["model"] == "llamacpp:smollm2-135m"
    assert reply["usage"]["input_tokens"] > 0 and reply["usage"]["output_tokens"] > 0
    assert reply["latency_s"] > 0


def test_ask_with_schema_returns_schema_valid_json(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"greeting": {"type": "string"}}, "required": ["greeting"]}
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema))
    reply = forge_json("ask", "Greet a new student.", "--schema", str(path), "--seed", "2")
    assert isinstance(json.loads(reply["text"])["greeting"], str)
    assert reply["parsed"]["greeting"] == json.loads(reply["text"])["greeting"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["ask", "--model", "gpt:4", "hi"], "Unknown model 'gpt:4'"),
        (["ask", "--model", "llamacpp:/nowhere/x.gguf", "hi"], "does not exist"),
        (["ask", "   "], "The prompt is empty"),
        (["ask", "--schema", "/nowhere.json", "hi"], "Cannot read schema file"),
    ],
)
def test_ask_bad_input(args: list[str], fragment: str) -> None:
    assert_clean_error(run_forge(*args), fragment)


def test_missing_gguf_setting_is_clear() -> None:
    proc = run_forge("ask", "hi", env={"FORGE_LOCAL_MODEL": "llamacpp:/missing/model.gguf"})
    assert_clean_error(proc, "/missing/model.gguf does not exist")
