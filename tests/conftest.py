"""Shared fixtures: the real SmolLM2 GGUF (loaded once per session), isolated settings and data dirs.

Every test gets its own data dir; the derived caches (knowledge-graph cache and the embedded retrieval index, about
a minute to build) live in one session-wide cache dir, so they are built once per test run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agents import telemetry
from agents.models.llamacpp import LlamaCppConfig, LlamaCppModel

#: Variables for the tests themselves, not settings of the program: FORGE_SCREENSHOTS=1 makes the browser tests
#: write their screenshots into docs/screenshots/.
KEPT = frozenset({"FORGE_SCREENSHOTS"})


def pytest_configure(config: pytest.Config) -> None:
    """Drop the developer's FORGE_*/OLLAMA_* variables before any fixture, session-scoped ones included, reads them."""
    for key in list(os.environ):
        if key.startswith(("FORGE_", "OLLAMA_")) and key not in KEPT:
            del os.environ[key]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache dir (knowledge-graph cache, retrieval index) for the whole session."""
    return tmp_path_factory.mktemp("forge-cache")


@pytest.fixture(scope="session")
def built_cache(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's cache dir with the knowledge-graph cache and the retrieval index built (for tests that start
    `forge serve` processes, which build what is missing before they listen)."""
    from tests.support.services_helpers import make_services

    services = make_services(tmp_path_factory.mktemp("index-builder"), cache_dir)
    try:
        services.ensure_index()
    finally:
        services.close()
    return cache_dir


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cache_dir: Path) -> Iterator[Path]:
    """Every test gets its own data dir and no stray FORGE_*/OLLAMA_* variables or forge.toml."""
    for key in list(os.environ):
        if key.startswith(("FORGE_", "OLLAMA_")) and key not in KEPT:
            monkeypatch.delenv(key, raising=False)
    data_dir = tmp_path / "forge-data"
    monkeypatch.setenv("FORGE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("FORGE_CACHE_DIR", str(cache_dir))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    yield data_dir


@pytest.fixture(scope="session")
def smollm() -> LlamaCppModel:
    """The embedded SmolLM2-135M-Instruct, loaded once for the whole session."""
    model = LlamaCppModel("smollm2-135m", LlamaCppConfig(n_ctx=2048, timeout_s=60))
    model.warm_up()
    return model


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Spans recorded by a private tracer provider (the global one is left alone)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(telemetry, "tracer", lambda: provider.get_tracer("test"))
    yield exporter
    provider.shutdown()
