"""The JSON API: the same documents the CLI's `--json` prints (forge/views.py), for scripts, tests and the pages.

Model work (a tutoring turn, an exercise turn) goes through the model queue. By default a call waits for its
turn and returns the result; with `"wait": false` it returns 202 and the job id at once, and the job's progress
and text stream from `/api/jobs/{id}/events` as server-sent events (which the pages use). Any process behind the
same address answers for any job (the queue keeps jobs in the session database).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from forge import views
from forge.web.accounts import LOGIN_DAYS, Login
from forge.web.queue import Cursor, Job, JobView, view_json
from forge.web.security import (
    COOKIE,
    NotFound,
    NotLoggedIn,
    check_own_session,
    check_session_access,
    current_login,
    role,
    web,
)
from forge.web.traces import visible_runs, visible_view
from knowledge.errors import ResourceError, UserInputError

router = APIRouter()
#: How long one server-sent-events response stays open while nothing happens (the browser then reconnects).
EVENTS_WINDOW_S = 60.0


class LoginBody(BaseModel):
    """POST /api/login."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class TutorBody(BaseModel):
    """POST /api/tutor: a learner's message, to a session of theirs (a new one when absent)."""

    message: str = Field(max_length=100_000, description="The learner's message (the tutor takes a few sentences).")
    session: str | None = Field(default=None, max_length=64)
    level: str | None = Field(default=None, max_length=4, description="Starting level of a new session (A1-C2).")
    wait: bool = Field(default=True, description="Wait for the turn (true) or return its job id at once (false).")


class ExercisesBody(BaseModel):
    """POST /api/exercises: what to do to a set ('three gap fills about food at A2', 'replace item 2')."""

    say: str = Field(max_length=100_000)
    session: str | None = Field(default=None, max_length=64)
    wait: bool = True


@router.get("/healthz")
def healthz(request: Request) -> dict[str, Any]:
    """Health: the session database answers (else 503), with this process's id and queue, and the trace store's."""
    ctx = web(request)
    ctx.services.sessions.ping()
    return {"status": "ok", "process": ctx.process, "queue": ctx.queue.waiting(), "running": ctx.queue.running(),
            "sessions": ctx.services.sessions.backend, "database": "ok", "traces": trace_health()}  # fmt: skip


def trace_health() -> Any:
    """The trace store's health as `forge.telemetry.trace_health()` reports it ("ok" where it has no such check)."""
    from forge import telemetry

    check = getattr(telemetry, "trace_health", None)
    return check() if callable(check) else "ok"


@router.post("/api/login")
def api_login(body: LoginBody, request: Request) -> Response:
    """Log in: a session cookie and the CSRF token to send as X-CSRF-Token with every change (401 if wrong)."""
    accounts = web(request).accounts
    try:
        user = accounts.authenticate(body.username, body.password)
    except UserInputError as exc:
        if type(exc) is UserInputError:
            raise NotLoggedIn(str(exc)) from exc
        raise
    token, login = accounts.open_login(user)
    response = JSONResponse({"user": user.name, "role": user.role, "csrf": login.csrf})
    set_login_cookie(response, token)
    return response


def set_login_cookie(response: Response, token: str) -> None:
    """The login cookie: HttpOnly, SameSite=Lax, for the whole site, as long as the login lasts."""
    response.set_cookie(COOKIE, token, max_age=LOGIN_DAYS * 86400, httponly=True, samesite="lax", path="/")


@router.post("/api/logout")
def api_logout(request: Request, login: Login = Depends(role("learner", "teacher", "researcher"))) -> Response:
    """End this login."""
    token = request.cookies.get(COOKIE)
    if token:
        web(request).accounts.close_login(token)
    response = JSONResponse({"logged_out": login.user.name})
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/api/me")
def me(login: Login = Depends(current_login)) -> dict[str, Any]:
    """Who is logged in."""
    return {"user": login.user.name, "role": login.user.role, "class": login.user.class_name}


# tutoring


