"""`forge models`: the configured models and whether each can be reached now."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from forge.cli.common import console, print_json, services
from knowledge.errors import ForgeError


def models(
    cli: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List the local model and the escalation chain, with reachability and capabilities."""
    svc = services(cli)
    rows: list[dict[str, Any]] = []
    for index, spec in enumerate(svc.configured_models()):
        role = "local" if index == 0 else f"escalation {index}"
        try:
            model = svc.model(spec)
            avail = model.availability()
            rows.append({"model": spec, "role": role, "reachable": avail.reachable, "detail": avail.detail,
                         "capabilities": model.capabilities.model_dump()})
        except ForgeError as exc:
            rows.append({"model": spec, "role": role, "reachable": False, "detail": str(exc), "capabilities": None})
    if as_json:
        print_json(rows)
        return
    table = Table(title="Configured models")
    for column in ("model", "role", "reachable", "capabilities", "detail"):
        table.add_column(column, overflow="fold")
    for row in rows:
        caps = ", ".join(k for k, v in (row["capabilities"] or {}).items() if v)
        mark = "[green]yes[/green]" if row["reachable"] else "[red]no[/red]"
        table.add_row(row["model"], row["role"], mark, caps, row["detail"])
    console.print(table)
