"""The login page, logging out, and the start page that sends each role to its own pages."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from forge.web.accounts import Login
from forge.web.api import set_login_cookie
from forge.web.app import page
from forge.web.security import COOKIE, check_csrf, current_login, optional_login, web
from knowledge.errors import UserInputError

router = APIRouter(include_in_schema=False)
HOME = {"learner": "/learn", "teacher": "/teach", "researcher": "/research", "admin": "/admin"}


@router.get("/")
def start(request: Request) -> Response:
    """The role's own start page, or the login page."""
    login = optional_login(request)
    return RedirectResponse(HOME[login.user.role] if login else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    """The login form."""
    return page(request, "login.html", next=_local(next), error=None, username="")


@router.post("/login")
def login_form(
    request: Request,
    username: str = Form(max_length=64),
    password: str = Form(max_length=256),
    next: str = Form(default="/", max_length=300),
) -> Response:
    """Check the password; on success set the cookie and go on, else show the form again with one sentence."""
    accounts = web(request).accounts
    try:
        user = accounts.authenticate(username.strip(), password)
    except UserInputError as exc:
        status = 429 if type(exc) is not UserInputError else 401
        return page(request, "login.html", status_code=status, next=_local(next), error=str(exc), username=username)
    token, _ = accounts.open_login(user)
    target = _local(next)
    response = RedirectResponse(HOME[user.role] if target == "/" else target, status_code=303)
    set_login_cookie(response, token)
    return response


@router.post("/logout")
async def logout(request: Request, login: Login = Depends(current_login)) -> Response:
    """End the login (the form carries the CSRF token) and go back to the login page."""
    await check_csrf(request, login)
    token = request.cookies.get(COOKIE)
    if token:
        web(request).accounts.close_login(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _local(target: str) -> str:
    """A redirect target on this site only (an absolute URL elsewhere is replaced by '/')."""
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target
