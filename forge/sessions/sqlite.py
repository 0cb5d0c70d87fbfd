"""SQLite backend: LangGraph's `SqliteSaver`, the registry and a lock table in one WAL-mode file in the data dir.

The writer lock is a row (pid, host, heartbeat) taken in an IMMEDIATE transaction. A row whose process is gone
(checked with the pid on this host) or whose heartbeat stopped is stale and is taken over, so a process killed
with -9 never blocks resuming its session.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver

from forge.sessions.serde import strict_serializer
from forge.sessions.store import SessionBusy, SessionStore, busy_message
from knowledge.errors import ResourceError
from knowledge.files import make_private, private_file

FILE_NAME = "sessions.sqlite"
#: Seconds a writer waits for another's SQLite transaction before giving up.
BUSY_TIMEOUT_S = 30.0
#: A lock holder refreshes its heartbeat this often ...
HEARTBEAT_S = 5.0
#: ... and a lock whose heartbeat is older than this is stale even if its pid exists (pid reuse, other host).
STALE_AFTER_S = 60.0


class SqliteSessionStore(SessionStore):
    """Sessions in `<data_dir>/sessions.sqlite`."""

    backend = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.location = str(path)
        try:
            make_private(path.parent)
            conn = sqlite3.connect(path, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
            private_file(path)
            self._saver = SqliteSaver(conn, serde=strict_serializer())
            self._saver.setup()
            self._setup_registry()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise ResourceError(
                f"The session database {path} cannot be used ({exc}); move it away or set FORGE_DATA_DIR elsewhere."
            ) from exc

    @property
    def saver(self) -> SqliteSaver:
        """The SQLite checkpointer (shared connection, serialised by the saver's own lock)."""
        return self._saver

    def close(self) -> None:
        """Close the checkpointer's connection."""
        self._saver.conn.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A short-lived connection in autocommit mode (transactions are explicit)."""
        with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)) as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """An IMMEDIATE transaction: the write lock is taken at BEGIN, so read-then-write is atomic."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one query and return its rows."""
        with self._connect() as conn:
            return list(conn.execute(sql, tuple(params)).fetchall())

    def _write(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Run statements in one transaction."""
        with self._transaction() as conn:
            for sql, params in statements:
                conn.execute(sql, tuple(params))

    @contextmanager
    def _lock(self, session_id: str) -> Iterator[None]:
        """Take the lock row, keep its heartbeat fresh while the turn runs, and remove it afterwards."""
        token = uuid.uuid4().hex
        self._acquire(session_id, token)
        beat = _Heartbeat(self, session_id, token)
        beat.start()
        try:
            yield
        finally:
            beat.stop()
            self._write([("DELETE FROM forge_session_locks WHERE session_id = ? AND token = ?", (session_id, token))])

    def _acquire(self, session_id: str, token: str) -> None:
        """Write our lock row unless a live holder has one."""
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT pid, host, heartbeat FROM forge_session_locks WHERE session_id = ?", (session_id,)
            ).fetchone()
            if row is not None and holder_alive(int(row[0]), str(row[1]), float(row[2])):
                raise SessionBusy(busy_message(session_id, int(row[0])))
            conn.execute(
                "INSERT OR REPLACE INTO forge_session_locks (session_id, pid, host, token, heartbeat) "
                "VALUES (?, ?, ?, ?, ?)",
                (session_id, os.getpid(), socket.gethostname(), token, time.time()),
            )


class _Heartbeat:
    """A daemon thread refreshing a lock row's heartbeat until stopped."""

    def __init__(self, store: SqliteSessionStore, session_id: str, token: str) -> None:
        self._store, self._session_id, self._token = store, session_id, token
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"session-lock-{session_id}", daemon=True)

    def start(self) -> None:
        """Start beating."""
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and wait for the thread."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        """Refresh the heartbeat every HEARTBEAT_S seconds; a failed refresh is retried at the next beat."""
        sql = "UPDATE forge_session_locks SET heartbeat = ? WHERE session_id = ? AND token = ?"
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self._store._write([(sql, (time.time(), self._session_id, self._token))])
            except sqlite3.Error:
                continue


def holder_alive(pid: int, host: str, heartbeat: float) -> bool:
    """Whether a lock row's holder may still be writing: a recent heartbeat and, on this host, a live process."""
    if time.time() - heartbeat > STALE_AFTER_S:
        return False
    return host != socket.gethostname() or pid_alive(pid)


def pid_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (a killed child its parent has not reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
