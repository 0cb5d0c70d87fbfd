"""`forge generate`: exercises at a level, on a topic, of a type; or a resumable batch from a JSON Lines file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from forge.cli.common import EXERCISE_TYPES, console, err_console, print_json, services
from forge.cli.index import build_with_progress
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from graphs.item.state import ItemRequest, ItemResult

_COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def generate_cmd(
    cli: typer.Context,
    level: Annotated[str | None, typer.Option("--level", "-l", help="Target CEFR level, A1..C2.")] = None,
    topic: Annotated[str | None, typer.Option("--topic", "-t", help="A short English topic, e.g. 'food'.")] = None,
    kind: Annotated[str | None, typer.Option("--type", help=f"Exercise type: {', '.join(EXERCISE_TYPES)}.")] = None,
    count: Annotated[int, typer.Option("--count", "-n", help="How many items (1-1000).")] = 1,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for reproducible items.")] = None,
    batch: Annotated[Path | None, typer.Option("--batch", help="JSON Lines file of requests.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output JSON Lines file for --batch (appended).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Generate exercises through the item graph: every item validated, aligned to its level, and traced."""
    from forge.generation import batch_summary, keep_for_review, result_record

    svc = services(cli)
    if batch is not None:
        _batch(svc, batch, out, as_json)
        return
    requests = _single_request(level, topic, kind, count, seed)
    build_with_progress(svc, quiet=as_json)
    results = _run_with_progress(svc, requests, show=count > 1)
    keep_for_review(svc, [result_record(r) for r in results])
    if as_json:
        print_json(batch_summary(results))
    else:
        _print_blocks(results)


def _single_request(
    level: str | None, topic: str | None, kind: str | None, count: int, seed: int | None
) -> list[ItemRequest]:
    """The item requests of the options, validated; a missing or wrong one is a clear error."""
    from forge.generation import Request, item_requests
    missing = [name for name, value in (("--level", level), ("--topic", topic), ("--type", kind)) if not value]
    if missing:
        raise UserInputError(f"Missing {', '.join(missing)}; give --level, --topic and --type, or --batch FILE.")
    return item_requests(Request(level=str(level), topic=str(topic), type=str(kind), count=count, seed=seed))


def _run_with_progress(svc: Any, requests: list[ItemRequest], *, show: bool) -> list[ItemResult]:
    """Run the requests, with a progress bar on stderr when there is more than one item."""
    from forge.generation import run_items
    if not show:
        return list(run_items(svc, requests))
    first = requests[0]
    with Progress(*_COLUMNS, console=err_console, transient=True) as progress:
        task = progress.add_task(f"Generating {first.type} at {first.level.value}", total=len(requests))
        return list(run_items(svc, requests, lambda _: progress.advance(task)))


def _batch(svc: Any, path: Path, out: Path | None, as_json: bool) -> None:
    """Run a batch file, resuming from what `out` already holds."""
    from forge.generation import read_batch, run_batch
    if out is None:
        raise UserInputError("--batch needs --out FILE: results are appended there so the batch can resume.")
    lines = read_batch(path)
    build_with_progress(svc, quiet=as_json)
    total = sum(line.request.count for line in lines if line.request)
    with Progress(*_COLUMNS, console=err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task(f"Batch {path.name}", total=total)
        counts = run_batch(svc, lines, out, lambda _: progress.advance(task))
    if as_json:
        print_json({"out": str(out), **counts})
        return
    console.print(
        f"{counts['generated']} items generated, {counts['failed']} failed, {counts['invalid_lines']} invalid lines, "
        f"{counts['done_before']} already done before this run; results in {out}"
    )


def _print_blocks(results: list[ItemResult]) -> None:
    """Each item as a block a teacher reads on an 80-column terminal; failures with their reasons."""
    for number, result in enumerate(results, 1):
        console.print(_block(number, result))
    console.print("[dim]Each item has a trace: forge trace show <run id> (forge trace list shows them).\n"
                  "Review one: forge review <run id> --accept | --reject --reason R | --edit FILE[/dim]")


def _block(number: int, result: ItemResult) -> Any:
    """One item: heading with its status, what the learner reads, the key, level evidence and provenance."""
    from rich.console import Group
    from rich.padding import Padding

    from knowledge.render import TYPE_TITLES, key_line, learner_lines

    colour = {"accepted": "green", "flagged": "yellow"}.get(result.status, "red")
    head = Text.assemble(
        (f"{number}. {TYPE_TITLES.get(result.type, result.type)}", "bold"),
        f" · {result.level.value} · {result.topic}   ",
        (result.status + (" (escalated)" if result.escalated else ""), f"bold {colour}"),
    )
    body: list[Any] = []
    item = result.item
    if item is not None:
        body += [Text(line) for line in learner_lines(item)]
        body.append(Text.assemble(("Key: ", "bold"), key_line(item)))
    body += [Text(line, style="dim") for line in _evidence(result)]
    reasons = _reasons(result)
    body += [Text(f"! {line}", style=colour) for line in reasons]
    return Group(head, Padding(Group(*body), (0, 0, 1, 3)))


def _evidence(result: ItemResult) -> list[str]:
    """Level evidence and provenance, one line each."""
    lines = []
    if result.aci is not None:
        above = f"{result.above_share:.0%}" if result.above_share is not None else "?"
        words = [v.text for v in result.violations if v.category == "vocabulary" and v.text][:4]
        detail = f" ({', '.join(words)})" if words else ""
        lines.append(f"Level: ACI {result.aci:.2f} for {result.level.value}, {above} of words above it{detail}")
    model = result.model or "no model"
    tries = f"{result.attempts} attempt{'s' if result.attempts != 1 else ''}"
    lines.append(f"Made by {model}, {tries}; trace: forge trace show {result.run_id}")
    if result.escalation_reason:
        lines.append(f"Escalated: {result.escalation_reason}")
    return lines


def _reasons(result: ItemResult) -> list[str]:
    """Why an item is not accepted (its blocking problems), and what a teacher should know (warnings)."""
    if result.status == "failed":
        return [f"failed: {result.failure or 'no item could be made'}"]
    blocking = [v.message for v in result.violations if v.blocking]
    notes = [v.message for v in result.violations if not v.blocking and v.category in ("meaning", "structure")]
    return blocking[:4] + notes[:2]
