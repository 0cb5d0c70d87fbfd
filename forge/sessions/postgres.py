"""PostgreSQL backend: LangGraph's `PostgresSaver` over a connection pool, the registry tables beside its own.

The writer lock is a session-level advisory lock (`pg_try_advisory_lock`) held on a dedicated connection for the
turn: the server drops it when that connection ends, so a process killed with -9 never blocks its session. A row
in `forge_session_locks` records the holder's pid for the error message.

The pool checks a connection before lending it, so after the server restarts the next request reconnects rather
than failing on a dead connection; while the server is down, a request waits at most `POOL_WAIT_S` and is answered
with one sentence (DB_UNAVAILABLE, 503).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from forge.sessions.serde import strict_serializer
from forge.sessions.store import DB_UNAVAILABLE, SessionBusy, SessionStore, busy_message
from knowledge.errors import ResourceError

POOL_SIZE = 4
CONNECT_TIMEOUT_S = 10
#: How long a request waits for a pooled connection before it is told the database cannot be reached.
POOL_WAIT_S = 5.0
#: Advisory-lock key under which the schema is created, so two processes starting at once do not race.
_SETUP_KEY = 0x0F0_96E5
_RELEASE_SQL = "DELETE FROM forge_session_locks WHERE session_id = ? AND token = ?"


class PostgresSessionStore(SessionStore):
    """Sessions in a PostgreSQL database (`postgres_url` / FORGE_POSTGRES_URL)."""

    backend = "postgres"
    outage_errors = (psycopg.OperationalError,)  # PoolTimeout and AdminShutdown are OperationalErrors too

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.location = redact_url(url)
        try:
            self._check_connection()
            kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
            self._pool: ConnectionPool[Any] = ConnectionPool(
                url, min_size=1, max_size=POOL_SIZE, kwargs=kwargs, open=True, timeout=POOL_WAIT_S,
                check=ConnectionPool.check_connection,
            )  # fmt: skip
            self._saver = PostgresSaver(self._pool, serde=strict_serializer())
            self._setup()
        except psycopg.Error as exc:
            raise ResourceError(
                f"PostgreSQL at {self.location} cannot be used for sessions ({_first_line(exc)}); "
                "check FORGE_POSTGRES_URL, or unset it to keep sessions in SQLite."
            ) from exc

    @property
    def saver(self) -> PostgresSaver:
        """The Postgres checkpointer (pooled connections)."""
        return self._saver

    def close(self) -> None:
        """Close the pool."""
        self._pool.close()

    def _check_connection(self) -> None:
        """Fail fast with the server's own words when the URL is wrong or the server is down."""
        with psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            conn.execute("SELECT 1")

    def _setup(self) -> None:
        """Create LangGraph's tables and ours, one process at a time."""
        with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_KEY,))
            try:
                self._saver.setup()
                self._setup_registry()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_KEY,))

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one query and return its rows as tuples."""
        with _reachable(), self._pool.connection() as conn, conn.cursor(row_factory=psycopg.rows.tuple_row) as cur:
            cur.execute(_pg(sql), tuple(params))
            return list(cur.fetchall())

    def _write(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Run statements in one transaction."""
        with _reachable(), self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            for sql, params in statements:
                cur.execute(_pg(sql), tuple(params))

    @contextmanager
    def _lock(self, session_id: str) -> Iterator[None]:
        """Hold the session's advisory lock on a dedicated connection for the duration of the turn."""
        with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            key = lock_key(session_id)
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if not row or not row[0]:
                raise SessionBusy(busy_message(session_id, self.lock_holder(session_id)))
            token = uuid.uuid4().hex
            self._write([(
                "INSERT INTO forge_session_locks (session_id, pid, host, token, heartbeat) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (session_id) DO UPDATE SET pid = EXCLUDED.pid, host = EXCLUDED.host, "
                "token = EXCLUDED.token, heartbeat = EXCLUDED.heartbeat",
                (session_id, os.getpid(), socket.gethostname(), token, time.time()),
            )])  # fmt: skip
            try:
                yield
            finally:
                self._write([(_RELEASE_SQL, (session_id, token))])
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


@contextmanager
def _reachable() -> Iterator[None]:
    """Turn the server being unreachable (down, restarting, a lost connection) into one sentence."""
    try:
        yield
    except psycopg.OperationalError as exc:
        raise ResourceError(DB_UNAVAILABLE) from exc


def lock_key(session_id: str) -> int:
    """A stable signed 64-bit advisory-lock key for a session id."""
    digest = hashlib.blake2b(f"forge-session:{session_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def redact_url(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _pg(sql: str) -> str:
    """Our '?' placeholders in psycopg's style."""
    return sql.replace("?", "%s")


def _first_line(exc: BaseException) -> str:
    """The first line of an error, which for psycopg is the server's message."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
