"""The session store on real SQLite and a real PostgreSQL server: registry, typed checkpoints read back in a new
process without warnings, writer locks across processes, and recovery from a holder killed with -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from forge.sessions import SessionBusy, SessionStore, open_store
from knowledge.errors import ResourceError, UserInputError
from tests.support.session_helpers import pg_url  # noqa: F401  (fixture)

HELPER = [sys.executable, "-m", "tests.support.session_helpers"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """(data dir, url or '-') for each backend; postgres gets its own schema."""
    if request.param == "sqlite":
        yield tmp_path / "data", "-"
    else:
        yield tmp_path / "data", request.getfixturevalue("pg_url")


@pytest.fixture
def store(backend: tuple[Path, str]) -> Iterator[SessionStore]:
    data_dir, url = backend
    opened = open_store(data_dir, None if url == "-" else url)
    yield opened
    opened.close()


def _helper(backend: tuple[Path, str], session_id: str, say: str, **env: str) -> subprocess.Popen[str]:
    data_dir, url = backend
    return subprocess.Popen(
        [*HELPER, str(data_dir), url, session_id, say], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ) | env,
    )


def test_registry(store: SessionStore) -> None:
    a = store.create("exercises", title="food at A2", level="A2")
    b = store.create("tutor", title="hello")
    assert store.get(a.id).title == "food at A2"
    assert store.get(a.id[:6]).id == a.id
    assert {s.id for s in store.list()} == {a.id, b.id}
    assert [s.id for s in store.list(kind="tutor")] == [b.id]
    store.touch(a.id, turns=3, level="B1", title="food")
    got = store.get(a.id)
    assert (got.turns, got.level, got.title) == (3, "B1", "food")
    assert got.updated >= got.created
    assert store.list()[0].id == a.id
    with pytest.raises(UserInputError, match="is a tutor session"):
        store.get(b.id, kind="exercises")
    with pytest.raises(UserInputError, match="No session 'nosuchsession'"):
        store.get("nosuchsession")
    with pytest.raises(UserInputError, match="not a session id"):
        store.get("../../etc")
    store.delete(a.id)
    with pytest.raises(UserInputError, match="No session"):
        store.get(a.id)


def test_typed_state_survives_a_new_process_without_warnings(store: SessionStore, backend: tuple[Path, str]) -> None:
    info = store.create("exercises")
    write = _helper(backend, info.id, "first")
    out, err = write.communicate(timeout=120)
    assert write.returncode == 0, err
    read = _helper(backend, info.id, "read")
    out, err = read.communicate(timeout=120)
    assert read.returncode == 0, err
    assert out.split() == ["Box", "Level", "Turn"]
    assert "Deserializ" not in err and "WARNING" not in err, err
    turns = store.turns(info.id)
    assert [(t.role, t.text) for t in turns] == [("user", "first"), ("assistant", "ok")]
    assert store.get(info.id).turns == 1


def test_second_writer_gets_a_clear_error_and_a_killed_holder_does_not_block(
    store: SessionStore, backend: tuple[Path, str]
) -> None:
    info = store.create("exercises")
    holder = _helper(backend, info.id, "slow", TOY_DELAY_S="60")
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "in-turn"
    busy = rf"Session {info.id} is being written by another process \(pid {holder.pid}\)"
    with pytest.raises(SessionBusy, match=busy), store.writing(info.id):
        pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    assert store.turns(info.id) == []  # the turn in flight is lost, nothing else
    again = _helper(backend, info.id, "after kill")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert [t.text for t in store.turns(info.id)] == ["after kill", "ok"]


def test_same_session_twice_in_one_process(store: SessionStore) -> None:
    info = store.create("tutor")
    nested = pytest.raises(SessionBusy, match="another turn in this process")
    with store.writing(info.id), nested, store.writing(info.id):
        pass
    with store.writing(info.id):  # released
        pass


def test_delete_removes_checkpoints(store: SessionStore, backend: tuple[Path, str]) -> None:
    info = store.create("exercises")
    proc = _helper(backend, info.id, "one")
    assert proc.wait(timeout=120) == 0
    assert store.saver.get_tuple(store.config(info.id)) is not None
    store.delete(info.id)
    assert store.saver.get_tuple(store.config(info.id)) is None


def test_unusable_databases_are_resource_errors(tmp_path: Path) -> None:
    data = tmp_path / "bad"
    data.mkdir()
    (data / "sessions.sqlite").write_text("not a database " * 100)
    with pytest.raises(ResourceError, match="cannot be used"):
        open_store(data)
    with pytest.raises(ResourceError, match=r"FORGE_POSTGRES_URL"):
        open_store(data, "postgresql://nobody:secret@/nodb?host=/nonexistent&port=1")
