"""The one typed settings object, and where each value came from.

Precedence, highest first: command-line overrides, `FORGE_*` environment variables, `forge.toml`, defaults.
The TOML file is `$FORGE_CONFIG` if set, else `./forge.toml`, else `forge.toml` in the user config dir.
Unknown keys in the file and unknown `FORGE_*` variables are errors, so typos fail loudly.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from knowledge.errors import UserInputError
from knowledge.levels import parse_level

APP_NAME = "pedagogical-forge"
ENV_PREFIX = "FORGE_"
#: Environment variables that are read directly rather than being settings fields.
SPECIAL_ENV = {"FORGE_CONFIG"}
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"

Source = Literal["default", "file", "env", "cli"]


class Settings(BaseSettings):
    """Everything a user can configure. Every field can be set in forge.toml or as FORGE_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    data_dir: Path = Field(
        default_factory=lambda: platformdirs.user_data_path(APP_NAME),
        description="Directory for everything the program writes: indexes, traces, sessions, caches.",
    )
    cache_dir: Path | None = Field(
        default=None,
        description="Derived caches (knowledge-graph cache, embedded retrieval index); empty means <data_dir>/cache.",
    )
    local_model: str = Field(
        default="llamacpp:smollm2-135m",
        description="Model that generates by default: llamacpp:smollm2-135m (embedded) or llamacpp:/path/model.gguf.",
    )
    lora_adapters: dict[str, Path] = Field(
        default_factory=dict,
        description="LoRA adapter (GGUF) per CEFR level for the local model, e.g. {B1 = '/adapters/b1.gguf'}.",
    )
    n_ctx: int = Field(default=4096, ge=256, le=131072, description="Context window of the local model, in tokens.")
    n_threads: int | None = Field(
        default=None, ge=1, description="CPU threads for llama.cpp generation; empty means all cores."
    )
    local_timeout_s: float = Field(default=20.0, gt=0, description="Wall-clock budget of one local model call.")
    ollama_host: str | None = Field(
        default=None, description="Ollama server URL; falls back to OLLAMA_HOST, then http://127.0.0.1:11434."
    )
    ollama_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Ollama server URLs of a pool (comma-separated or a JSON list); when set, ollama_host is unused.",
    )
    turn_deadline_s: float = Field(
        default=20.0, gt=0, description="Overall wall-clock budget of one tutoring turn, escalations included."
    )
    item_deadline_s: float = Field(
        default=90.0, gt=0, description="Overall wall-clock budget of one generated item, escalations included."
    )
    escalation_chain: list[str] = Field(
        default_factory=lambda: ["ollama:qwen2.5:7b-instruct", "ollama:mistral:7b-instruct"],
        description="Models tried in order when a case is escalated.",
    )
    ollama_timeout_s: float = Field(default=60.0, gt=0, description="Wall-clock budget of one Ollama attempt.")
    ollama_retries: int = Field(default=2, ge=0, le=10, description="Extra Ollama attempts after a retryable failure.")
    ollama_backoff_s: float = Field(
        default=0.5, ge=0, description="First retry delay; doubles each retry, with jitter."
    )
    ollama_backoff_max_s: float = Field(default=8.0, ge=0, description="Upper bound of one retry delay.")
    chroma_url: str | None = Field(
        default=None, description="Chroma server URL; empty means an embedded index in the data dir."
    )
    postgres_url: str | None = Field(
        default=None, description="PostgreSQL URL for session checkpoints; empty means SQLite in the data dir."
    )
    max_local_attempts: int = Field(default=3, ge=1, le=10, description="Local generation attempts before escalating.")
    max_escalated_attempts: int = Field(default=2, ge=0, le=5, description="Escalated attempts before giving up.")
    escalate_at: str = Field(default="C1", description="Target levels at or above this are escalated first (A1..C2).")
    aci_threshold: float = Field(default=0.8, ge=0, le=1, description="Lowest Alignment Consistency Index accepted.")
    reviewer: str | None = Field(
        default=None, description="Whose reviews `forge review` and exercise sessions record; empty: the login name."
    )
    tracing: bool = Field(default=True, description="Record a trace of every run in the data dir.")
    trace_content: bool = Field(
        default=True, description="Keep prompts, outputs and learner text in local traces (export can redact)."
    )

    @field_validator("lora_adapters")
    @classmethod
    def _levels_are_cefr(cls, value: dict[str, Path]) -> dict[str, Path]:
        """Adapter keys must be CEFR levels; normalise them ('b1' -> 'B1')."""
        return {parse_level(k).value: v for k, v in value.items()}

    @field_validator("ollama_hosts", mode="before")
    @classmethod
    def _hosts_list(cls, value: Any) -> Any:
        """Accept 'http://a:11434,http://b:11434' as well as a JSON or TOML list; blanks are dropped."""
        if isinstance(value, str):
            text = value.strip()
            parts = json.loads(text) if text.startswith("[") else text.split(",")
            return [str(p).strip() for p in parts if str(p).strip()]
        return value

    @field_validator("escalate_at")
    @classmethod
    def _escalate_at_is_level(cls, value: str) -> str:
        """A CEFR level, normalised."""
        return parse_level(value).value

    @property
    def resolved_cache_dir(self) -> Path:
        """The cache directory actually used."""
        return (self.cache_dir or self.data_dir / "cache").expanduser()

    @field_validator("local_model")
    @classmethod
    def _local_is_llamacpp(cls, value: str) -> str:
        """The local model runs in process, so it must be a llama.cpp model."""
        if not value.startswith("llamacpp:"):
            raise ValueError("must be llamacpp:smollm2-135m or llamacpp:/path/to/model.gguf")
        return value

    @property
    def resolved_ollama_host(self) -> str:
        """The Ollama URL actually used: setting, then OLLAMA_HOST (as the official client does), then default."""
        return self.ollama_host or os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA_HOST

    @property
    def resolved_ollama_hosts(self) -> list[str]:
        """The Ollama pool actually used: ollama_hosts if set, else the one host of `resolved_ollama_host`."""
        return list(self.ollama_hosts) or [self.resolved_ollama_host]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """CLI overrides, then environment, then forge.toml (read by `load_settings`), then defaults."""
        return (init_settings, env_settings)


