"""`forge exercises`: refine a set of exercises over turns, in a session that persists between runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from forge.cli.common import console, print_json, services
from forge.cli.index import build_with_progress
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from agents.exercise_session.sets import ExerciseSet
    from graphs.exercise_session.state import ExerciseTurnResult


def exercises(
    cli: typer.Context,
    session: Annotated[
        str | None, typer.Option("--session", "-s", help="Session to continue, or to start under this name.")
    ] = None,
    say: Annotated[
        str | None,
        typer.Option("--say", help="What to do: 'five gap fills about food at A2', 'replace item 2', 'export'..."),
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", min=0, help="Show this earlier version of the set (no turn is run).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON: session, version, items, changes, trace_id.")
    ] = False,
) -> None:
    """Start or continue an exercise session: each --say edits the set; every version stays reachable."""
    from agents.exercise_session.commands import check_message
    from forge.sessions.exercises import ExerciseSessions

    if version is not None and say is not None:
        raise UserInputError("--version shows an earlier version and --say runs a turn; give one of them.")
    text = check_message(say) if say is not None else None
    svc = services(cli)
    sessions = ExerciseSessions(svc)
    if session is None:
        info = sessions.start(title=text or "")
        if text is None:
            _started(info.id, as_json)
            return
        session = info.id
    elif version is None:
        info, created = sessions.open(session, title=text or "")
        if created and text is None:
            _started(info.id, as_json)
            return
        session = info.id
    if text is None:
        info, current, chosen = sessions.show(session, version)
        _print_view(info.id, version if version is not None else current, current, chosen, as_json)
        return
    build_with_progress(svc, quiet=as_json)
    _print_turn(sessions.turn(session, text), as_json)


def _started(session_id: str, as_json: bool) -> None:
    """Report a new, empty session."""
    if as_json:
        print_json({"session": session_id, "version": 0, "items": [], "changes": [], "trace_id": None})
        return
    console.print(f"Started exercise session [bold]{session_id}[/bold].")
    console.print(f'Continue it with: forge exercises --session {session_id} --say "five gap fills about food at A2"')


def _print_turn(result: ExerciseTurnResult, as_json: bool) -> None:
    """A turn's outcome: the reply, the set, and the session id to continue with."""
    if as_json:
        data = result.model_dump(mode="json")
        data["items"] = [_numbered(n, item) for n, item in enumerate(data["items"], 1)]
        print_json(data)
        return
    from agents.exercise_session.sets import ExerciseSet

    console.print(result.reply, highlight=False, markup=False)
    listed = ExerciseSet(level=result.level, topic=result.topic, items=result.items)  # type: ignore[arg-type]
    if listed.items:
        console.print(_table(listed, f"Version {result.shown_version}"))
    console.print(f"[dim]session {result.session} · trace {result.trace_id or '-'}[/dim]")


def _print_view(session_id: str, number: int, current: int, chosen: ExerciseSet, as_json: bool) -> None:
    """A version of the set, without a turn."""
    if as_json:
        items = [_numbered(n, item.model_dump(mode="json")) for n, item in enumerate(chosen.items, 1)]
        print_json(
            {
                "session": session_id,
                "version": number,
                "current_version": current,
                "level": chosen.level,
                "topic": chosen.topic,
                "items": items,
                "changes": [],
                "trace_id": None,
            }
        )
        return
    title = f"Version {number}" + (" (current)" if number == current else f" (current: {current})")
    if not chosen.items:
        console.print(f"{title}: the set is empty.")
        return
    console.print(_table(chosen, title))


def _numbered(number: int, item: dict[str, Any]) -> dict[str, Any]:
    """An item's JSON with its number first."""
    return {"number": number, **item}


def _table(current: ExerciseSet, title: str) -> Table:
    """The set as a table: number, type, level, what the learner sees, and the answer."""
    from knowledge.render import key_line, learner_lines

    table = Table(title=f"{title} · {current.level} · {current.topic}", show_lines=True, title_justify="left")
    for column in ("#", "type", "level", "exercise", "answer"):
        table.add_column(column, overflow="fold")
    for n, item in enumerate(current.items, 1):
        flag = " ⚑" if item.status == "flagged" else ""
        shown = item.item
        table.add_row(str(n), item.type + flag, item.level.value, "\n".join(learner_lines(shown)), key_line(shown))
    return table