@router.post("/api/tutor")
def tutor_turn(body: TutorBody, request: Request, login: Login = Depends(role("learner"))) -> Response:
    """One tutoring turn, as `forge tutor --say --json` prints it (with `session`)."""
    from agents.tutor.messages import check_message

    ctx = web(request)
    text = check_message(body.message)
    if body.session is None:
        info = ctx.tutors.start(title=text, level=body.level)
        ctx.accounts.own("session", info.id, login.user.name)
        session_id = info.id
    else:
        if body.level is not None:
            raise UserInputError("level sets the start of a new session; a continued session keeps its own level.")
        session_id = _session(ctx, body.session, "tutor").id
        check_own_session(ctx, login, session_id)
    job = ctx.queue.submit(login.user.name, "tutor turn",
                           lambda: views.tutor_turn(ctx.tutors.turn(session_id, text), session_id))  # fmt: skip
    return job_response(ctx, job, body.wait, session_id)


@router.get("/api/tutor/{session}")
def tutor_history(session: str, request: Request, login: Login = Depends(role("learner", "teacher"))) -> Any:
    """A tutoring session and every turn of it, as `forge sessions show --json` prints it."""
    ctx = web(request)
    info = _session(ctx, session, "tutor")
    check_session_access(ctx, login, info.id)
    return views.session_history(info, ctx.services.sessions.turns(info.id))


# exercise sets


@router.post("/api/exercises")
def exercises_turn(body: ExercisesBody, request: Request, login: Login = Depends(role("teacher"))) -> Response:
    """One exercise-session turn, as `forge exercises --say --json` prints it."""
    from agents.exercise_session.commands import check_message

    ctx = web(request)
    text = check_message(body.say)
    if body.session is None:
        info = ctx.exercises.start(title=text)
        ctx.accounts.own("session", info.id, login.user.name)
        session_id = info.id
    else:
        session_id = _session(ctx, body.session, "exercises").id
        check_own_session(ctx, login, session_id)
    name = login.user.name

    def work() -> dict[str, Any]:
        return views.exercise_turn(ctx.exercises.turn(session_id, text, reviewer=name))

    job = ctx.queue.submit(name, "exercise turn", work)
    return job_response(ctx, job, body.wait, session_id)


@router.get("/api/exercises/{session}")
def exercise_set(
    session: str, request: Request, version: int | None = None, login: Login = Depends(role("teacher"))
) -> Any:
    """A version of a set (the current one by default), as `forge exercises --session S --json` prints it."""
    ctx = web(request)
    info = _session(ctx, session, "exercises")
    check_own_session(ctx, login, info.id)
    info, current, chosen = ctx.exercises.show(info.id, version)
    return views.exercise_view(info.id, current if version is None else version, current, chosen)


# jobs


@router.get("/api/jobs/{job_id}")
def job_status(job_id: str, request: Request, login: Login = Depends(current_login)) -> Any:
    """A queued job: its state, its place in the queue, and its result or error when finished."""
    return view_json(_job(web(request), job_id, login))


@router.get("/api/jobs/{job_id}/events")
def job_events(
    job_id: str, request: Request, after: str | None = None, login: Login = Depends(current_login)
) -> Response:
    """The job's events as server-sent events: position, text, reset, progress, then done or failed.

    Each event's id says how far the reader got (`after` or Last-Event-ID resumes from there, on any process).
    """
    ctx = web(request)
    first = _job(ctx, job_id, login)
    cursor = Cursor.parse(request.headers.get("last-event-id") or after)
    watch = partial(ctx.queue.watch, job_id, login.user.name, timeout_s=5.0)
    return StreamingResponse(_event_stream(first, watch, cursor), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})  # fmt: skip


