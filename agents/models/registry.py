"""The one factory that turns model strings into `ChatModel`s.

Accepted strings:
- `llamacpp:smollm2-135m` — the embedded SmolLM2-135M-Instruct (Q4_1), run in process;
- `llamacpp:/path/to/model.gguf` — any other GGUF (e.g. SmolLM2-1.7B-Instruct Q4_K_M);
- `ollama:<name>` — any model the configured Ollama server has, e.g. `ollama:qwen2.5:7b-instruct`.

Every Ollama model of one registry shares one `HostPool` (agents/models/pool.py): a host found hung while serving
one model is avoided by the others too.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from agents.models.base import ChatModel
from agents.models.errors import UnknownModel
from agents.models.llamacpp import EMBEDDED_NAME, LlamaCppConfig, LlamaCppModel
from agents.models.ollama import OllamaConfig

if TYPE_CHECKING:
    from agents.models.pool import HostPool

BACKENDS = ("llamacpp", "ollama")
VALID_FORMS = f"llamacpp:{EMBEDDED_NAME}, llamacpp:/path/to/model.gguf or ollama:<model name>"


class BackendConfig(BaseModel):
    """Backend options, built by the application from its settings."""

    llamacpp: LlamaCppConfig = Field(default_factory=LlamaCppConfig)
    ollama: OllamaConfig = Field(default_factory=OllamaConfig)


def split_model_string(spec: str) -> tuple[str, str]:
    """Split 'backend:name' (the name may itself contain colons); raise UnknownModel if malformed."""
    backend, sep, name = spec.strip().partition(":")
    if not sep or not name or backend not in BACKENDS:
        raise UnknownModel(f"Unknown model {spec!r}; accepted forms are {VALID_FORMS}.")
    return backend, name


class ModelRegistry:
    """Resolves model strings once and hands out the same instance afterwards."""

    def __init__(self, config: BackendConfig | None = None) -> None:
        self.config = config or BackendConfig()
        self._models: dict[str, ChatModel] = {}
        self._lock = threading.Lock()
        self._pool: HostPool | None = None

    @property
    def ollama_pool(self) -> HostPool:
        """The pool of Ollama hosts every Ollama model of this registry uses (built on first use)."""
        with self._lock:
            return self._ollama_pool()

    def _ollama_pool(self) -> HostPool:
        """The shared pool (the caller holds the lock)."""
        if self._pool is None:
            from agents.models.ollama import build_pool

            self._pool = build_pool(self.config.ollama)
        return self._pool

    def get(self, spec: str) -> ChatModel:
        """The model for a string such as 'llamacpp:smollm2-135m'; raises UnknownModel with the valid forms."""
        with self._lock:
            if spec not in self._models:
                backend, _ = split_model_string(spec)
                pool = self._ollama_pool() if backend == "ollama" else None
                self._models[spec] = resolve_model(spec, self.config, pool=pool)
            return self._models[spec]

    def close(self) -> None:
        """Close every model handed out, and the Ollama host pool."""
        for model in self._models.values():
            model.close()
        if self._pool is not None:
            self._pool.close()


def resolve_model(spec: str, config: BackendConfig | None = None, *, pool: HostPool | None = None) -> ChatModel:
    """Build a model from its string; errors name the string and list the accepted forms.

    `pool` is the Ollama host pool to use (None: the model builds its own from `config.ollama`).
    """
    config = config or BackendConfig()
    backend, name = split_model_string(spec)
    if backend == "llamacpp":
        return LlamaCppModel(name, config.llamacpp)
    from agents.models.ollama import OllamaModel

    return OllamaModel(name, config.ollama, pool=pool)
