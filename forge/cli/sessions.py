"""`forge sessions list|show|delete`: the tutoring and exercise sessions kept in the session store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from forge import views
from forge.cli.common import console, print_json, services
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from forge.sessions import SessionInfo, Turn

app = typer.Typer(help="List, show and delete tutoring and exercise sessions.", no_args_is_help=True)


@app.command("list")
def list_sessions(
    cli: typer.Context,
    kind: Annotated[str | None, typer.Option("--kind", help="Only sessions of this kind: tutor or exercises.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many, newest first.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every session, most recently updated first."""
    from forge.sessions import SESSION_KINDS

    if kind is not None and kind not in SESSION_KINDS:
        raise UserInputError(f"Unknown session kind {kind!r}; accepted kinds are {', '.join(SESSION_KINDS)}.")
    found = services(cli).sessions.list(kind=kind, limit=limit)
    if as_json:
        print_json({"sessions": found})
        return
    if not found:
        console.print("No sessions yet. Start one with forge exercises or forge tutor.")
        return
    table = Table("id", "kind", "title", "level", "turns", "updated")
    for s in found:
        table.add_row(s.id, s.kind, s.title, s.level or "-", str(s.turns), f"{s.updated:%Y-%m-%d %H:%M}")
    console.print(table)


@app.command("show")
def show(
    cli: typer.Context,
    session: Annotated[str, typer.Argument(help="Session id (or a unique prefix).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: the session and every turn.")] = False,
) -> None:
    """A session and every turn of it, whatever its kind."""
    store = services(cli).sessions
    info = store.get(session)
    turns = store.turns(info.id)
    if as_json:
        print_json(views.session_history(info, turns))
        return
    _header(info)
    for turn in turns:
        _print_turn(turn)


@app.command("delete")
def delete(
    cli: typer.Context,
    session: Annotated[str, typer.Argument(help="Session id (or a unique prefix).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Delete a session: its checkpoints and its registry entry."""
    info = services(cli).sessions.delete(session)
    if as_json:
        print_json({"deleted": info.id, "kind": info.kind})
        return
    console.print(f"Deleted {info.kind} session {info.id}.")


def _header(info: SessionInfo) -> None:
    """The session's registry entry as one line."""
    console.print(
        f"[bold]{info.id}[/bold] · {info.kind} · {info.title or '(untitled)'} · level {info.level or '-'} · "
        f"{info.turns} turns · started {info.created:%Y-%m-%d %H:%M} · updated {info.updated:%Y-%m-%d %H:%M}"
    )


def _print_turn(turn: Turn) -> None:
    """One turn: time, who, what."""
    who = "[cyan]you[/cyan]" if turn.role == "user" else "[green]forge[/green]"
    console.print(f"\n[dim]{turn.time:%H:%M:%S}[/dim] {who}")
    console.print(turn.text, highlight=False, markup=False)
