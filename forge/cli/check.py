"""`forge check`: the Alignment Consistency Index of a text for a target level, with every violation's evidence."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from forge.cli.common import console, print_json, services
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from knowledge.aci import AlignmentReport


def check(
    cli: typer.Context,
    text: Annotated[str, typer.Argument(help="The text to check, or - to read it from standard input.")],
    level: Annotated[str, typer.Option("--level", "-l", help="Target CEFR level, A1..C2.")],
    require: Annotated[
        list[str] | None,
        typer.Option("--require", "-r", help="A CEFR-J construction id or code the text must use (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Score how well a text fits a CEFR level: words and constructions above it, missing ones, too easy."""
    checker = services(cli).alignment_checker
    report = checker.check(_read_stdin() if text == "-" else text, level, required=require or ())
    if as_json:
        print_json(report)
        return
    _show(report)


def _read_stdin() -> str:
    """The whole of standard input as text (at most MAX_TEXT_CHARS characters are accepted later)."""
    from knowledge.level_estimator import MAX_TEXT_CHARS

    data = sys.stdin.buffer.read(MAX_TEXT_CHARS * 4 + 1)
    if len(data) > MAX_TEXT_CHARS * 4:
        raise UserInputError(f"Standard input is too long; at most {MAX_TEXT_CHARS:,} characters are accepted.")
    return data.decode("utf-8", errors="replace")


def _show(report: AlignmentReport) -> None:
    """Score and verdict, the parts, the figures, then the violations."""
    verdict = ("passed", "green") if report.passed else ("not passed", "red")
    errors = len(report.errors)
    warnings = len(report.violations) - errors
    console.print(
        Text.assemble(
            (f"ACI {report.score:.2f} for {report.level}: ", "bold"),
            verdict,
            f"  ({errors} errors, {warnings} warnings)",
        )
    )
    parts = "  ".join(f"{k} {v:.2f}×{report.weights[k]:.2f}" for k, v in report.parts.items())
    console.print(f"parts: {parts}", highlight=False)
    estimated = f"{report.estimated_level} (mean rank {report.expected_rank:.2f})" if report.expected_rank else "—"
    console.print(
        f"words above {report.level}: {report.words_above} of {report.word_count} ({report.above_level_share:.1%}) · "
        f"estimated level {estimated} · near-level words {report.near_level_share:.0%}",
        highlight=False,
    )
    _print_violations(report)


def _print_violations(report: AlignmentReport) -> None:
    """Errors first, then warnings: the message, its evidence and simpler words to use instead."""
    for v in sorted(report.violations, key=lambda v: (v.severity != "error", v.span or (0, 0))):
        style = "red" if v.severity == "error" else "yellow"
        console.print(Text.assemble((f"{v.severity:<8}", style), v.message), highlight=False)
        if v.source and v.kind not in ("too_easy", "too_hard"):
            console.print(Text("         " + v.source, "dim"), highlight=False)
        if v.suggestions:
            simpler = ", ".join(f"{s.word} ({s.level})" for s in v.suggestions)
            console.print(f"         try instead: {simpler}", highlight=False)
