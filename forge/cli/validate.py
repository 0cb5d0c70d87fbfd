"""`forge validate`: judge any item (a teacher's own, another chatbot's) with the item graph's accept decision."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from forge.cli.common import console, services
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from forge.validation import Judgement

#: Longest input line read (a reading item with its questions is a few kilobytes).
MAX_LINE_CHARS = 100_000


def validate_cmd(
    cli: typer.Context,
    source: Annotated[str, typer.Argument(help="A JSON Lines file of items, or - to read them from standard input.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per input line.")] = False,
) -> None:
    """Judge items afresh: one JSON object per line, in the schema `forge generate --json` prints under `items`."""
    from forge.validation import judge_lines

    lines = _lines(source)
    ctx = services(cli).agent_context
    invalid = 0
    for judgement in judge_lines(ctx, lines):
        invalid += judgement.invalid
        if as_json:
            sys.stdout.write(json.dumps(judgement.model_dump(mode="json"), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            _show(judgement)
    if invalid:
        raise UserInputError(
            f"{invalid} input line(s) were not items; each line must be one JSON item object "
            "as `forge generate --json` prints under `items`."
        )


def _lines(source: str) -> list[str]:
    """The input lines, from a file or standard input; a missing file or an over-long line is a clear error."""
    if source == "-":
        text = sys.stdin.read()
    else:
        path = Path(source)
        if not path.is_file():
            raise UserInputError(f"No file '{source}'; give a JSON Lines file of items, or - for standard input.")
        text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_CHARS:
            raise UserInputError(f"Line {number} is longer than {MAX_LINE_CHARS:,} characters; one item per line.")
    if not any(line.strip() for line in lines):
        raise UserInputError("The input holds no items; give one JSON item object per line.")
    return lines


def _show(judgement: Judgement) -> None:
    """One block per item: verdict, what it is, and each problem on its own line."""
    verdict = ("accepted", "green") if judgement.accepted else ("not accepted", "red")
    what = f"{judgement.type or '?'} {judgement.level or ''}".strip()
    console.print(Text.assemble((f"line {judgement.line}: ", "bold"), verdict, f"  {what}"), highlight=False)
    if judgement.headline:
        console.print(f"  {judgement.headline}", highlight=False, soft_wrap=False)
    for problem in judgement.problems:
        console.print(Text.assemble("  - ", (problem.kind, "red"), f": {problem.detail}"), highlight=False)
    for warning in judgement.warnings:
        console.print(Text.assemble("  - ", (warning.kind, "yellow"), f": {warning.detail}"), highlight=False)
