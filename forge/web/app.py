"""The FastAPI app: one `WebContext` per process, routers per role, error pages, security headers.

`create_app(services)` is all a server or a test needs: `forge serve` runs it with uvicorn, the tests with a real
uvicorn on a free port. Errors are answered by whose fault they are — bad input 400 (401, 403, 404, 413, 429 for
the specific cases), a missing resource 503, our bug 500 — as JSON under /api and as a page elsewhere, one
sentence either way and never a traceback. The session database out of reach (PostgreSQL restarting, a lost
connection) is a missing resource too: 503 with one sentence, and the next request after it is back succeeds.

A process keeps nothing another process needs (logins, CSRF tokens, throttling, ownership, settings and model
jobs are in the session database), so several `forge serve` processes can stand behind one address; each response
names its process in `X-Forge-Process` (a random id per process, nothing about the machine).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forge.web.accounts import Accounts, LoginThrottled
from forge.web.queue import JobTable, ModelQueue
from forge.web.security import BadCsrf, Forbidden, NotFound, NotLoggedIn, template_globals
from knowledge.errors import ResourceError, UserInputError

if TYPE_CHECKING:
    from forge.services import Services
    from forge.sessions.exercises import ExerciseSessions
    from forge.sessions.tutor import TutorSessions

log = logging.getLogger(__name__)
#: The largest request body accepted (a 1 MB message is refused before it is read in full).
MAX_BODY_BYTES = 256 * 1024
WEB_DIR = Path(str(files("forge.web")))
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@dataclass
class WebContext:
    """What every request of this process shares: the services, the accounts, the session runners and the queue."""

    services: Services
    queue: ModelQueue
    #: This process's random id (in X-Forge-Process, /healthz, and as the owner of its jobs).
    process: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @cached_property
    def accounts(self) -> Accounts:
        """Users, logins and ownership in the session database."""
        return Accounts(self.services.sessions)

    @cached_property
    def tutors(self) -> TutorSessions:
        """Tutoring sessions (the graph is compiled on first use)."""
        from forge.sessions.tutor import TutorSessions

        return TutorSessions(self.services)

    @cached_property
    def exercises(self) -> ExerciseSessions:
        """Exercise sessions (the graph and the index are built on first use)."""
        from forge.sessions.exercises import ExerciseSessions

        return ExerciseSessions(self.services, confined=True)  # a web user names no path on the server

    @cached_property
    def templates(self) -> Jinja2Templates:
        """The page templates, autoescaped, with the login in every page's context."""
        templates = Jinja2Templates(directory=WEB_DIR / "templates", context_processors=[template_globals])
        templates.env.autoescape = True
        templates.env.undefined = __import__("jinja2").StrictUndefined
        return templates


def create_app(services: Services, queue: ModelQueue | None = None) -> FastAPI:
    """The web app over this process's services (its model jobs kept in the session database)."""
    from forge.web import admin, api, auth, learner, research, teacher

    about = "CEFR-aligned tutoring, exercise sets and traces. The JSON is the CLI's --json."
    process = uuid.uuid4().hex[:12]
    queue = queue or ModelQueue(JobTable(services.sessions, owner=process))
    context = WebContext(services=services, queue=queue, process=process)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        context.queue.stop()  # new model jobs are refused; the one running finishes

    app = FastAPI(title="Pedagogical Forge", version="0.1.0", docs_url=None, redoc_url=None, description=about,
                  lifespan=lifespan)  # fmt: skip
    app.state.forge = context
    for module in (api, auth, learner, teacher, research, admin):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.add_api_route("/docs", _docs, include_in_schema=False)
    _add_error_handlers(app, services.sessions.outage_errors)
    app.add_middleware(_Guard, process=process)
    return app


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pedagogical Forge API</title>
<link rel="stylesheet" href="/static/swagger/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script><script src="/static/swagger/init.js"></script>
</body></html>"""


def _docs() -> Response:
    """The OpenAPI documentation, from the Swagger UI vendored in the package (nothing from a CDN)."""
    csp = SECURITY_HEADERS["Content-Security-Policy"].replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    return HTMLResponse(DOCS_PAGE, headers={"Content-Security-Policy": csp})


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    """Render a page template."""
    ctx: WebContext = request.app.state.forge
    return ctx.templates.TemplateResponse(request, name, context, status_code=status_code)


def _add_error_handlers(app: FastAPI, outages: tuple[type[Exception], ...]) -> None:
    """Map our errors to status codes, as JSON for the API and as a page for people."""
    statuses: list[tuple[type[Exception], int]] = [
        (NotLoggedIn, 401), (Forbidden, 403), (NotFound, 404), (BadCsrf, 403), (LoginThrottled, 429),
        (UserInputError, 400), (ResourceError, 503),
    ]  # fmt: skip
    for kind, status in statuses:
        app.add_exception_handler(kind, _handler(status))
    for outage in outages:  # the database's own errors, raised from inside the checkpointer
        app.add_exception_handler(outage, _outage)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _internal)


def _handler(status: int) -> Any:
    """An exception handler answering with this status and the error's sentence."""

    async def handle(request: Request, exc: Exception) -> Response:
        return error_response(request, str(exc), status, exc)

    return handle


