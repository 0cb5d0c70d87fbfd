"""Accounts for the web app: users and their roles, login sessions, login throttling, and who owns what.

Everything lives in the session database (SQLite by default, PostgreSQL when configured), so several `forge serve`
processes share it and nothing a request needs is kept in one process's memory.

- A user has a role (learner, teacher, researcher, admin) and optionally a class: a teacher sees the learners of
  the classes they teach. Passwords are hashed with Argon2id (argon2-cffi); only the hash is stored.
- A login is a random token in an HttpOnly cookie; the database keeps its SHA-256, never the token, together with
  the login's CSRF token and its expiry.
- Failed logins are counted per user name: after `MAX_FAILURES` within `FAILURE_WINDOW_S` further attempts are
  refused until the window has passed, whatever the password.
- Ownership rows say which user a tutoring or exercise session belongs to; traces are owned through their session.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel

from forge.sessions.store import SessionStore
from graphs.turns import utc_now
from knowledge.errors import UserInputError

Role = Literal["learner", "teacher", "researcher", "admin"]
ROLES: tuple[Role, ...] = ("learner", "teacher", "researcher", "admin")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_FAILURES = 5
FAILURE_WINDOW_S = 300.0
LOGIN_DAYS = 7
_HASHER = PasswordHasher()
#: Hashed once so a login for an unknown user costs as much as one for a known user (no timing oracle).
_DUMMY_HASH = _HASHER.hash("not a password of anyone")

SETTINGS_DEFAULTS = {"researchers_see_text": "false"}


class User(BaseModel):
    """A user as the app sees them (no password hash)."""

    name: str
    role: Role
    class_name: str | None = None
    created: datetime


class Login(BaseModel):
    """A logged-in browser or script: its user and the CSRF token its forms must carry."""

    user: User
    csrf: str
    expires: datetime


class LoginThrottled(UserInputError):
    """Too many failed logins for this user name; `retry_after_s` says when to try again."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def check_name(name: str) -> str:
    """Validate a user name: 2-32 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit."""
    cleaned = name.strip()
    if not _NAME_RE.match(cleaned):
        raise UserInputError(
            f"{name!r} is not a user name; use 2-32 lower-case letters, digits, '.', '_' or '-' (e.g. ana.b)."
        )
    return cleaned


def check_role(role: str) -> Role:
    """Validate a role name."""
    for known in ROLES:
        if role == known:
            return known
    raise UserInputError(f"Unknown role {role!r}; accepted roles are {', '.join(ROLES)}.")


