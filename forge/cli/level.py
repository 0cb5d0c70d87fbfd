"""`forge level`: the CEFR level of a sentence or text with its evidence; `forge level -` gives one level per line."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer
from rich.table import Table
from rich.text import Text

from forge.cli.common import console, err_console, print_json, services
from knowledge.levels import Level

if TYPE_CHECKING:
    from knowledge.level_estimator import LevelEstimate, LevelEstimator, SentenceEstimate, WordEvidence

#: Lines estimated between two flushes of standard output in `forge level -`.
CHUNK_LINES = 256
#: Listed A1 words are left out of the people's word table (there are many; `--json` has them all).
_QUIET_LEVEL = Level.A1


def level(
    cli: typer.Context,
    text: Annotated[str, typer.Argument(help="The text to judge, or - to read one sentence per line from stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with -: one JSON object per line).")] = False,
) -> None:
    """Estimate the CEFR level of a text, showing the word levels, constructions and probabilities behind it."""
    estimator = services(cli).level_estimator
    if text == "-":
        _levels_of_lines(estimator, sys.stdin.buffer, as_json)
        return
    estimate = estimator.estimate(text)
    if as_json:
        print_json(estimate)
        return
    _show(estimate)


# --- standard input -------------------------------------------------------------------------------------------


def _levels_of_lines(estimator: LevelEstimator, stream: BinaryIO, as_json: bool) -> None:
    """Print one level (or 'unknown') per input line, flushing every chunk; report unjudged lines on stderr."""
    unjudged: list[tuple[int, str]] = []
    numbered = enumerate(_decoded_lines(stream), start=1)
    while chunk := list(itertools.islice(numbered, CHUNK_LINES)):
        numbers = [n for n, _ in chunk]
        out = []
        for number, estimate in zip(numbers, estimator.estimate_lines(line for _, line in chunk), strict=True):
            if estimate.level is None:
                unjudged.append((number, estimate.reason))
            out.append(_line_json(number, estimate) if as_json else str(estimate.level or "unknown"))
        sys.stdout.write("\n".join(out) + "\n")
        sys.stdout.flush()
    if unjudged:
        first, why = unjudged[0]
        err_console.print(f"{len(unjudged)} line(s) could not be judged and read 'unknown' (line {first}: {why}).")


def _decoded_lines(stream: BinaryIO) -> Iterator[str]:
    """Lines of a byte stream as text; bytes that are not UTF-8 become U+FFFD, which marks the line as binary."""
    for raw in stream:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def _line_json(number: int, estimate: SentenceEstimate) -> str:
    """One JSON line for `forge level - --json`."""
    level = str(estimate.level) if estimate.level else None
    record = {"line": number, "level": level, "probabilities": estimate.probabilities, "reason": estimate.reason}
    return json.dumps(record, ensure_ascii=False)


# --- people's output ------------------------------------------------------------------------------------------


def _show(estimate: LevelEstimate) -> None:
    """Level and probabilities, the sentences, the words above A1 and the constructions."""
    if estimate.level is None:
        console.print(Text.assemble(("Level: unknown", "bold"), f" — {estimate.reason}"))
        return
    head = f"Level: {estimate.level}  (probability {estimate.probabilities[str(estimate.level)]:.2f}, "
    console.print(Text(head + f"mean rank {estimate.expected_rank:.2f}; hardest sentence {estimate.hardest})", "bold"))
    console.print("  ".join(f"{k} {v:.2f}" for k, v in estimate.probabilities.items()), highlight=False)
    if len(estimate.sentences) > 1:
        console.print(_sentence_table(estimate))
    console.print(_word_table(estimate.words))
    if estimate.constructions:
        console.print(_construction_table(estimate))
    console.print(f"[dim]{estimate.word_count} words · model {estimate.model} · {estimate.aggregation}[/dim]")


def _sentence_table(estimate: LevelEstimate) -> Table:
    """One row per sentence: its level, the probability of that level, its text."""
    table = Table(title="Sentences")
    for column in ("#", "level", "p", "sentence"):
        table.add_column(column, overflow="fold")
    for number, s in enumerate(estimate.sentences, start=1):
        p = f"{s.probabilities[str(s.level)]:.2f}" if s.level else s.reason
        table.add_row(str(number), str(s.level or "unknown"), p, s.text)
    return table


def _word_table(words: list[WordEvidence]) -> Table:
    """The words with their level and source (listed A1 words are summarised in the caption)."""
    shown = [w for w in words if not (w.kind == "listed" and w.level == _QUIET_LEVEL)]
    table = Table(title="Words", caption=f"{len(words) - len(shown)} listed A1 words not shown (--json has them)")
    for column in ("word", "level", "how", "source"):
        table.add_column(column, overflow="fold")
    for w in shown:
        table.add_row(w.text, str(w.level or "—"), w.kind, w.evidence)
    return table


def _construction_table(estimate: LevelEstimate) -> Table:
    """The CEFR-J constructions found, with level and the text they cover."""
    table = Table(title="Constructions (CEFR-J Grammar Profile)")
    for column in ("item", "construction", "level", "text"):
        table.add_column(column, overflow="fold")
    for c in sorted(estimate.constructions, key=lambda c: (-(c.level.rank if c.level else 0), c.span)):
        table.add_row(c.item_id, c.name, str(c.level or "—"), c.text)
    return table
