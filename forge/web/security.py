"""Who is asking and what they may see: the login cookie, roles, CSRF tokens and ownership (FastAPI dependencies).

A route declares the roles it serves with `Depends(role("teacher", "admin"))`; a user without one gets 403, a
request without a login 401 (the API) or a redirect to the login page (pages). Every request that changes
something carries the login's CSRF token, as the form field `csrf` or the header `X-CSRF-Token`; `/api/login`
is the one exception (there is no login yet). Something that exists but belongs to someone else is reported as
not found (404), the same as something that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request

from forge.web.accounts import Login, Role
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from forge.web.app import WebContext

COOKIE = "forge_login"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotLoggedIn(UserInputError):
    """The request has no valid login."""


class Forbidden(UserInputError):
    """The user's role does not give access to this page or route."""


class NotFound(UserInputError):
    """No such thing — or one the user may not see, which is reported the same way."""


class BadCsrf(UserInputError):
    """A request that changes something came without its login's CSRF token."""


def web(request: Request) -> WebContext:
    """The process's WebContext."""
    ctx: WebContext = request.app.state.forge
    return ctx


def optional_login(request: Request) -> Login | None:
    """The login of this request's cookie, if it has a valid one."""
    token = request.cookies.get(COOKIE)
    return web(request).accounts.login(token) if token else None


def current_login(request: Request) -> Login:
    """The login of this request (NotLoggedIn when there is none)."""
    login = optional_login(request)
    if login is None:
        raise NotLoggedIn("You are not logged in; log in at /login (or POST /api/login) first.")
    request.state.login = login
    return login


def role(*allowed: Role) -> Callable[..., Awaitable[Login]]:
    """A dependency that admits logins of the given roles (admins are admitted everywhere) and checks CSRF."""

    async def check(request: Request, login: Login = Depends(current_login)) -> Login:
        if login.user.role not in allowed and login.user.role != "admin":
            raise Forbidden(f"This page is for {' or '.join(allowed)} accounts; you are logged in as a "
                            f"{login.user.role}.")  # fmt: skip
        if request.method not in SAFE_METHODS:
            await check_csrf(request, login)
        return login

    return check


async def check_csrf(request: Request, login: Login) -> None:
    """Refuse a state-changing request whose CSRF token (header or form field) is not the login's."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, login.csrf):
        raise BadCsrf("The form's security token is missing or out of date; reload the page and try again.")


def _is_form(request: Request) -> bool:
    """Whether the body is an HTML form."""
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def sees_everything(login: Login) -> bool:
    """Admins and researchers see every session and trace (researchers with learner text redacted)."""
    return login.user.role in ("admin", "researcher")


def owners_visible_to(ctx: WebContext, login: Login) -> list[str]:
    """The users whose sessions this login may open: itself, and a teacher's learners."""
    names = [login.user.name]
    if login.user.role == "teacher":
        names += [u.name for u in ctx.accounts.learners_of(login.user)]
    return names


def check_session_access(ctx: WebContext, login: Login, session_id: str) -> None:
    """NotFound unless the session belongs to someone this login may see (or the login sees everything)."""
    if login.user.role == "admin":
        return
    owner = ctx.accounts.owner_of("session", session_id)
    if owner is None or owner not in owners_visible_to(ctx, login):
        raise NotFound(f"No session {session_id!r} of yours.")


def check_own_session(ctx: WebContext, login: Login, session_id: str) -> None:
    """NotFound unless the session is this login's own (to write to it: run a turn, review its set)."""
    if login.user.role == "admin":
        return
    if ctx.accounts.owner_of("session", session_id) != login.user.name:
        raise NotFound(f"No session {session_id!r} of yours.")


def check_trace_access(ctx: WebContext, login: Login, conversation_id: str | None) -> None:
    """NotFound unless the trace is visible: researchers and admins see all, others the traces of their sessions."""
    if sees_everything(login):
        return
    if conversation_id is None:
        raise NotFound("No such trace of yours.")
    try:
        check_session_access(ctx, login, conversation_id)
    except NotFound as exc:
        raise NotFound("No such trace of yours.") from exc


def template_globals(request: Request) -> dict[str, Any]:
    """What every template gets: the login (or None) and its CSRF token."""
    login = getattr(request.state, "login", None) or optional_login(request)
    return {"login": login, "csrf": login.csrf if login else ""}
