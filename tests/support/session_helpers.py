"""Helpers for session tests: a real PostgreSQL schema per test (when PF_TEST_POSTGRES_URL is set) and a toy
session graph whose state holds our own types, run in subprocesses to check resuming in a new process."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel
from typing_extensions import TypedDict

from forge.sessions import SessionStore, Turn, Turns, open_store, user_turns
from knowledge.levels import Level

PG_ENV = "PF_TEST_POSTGRES_URL"
#: Named outside the FORGE_* namespace, which the settings loader checks strictly.
_PG_URL = os.environ.get(PG_ENV) or None


def postgres_url() -> str | None:
    """The test server's URL, or None (tests needing it are skipped outside CI)."""
    return _PG_URL


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped after the test."""
    base = postgres_url()
    if base is None:
        pytest.skip(f"{PG_ENV} is not set (.ci/run starts a PostgreSQL server and sets it)")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


class Box(BaseModel):
    """A typed value inside the toy state."""

    level: Level
    words: list[str]


class ToyState(TypedDict, total=False):
    """A session state with our own types and a turn log."""

    say: str
    box: Box
    turns: Turns


def _turn(state: ToyState) -> dict[str, object]:
    delay = float(os.environ.get("TOY_DELAY_S", "0"))
    if delay:
        print("in-turn", flush=True)
        time.sleep(delay)
    box = Box(level=Level.B1, words=[state["say"]])
    return {"box": box, "turns": [Turn(role="user", text=state["say"]), Turn(role="assistant", text="ok")]}


def toy_graph(store: SessionStore) -> object:
    """Compile the toy graph over the store's checkpointer."""
    graph = StateGraph(ToyState)
    graph.add_node("turn", _turn)
    graph.add_edge(START, "turn")
    graph.add_edge("turn", END)
    return graph.compile(checkpointer=store.checkpointer_for(ToyState))


def main() -> None:
    """`python -m tests.support.session_helpers DATA_DIR URL|- SESSION SAY`: one toy turn; or `read` to print types."""
    data_dir, url, session_id, say = sys.argv[1:5]
    store = open_store(Path(data_dir), None if url == "-" else url)
    app = toy_graph(store)
    if say == "read":
        values = app.get_state(store.config(session_id)).values  # type: ignore[attr-defined]
        print(type(values["box"]).__name__, type(values["box"].level).__name__, type(values["turns"][0]).__name__)
        return
    with store.writing(session_id):
        out = app.invoke({"say": say}, store.config(session_id), durability="sync")  # type: ignore[attr-defined]
        store.touch(session_id, turns=user_turns(out["turns"]))
    print("done", flush=True)


if __name__ == "__main__":
    main()
