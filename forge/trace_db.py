"""The trace store's database connection, over SQLite or PostgreSQL, so every query is written once.

Queries use `?` placeholders and the table names `{spans}`, `{runs}`, `{meta}`; `TraceDB.sql` spells them for the
engine: SQLite keeps `spans`/`runs`/`meta` in `traces.sqlite`, PostgreSQL uses `forge_spans`/`forge_runs`/
`forge_trace_meta` (the prefix of the session tables). Both engines accept `INSERT … ON CONFLICT … DO UPDATE`, so
writes differ only in how a write transaction starts. Engine errors become `TraceDBError`.
"""

from __future__ import annotations

import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from knowledge.files import make_private, private_file

#: Where a trace store lives: a SQLite file, or a PostgreSQL URL.
Location = Path | str
CONNECT_TIMEOUT_S = 5
#: Advisory-lock key under which the PostgreSQL trace schema is created, so two processes starting at once do not race.
_SETUP_KEY = 0x0F0_7ACE


class TraceDBError(Exception):
    """The trace database cannot be opened, read or written (the engine's own message is kept)."""


class StoreVersionError(TraceDBError):
    """The trace database was written by another version of the program."""


def describe(location: Location) -> str:
    """The location for messages: the file, or the URL without its password."""
    return str(location) if isinstance(location, Path) else re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", location)


def open_db(location: Location, *, create: bool) -> TraceDB:
    """A connection to the store at `location`; `create` makes the schema where it is missing."""
    db: TraceDB = SqliteTraceDB(location) if isinstance(location, Path) else PostgresTraceDB(location)
    try:
        db.prepare(create=create)
    except BaseException:
        db.close()
        raise
    return db


class TraceDB(ABC):
    """One connection to the trace store; SQL in `?` style with `{spans}`, `{runs}`, `{meta}` table names."""

    tables: ClassVar[dict[str, str]]
    types: ClassVar[dict[str, str]]

    def sql(self, text: str) -> str:
        """A query in this engine's spelling."""
        return text.format(**self.tables, **self.types)

    @abstractmethod
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows (none for writes)."""

    @abstractmethod
    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters."""

    @abstractmethod
    def write(self) -> Any:
        """A context manager: one write transaction, rolled back on error."""

    @abstractmethod
    def prepare(self, *, create: bool) -> None:
        """Create the schema (when asked) and check its version."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    def purge_guard(self) -> Any:
        """A context manager around a purge: SQLite overwrites freed pages and empties the WAL afterwards."""
        return _nothing()

    def check_version(self, expected: int) -> None:
        """Refuse a store written with another schema version than this program's."""
        found = self.rows(self.sql("SELECT value FROM {meta} WHERE key = 'schema_version'"))
        version = int(found[0][0]) if found else 0
        if version != expected:
            raise StoreVersionError(f"schema version {version}, this program reads version {expected}")

    def create_schema(self, schema: str, version: int) -> None:
        """Run the schema's statements and record its version, in one transaction."""
        with self.write():
            for statement in filter(str.strip, self.sql(schema).split(";")):
                self.rows(statement)
            self.rows(self.sql("INSERT INTO {meta} VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING"),
                      (str(version),))  # fmt: skip


@contextmanager
def _nothing() -> Iterator[None]:
    """A context manager that does nothing."""
    yield


class SqliteTraceDB(TraceDB):
    """The store in a SQLite file (WAL), the default."""

    tables: ClassVar[dict[str, str]] = {"spans": "spans", "runs": "runs", "meta": "meta"}
    types: ClassVar[dict[str, str]] = {"int64": "INTEGER", "float": "REAL"}

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def prepare(self, *, create: bool) -> None:
        """Open the file (creating its directory and schema when `create`)."""
        from forge.telemetry import SCHEMA, SCHEMA_VERSION

        try:
            if create:
                make_private(self.path.parent)
            self._conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
            private_file(self.path)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            if create:
                self._conn.executescript(self.sql(SCHEMA))
                self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.Error as exc:
            raise TraceDBError(str(exc)) from exc
        self.check_version(SCHEMA_VERSION)

    def _connection(self) -> sqlite3.Connection:
        """The open connection."""
        if self._conn is None:
            raise TraceDBError("the trace database is closed")
        return self._conn

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows."""
        try:
            return list(self._connection().execute(sql, tuple(params)))
        except sqlite3.Error as exc:
            raise TraceDBError(str(exc)) from exc

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement per row."""
        try:
            self._connection().executemany(sql, rows)
        except sqlite3.Error as exc:
            raise TraceDBError(str(exc)) from exc

    @contextmanager
    def write(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error): writers take the lock up front."""
        self.rows("BEGIN IMMEDIATE")
        try:
            yield
            self.rows("COMMIT")
        except BaseException:
            if self._conn is not None and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise

    @contextmanager
    def purge_guard(self) -> Iterator[None]:
        """secure_delete overwrites freed pages and the checkpoint empties the WAL: purged text must not linger."""
        self.rows("PRAGMA secure_delete = ON")
        yield
        self.rows("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close the file."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PostgresTraceDB(TraceDB):
    """The store in PostgreSQL (`postgres_url`), shared by every process that has the same URL."""

    tables: ClassVar[dict[str, str]] = {"spans": "forge_spans", "runs": "forge_runs", "meta": "forge_trace_meta"}
    types: ClassVar[dict[str, str]] = {"int64": "BIGINT", "float": "DOUBLE PRECISION"}

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None

    def prepare(self, *, create: bool) -> None:
        """Connect; the schema is created (under an advisory lock) whatever `create` says, readers included."""
        import psycopg

        from forge.telemetry import SCHEMA, SCHEMA_VERSION

        try:
            self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise TraceDBError(_first_line(exc)) from exc
        with self.write():
            self.rows("SELECT pg_advisory_xact_lock(?)", (_SETUP_KEY,))
            if not self.rows("SELECT to_regclass(?)", (self.tables["meta"],))[0][0]:
                self.create_schema(SCHEMA, SCHEMA_VERSION)
        self.check_version(SCHEMA_VERSION)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows (psycopg's `%s` placeholders, literal `%` doubled)."""
        import psycopg

        try:
            cursor = self._conn.execute(_pg(sql), tuple(params))
            return list(cursor.fetchall()) if cursor.description else []
        except psycopg.Error as exc:
            raise TraceDBError(_first_line(exc)) from exc

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement per row (pipelined by psycopg)."""
        import psycopg

        try:
            with self._conn.cursor() as cursor:
                cursor.executemany(_pg(sql), [tuple(r) for r in rows])
        except psycopg.Error as exc:
            raise TraceDBError(_first_line(exc)) from exc

    @contextmanager
    def write(self) -> Iterator[None]:
        """One transaction (nested calls become savepoints)."""
        import psycopg

        try:
            with self._conn.transaction():
                yield
        except psycopg.Error as exc:
            raise TraceDBError(_first_line(exc)) from exc

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _pg(sql: str) -> str:
    """Our `?` placeholders in psycopg's style."""
    return sql.replace("%", "%%").replace("?", "%s")


def _first_line(exc: BaseException) -> str:
    """The first line of an error, which for psycopg is the server's message."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
