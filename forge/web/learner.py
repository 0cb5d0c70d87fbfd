"""The learner pages: their tutoring sessions, the chat with the tutor, and their progress.

- `GET /learn`: the learner's sessions, newest first, and a form that starts a new one.
- `GET /learn/progress`: level over time, words due for review and mastered, errors by type (`forge.web.progress`);
  `?learner=NAME` shows one of a teacher's learners (admins: anyone).
- `GET /learn/{session}`: the chat. Corrections are marked inline in the learner's own message, answers and
  follow-ups are the tutor's bubbles, an offered exercise is shown in place with a form for the answer (the next
  message is graded by the tutoring graph). A teacher may read a learner's session of their class, without the form.

The forms post to the JSON API (`/api/tutor`, through app.js and the model queue); these routes only read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from forge.sessions.store import SessionInfo
from forge.web import plots
from forge.web.accounts import Login
from forge.web.app import WebContext, page
from forge.web.progress import LEVEL_LABELS, learner_progress, tutor_sessions
from forge.web.security import NotFound, check_own_session, check_session_access, role, web
from graphs.turns import Turn
from knowledge.errors import UserInputError

router = APIRouter(include_in_schema=False)
#: The starting levels a new session may be given (empty: the tutor's default).
START_LEVELS = LEVEL_LABELS
#: The plots' drawing width: they scale to their box, so this keeps their text readable from a phone to a desktop.
PLOT_WIDTH = 380


@dataclass
class Fix:
    """One correction of a learner's message, as the chat shows it."""

    number: int
    text: str
    suggestion: str
    error_type: str
    explanation: str
    strategy: str
    why: str


@dataclass
class Piece:
    """A run of the learner's message: plain text, or the span of a correction (`fix` its number)."""

    text: str
    fix: int | None = None


@dataclass
class Exercise:
    """An exercise the tutor offered: what the learner sees (never the answer), and why it was offered."""

    type: str
    shown: str
    reason: str


@dataclass
class Exchange:
    """One turn of the chat: the learner's message with its corrections, and the tutor's answer to it."""

    number: int
    said: list[Piece]
    fixes: list[Fix]
    reply: str
    kind: str = "reply"
    answer_level: str | None = None
    exercise: Exercise | None = None
    graded: dict[str, Any] | None = None


@router.get("/learn")
def sessions_page(request: Request, login: Login = Depends(role("learner"))) -> Response:
    """The learner's tutoring sessions and the form to start a new one."""
    sessions = tutor_sessions(web(request), login.user.name)
    return page(request, "learner/sessions.html", sessions=sessions, levels=START_LEVELS)


@router.get("/learn/progress")
def progress_page(request: Request, learner: str | None = None,
                  login: Login = Depends(role("learner", "teacher"))) -> Response:  # fmt: skip
    """A learner's progress: their own, or (teachers, admins) that of the learner named."""
    ctx = web(request)
    name = progress_subject(ctx, login, learner)
    progress = learner_progress(ctx, name)
    level_svg = plots.line_plot(progress.level_points(), title="Estimated level, turn by turn",
                                y_labels=LEVEL_LABELS, width=PLOT_WIDTH, height=190)  # fmt: skip
    errors_svg = plots.bar_plot(progress.error_bars(), title="Errors by type", width=PLOT_WIDTH)
    return page(request, "learner/progress.html", progress=progress, own=name == login.user.name,
                level_svg=level_svg, errors_svg=errors_svg)  # fmt: skip


@router.get("/learn/{session}")
def chat_page(session: str, request: Request, login: Login = Depends(role("learner", "teacher"))) -> Response:
    """The chat of one tutoring session (read-only for a teacher of the learner)."""
    ctx = web(request)
    info, own = open_session(ctx, login, session)
    turns = ctx.services.sessions.turns(info.id)
    chat = exchanges(turns)
    pending = chat[-1].exercise if chat else None
    owner = ctx.accounts.owner_of("session", info.id) or ""
    return page(request, "learner/chat.html", info=info, chat=chat, own=own, pending=pending, owner=owner)


def open_session(ctx: WebContext, login: Login, session: str) -> tuple[SessionInfo, bool]:
    """The tutoring session and whether the login may write to it; NotFound if it is not theirs to see."""
    try:
        check_own_session(ctx, login, session)
        own = True
    except NotFound:
        if login.user.role != "teacher":
            raise
        check_session_access(ctx, login, session)
        own = False
    try:
        return ctx.services.sessions.get(session, kind="tutor"), own
    except UserInputError as exc:
        raise NotFound(f"No tutoring session {session!r} of yours.") from exc


