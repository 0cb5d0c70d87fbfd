"""The session store: LangGraph checkpoints, the session registry and per-session writer locks, in one database.

Backends (`sqlite.py`, `postgres.py`) provide the checkpointer, a connection for the registry's SQL and the lock;
everything else — ids, the registry, reading turns back — lives here once. See the package docstring for usage.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel, Field

from forge.sessions.serde import allowed_types
from graphs.turns import Turn, utc_now
from knowledge.errors import UserInputError

SessionKind = Literal["tutor", "exercises"]
SESSION_KINDS: tuple[SessionKind, ...] = ("tutor", "exercises")
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{4,64}$")
#: How each kind is continued, for messages that send the user to the right command.
#: Where each kind's graph state schema lives ("module:name"), imported only to read its checkpoints typed.
STATE_SCHEMAS: dict[SessionKind, str] = {
    "tutor": "graphs.tutor.state:TutorState",
    "exercises": "graphs.exercise_session.state:ExerciseSessionState",
}
SERDE_LOGGER = "langgraph.checkpoint.serde.jsonplus"
RESUME_COMMAND = {"tutor": "forge tutor --session {id}", "exercises": 'forge exercises --session {id} --say "..."'}

REGISTRY_SQL = (
    """CREATE TABLE IF NOT EXISTS forge_sessions (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', level TEXT,
        created TEXT NOT NULL, updated TEXT NOT NULL, turns INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS forge_session_locks (
        session_id TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, token TEXT NOT NULL,
        heartbeat DOUBLE PRECISION NOT NULL)""",
    # Teachers' reviews (forge/reviews): one row per decision, never updated; `body` is the Review as JSON.
    """CREATE TABLE IF NOT EXISTS forge_reviews (
        id TEXT PRIMARY KEY, item_id TEXT NOT NULL, decision TEXT NOT NULL, reason TEXT, reviewer TEXT NOT NULL,
        time TEXT NOT NULL, source TEXT NOT NULL, session_id TEXT, set_version INTEGER, run_id TEXT, trace_id TEXT,
        type TEXT NOT NULL, level TEXT NOT NULL, body TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS forge_reviews_item ON forge_reviews (item_id)",
    "CREATE INDEX IF NOT EXISTS forge_reviews_session ON forge_reviews (session_id)",
    "CREATE INDEX IF NOT EXISTS forge_reviews_trace ON forge_reviews (trace_id)",
    # Items `forge generate` made, so they can be reviewed by run id later; `record` is the item as --json prints it.
    """CREATE TABLE IF NOT EXISTS forge_generated (
        run_id TEXT PRIMARY KEY, trace_id TEXT, time TEXT NOT NULL, type TEXT NOT NULL, level TEXT NOT NULL,
        topic TEXT NOT NULL, status TEXT NOT NULL, record TEXT NOT NULL)""",
    # The web app's accounts (forge/web/accounts.py): users, logins (token hashes), failed logins, ownership.
    """CREATE TABLE IF NOT EXISTS forge_users (
        name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, class_name TEXT,
        created TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS forge_logins (
        token_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL, csrf TEXT NOT NULL, created TEXT NOT NULL,
        expires TEXT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS forge_login_failures (user_name TEXT NOT NULL, time DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX IF NOT EXISTS forge_login_failures_user ON forge_login_failures (user_name)",
    """CREATE TABLE IF NOT EXISTS forge_owners (
        kind TEXT NOT NULL, id TEXT NOT NULL, owner TEXT NOT NULL, PRIMARY KEY (kind, id))""",
    "CREATE INDEX IF NOT EXISTS forge_owners_owner ON forge_owners (owner)",
    "CREATE TABLE IF NOT EXISTS forge_web_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # The web app's model jobs (forge/web/queue.py), readable from every process: the text so far (not one row per
    # token), JSON progress and result; the owner process refreshes heartbeat_at while the job is queued or running.
    """CREATE TABLE IF NOT EXISTS forge_jobs (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, user_name TEXT NOT NULL, label TEXT NOT NULL, state TEXT NOT NULL,
        position INTEGER NOT NULL DEFAULT 0, text TEXT NOT NULL DEFAULT '', resets INTEGER NOT NULL DEFAULT 0,
        progress TEXT, result TEXT, error TEXT, status INTEGER NOT NULL DEFAULT 200,
        created DOUBLE PRECISION NOT NULL, heartbeat_at DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS forge_jobs_user ON forge_jobs (user_name, state)",
    "CREATE INDEX IF NOT EXISTS forge_jobs_heartbeat ON forge_jobs (heartbeat_at)",
)
#: The one sentence for a request that needed the session database while it could not be reached.
DB_UNAVAILABLE = "The session database cannot be reached right now; try again in a moment."
_COLUMNS = "id, kind, title, level, created, updated, turns"


class SessionBusy(UserInputError):
    """Another process (or thread) is writing the session right now."""


class SessionInfo(BaseModel):
    """A session's registry row: what `forge sessions list` shows."""

    id: str
    kind: SessionKind
    title: str = Field(default="", description="A short title (the first message, or what the graph sets).")
    level: str | None = Field(default=None, description="The session's CEFR level as last recorded.")
    created: datetime
    updated: datetime
    turns: int = Field(default=0, description="Completed user turns.")


def new_session_id() -> str:
    """A fresh session id: 12 hex digits, short enough to type."""
    return uuid.uuid4().hex[:12]


def check_session_id(session_id: str) -> str:
    """Validate a session id typed by a user (letters, digits, '-' and '_', 4-64 characters)."""
    cleaned = session_id.strip()
    if not _ID_RE.match(cleaned):
        raise UserInputError(
            f"{session_id!r} is not a session id; ids are 4-64 letters, digits, '-' or '_' (see forge sessions list)."
        )
    return cleaned


class SessionStore(ABC):
    """Checkpoints, registry and writer locks for every session, over one database."""

    #: 'sqlite' or 'postgres'.
    backend: str
    #: Where the sessions live: a file path, or the database URL without its password.
    location: str
    #: The backend's errors that mean the database cannot be reached now (a restart, a lost connection), which
    #: are answered with DB_UNAVAILABLE and 503 rather than as our bug.
    outage_errors: tuple[type[Exception], ...] = ()

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._held_lock = threading.Lock()

    # backend hooks

    @property
    @abstractmethod
    def saver(self) -> BaseCheckpointSaver[Any]:
        """The backend's checkpointer with a strict serializer (extend it with `checkpointer_for`)."""

    @abstractmethod
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one query (with '?' placeholders) and return its rows."""

    @abstractmethod
    def _write(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Run statements (with '?' placeholders) in one transaction."""

    @abstractmethod
    def _lock(self, session_id: str) -> AbstractContextManager[None]:
        """Hold the cross-process writer lock of a session; raise SessionBusy if another process holds it."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    # plain SQL for the other tables of the same database (reviews, generated items)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one query ('?' placeholders, any backend) and return its rows."""
        return self._rows(sql, params)

    def execute(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Run statements ('?' placeholders, any backend) in one transaction: all of them or none."""
        self._write(statements)

    def ping(self) -> None:
        """A cheap round trip to the database (for health checks); ResourceError when it cannot be reached."""
        self._rows("SELECT 1")

    # checkpoints

    def checkpointer_for(self, *schemas: Any) -> BaseCheckpointSaver[Any]:
        """The checkpointer to compile a session graph with: it revives the types of the given state schemas."""
        return self.saver.with_allowlist(allowed_types([*schemas, Turn]))

    @staticmethod
    def config(session_id: str) -> RunnableConfig:
        """The run config that selects a session's thread."""
        return {"configurable": {"thread_id": session_id}}

    def turns(self, session_id: str) -> list[Turn]:
        """Every completed turn of a session, from its latest checkpoint, whatever graph wrote it."""
        info = self.get(session_id)
        saver = self.checkpointer_for(*state_schemas(info.kind))
        with quiet_serde():
            found = saver.get_tuple({"configurable": {"thread_id": info.id, "checkpoint_ns": ""}})
        if found is None:
            return []
        raw = found.checkpoint["channel_values"].get("turns", [])
        return [t if isinstance(t, Turn) else Turn.model_validate(t) for t in raw]

    # registry

    def create(
        self, kind: SessionKind, *, title: str = "", level: str | None = None, session_id: str | None = None
    ) -> SessionInfo:
        """Register a new session and return it (a fresh id unless one is given)."""
        now = utc_now()
        info = SessionInfo(
            id=session_id or new_session_id(), kind=kind, title=title[:80], level=level, created=now, updated=now
        )
        if session_id is not None and self._find(check_session_id(session_id)):
            raise UserInputError(f"Session {session_id} already exists; choose another id or continue it.")
        sql = f"INSERT INTO forge_sessions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        self._write([(sql, (info.id, kind, info.title, level, now.isoformat(), now.isoformat(), 0))])
        return info

    def get(self, session_id: str, kind: SessionKind | None = None) -> SessionInfo:
        """A session by id (or unique prefix of 4+ characters); a clear error if unknown or of another kind."""
        cleaned = check_session_id(session_id)
        info = self._find(cleaned) or self._by_prefix(cleaned)
        if info is None:
            raise UserInputError(f"No session {cleaned!r}; forge sessions list shows the sessions there are.")
        if kind is not None and info.kind != kind:
            how = RESUME_COMMAND[info.kind].format(id=info.id)
            raise UserInputError(f"Session {info.id} is a {info.kind} session, not {kind}; continue it with {how}.")
        return info

    def get_or_create(
        self, name: str, kind: SessionKind, *, title: str = "", level: str | None = None
    ) -> tuple[SessionInfo, bool]:  # fmt: skip
        """The session `name` (id or unique prefix) if there is one, else a new session with that id; True if new.

        Teachers and learners name their sessions (`forge tutor --session ana`): an unknown name starts a session
        of that name, a known one continues it (refused as usual if it is of another kind).
        """
        cleaned = check_session_id(name)
        if self._find(cleaned) or self._by_prefix(cleaned):
            return self.get(cleaned, kind=kind), False
        return self.create(kind, title=title, level=level, session_id=cleaned), True

    def list(self, kind: SessionKind | None = None, limit: int | None = None) -> list[SessionInfo]:
        """Sessions, most recently updated first."""
        where, params = (" WHERE kind = ?", [kind]) if kind else ("", [])
        tail = f" LIMIT {int(limit)}" if limit else ""
        rows = self._rows(f"SELECT {_COLUMNS} FROM forge_sessions{where} ORDER BY updated DESC, id{tail}", params)
        return [_info(row) for row in rows]

    def touch(self, session_id: str, *, turns: int, level: str | None = None, title: str | None = None) -> None:
        """Record a completed turn in the registry: turn count, updated time, and level/title if given."""
        sets, params = ["updated = ?", "turns = ?"], [utc_now().isoformat(), turns]
        for column, value in (("level", level), ("title", title[:80] if title else None)):
            if value is not None:
                sets.append(f"{column} = ?")
                params.append(value)
        self._write([(f"UPDATE forge_sessions SET {', '.join(sets)} WHERE id = ?", [*params, session_id])])

    def delete(self, session_id: str) -> SessionInfo:
        """Delete a session: its checkpoints and its registry row (refused while another process writes it)."""
        info = self.get(session_id)
        with self.writing(info.id):
            self.saver.delete_thread(info.id)
            self._write([("DELETE FROM forge_sessions WHERE id = ?", (info.id,))])
        return info

    # locking

    @contextmanager
    def writing(self, session_id: str) -> Iterator[None]:
        """Hold the session's writer lock for one turn: SessionBusy if another process or thread holds it."""
        with self._held_lock:
            if session_id in self._held:
                raise SessionBusy(
                    f"Session {session_id} is being written by another turn in this process; "
                    "try again when it finishes."
                )
            self._held.add(session_id)
        try:
            with self._lock(session_id):
                yield
        finally:
            with self._held_lock:
                self._held.discard(session_id)

    def lock_holder(self, session_id: str) -> int | None:
        """The pid recorded by the session's last writer-lock holder (the row may outlive a killed holder)."""
        rows = self._rows("SELECT pid FROM forge_session_locks WHERE session_id = ?", (session_id,))
        return int(rows[0][0]) if rows else None

    # helpers

    def _setup_registry(self) -> None:
        """Create the registry tables if they are missing."""
        self._write((sql, ()) for sql in REGISTRY_SQL)

    def _find(self, session_id: str) -> SessionInfo | None:
        """The session with exactly this id, if any."""
        rows = self._rows(f"SELECT {_COLUMNS} FROM forge_sessions WHERE id = ?", (session_id,))
        return _info(rows[0]) if rows else None

    def _by_prefix(self, prefix: str) -> SessionInfo | None:
        """The one session whose id starts with the prefix; None if none; an error if several do."""
        pattern = prefix.replace("_", "!_") + "%"
        rows = self._rows(f"SELECT {_COLUMNS} FROM forge_sessions WHERE id LIKE ? ESCAPE '!' LIMIT 3", (pattern,))
        if len(rows) > 1:
            raise UserInputError(f"Session id prefix {prefix!r} matches several sessions; give more characters.")
        return _info(rows[0]) if rows else None


def _info(row: tuple[Any, ...]) -> SessionInfo:
    """A registry row as a SessionInfo."""
    keys = _COLUMNS.split(", ")
    return SessionInfo.model_validate(dict(zip(keys, row, strict=True)))


def state_schemas(kind: SessionKind) -> list[Any]:
    """The state schema of a kind's graph, if its module is installed (for a typed, silent read of checkpoints)."""
    module_name, _, name = STATE_SCHEMAS[kind].partition(":")
    try:
        return [getattr(importlib.import_module(module_name), name)]
    except (ImportError, AttributeError):
        return []


class _QuietSerde(logging.Filter):
    """Drops the serializer's warnings about types it leaves as dicts, while `quiet_serde` is active."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record unless this context asked for quiet."""
        return not _QUIET.get()


_QUIET: ContextVar[bool] = ContextVar("forge_quiet_serde", default=False)
logging.getLogger(SERDE_LOGGER).addFilter(_QuietSerde())


@contextmanager
def quiet_serde() -> Iterator[None]:
    """Read a checkpoint for its turns only: other values we cannot revive stay dicts, without warnings."""
    token = _QUIET.set(True)
    try:
        yield
    finally:
        _QUIET.reset(token)


def busy_message(session_id: str, pid: int | None) -> str:
    """The one sentence shown when another process holds a session's writer lock."""
    who = f" (pid {pid})" if pid else ""
    return f"Session {session_id} is being written by another process{who}; try again when it finishes."
