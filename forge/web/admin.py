"""The admin page: accounts (add, remove) and the switch that lets researchers read learners' text."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from forge.web.accounts import ROLES, Login, User
from forge.web.app import page
from forge.web.security import NotFound, role, web
from knowledge.errors import UserInputError

router = APIRouter(include_in_schema=False)


class UserBody(BaseModel):
    """POST /api/users: an account to add (what `forge users add` takes, the password in the body)."""

    name: str = Field(max_length=64)
    role: str = Field(max_length=20)
    password: str = Field(max_length=256)
    class_name: str | None = Field(default=None, alias="class", max_length=80)


@router.get("/admin")
def admin_page(request: Request, login: Login = Depends(role("admin")), note: str = "") -> Response:
    """Every account, a form to add one, and the researchers' text switch."""
    return _page(request, note=note[:200], error=None)


@router.post("/admin/users")
def add_user(
    request: Request,
    name: str = Form(max_length=64),
    user_role: str = Form(alias="role", max_length=20),
    password: str = Form(max_length=256),
    class_name: str = Form(default="", max_length=80),
    login: Login = Depends(role("admin")),
) -> Response:
    """Add an account; a bad name, role or password is shown on the page with one sentence."""
    try:
        user = web(request).accounts.add(name, user_role, password, class_name or None)
    except UserInputError as exc:
        return _page(request, note="", error=str(exc), status_code=400)
    return RedirectResponse(f"/admin?note=Added+{user.role}+{user.name}", status_code=303)


@router.post("/admin/users/{name}/remove")
def remove_user(name: str, request: Request, login: Login = Depends(role("admin"))) -> Response:
    """Remove an account (not one's own)."""
    if name == login.user.name:
        return _page(request, note="", error="You cannot remove your own account while logged in.", status_code=400)
    user = web(request).accounts.remove(name)
    return RedirectResponse(f"/admin?note=Removed+{user.name}", status_code=303)


@router.post("/api/users")
def api_add_user(body: UserBody, request: Request, login: Login = Depends(role("admin"))) -> Response:
    """Add an account from a script (201 with the user; 400 with one sentence for a bad or taken name)."""
    user = web(request).accounts.add(body.name, body.role, body.password, body.class_name)
    return JSONResponse(_user_json(user), status_code=201)


@router.get("/api/users")
def api_users(request: Request, login: Login = Depends(role("admin"))) -> list[dict[str, Any]]:
    """Every account, by name."""
    return [_user_json(u) for u in web(request).accounts.users()]


@router.delete("/api/users/{name}")
def api_remove_user(name: str, request: Request, login: Login = Depends(role("admin"))) -> dict[str, Any]:
    """Remove an account and end its logins (404 when there is none; never one's own)."""
    accounts = web(request).accounts
    if name == login.user.name:
        raise UserInputError("You cannot remove your own account while logged in.")
    if accounts.get(name) is None:
        raise NotFound(f"No user {name!r}.")
    return _user_json(accounts.remove(name))


def _user_json(user: User) -> dict[str, Any]:
    """A user as the JSON routes answer it."""
    return {"name": user.name, "role": user.role, "class": user.class_name, "created": user.created.isoformat()}


@router.post("/admin/settings")
def set_switch(
    request: Request, researchers_see_text: str = Form(default="false"), login: Login = Depends(role("admin"))
) -> Response:
    """Let researchers read learner text in traces (on), or see it as salted hashes (off, the default)."""
    value = "true" if researchers_see_text in ("true", "on") else "false"
    web(request).accounts.set_setting("researchers_see_text", value)
    return RedirectResponse("/admin?note=Saved", status_code=303)


def _page(request: Request, *, note: str, error: str | None, status_code: int = 200) -> Response:
    """The admin page with a note or an error."""
    accounts = web(request).accounts
    return page(request, "admin/index.html", status_code=status_code, users=accounts.users(), roles=ROLES,
                researchers_see_text=accounts.setting("researchers_see_text") == "true", note=note,
                error=error)  # fmt: skip