def config_file() -> Path | None:
    """The forge.toml in effect, if any."""
    explicit = os.environ.get("FORGE_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise UserInputError(f"FORGE_CONFIG points at {path}, which does not exist; give an existing forge.toml.")
        return path
    for candidate in (Path.cwd() / "forge.toml", platformdirs.user_config_path(APP_NAME) / "forge.toml"):
        if candidate.is_file():
            return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse forge.toml; a syntax error becomes one sentence with the file and the parser's position."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"{path} is not valid TOML ({exc}); fix the file or move it away.") from exc
    except OSError as exc:
        raise UserInputError(f"{path} cannot be read ({exc.strerror}); check its permissions.") from exc


def _check_env_names() -> None:
    """Reject FORGE_* variables that name no setting (a typo would otherwise be silently ignored)."""
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields} | SPECIAL_ENV
    unknown = sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)
    if unknown:
        raise UserInputError(f"Unknown setting {unknown[0]}; known FORGE_* variables are {', '.join(sorted(known))}.")


def _describe(exc: ValidationError, origins: dict[str, str]) -> str:
    """One sentence for the first validation problem, naming the setting, its source and what it accepts."""
    err = exc.errors()[0]
    name = ".".join(str(p) for p in err["loc"]) or "settings"
    origin = origins.get(str(err["loc"][0]) if err["loc"] else "", "the settings")
    if err["type"] == "extra_forbidden":
        return f"Unknown setting {name!r} in {origin}; known settings are {', '.join(Settings.model_fields)}."
    field = Settings.model_fields.get(str(err["loc"][0])) if err["loc"] else None
    accepted = f" ({field.description})" if field and field.description else ""
    return f"Invalid value for setting {name!r} from {origin}: {err['msg']}{accepted}."


def load_settings(overrides: dict[str, Any] | None = None) -> tuple[Settings, dict[str, Source]]:
    """Build the effective settings and record, for each field, which source gave its value."""
    _check_env_names()
    path = config_file()
    file_values = _read_toml(path) if path else {}
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    env_names = {name for name in Settings.model_fields if ENV_PREFIX + name.upper() in os.environ}
    origins = {k: str(path) for k in file_values} | {k: ENV_PREFIX + k.upper() for k in env_names}
    origins |= {k: "the command line" for k in overrides}
    try:
        # File values are passed as init values below env ones: pydantic-settings gives init precedence, so we
        # merge file values only for fields the environment does not set.
        merged = {k: v for k, v in file_values.items() if k not in env_names} | overrides
        settings = Settings(**merged)
    except ValidationError as exc:
        raise UserInputError(_describe(exc, origins)) from exc
    sources: dict[str, Source] = {}
    for name in Settings.model_fields:
        sources[name] = (
            "cli" if name in overrides else "env" if name in env_names else "file" if name in file_values else "default"
        )
    if sources["ollama_host"] == "default" and os.environ.get("OLLAMA_HOST"):
        sources["ollama_host"] = "env"
    return settings, sources
