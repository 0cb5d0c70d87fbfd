"""Helpers every command shares: consoles, the per-process services, JSON output."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from forge.views import to_jsonable

if TYPE_CHECKING:
    from forge.services import Services

console = Console()
err_console = Console(stderr=True)

#: `knowledge.items.EXERCISE_TYPES` (a test keeps them equal), for help texts: that module builds the item schemas
#: with pydantic, which `forge --help` has no need of.
EXERCISE_TYPES = ("gap_fill", "open_gap", "word_formation", "reorder", "error_correction", "matching", "reading")


class CliState:
    """Global options and the lazily built services of this invocation."""

    def __init__(self, overrides: dict[str, Any], debug: bool) -> None:
        self.overrides = overrides
        self.debug = debug
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        """Build the services from the settings on first use."""
        if self._services is None:
            from forge.services import Services  # the whole stack: imported by the commands that need it
            from forge.settings import load_settings

            settings, _ = load_settings(self.overrides)
            self._services = Services(settings)
        return self._services

    def close(self) -> None:
        """Close the services if they were built."""
        if self._services is not None:
            self._services.close()


def state(cli: typer.Context) -> CliState:
    """The CliState stored on the root context by the app callback."""
    root = cli.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState({}, debug=False)
    return root.obj


def services(cli: typer.Context) -> Services:
    """The services of this invocation."""
    return state(cli).services


def print_json(value: Any) -> None:
    """Print one JSON document on stdout (for scripts: nothing else goes to stdout with --json)."""
    sys.stdout.write(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()
