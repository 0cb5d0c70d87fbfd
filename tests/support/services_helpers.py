"""Build application services from explicit settings, for tests."""

from __future__ import annotations

from pathlib import Path

from forge.services import Services
from forge.settings import Settings


def make_services(data_dir: Path, cache_dir: Path, **settings: object) -> Services:
    """Services from explicit settings (init values win over any environment)."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "cache_dir": cache_dir,
        "ollama_host": "http://127.0.0.1:9",
        "ollama_retries": 0,
        "ollama_timeout_s": 20.0,
        "local_timeout_s": 60.0,
    }
    return Services(Settings(**(values | settings)))  # type: ignore[arg-type]
