"""`forge index build|status`: the chromadb retrieval index over the knowledge graph."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from forge.cli.common import console, err_console, print_json, services

if TYPE_CHECKING:
    from forge.services import Services
    from knowledge.retrieval import SyncReport

app = typer.Typer(help="Build and inspect the retrieval index.", no_args_is_help=True)


def build_with_progress(svc: Services, *, quiet: bool = False) -> list[SyncReport]:
    """Sync the index, showing a progress bar on stderr while documents are embedded."""
    if quiet:
        return svc.ensure_index()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        tasks: dict[str, TaskID] = {}

        def update(collection: str, done: int, total: int) -> None:
            if collection not in tasks:
                tasks[collection] = progress.add_task(f"Indexing {collection}", total=total)
            progress.update(tasks[collection], completed=done, total=total)

        return svc.ensure_index(update)


@app.command("build")
def build(
    cli: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Build or update the index (incremental: unchanged documents are not re-embedded)."""
    reports = build_with_progress(services(cli), quiet=as_json)
    if as_json:
        print_json([asdict(r) for r in reports])
        return
    table = Table(title="Retrieval index")
    for column in ("collection", "added", "updated", "deleted", "unchanged"):
        table.add_column(column)
    for r in reports:
        table.add_row(r.collection, str(r.added), str(r.updated), str(r.deleted), str(r.unchanged))
    console.print(table)


@app.command("status")
def status(
    cli: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """How many documents each collection holds, and where the index lives."""
    from knowledge.retrieval import COLLECTIONS

    svc = services(cli)
    index = svc.retrieval_index
    counts = {c: index.count(c) for c in COLLECTIONS}
    where = svc.settings.chroma_url or str(svc.cache_dir / "index")
    degraded = bool(getattr(index, "degraded", False))
    if degraded:
        where = f"{where} (unreachable: read from the embedded index at {svc.cache_dir / 'index'})"
    if as_json:
        print_json({"location": where, "built": index.is_built(), "degraded": degraded, "counts": counts})
        return
    console.print(f"Index at {where}: {'built' if index.is_built() else 'not built (run forge index build)'}")
    for name, count in counts.items():
        console.print(f"  {name}: {count:,} documents")
