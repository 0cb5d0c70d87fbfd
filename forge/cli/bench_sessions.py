"""How `forge bench sessions` prints its figures for people."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from forge.cli.common import console


def print_sessions(report: dict[str, Any]) -> None:
    """Tables of the session figures against the issue's goals."""
    if report.get("note"):
        console.print(f"[yellow]Note:[/yellow] {report['note']}.")
    if "scripted" in report:
        print_scripted(report["scripted"])
    if "latency" not in report:
        return
    lat = report["latency"]
    table = Table(title=f"Scripted {lat['turns']}-turn {lat['kind']} session {lat['session']} (goal: median ≤ 3 s)")
    for column in ("turns", "count", "median s", "p90 s", "max s"):
        table.add_column(column, justify="right")
    for name, prefix, count in (("all", "", lat["turns"]), ("calling the model", "model_", lat["model_turns"])):
        table.add_row(name, str(count), *(_secs(lat[f"{prefix}{k}_s"]) for k in ("median", "p90", "max")))
    console.print(table)
    kill = report["kill"]
    title = (
        f"kill -9 at a random point of a turn ({kill['kind']} session {kill['session']}; a whole turn in a "
        f"subprocess took {kill['subprocess_turn_s']:.1f} s from taking the lock)"
    )
    table = Table(title=title)
    for column in ("round", "killed after s", "stopped before", "completed turns", "all kept", "resumed"):
        table.add_column(column, justify="right")
    for n, r in enumerate(kill["rounds"], 1):
        table.add_row(
            str(n),
            f"{r['killed_after_s']:.2f}",
            r["phase"],
            str(r["completed_turns"]),
            _yes(r["kept"]),
            _yes(r["resumed"]),
        )
    console.print(table)
    par = report["parallel"]
    console.print(
        f"{par['sessions']} sessions in parallel ({', '.join(par['kinds'])}), {par['turns']} turns in "
        f"{par['wall_s']:.1f} s: "
        + (
            "each kept exactly its own turns and items."
            if par["isolated"]
            else f"[red]mixed or failed[/red]: {', '.join(par['mixed'] + par['errors'])}"
        )
    )


def print_scripted(report: dict[str, Any]) -> None:
    """The scripted sessions' figures against the issue's goals, then the misrouted turns."""
    table = Table(title=f"Scripted tutoring sessions ({', '.join(report['sessions'])}; {report['turn_count']} turns)")
    for column in ("figure", "value", "goal"):
        table.add_column(column)
    rows = (
        ("intent accuracy", _pct(report["intent_accuracy"]), "every turn routed right"),
        ("questions answered", f"{report['questions_answered']} of {report['questions']}", "all"),
        ("answers with no word above the level", f"{report['answers_within_level']} of {report['questions']}", "all"),
        ("exercises offered for requests", f"{report['exercises_offered']} of {report['exercise_requests']}", "all"),
        ("corrections per turn", f"{report['corrections_per_turn']:.2f}", ""),
        ("generic replies", _pct(report["generic_share"]), "≤ 10 %"),
        ("turn p50 / p90 / max s", " / ".join(_secs(report[k]) for k in ("p50_s", "p90_s", "max_s")), "≤ 3 / ≤ 8"),
    )
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for line in report["misrouted"]:
        console.print(f"  [red]misrouted[/red] {line}", highlight=False)


def _pct(value: float | None) -> str:
    """A share as a percentage, or a dash."""
    return "-" if value is None else f"{100 * value:.0f} %"


def _secs(value: float | None) -> str:
    """Seconds, or a dash."""
    return "-" if value is None else f"{value:.2f}"


def _yes(value: bool) -> str:
    """A boolean as people read it."""
    return "yes" if value else "[red]no[/red]"
