"""`forge correct`: the tutor's error detector as a tool — corrected text, or the edits with types and explanations.

`forge correct TEXT` corrects one text; `forge correct -` reads one sentence per line from standard input and
prints one corrected line per input line (same order, same count; blank lines, and lines longer than MAX_CHARS,
stay as they are). With `--json`, TEXT
gives one JSON object and `-` one JSON object per line: the original, the corrected text and the edits (span in
the original, type, what was written, the fix, and a short explanation for the learner).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer

from forge.cli.common import err_console, print_json, services
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from agents.tutor.errors import Detection, ErrorDetector

#: Longest text (characters) accepted as TEXT or as one line of standard input.
MAX_CHARS = 4000


def correct_cmd(
    cli: typer.Context,
    text: Annotated[str, typer.Argument(help="The text to correct, or - to read one sentence per line from stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the edits as JSON (-: one per line).")] = False,
) -> None:
    """Correct a learner's English: grammar rules propose, the local model confirms, each edit is explained."""
    from agents.tutor.errors import ErrorDetector

    if text != "-":
        _check(text, "The text")
    detector = ErrorDetector(services(cli).model())
    if text == "-":
        _correct_lines(detector, sys.stdin.buffer, as_json)
        return
    detection = detector.detect(text)
    if as_json:
        print_json(_record(text, detection))
        return
    sys.stdout.write(detection.corrected + "\n")


def _check(text: str, what: str) -> None:
    """Refuse empty or over-long input with one sentence."""
    if not text.strip():
        raise UserInputError("Give a sentence to correct, or - to read one sentence per line from standard input.")
    if len(text) > MAX_CHARS:
        raise UserInputError(f"{what} is {len(text):,} characters long; at most {MAX_CHARS:,} are accepted.")


def _correct_lines(detector: ErrorDetector, stream: BinaryIO, as_json: bool) -> None:
    """One output line per input line, in order, flushed as it goes (blank lines stay blank)."""
    skipped = []
    for number, line in enumerate(_decoded_lines(stream), start=1):
        if line.strip() and len(line) <= MAX_CHARS:
            detection = detector.detect(line)
            out = json.dumps(_record(line, detection), ensure_ascii=False) if as_json else detection.corrected
        else:
            skipped += [number] if line.strip() else []
            out = json.dumps({"original": line, "corrected": line, "edits": [], "notes": []}) if as_json else line
        sys.stdout.write(out + "\n")
        sys.stdout.flush()
    if skipped:
        lines = ", ".join(map(str, skipped[:5])) + (" ..." if len(skipped) > 5 else "")
        err_console.print(f"{len(skipped)} line(s) longer than {MAX_CHARS:,} characters were left as they are: {lines}")


def _decoded_lines(stream: BinaryIO) -> Iterator[str]:
    """Lines of a byte stream as text (undecodable bytes replaced), without their line ends."""
    for raw in stream:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def _record(text: str, detection: Detection) -> dict[str, Any]:
    """What --json prints for one text."""
    edits = [
        {"span": list(e.span), "type": e.error_type, "text": e.text, "suggestion": e.suggestion,
         "explanation": e.explanation, "rule": e.rule, "checked_by_model": e.checked}
        for e in detection.errors
    ]  # fmt: skip
    return {"original": text, "corrected": detection.corrected, "edits": edits, "notes": detection.notes}
