"""How `forge bench sessions` prints its figures for people."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from forge.cli.common import console


def print_sessions(report: dict[str, Any]) -> None:
    """Tables of the session figures against the issue's goals."""
    if report.get("note"):
        console.print(f"[yellow]Note:[/yellow] {report['note']}.")
    lat = report["latency"]
    table = Table(title=f"Scripted {lat['turns']}-turn {lat['kind']} session {lat['session']} (goal: median ≤ 3 s)")
    for column in ("turns", "count", "median s", "p90 s", "max s"):
        table.add_column(column, justify="right")
    for name, prefix, count in (("all", "", lat["turns"]), ("calling the model", "model_", lat["model_turns"])):
        table.add_row(name, str(count), *(_secs(lat[f"{prefix}{k}_s"]) for k in ("median", "p90", "max")))
    console.print(table)
    kill = report["kill"]
    title = (f"kill -9 at a random point of a turn ({kill['kind']} session {kill['session']}; a whole turn in a "
             f"subprocess took {kill['subprocess_turn_s']:.1f} s from taking the lock)")
    table = Table(title=title)
    for column in ("round", "killed after s", "stopped before", "completed turns", "all kept", "resumed"):
        table.add_column(column, justify="right")
    for n, r in enumerate(kill["rounds"], 1):
        table.add_row(str(n), f"{r['killed_after_s']:.2f}", r["phase"], str(r["completed_turns"]),
                      _yes(r["kept"]), _yes(r["resumed"]))
    console.print(table)
    par = report["parallel"]
    console.print(
        f"{par['sessions']} sessions in parallel ({', '.join(par['kinds'])}), {par['turns']} turns in "
        f"{par['wall_s']:.1f} s: "
        + ("each kept exactly its own turns and items." if par["isolated"] else
           f"[red]mixed or failed[/red]: {', '.join(par['mixed'] + par['errors'])}")
    )


def _secs(value: float | None) -> str:
    """Seconds, or a dash."""
    return "-" if value is None else f"{value:.2f}"


def _yes(value: bool) -> str:
    """A boolean as people read it."""
    return "yes" if value else "[red]no[/red]"