def progress_subject(ctx: WebContext, login: Login, learner: str | None) -> str:
    """Whose progress the login asked for: its own, a teacher's learner, or (admins) anyone; else NotFound."""
    if learner is None or learner == login.user.name:
        return login.user.name
    if login.user.role == "admin" and ctx.accounts.get(learner) is not None:
        return learner
    if login.user.role == "teacher" and learner in {u.name for u in ctx.accounts.learners_of(login.user)}:
        return learner
    raise NotFound(f"No learner {learner!r} in your class.")


# the chat, from the turn log


def exchanges(turns: list[Turn]) -> list[Exchange]:
    """The turn log as exchanges: each learner message paired with the tutor turn that answered it."""
    chat: list[Exchange] = []
    for user, tutor in zip(turns[::2], turns[1::2], strict=False):
        if user.role == "user" and tutor.role == "assistant":
            chat.append(exchange(len(chat) + 1, user, tutor))
    return chat


def exchange(number: int, user: Turn, tutor: Turn) -> Exchange:
    """One exchange: the message cut into marked pieces, the corrections, the reply and what came with it."""
    payload = tutor.payload
    fixes = [_fix(n, c) for n, c in enumerate(payload.get("corrections") or [], 1) if isinstance(c, dict)]
    spans = [(_span(c), n) for n, c in enumerate(payload.get("corrections") or [], 1) if isinstance(c, dict)]
    exercise = _exercise(payload.get("exercise"))
    reply = tutor.text
    if exercise is not None and reply.endswith(exercise.shown):
        reply = reply[: -len(exercise.shown)].rstrip()
    answer = payload.get("answer") if isinstance(payload.get("answer"), dict) else None
    graded = payload.get("graded") if isinstance(payload.get("graded"), dict) else None
    kind = "graded" if graded else "answer" if answer and answer.get("answered", True) else "reply"
    return Exchange(number=number, said=pieces(user.text, spans), fixes=fixes, reply=reply, kind=kind,
                    answer_level=str(answer["level"]) if answer and answer.get("level") else None,
                    exercise=exercise, graded=graded)  # fmt: skip


def pieces(text: str, spans: list[tuple[tuple[int, int] | None, int]]) -> list[Piece]:
    """The message cut at the corrections' spans (overlapping or out-of-range spans are left unmarked)."""
    out: list[Piece] = []
    at = 0
    for span, number in sorted(((s, n) for s, n in spans if s is not None), key=lambda sn: sn[0]):
        start, end = span
        if start < at or end > len(text) or start >= end:
            continue
        if start > at:
            out.append(Piece(text[at:start]))
        out.append(Piece(text[start:end], fix=number))
        at = end
    if at < len(text) or not out:
        out.append(Piece(text[at:]))
    return out


def _span(correction: dict[str, Any]) -> tuple[int, int] | None:
    """A correction's (start, end) in the message, if it has a usable one."""
    span = correction.get("span")
    if isinstance(span, list | tuple) and len(span) == 2 and all(isinstance(x, int) for x in span):
        return int(span[0]), int(span[1])
    return None


def _fix(number: int, correction: dict[str, Any]) -> Fix:
    """A stored correction as the chat shows it."""
    return Fix(number=number, text=str(correction.get("text") or ""), suggestion=str(correction.get("suggestion", "")),
               error_type=str(correction.get("error_type", "")), explanation=str(correction.get("explanation", "")),
               strategy=str(correction.get("strategy") or "recast"), why=str(correction.get("why") or ""))  # fmt: skip


def _exercise(stored: object) -> Exercise | None:
    """The exercise of a turn's payload as the learner sees it (instructions, task, options; not the answer)."""
    from agents.tutor.exercise import render_exercise

    if not isinstance(stored, dict) or not isinstance(stored.get("item"), dict):
        return None
    item = {"type": stored.get("type"), **stored["item"]}
    try:
        shown = render_exercise(item)
    except ValueError:  # an item the current schema no longer reads: show what the tutor said with it
        shown = ""
    return Exercise(
        type=str(stored.get("type", "")).replace("_", " "), shown=shown, reason=str(stored.get("reason", ""))
    )
