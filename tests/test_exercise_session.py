"""Exercise sessions end to end: the real SmolLM2, the real item graph, real SQLite and a real PostgreSQL server.

One session is refined over turns in process; then new processes (the real `forge` command) resume it, read every
version and every turn back typed, are refused cleanly on bad input or while another process writes, survive a
kill -9 mid-turn, and delete it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.exercise_session.commands import understand
from forge.services import Services
from forge.sessions.exercises import ExerciseSessions
from forge.telemetry import setup_tracing
from forge.traces import RunFilter, TraceStore
from tests.support.cli_helpers import FORGE, assert_clean_error, run_forge
from tests.support.services_helpers import make_services
from tests.support.session_helpers import pg_url  # noqa: F401  (fixture)

pytest_plugins = ["tests.support.item_fixtures"]


class Flow:
    """The session refined in process, shared by the CLI tests that resume it."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.sessions = ExerciseSessions(services)
        self.id = self.sessions.start("food").id
        self.results = [
            self.sessions.turn(self.id, text)
            for text in ("two reorder exercises about food at A2", "replace item 1", "remove item 2", "export",
                         "show version 1", "undo")
        ]

    def env(self) -> dict[str, str]:
        return {"FORGE_DATA_DIR": str(self.services.settings.data_dir),
                "FORGE_CACHE_DIR": str(self.services.settings.resolved_cache_dir),
                "FORGE_OLLAMA_HOST": "http://127.0.0.1:9"}


@pytest.fixture(scope="module")
def flow(shared_services: Services) -> Flow:
    handle = setup_tracing(shared_services.settings)  # record the flow's turns in its own store
    try:
        return Flow(shared_services)
    finally:
        if handle is not None:
            handle.release()


def test_turns_edit_the_set_and_keep_every_version(flow: Flow) -> None:
    made, replaced, removed, exported, shown, undone = flow.results
    assert made.version == 1 and made.items and all(i.type == "reorder" and i.level == "A2" for i in made.items)
    assert made.topic == "food" and [c.kind for c in made.changes] == ["added"] * len(made.items)
    assert all(item.trace_id == made.trace_id for item in made.items)  # the item runs nest in the turn's trace
    assert replaced.version == 2 and replaced.items[0].id != made.items[0].id
    assert [i.id for i in replaced.items[1:]] == [i.id for i in made.items[1:]]
    assert removed.version == 3 and [i.id for i in removed.items] == [replaced.items[0].id]
    assert exported.version == 3 and exported.export is not None
    sheet = Path(exported.export.markdown_path).read_text()
    assert "## Answer key" in sheet and str(removed.items[0].item.answer) in sheet
    assert json.loads(Path(exported.export.json_path).read_text())["version"] == 3
    assert shown.version == 3 and shown.shown_version == 1 and [i.id for i in shown.items] == [i.id for i in made.items]
    assert undone.version == 4 and [i.id for i in undone.items] == [i.id for i in replaced.items]
    store = flow.services.sessions
    turns = store.turns(flow.id)
    assert [t.role for t in turns] == ["user", "assistant"] * 6
    assert turns[-1].payload["version"] == 4 and turns[0].text == "two reorder exercises about food at A2"
    assert store.get(flow.id).turns == 6 and store.get(flow.id).level == "A2"


def test_each_turn_is_one_exercise_turn_trace(flow: Flow) -> None:
    assert flow.services.tracing is not None and flow.services.tracing.flush()
    with TraceStore.for_data_dir(flow.services.settings.data_dir) as traces:
        runs = traces.runs(RunFilter(session=flow.id, kind="exercise_turn"))
        assert {r.trace_id for r in runs} == {r.trace_id for r in flow.results}
        items = traces.runs(RunFilter(session=flow.id, kind="item"))
        assert items == []  # item runs are children of the turns, not separate traces


def test_a_new_process_resumes_every_version_and_turn(flow: Flow) -> None:
    env = flow.env()
    now = _json("exercises", "--session", flow.id, env=env)
    assert now["version"] == 4 and [i["id"] for i in now["items"]] == [i.id for i in flow.results[-1].items]
    first = _json("exercises", "--session", flow.id[:6], "--version", "1", env=env)
    assert [i["id"] for i in first["items"]] == [i.id for i in flow.results[0].items]
    shown = _json("sessions", "show", flow.id, env=env)
    assert len(shown["turns"]) == 12 and shown["turns"][1]["payload"]["changes"][0]["kind"] == "added"
    listed = _json("sessions", "list", "--kind", "exercises", env=env)
    assert flow.id in [s["id"] for s in listed["sessions"]]


_READ_TYPED = """
import logging, sys
logging.basicConfig(level=logging.WARNING)
from forge.services import Services
from forge.sessions.exercises import ExerciseSessions
from forge.settings import load_settings
from knowledge.items import ITEM_TYPES
versions = ExerciseSessions(Services(load_settings()[0])).versions(sys.argv[1])
items = [i.item for v in versions for i in v.set.items]
assert items and all(isinstance(i, ITEM_TYPES[i.type]) for i in items), items
print(len(versions), sorted({type(i).__name__ for i in items}))
"""


