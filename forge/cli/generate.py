"""`forge generate`: exercises at a level, on a topic, of a type; or a resumable batch from a JSON Lines file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from forge.cli.common import EXERCISE_TYPES, console, err_console, print_json, services
from forge.cli.index import build_with_progress
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from forge.generation import Request
    from graphs.item.state import ItemResult

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
    from forge.generation import batch_summary
    svc = services(cli)
    if batch is not None:
        _batch(svc, batch, out, as_json)
        return
    request = _single_request(level, topic, kind, count, seed)
    build_with_progress(svc, quiet=as_json)
    results = _run_with_progress(svc, request, show=count > 1)
    if as_json:
        print_json(batch_summary(results))
    else:
        _print_table(results)


def _single_request(level: str | None, topic: str | None, kind: str | None, count: int, seed: int | None) -> Request:
    """The request from the options; a missing one is a clear error."""
    from forge.generation import Request, checked
    missing = [name for name, value in (("--level", level), ("--topic", topic), ("--type", kind)) if not value]
    if missing:
        raise UserInputError(f"Missing {', '.join(missing)}; give --level, --topic and --type, or --batch FILE.")
    request = Request(level=str(level), topic=str(topic), type=str(kind), count=count, seed=seed)
    checked(request)
    return request


def _run_with_progress(svc: Any, request: Request, *, show: bool) -> list[ItemResult]:
    """Run the request, with a progress bar on stderr when there is more than one item."""
    from forge.generation import run_request
    if not show:
        return list(run_request(svc, request))
    with Progress(*_COLUMNS, console=err_console, transient=True) as progress:
        task = progress.add_task(f"Generating {request.type} at {request.level.upper()}", total=request.count)
        return list(run_request(svc, request, lambda _: progress.advance(task)))


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


def _print_table(results: list[ItemResult]) -> None:
    """Items as a table; failures listed below with their reasons."""
    from knowledge.items import parse_item
    table = Table(title="Generated exercises", show_lines=True)
    for column in ("#", "type", "level", "exercise", "options", "answer", "ACI", "model", "status"):
        table.add_column(column, overflow="fold")
    for number, result in enumerate(results, 1):
        item = parse_item(result.item) if result.item else None
        status = result.status + (" (escalated)" if result.escalated else "")
        table.add_row(
            str(number),
            result.type,
            result.level.value,
            item.headline() if item else "",
            " | ".join(item.choices()) if item else "",
            item.answer_text() if item else "",
            f"{result.aci:.2f}" if result.aci is not None else "—",
            result.model or "—",
            status,
        )
    console.print(table)
    for result in results:
        if result.status == "failed":
            console.print(f"[red]failed[/red] {result.type} at {result.level}: {result.failure}", highlight=False)
    console.print("[dim]Each item has a trace: forge trace show <run id> (forge trace list shows them).[/dim]")
