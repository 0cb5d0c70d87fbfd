"""Persistent, resumable sessions: LangGraph checkpoints, a session registry and per-session writer locks.

One database holds everything: SQLite at `<data_dir>/sessions.sqlite` by default, PostgreSQL when `postgres_url`
(FORGE_POSTGRES_URL) is set. The application gets the store from `Services.sessions`; tests and tools can call
`open_store(data_dir, postgres_url)` directly.

How a session graph uses it (tutoring and exercise sessions do exactly this)::

    store = services.sessions                                   # a SessionStore
    graph = build_tutor_graph(ctx, checkpointer=store.checkpointer_for(TutorState))

    info = store.create("tutor", title=first_message[:60], level="A2")       # new session, fresh id
    info = store.get(session_id, kind="tutor")   # resume: UserInputError (exit 2) if unknown or of another kind
    with store.writing(info.id):                 # SessionBusy (a UserInputError) if another process writes it
        with telemetry.run_span("tutoring_turn", "tutor_graph", run_id=run_id, conversation_id=info.id):
            out = graph.invoke(turn_input, store.config(info.id), durability="sync")
        store.touch(info.id, turns=user_turns(out["turns"]), level=str(out["level"]))   # registry row

    store.turns(session_id)                      # every completed Turn, read from the checkpoint, any kind
    store.list(kind=None) / store.delete(session_id)

Rules for session graphs, so `forge sessions show` works for every kind and kill -9 loses at most the turn in
flight:

- The state has `turns: Turns` (`graphs.turns`): a list of `Turn(role, text, time, payload)` with an appending
  reducer. `payload` is plain JSON (what the turn produced: corrections, level estimate, version, changes...).
- The *last* node of a turn returns the turn's visible results (the two `Turn`s, the learner model, the new
  version...) in one update. Earlier nodes write only scratch fields the next turn overwrites. The checkpointer
  commits per super-step, so the checkpoint that records a turn is the one that completes it; a killed process
  leaves an unfinished step behind, which the next `invoke` with new input discards.
- Compile with `store.checkpointer_for(YourState)`: its serializer revives exactly the pydantic models, dataclasses
  and enums reachable from the schema (and `Turn`), so a new process gets typed state back, with no warnings.
- Keep enums such as `Level` inside pydantic models rather than as top-level state fields: PostgresSaver stores
  top-level str values inline as JSON, so a top-level `Level` (a StrEnum) comes back as a plain str there.
- Hold `store.writing(id)` around the whole turn. The lock is per session and per process: SQLite keeps a row with
  pid + heartbeat (a dead pid or a stale heartbeat is taken over), PostgreSQL an advisory lock on a dedicated
  connection (released by the server when the process dies). The error reads "Session X is being written by
  another process (pid N); try again when it finishes."
- `forge bench sessions` (forge/bench/sessions.py) drives these sessions through their public API; nothing here
  imports the bench.
- `store.touch` after the turn keeps the registry's turn count, level and title current (`forge sessions list`);
  if a process dies between the commit and `touch`, only that count lags until the next turn.
"""

from __future__ import annotations

from pathlib import Path

from forge.sessions.store import (
    SESSION_KINDS,
    SessionBusy,
    SessionInfo,
    SessionKind,
    SessionStore,
    check_session_id,
    new_session_id,
)
from graphs.turns import Turn, Turns, user_turns


def open_store(data_dir: Path, postgres_url: str | None = None) -> SessionStore:
    """The session store: PostgreSQL if a URL is given, else SQLite in the data dir."""
    if postgres_url:
        from forge.sessions.postgres import PostgresSessionStore

        return PostgresSessionStore(postgres_url)
    from forge.sessions.sqlite import FILE_NAME, SqliteSessionStore

    return SqliteSessionStore(data_dir / FILE_NAME)


__all__ = [
    "SESSION_KINDS",
    "SessionBusy",
    "SessionInfo",
    "SessionKind",
    "SessionStore",
    "Turn",
    "Turns",
    "check_session_id",
    "new_session_id",
    "open_store",
    "user_turns",
]
