"""`forge exercises`: refine a set of exercises over turns, in a session that persists between runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from forge import views
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
        marks = {} if as_json else _reviews_by_item(svc, info.id)
        _print_view(info.id, version if version is not None else current, current, chosen, as_json, marks)
        return
    build_with_progress(svc, quiet=as_json)
    result = sessions.turn(session, text)
    _print_turn(result, as_json, {} if as_json else _reviews_by_item(svc, result.session))


def _started(session_id: str, as_json: bool) -> None:
    """Report a new, empty session."""
    if as_json:
        print_json(views.empty_exercise_session(session_id))
        return
    console.print(f"Started exercise session [bold]{session_id}[/bold].")
    console.print(f'Continue it with: forge exercises --session {session_id} --say "five gap fills about food at A2"')


def _print_turn(result: ExerciseTurnResult, as_json: bool, marks: dict[str, list[str]]) -> None:
    """A turn's outcome: the reply, the set, and the session id to continue with."""
    if as_json:
        print_json(views.exercise_turn(result))
        return
    from agents.exercise_session.sets import ExerciseSet

    console.print(result.reply, highlight=False, markup=False)
    listed = ExerciseSet(level=result.level, topic=result.topic, items=result.items)  # type: ignore[arg-type]
    if listed.items:
        console.print(_table(listed, f"Version {result.shown_version}", result.session, marks))
    console.print(f"[dim]session {result.session} · trace {result.trace_id or '-'}[/dim]")


def _print_view(
    session_id: str, number: int, current: int, chosen: ExerciseSet, as_json: bool, marks: dict[str, list[str]]
) -> None:
    """A version of the set, without a turn."""
    if as_json:
        print_json(views.exercise_view(session_id, number, current, chosen))
        return
    title = f"Version {number}" + (" (current)" if number == current else f" (current: {current})")
    if not chosen.items:
        console.print(f"{title}: the set is empty.")
        return
    console.print(_table(chosen, title, session_id, marks))


def _table(current: ExerciseSet, title: str, session_id: str, marks: dict[str, list[str]]) -> Any:
    """The set as blocks a teacher reads on an 80-column terminal.

    Each block: number, type and status, what the learner sees, the key, and the item's reference for `forge
    review` with the reviews it has.
    """
    from rich.console import Group
    from rich.padding import Padding

    from knowledge.render import TYPE_TITLES, key_line, learner_lines

    blocks: list[Any] = [Text(f"{title} · {current.level} · {current.topic}", style="bold")]
    for n, item in enumerate(current.items, 1):
        status = "flagged: check it" if item.status == "flagged" else "accepted"
        head = Text.assemble((f"{n}. {TYPE_TITLES.get(item.type, item.type)}", "bold"), f" · {item.level.value}   ",
                             (status, "yellow" if item.status == "flagged" else "green"))
        shown = item.item
        body: list[Any] = [Text(line) for line in learner_lines(shown)]
        body.append(Text.assemble(("Key: ", "bold"), key_line(shown)))
        mark = "; ".join(marks.get(item.id, [])) or "not reviewed yet"
        body.append(Text(f"forge review {session_id}:{n} … ({mark})", style="dim"))
        blocks.append(Group(head, Padding(Group(*body), (0, 0, 1, 3))))
    return Group(*blocks)


def _reviews_by_item(svc: Any, session_id: str) -> dict[str, list[str]]:
    """Each reviewer's latest decision per item of the session ('ana: reject (wrong_key)'), by item id."""
    from forge.reviews.store import ReviewFilter, ReviewStore
    from knowledge.errors import ResourceError
    from knowledge.reviews import latest

    try:
        found = ReviewStore(svc.sessions).find(ReviewFilter(session_id=session_id))
    except ResourceError:
        return {}
    marks: dict[str, list[str]] = {}
    for r in latest(found):
        why = f" ({r.reason})" if r.reason else ""
        marks.setdefault(r.item_id, []).append(f"{r.reviewer}: {r.decision}{why}")
    return marks