async def _http_error(request: Request, exc: Exception) -> Response:
    """The framework's own errors (no such path, wrong method, a malformed body) as our one sentence."""
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    messages = {404: "There is no such page.", 405: "That action is not available here."}
    return error_response(request, messages.get(status, str(getattr(exc, "detail", "")) or "Bad request."), status)


async def _invalid(request: Request, exc: Exception) -> Response:
    """A request whose fields are missing or of the wrong kind: the first problem as one sentence (422)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")) or "the request"
    return error_response(request, f"{where}: {first.get('msg', 'invalid value')}.", 422)


async def _outage(request: Request, exc: Exception) -> Response:
    """The session database cannot be reached: 503 with one sentence (logged without a traceback)."""
    from forge.sessions.store import DB_UNAVAILABLE

    log.warning("session database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(request, DB_UNAVAILABLE, 503)


async def _internal(request: Request, exc: Exception) -> Response:
    """Our bug: logged with its traceback, answered with one sentence."""
    log.exception("internal error on %s %s", request.method, request.url.path)
    return error_response(request, "Internal error; the request was not completed (the server log has details).", 500)


def error_response(request: Request, message: str, status: int, exc: Exception | None = None) -> Response:
    """One sentence as JSON (API, scripts) or as a page; a page without login goes to the login page."""
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, LoginThrottled) else None
    if _wants_json(request):
        return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)
    if status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return page(request, "error.html", status_code=status, message=message, status=status)


def _wants_json(request: Request) -> bool:
    """Whether the caller is a script (the API, or a fetch asking for JSON) rather than a page."""
    return request.url.path.startswith(("/api/", "/healthz")) or "application/json" in request.headers.get("accept", "")


class _Guard:
    """ASGI middleware: security headers and X-Forge-Process on every response, bodies over MAX_BODY_BYTES 413."""

    def __init__(self, app: ASGIApp, process: str) -> None:
        self.app = app
        self.headers = {**SECURITY_HEADERS, "X-Forge-Process": process}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            await _too_large(scope, receive, _with_headers(send, self.headers))
            return
        await self.app(scope, _limited(receive), _with_headers(send, self.headers))


def _limited(receive: Receive) -> Receive:
    """A receive that stops a chunked body growing past MAX_BODY_BYTES."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                raise UserInputError(f"The request is larger than {MAX_BODY_BYTES // 1024} KB; send less text.")
        return message

    return wrapped


def _with_headers(send: Send, extra: dict[str, str]) -> Send:
    """A send that adds these headers to the response start (unless the response set its own)."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            present = {k.lower() for k, _ in headers}
            headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()
                        if k.lower().encode() not in present]  # fmt: skip
            message["headers"] = headers
        await send(message)

    return wrapped


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer 413 with one sentence, as JSON (`send` adds the headers)."""
    response = JSONResponse(
        {"error": f"The request is larger than {MAX_BODY_BYTES // 1024} KB; send less text.", "status": 413},
        status_code=413,
    )
    await response(scope, receive, send)