def check_password(password: str) -> str:
    """Validate a new password's length (the only rule: long enough, not absurdly long)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise UserInputError(f"A password must be {MIN_PASSWORD}-{MAX_PASSWORD} characters long.")
    return password


def token_hash(token: str) -> str:
    """The stored form of a login token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Users, logins, throttling, ownership and the admin's switches, over the session store's database."""

    def __init__(self, sessions: SessionStore) -> None:
        self.sessions = sessions

    # users

    def add(self, name: str, role: str, password: str, class_name: str | None = None) -> User:
        """Create a user (an error if the name is taken)."""
        user = User(name=check_name(name), role=check_role(role), class_name=_class(class_name), created=utc_now())
        if self.get(user.name) is not None:
            raise UserInputError(f"User {user.name} already exists; remove it first or choose another name.")
        digest = _HASHER.hash(check_password(password))
        sql = "INSERT INTO forge_users (name, role, password_hash, class_name, created) VALUES (?, ?, ?, ?, ?)"
        self.sessions.execute([(sql, (user.name, user.role, digest, user.class_name, user.created.isoformat()))])
        return user

    def get(self, name: str) -> User | None:
        """A user by name, if there is one."""
        rows = self.sessions.query("SELECT name, role, class_name, created FROM forge_users WHERE name = ?", (name,))
        return _user(rows[0]) if rows else None

    def users(self, role: str | None = None) -> list[User]:
        """Every user (of one role, if given), by name."""
        where, params = (" WHERE role = ?", [check_role(role)]) if role else ("", [])
        sql = f"SELECT name, role, class_name, created FROM forge_users{where} ORDER BY name"
        rows = self.sessions.query(sql, params)
        return [_user(row) for row in rows]

    def remove(self, name: str) -> User:
        """Delete a user and their logins (their sessions stay, owned by nobody: only an admin sees them)."""
        user = self.get(check_name(name))
        if user is None:
            raise UserInputError(f"No user {name!r}; forge users list shows the users there are.")
        self.sessions.execute([("DELETE FROM forge_logins WHERE user_name = ?", (user.name,)),
                               ("DELETE FROM forge_users WHERE name = ?", (user.name,))])  # fmt: skip
        return user

    def learners_of(self, teacher: User) -> list[User]:
        """The learners in the class a teacher teaches (none when the teacher has no class)."""
        if teacher.class_name is None:
            return []
        return [u for u in self.users("learner") if u.class_name == teacher.class_name]

    # logins

    def authenticate(self, name: str, password: str) -> User:
        """The user if the password is right; UserInputError otherwise; LoginThrottled after too many failures."""
        self._throttle(name)
        rows = self.sessions.query("SELECT password_hash FROM forge_users WHERE name = ?", (name,))
        digest = str(rows[0][0]) if rows else _DUMMY_HASH
        try:
            _HASHER.verify(digest, password)
        except (VerificationError, InvalidHashError):
            self._failed(name)
            raise UserInputError("Wrong user name or password.") from None
        user = self.get(name) if rows else None
        if user is None:
            self._failed(name)
            raise UserInputError("Wrong user name or password.")
        self.sessions.execute([("DELETE FROM forge_login_failures WHERE user_name = ?", (name,))])
        return user

    def open_login(self, user: User) -> tuple[str, Login]:
        """Start a login: (the cookie's token, the login with its CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        now = utc_now()
        login = Login(user=user, csrf=csrf, expires=now + timedelta(days=LOGIN_DAYS))
        sql = "INSERT INTO forge_logins (token_hash, user_name, csrf, created, expires) VALUES (?, ?, ?, ?, ?)"
        self.sessions.execute([(sql, (token_hash(token), user.name, csrf, now.isoformat(),
                                      login.expires.isoformat()))])  # fmt: skip
        return token, login

    def login(self, token: str) -> Login | None:
        """The login a cookie's token belongs to, if it exists and has not expired."""
        rows = self.sessions.query(
            "SELECT user_name, csrf, expires FROM forge_logins WHERE token_hash = ?", (token_hash(token),)
        )
        if not rows:
            return None
        name, csrf, expires = rows[0]
        user = self.get(str(name))
        expiry = datetime.fromisoformat(str(expires))
        if user is None or expiry <= utc_now():
            return None
        return Login(user=user, csrf=str(csrf), expires=expiry)

    def close_login(self, token: str) -> None:
        """End a login (log out)."""
        self.sessions.execute([("DELETE FROM forge_logins WHERE token_hash = ?", (token_hash(token),))])

    def _throttle(self, name: str) -> None:
        """Refuse the attempt when the name has failed too often within the window."""
        since = time.time() - FAILURE_WINDOW_S
        rows = self.sessions.query(
            "SELECT time FROM forge_login_failures WHERE user_name = ? AND time > ? ORDER BY time", (name, since)
        )
        if len(rows) >= MAX_FAILURES:
            wait = int(float(rows[0][0]) + FAILURE_WINDOW_S - time.time()) + 1
            raise LoginThrottled(
                f"Too many failed logins for {name!r}; try again in {wait} s.", retry_after_s=max(wait, 1)
            )

    def _failed(self, name: str) -> None:
        """Count one failed login for the name."""
        self.sessions.execute([("INSERT INTO forge_login_failures (user_name, time) VALUES (?, ?)",
                                (name[:64], time.time()))])  # fmt: skip

    # ownership

    def own(self, kind: str, ident: str, owner: str) -> None:
        """Record that a session (kind 'session') belongs to a user."""
        self.sessions.execute([("INSERT INTO forge_owners (kind, id, owner) VALUES (?, ?, ?)", (kind, ident, owner))])

    def owner_of(self, kind: str, ident: str) -> str | None:
        """The user a session belongs to, if any."""
        rows = self.sessions.query("SELECT owner FROM forge_owners WHERE kind = ? AND id = ?", (kind, ident))
        return str(rows[0][0]) if rows else None

    def owned_by(self, kind: str, owners: list[str]) -> list[str]:
        """The ids of everything of a kind that belongs to any of these users."""
        if not owners:
            return []
        marks = ", ".join("?" for _ in owners)
        rows = self.sessions.query(f"SELECT id FROM forge_owners WHERE kind = ? AND owner IN ({marks})",
                                   (kind, *owners))  # fmt: skip
        return [str(r[0]) for r in rows]

    # the admin's switches

    def setting(self, key: str) -> str:
        """An admin switch's value ('true' / 'false'), its default when never set."""
        rows = self.sessions.query("SELECT value FROM forge_web_settings WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else SETTINGS_DEFAULTS[key]

    def set_setting(self, key: str, value: str) -> None:
        """Set an admin switch."""
        if key not in SETTINGS_DEFAULTS:
            raise UserInputError(f"Unknown setting {key!r}; known settings are {', '.join(SETTINGS_DEFAULTS)}.")
        self.sessions.execute([
            ("DELETE FROM forge_web_settings WHERE key = ?", (key,)),
            ("INSERT INTO forge_web_settings (key, value) VALUES (?, ?)", (key, value)),
        ])  # fmt: skip


def _class(name: str | None) -> str | None:
    """A class name, trimmed (None when empty)."""
    if name is None or not name.strip():
        return None
    cleaned = " ".join(name.split())
    if len(cleaned) > 40:
        raise UserInputError("A class name is at most 40 characters.")
    return cleaned


def _user(row: tuple[object, ...]) -> User:
    """A users row as a User."""
    name, role, class_name, created = row
    return User(name=str(name), role=check_role(str(role)), class_name=str(class_name) if class_name else None,
                created=datetime.fromisoformat(str(created)))  # fmt: skip
