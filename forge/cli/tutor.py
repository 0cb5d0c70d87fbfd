"""`forge tutor`: chat with the tutor in a persistent session — an interactive REPL, or one turn with --say.

    forge tutor                                   # new session, interactive
    forge tutor --session ID                      # continue it, interactive (Ctrl-C / Ctrl-D leave; it is kept)
    forge tutor --session ana --level B1          # a named session: started when there is none, else continued
    forge tutor --session ID --say "I go to school yesterday." --json
        -> {"reply", "level_estimate", "corrections": [{"span", "error_type", "suggestion", "explanation"}],
            "learner": {...}, "exercise": {...} or null, "trace_id"}

Without --session a new session is created and its id printed (on stderr with --json, so stdout stays one JSON
document).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from forge import views
from forge.cli.common import console, err_console, print_json, services
from knowledge.errors import UserInputError
from knowledge.levels import Level, parse_level

if TYPE_CHECKING:
    from forge.sessions.tutor import TutorSessions
    from graphs.turns import Turn
    from graphs.tutor.state import TutorTurnResult

_QUIT = {"/quit", "/exit", "/q"}
_HELP = "Type in English and press Enter. /learner shows what the tutor knows about you; /quit (or Ctrl-D) leaves."
#: Turns of history shown when a session is resumed.
_HISTORY = 4


def tutor(
    cli: typer.Context,
    session: Annotated[
        str | None, typer.Option("--session", "-s", help="Session to continue, or to start under this name.")
    ] = None,
    say: Annotated[str | None, typer.Option("--say", help="One message to the tutor (no interactive prompt).")] = None,
    level: Annotated[
        str | None, typer.Option("--level", help="Starting level of a new session (A1-C2); default A2.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="With --say: print the turn as JSON.")] = False,
) -> None:
    """Chat with the tutor: corrections pitched at your level, replies you can understand, exercises now and then."""
    from agents.tutor.messages import check_message
    from forge.sessions.tutor import TutorSessions

    if as_json and say is None:
        raise UserInputError("--json needs --say: the interactive tutor prints for people, one turn prints JSON.")
    text = check_message(say) if say is not None else None
    start = parse_level(level) if level is not None else None
    tutors = TutorSessions(services(cli))
    resumed = False
    if session is None:
        session_id = _start(tutors, text or "", start, as_json)
    else:
        session_id, resumed = _named(tutors, session, text or "", start, as_json)
    if text is None:
        _repl(tutors, session_id, resumed=resumed)
        return
    result = tutors.turn(session_id, text)
    if as_json:
        print_json(views.tutor_turn(result, session_id))  # the id too, so a script can continue a new session
        return
    _show(result)


def _start(tutors: TutorSessions, title: str, level: Level | None, as_json: bool) -> str:
    """Create a session and say its id (on stderr when stdout is JSON)."""
    info = tutors.start(title=title, level=level)
    (err_console if as_json else console).print(
        f"Started tutoring session [bold]{info.id}[/bold] (continue it with forge tutor --session {info.id})."
    )
    return info.id


def _named(tutors: TutorSessions, name: str, title: str, level: Level | None, as_json: bool) -> tuple[str, bool]:
    """Continue the session called `name`, or start one of that name; (its id, whether it was continued)."""
    info, created = tutors.open(name, level=level, title=title)
    if not created and level is not None:
        raise UserInputError("--level sets the start of a new session; a continued session keeps its own level.")
    if created:
        (err_console if as_json else console).print(f"Started tutoring session [bold]{info.id}[/bold].")
    return info.id, not created


def _repl(tutors: TutorSessions, session_id: str, *, resumed: bool) -> None:
    """Read messages until /quit, Ctrl-D or Ctrl-C; every completed turn is saved as it ends.

    Ctrl-C during a turn abandons that turn only: its checkpoint is written when the turn completes, so the
    session stays as the last completed turn left it.
    """
    try:
        if resumed:
            _recent(tutors.history(session_id))
        console.print(f"[dim]{_HELP}[/dim]")
        while _step(tutors, session_id, console.input("[bold cyan]you>[/bold cyan] ").strip()):
            pass
    except (EOFError, KeyboardInterrupt):
        console.print()
    console.print(f"[dim]Session kept: forge tutor --session {session_id}[/dim]")


def _step(tutors: TutorSessions, session_id: str, message: str) -> bool:
    """Handle one line of the REPL; False when the learner leaves."""
    if message in _QUIT:
        return False
    if message == "/learner":
        _learner(tutors, session_id)
    elif message in ("/help", "?"):
        console.print(_HELP)
    else:
        _one_turn(tutors, session_id, message)
    return True


def _one_turn(tutors: TutorSessions, session_id: str, message: str) -> None:
    """Run one turn, showing a spinner; bad input is explained and the session goes on."""
    try:
        with console.status("Thinking…", spinner="dots"):
            result = tutors.turn(session_id, message)
    except UserInputError as exc:
        err_console.print(Text.assemble(("Error: ", "red"), str(exc)))
        return
    _show(result)


def _show(result: TutorTurnResult) -> None:
    """The reply, the corrections and, when offered, the exercise."""
    console.print(Text.assemble(("tutor> ", "bold green"), result.reply))
    if result.corrections:
        table = Table(show_header=True, header_style="dim", box=None, padding=(0, 2))
        for column in ("you wrote", "better", "kind", "why"):
            table.add_column(column, overflow="fold")
        for c in result.corrections:
            table.add_row(c.text, c.suggestion if c.strategy != "hint" else "?", c.error_type, c.explanation)
        console.print(table)
    if result.exercise:
        console.print(Panel(str(result.exercise["text"]), title="A short exercise", subtitle="type your answer"))
    console.print(f"[dim]level {result.level_estimate} · turn {result.turn} · {result.latency_s:.1f} s · "
                  f"trace {result.trace_id or '-'}[/dim]")  # fmt: skip


def _recent(turns: list[Turn]) -> None:
    """The last exchanges of a resumed session."""
    for turn in turns[-2 * _HISTORY :]:
        who = ("you> ", "bold cyan") if turn.role == "user" else ("tutor> ", "bold green")
        console.print(Text.assemble(who, turn.text), style="dim")


def _learner(tutors: TutorSessions, session_id: str) -> None:
    """What the tutor knows about the learner: level and its evidence, recurring errors, words met and due."""
    learner = tutors.learner(session_id)
    if learner is None:
        console.print("No turns yet.")
        return
    belief = learner.level
    probs = "  ".join(f"{k} {v:.2f}" for k, v in belief.probabilities.items())
    console.print(f"Level: [bold]{belief.level}[/bold] after {learner.turns} turn(s)  ({probs})")
    for e in belief.evidence[-3:]:
        words = ", ".join(e.hardest_words) or "no word above A1"
        console.print(f"  turn {e.turn}: {e.level or 'not judged'} · {e.words} words · {words}", highlight=False)
    for kind, stat in sorted(learner.errors.items(), key=lambda kv: -kv[1].count):
        console.print(f"  {kind}: {stat.count} time(s), last in turn {stat.last_turn}", highlight=False)
    from graphs.turns import utc_now

    now = utc_now()
    due = [c.word for c in learner.due(now)]
    mastered = sum(c.mastered for c in learner.words.values())
    console.print(f"Words: {len(learner.words)} met, {mastered} mastered, {len(due)} due: {', '.join(due[:10])}")