def _event_stream(first: JobView, watch: Callable[[], JobView | None], cursor: Cursor) -> Iterator[str]:
    """Server-sent events until the job ends (or the window closes; the browser reconnects with Last-Event-ID)."""
    import time

    deadline = time.monotonic() + EVENTS_WINDOW_S
    view: JobView | None = first
    quiet_since = time.monotonic()
    while view is not None and time.monotonic() < deadline:
        for kind, data in cursor.advance(view):
            quiet_since = time.monotonic()
            yield f"id: {cursor.event_id}\nevent: {kind}\ndata: {json.dumps(data, default=str)}\n\n"
            if kind in ("done", "failed"):
                return
        if time.monotonic() - quiet_since >= 5.0:
            quiet_since = time.monotonic()
            yield ": waiting\n\n"  # a comment keeps the connection open
        try:
            view = watch()
        except ResourceError:  # the database is away for a moment: keep the stream, read again
            time.sleep(1.0)


def job_response(ctx: Any, job: Job, wait: bool, session_id: str) -> Response:
    """The job's result when waiting (or its error, with its status); else 202 with the job id."""
    if not wait:
        return JSONResponse({"job": job.id, "session": session_id, "position": ctx.queue.position(job)},
                            status_code=202)  # fmt: skip
    job.wait()
    if job.state == "failed":
        return JSONResponse({"error": job.error, "status": job.status, "session": session_id},
                            status_code=job.status)  # fmt: skip
    return JSONResponse(job.result)


# traces


@router.get("/api/traces")
def traces(
    request: Request,
    kind: str | None = None,
    model: str | None = None,
    level: str | None = None,
    type: str | None = None,
    session: str | None = None,
    failed: bool | None = None,
    escalated: bool | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
    login: Login = Depends(role("researcher", "teacher")),
) -> Any:
    """Recorded runs, newest first, as `forge trace list --json` prints them (only those this login may see)."""
    flt = run_filter(kind=kind, model=model, level=level, exercise_type=type, session=session, failed=failed,
                     escalated=escalated, since=since, until=until, limit=limit)  # fmt: skip
    return [r.model_dump(mode="json") for r in visible_runs(web(request), login, flt)]


@router.get("/api/traces/{trace_id}")
def trace(trace_id: str, request: Request, login: Login = Depends(role("researcher", "teacher"))) -> Any:
    """One run as a span tree with its items' reviews, as `forge trace show --json` prints it."""
    from forge.reviews.store import ReviewStore

    ctx = web(request)
    view = visible_view(ctx, login, trace_id)
    reviews = ReviewStore(ctx.services.sessions).for_trace(view.run.trace_id) if view.run else []
    return views.trace_view(view, reviews)


def run_filter(*, since: str | None, until: str | None, limit: int | None, **fields: Any) -> Any:
    """A RunFilter from query parameters, each checked with a clear message."""
    from agents import telemetry
    from forge.traces import RunFilter, parse_time

    kind = fields.get("kind")
    if kind is not None and kind not in telemetry.RUN_KINDS:
        raise UserInputError(f"Unknown run kind {kind!r}; accepted kinds are {', '.join(telemetry.RUN_KINDS)}.")
    if limit is not None and not 1 <= limit <= 1000:
        raise UserInputError("limit must be between 1 and 1000.")
    given = {k: v for k, v in fields.items() if v not in (None, "")}
    flt = RunFilter(**given, since=parse_time(since) if since else None, until=parse_time(until) if until else None,
                    limit=limit)  # fmt: skip
    flt.where()  # validates the level now
    return flt


# helpers


def _session(ctx: Any, session: str, kind: str) -> Any:
    """A session of a kind by id, as NotFound when unknown (so ids cannot be probed)."""
    try:
        return ctx.services.sessions.get(session, kind=kind)
    except UserInputError as exc:
        raise NotFound(f"No {kind} session {session!r} of yours.") from exc


def _job(ctx: Any, job_id: str, login: Login) -> JobView:
    """One of this login's jobs, from whichever process runs it (NotFound for anyone else's)."""
    job: JobView | None = ctx.queue.view(job_id, login.user.name)
    if job is None:
        raise NotFound(f"No job {job_id!r} of yours.")
    return job
