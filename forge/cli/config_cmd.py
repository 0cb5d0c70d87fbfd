"""`forge config show`: the effective settings and where each value came from."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from forge.cli.common import console, print_json, state

app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@app.command("show")
def show(
    cli: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Print every setting, its effective value and its source (default, file, env or cli)."""
    from forge.settings import Settings, config_file, load_settings

    settings, sources = load_settings(state(cli).overrides)
    values = settings.model_dump(mode="json")
    path = config_file()
    if as_json:
        print_json({"config_file": str(path) if path else None, "settings": {
            name: {"value": values[name], "source": sources[name]} for name in Settings.model_fields
        }})
        return
    table = Table(title=f"Settings (config file: {path or 'none'})")
    for column in ("setting", "value", "source", "description"):
        table.add_column(column, overflow="fold")
    for name, field in Settings.model_fields.items():
        table.add_row(name, _show(values[name]), sources[name], field.description or "")
    console.print(table)


def _show(value: object) -> str:
    """A compact display of one value."""
    return "—" if value in (None, [], {}) else str(value)
