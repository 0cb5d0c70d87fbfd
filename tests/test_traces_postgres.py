"""One trace store for every process (PostgreSQL), and trace loss reported when the store cannot be written.

Real `forge ask` processes over the embedded SmolLM2 (run under the model lock), real PostgreSQL (PF_TEST_POSTGRES_URL;
the restart test runs a server of its own so the shared one is never stopped), and a really full disk: a small
tmpfs mounted in a private mount namespace (`unshare -m`, root only, as CI runs).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents import telemetry
from forge.settings import Settings
from forge.telemetry import LOSS, Redactor, setup_tracing, trace_health
from forge.traces import TraceStore
from tests.support.cli_helpers import FORGE, forge_json, run_forge
from tests.support.deploy import PrivatePostgres
from tests.support.session_helpers import pg_url  # noqa: F401  (fixture)

ASK = ("ask", "Say hello.", "--max-tokens", "4", "--seed", "1", "--temperature", "0")


def ask_in(data_dir: Path, url: str) -> dict[str, object]:
    """One `forge ask` in its own process and data dir, writing traces to PostgreSQL at `url`."""
    out = forge_json(*ASK, env={"FORGE_DATA_DIR": str(data_dir), "FORGE_POSTGRES_URL": url})
    assert isinstance(out, dict) and out["text"]
    return out


def test_two_processes_write_one_trace_store(pg_url: str, tmp_path: Path) -> None:  # noqa: F811
    first, second = ask_in(tmp_path / "machine-a", pg_url), ask_in(tmp_path / "machine-b", pg_url)
    reader = {"FORGE_DATA_DIR": str(tmp_path / "machine-c"), "FORGE_POSTGRES_URL": pg_url}
    runs = forge_json("trace", "list", env=reader)
    assert {r["trace_id"] for r in runs} == {first["trace_id"], second["trace_id"]}
    for run in runs:
        assert run["kind"] == "ask" and run["model_calls"] == 1 and run["span_count"] >= 2
        view = forge_json("trace", "show", run["trace_id"], env=reader)
        assert len(view["roots"]) == 1 and view["roots"][0]["children"]  # one trace: one root with its model call
    assert not (tmp_path / "machine-a" / "traces.sqlite").exists()


def test_the_redaction_salt_is_shared_through_the_database(pg_url: str, tmp_path: Path) -> None:  # noqa: F811
    one = Redactor.for_settings(Settings(data_dir=tmp_path / "a", postgres_url=pg_url))
    two = Redactor.for_settings(Settings(data_dir=tmp_path / "b", postgres_url=pg_url))
    assert one.salt == two.salt and len(one.salt) == 32
    assert not (tmp_path / "a" / "trace-salt").exists() and not (tmp_path / "b" / "trace-salt").exists()
    assert Redactor.for_settings(Settings(data_dir=tmp_path / "c")).salt != one.salt  # SQLite installs: the file


def _run(run_id: str) -> None:
    """One small run (a root and a child span)."""
    with (
        telemetry.run_span("ask", "ask", run_id=run_id, operation="invoke_agent"),
        telemetry.run_span("item", "item_graph", run_id=f"{run_id}-inner"),
    ):
        pass


@pytest.fixture
def own_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of this test's own, to stop and start."""
    if not Path("/usr/lib/postgresql").is_dir():
        pytest.skip("PostgreSQL server binaries are missing (bash .ci/postgres start installs them)")
    with PrivatePostgres() as server:
        yield server


def test_a_restarted_store_loses_only_the_outage(own_postgres: PrivatePostgres, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from tests.support.trace_helpers import invoke_cli

    settings = Settings(data_dir=tmp_path / "data", postgres_url=own_postgres.url)
    handle = setup_tracing(settings, schedule_delay_ms=50)
    assert handle is not None
    dropped_before = LOSS.dropped_spans
    try:
        _run("before")
        assert handle.flush() and trace_health()["ok"]
        own_postgres.stop()
        _run("during")  # the turn itself completes
        handle.flush()
        health = trace_health()
        assert not health["ok"] and health["dropped_spans"] == dropped_before + 2 and health["error"]
        assert handle.dropped_spans == 2
        own_postgres.start()
        _run("after")
        handle.flush()
        assert trace_health()["ok"]
        monkeypatch.setenv("FORGE_POSTGRES_URL", own_postgres.url)
        code, out, err = invoke_cli(monkeypatch, capsys, "trace", "list", "--json")
    finally:
        handle.shutdown()
    assert code == 0
    assert {r["run_id"] for r in json.loads(out)} == {"before", "after"}
    assert err.count("\n") == 1 and "trace spans of this process could not be saved" in err


def _can_mount() -> bool:
    """Whether this process may mount a tmpfs in a private mount namespace (root, unshare allowed)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount(), reason="needs root and unshare -m to mount a small tmpfs")
def test_a_full_disk_loses_the_trace_not_the_answer(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    # Mount a 256 KiB tmpfs (visible to this command only), make the data dir, fill the rest, then ask.
    script = ('mount -t tmpfs -o size=256k tmpfs "$DISK" && mkdir -p "$DISK/data" && '
              '(dd if=/dev/zero of="$DISK/fill" bs=4k 2>/dev/null; true) && exec "$@"')  # fmt: skip
    env = os.environ | {"DISK": str(disk), "FORGE_DATA_DIR": str(disk / "data")}
    done = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *FORGE, *ASK, "--json"], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["text"] and answer["trace_id"]
    assert "Traces are not being saved" in done.stderr and "full" in done.stderr
    assert "trace spans were not saved" in done.stderr
    assert not (disk / "data").exists()  # the tmpfs went away with its namespace


def test_sqlite_stays_the_default(tmp_path: Path) -> None:
    proc = run_forge("trace", "list", "--json", env={"FORGE_DATA_DIR": str(tmp_path / "d")})
    assert proc.returncode == 0 and json.loads(proc.stdout) == [] and not proc.stderr
    assert TraceStore.for_settings(Settings(data_dir=tmp_path / "d")).path == tmp_path / "d" / "traces.sqlite"