def test_a_new_process_reads_the_items_typed_without_warnings(flow: Flow) -> None:
    proc = subprocess.run([sys.executable, "-c", _READ_TYPED, flow.id], env=os.environ | flow.env(), text=True,
                          capture_output=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "4" and "ReorderItem" in proc.stdout
    assert "Deserializing unregistered type" not in proc.stderr and "WARNING" not in proc.stderr, proc.stderr


def test_bad_input_gets_a_clear_answer_and_changes_nothing(flow: Flow) -> None:
    env = flow.env()
    assert_clean_error(run_forge("exercises", "--session", "no such", "--say", "export", env=env),
                       "not a session id")
    assert_clean_error(run_forge("exercises", "--session", flow.id, "--say", "  ", env=env), "The message is empty")
    assert_clean_error(run_forge("exercises", "--session", flow.id, "--say", "a" * 100_000, env=env),
                       "100,000 characters; at most 2,000")
    assert_clean_error(run_forge("exercises", "--session", flow.id, "--version", "9", env=env), "no version 9")
    foreign = _json("exercises", "--session", flow.id, "--say", "Bonjour, je voudrais des exercices sur la cuisine",
                    env=env)
    assert not foreign["understood"] and "does not look like English" in foreign["reply"]
    assert foreign["version"] == 4 and foreign["changes"] == []


def test_a_second_writer_is_refused_while_the_first_writes(flow: Flow) -> None:
    with flow.services.sessions.writing(flow.id):
        proc = run_forge("exercises", "--session", flow.id, "--say", "remove item 1", env=flow.env())
    assert_clean_error(proc, f"Session {flow.id} is being written by another process (pid {os.getpid()})")
    assert flow.sessions.show(flow.id)[1] == 4  # nothing was written by the refused turn


def test_kill_9_mid_turn_loses_only_that_turn(flow: Flow) -> None:
    before = flow.services.sessions.turns(flow.id)
    env = dict(os.environ) | flow.env()
    proc = subprocess.Popen([*FORGE, "exercises", "--session", flow.id, "--say", "two reorder about school"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_generation(flow, proc)
    time.sleep(1.0)  # inside the item graph's run
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert flow.services.sessions.turns(flow.id) == before
    after = flow.sessions.turn(flow.id, "remove item 1")  # the dead writer's lock does not block
    assert after.version == 5 and len(after.items) == len(flow.results[-1].items) - 1
    assert flow.services.sessions.turns(flow.id)[:-2] == before


def test_delete_removes_the_session(flow: Flow, services: Services) -> None:
    other = ExerciseSessions(services).start("to delete")
    out = _json("sessions", "delete", other.id, env=flow.env())
    assert out == {"deleted": other.id, "kind": "exercises"}
    assert_clean_error(run_forge("sessions", "show", other.id, env=flow.env()), f"No session '{other.id}'")


def test_the_model_fallback_never_invents_an_edit(services: Services) -> None:
    parsed = understand(services.agent_context, "could you bump up the difficulty of number 2 a little")
    assert parsed.commands or parsed.problem
    for command in parsed.commands:
        assert command.source == "model" and set(command.items) <= {2}


@pytest.fixture
def pg_services(pg_url: str, tmp_path: Path, cache_dir: Path) -> Iterator[Services]:  # noqa: F811
    svc = make_services(tmp_path / "pg-data", cache_dir, postgres_url=pg_url)
    yield svc
    svc.close()


def test_sessions_on_postgres_resume_in_a_new_process(pg_services: Services, pg_url: str) -> None:  # noqa: F811
    sessions = ExerciseSessions(pg_services)
    session_id = sessions.start("pg").id
    made = sessions.turn(session_id, "one reorder exercise about travel at A1")
    assert made.version == 1 and len(made.items) <= 1
    undone = sessions.turn(session_id, "undo")
    assert undone.version == 2 and undone.items == []
    env = {"FORGE_POSTGRES_URL": pg_url, "FORGE_DATA_DIR": str(pg_services.settings.data_dir),
           "FORGE_CACHE_DIR": str(pg_services.settings.resolved_cache_dir)}
    proc = run_forge("exercises", "--session", session_id, "--version", "1", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr and "Deserializ" not in proc.stderr
    assert [i["id"] for i in json.loads(proc.stdout)["items"]] == [i.id for i in made.items]
    shown = _json("sessions", "show", session_id, env=env)
    assert [t["role"] for t in shown["turns"]] == ["user", "assistant"] * 2
    with pg_services.sessions.writing(session_id):
        busy = run_forge("exercises", "--session", session_id, "--say", "undo", env=env)
    assert_clean_error(busy, f"is being written by another process (pid {os.getpid()})")


def _json(*args: str, env: dict[str, str]) -> dict[str, object]:
    proc = run_forge(*args, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    data: dict[str, object] = json.loads(proc.stdout)
    return data


def _wait_for_generation(flow: Flow, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    """Wait until the subprocess's turn has been understood and is generating (its checkpoint awaits 'apply')."""
    config = flow.services.sessions.config(flow.id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the turn ended before it could be killed"
        if flow.sessions.graph.get_state(config).next == ("apply",):
            return
        time.sleep(0.1)
    raise AssertionError("the turn never started generating")
