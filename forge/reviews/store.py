"""Reviews and generated items in the session database (SQLite by default, PostgreSQL when configured).

Each review is one row written in one transaction, never updated or deleted by the program: a process killed with
-9 either wrote the whole row or nothing, and two teachers (or two processes) reviewing the same item both keep
theirs. The items `forge generate` made are kept too, so a review can name one by its run id days later.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from pydantic import BaseModel

from forge.sessions.store import SessionStore
from knowledge.errors import ResourceError, UserInputError
from knowledge.reviews import Review

#: How many ids a prefix may match before it must be longer.
_PREFIX_LIMIT = 3
_INSERT_REVIEW = (
    "INSERT INTO forge_reviews (id, item_id, decision, reason, reviewer, time, source, session_id, "
    "set_version, run_id, trace_id, type, level, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class GeneratedItem(BaseModel):
    """One item `forge generate` made, as stored: its run, trace and the record `--json` prints."""

    run_id: str
    trace_id: str | None
    time: datetime
    type: str
    level: str
    topic: str
    status: str
    record: dict[str, Any]


class ReviewFilter(BaseModel):
    """Which reviews to list: every field that is set must match."""

    item_id: str | None = None
    session_id: str | None = None
    trace_id: str | None = None
    reviewer: str | None = None
    decision: str | None = None
    type: str | None = None
    level: str | None = None
    limit: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition and its parameters."""
        columns = ("item_id", "session_id", "trace_id", "reviewer", "decision", "type", "level")
        pairs = [(c, getattr(self, c)) for c in columns if getattr(self, c) is not None]
        clause = " AND ".join(f"{c} = ?" for c, _ in pairs)
        return (f"WHERE {clause}" if clause else ""), [v for _, v in pairs]


class ReviewStore:
    """Reviews and generated items over the session store's database."""

    def __init__(self, sessions: SessionStore) -> None:
        self.sessions = sessions

    # reviews

    def add(self, review: Review) -> Review:
        """Store one review (one row, one transaction)."""
        return self.add_many([review])[0]

    def add_many(self, reviews: Sequence[Review]) -> list[Review]:
        """Store several reviews in one transaction: all of them or none."""
        with _database(self.sessions.location):
            self.sessions.execute([(_INSERT_REVIEW, _params(r)) for r in reviews])
        return list(reviews)

    def find(self, flt: ReviewFilter | None = None) -> list[Review]:
        """Reviews matching the filter, oldest first (the newest `limit` when a limit is set)."""
        where, params = (flt or ReviewFilter()).where()
        limit = f" LIMIT {int(flt.limit)}" if flt and flt.limit else ""
        with _database(self.sessions.location):
            rows = self.sessions.query(f"SELECT body FROM forge_reviews {where} ORDER BY time DESC{limit}", params)
        return [Review.model_validate_json(str(r[0])) for r in reversed(rows)]

    def get(self, ident: str) -> Review:
        """One review by its id or a unique prefix of it."""
        rows = self._by_prefix("forge_reviews", "id", "body", ident)
        if not rows:
            raise UserInputError(f"No review {ident!r}; `forge review list` shows the reviews and their ids.")
        return Review.model_validate_json(str(rows[0][0]))

    def for_trace(self, trace_id: str) -> list[Review]:
        """Every review of the item a trace made."""
        return self.find(ReviewFilter(trace_id=trace_id))

    # generated items

    def keep_generated(self, records: Sequence[dict[str, Any]]) -> None:
        """Store the items one `forge generate` run made (failed ones are not items and are skipped)."""
        sql = (
            "INSERT INTO forge_generated (run_id, trace_id, time, type, level, topic, status, record) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING"
        )
        now = datetime.now().astimezone().isoformat()
        statements = [
            (sql, (r["run_id"], r.get("trace_id"), now, r["type"], r["level"], r["topic"], r["status"],
                   json.dumps(r, ensure_ascii=False)))
            for r in records if r.get("run_id") and r.get("status") in ("accepted", "flagged")
        ]
        if statements:
            with _database(self.sessions.location):
                self.sessions.execute(statements)

    def generated(self, ident: str) -> GeneratedItem | None:
        """The generated item with this run id (or unique prefix), if any."""
        columns = "run_id, trace_id, time, type, level, topic, status, record"
        rows = self._by_prefix("forge_generated", "run_id", columns, ident)
        if not rows:
            return None
        run_id, trace_id, time, kind, level, topic, status, record = rows[0]
        return GeneratedItem(run_id=run_id, trace_id=trace_id, time=datetime.fromisoformat(str(time)), type=kind,
                             level=level, topic=topic, status=status, record=json.loads(record))

    def _by_prefix(self, table: str, column: str, columns: str, ident: str) -> list[tuple[Any, ...]]:
        """Rows whose key is the ident or starts with it; several matches of a prefix are an error."""
        pattern = ident.replace("!", "!!").replace("_", "!_").replace("%", "!%") + "%"
        with _database(self.sessions.location):
            exact = self.sessions.query(f"SELECT {columns} FROM {table} WHERE {column} = ?", (ident,))
            if exact or len(ident) < 4:
                return exact
            rows = self.sessions.query(
                f"SELECT {columns} FROM {table} WHERE {column} LIKE ? ESCAPE '!' LIMIT {_PREFIX_LIMIT}", (pattern,)
            )
        if len(rows) > 1:
            raise UserInputError(f"{ident!r} matches several ids; give more characters.")
        return rows


@contextmanager
def _database(location: str) -> Iterator[None]:
    """Turn the database's own errors into one sentence naming where the reviews live."""
    try:
        yield
    except (sqlite3.Error, psycopg.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ResourceError(f"The review store at {location} cannot be used ({first}); nothing was stored.") from exc


def _params(review: Review) -> tuple[Any, ...]:
    """A review's row values, in the INSERT's column order."""
    return (
        review.id, review.item_id, review.decision, review.reason, review.reviewer, review.time.isoformat(),
        review.source, review.session_id, review.set_version, review.run_id, review.trace_id, review.type,
        review.level, review.model_dump_json(),
    )
