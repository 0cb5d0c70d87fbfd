"""`forge bench load`: the lost/mixed checker on hand-made histories, and a short real run against `forge serve`.

The real run starts `forge serve` (SQLite, the real SmolLM2; run under the model lock) with one admin account,
runs `forge bench load --json` as a subprocess with 2 learners and 1 teacher for about 20 s, and checks the
figures and that the bench removed the accounts it made.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from forge.bench.load import Learner, SentTurn, check_histories
from tests.support.deploy import forge_command
from tests.support.services_helpers import make_services
from tests.support.web_helpers import PASSWORD, add_user, free_port

#: No Ollama to escalate to (refused at once), as the other server tests.
SERVE_ENV = {"FORGE_OLLAMA_HOST": "http://127.0.0.1:9", "FORGE_OLLAMA_RETRIES": "0", "FORGE_LOCAL_TIMEOUT_S": "60"}


def _turns(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    """A history from (user text, assistant text) pairs."""
    return [t for user, reply in pairs for t in ({"role": "user", "text": user}, {"role": "assistant", "text": reply})]


def _two_learners() -> tuple[Learner, Learner]:
    """Ana (marker qaba) and Ben (marker qebe), each with two answered turns in a clean history."""
    ana = Learner("ana", "qaba", "s1", [SentTurn("qaba1", "Nice!"), SentTurn("qaba2", "Tell me more.")])
    ana.history = _turns(("I go home (qaba1)", "Nice!"), ("I like tea (qaba2)", "Tell me more."))
    ben = Learner("ben", "qebe", "s2", [SentTurn("qebe1", "Where is it?"), SentTurn("qebe2", "Why?")])
    ben.history = _turns(("My city is big (qebe1)", "Where is it?"), ("I hate rain (qebe2)", "Why?"))
    return ana, ben


def test_clean_histories_have_nothing_lost_or_mixed() -> None:
    result = check_histories(list(_two_learners()))
    assert (result.lost, result.mixed) == (0, 0)


def test_a_turn_missing_from_the_history_is_lost() -> None:
    ana, ben = _two_learners()
    ana.history = ana.history[2:]  # the first turn answered 200 but never stored
    result = check_histories([ana, ben])
    assert (result.lost, result.mixed) == (1, 0)
    assert "qaba1" in result.examples[0]


def test_turns_out_of_order_count_as_lost() -> None:
    ana, ben = _two_learners()
    ana.history = ana.history[2:] + ana.history[:2]
    assert check_histories([ana, ben]).lost == 1


def test_a_message_of_another_learner_in_a_history_is_mixed() -> None:
    ana, ben = _two_learners()
    ben.history += _turns(("I go home (qaba3)", "Good."))
    result = check_histories([ana, ben])
    assert (result.lost, result.mixed) == (0, 1)
    assert "ben" in result.examples[0] and "ana" in result.examples[0]


def test_a_reply_of_another_learners_turn_is_mixed() -> None:
    ana, ben = _two_learners()
    ana.sent[1] = SentTurn("qaba2", "Where is it?")  # ana was answered with ben's reply
    assert check_histories([ana, ben]).mixed == 1


def test_the_same_reply_to_the_same_message_is_not_mixed() -> None:
    ana, ben = _two_learners()  # both get the canned greeting; ana's stored turn also carries an offered exercise
    ana.sent[1] = SentTurn("qaba2", "Nice to meet you!")
    ana.history[3]["text"] = "Nice to meet you!\n\nWrite one word in the gap."
    ben.sent[1] = SentTurn("qebe2", "Nice to meet you!")
    ben.history[3]["text"] = "Nice to meet you!"
    assert check_histories([ana, ben]).mixed == 0


# the real run


@pytest.fixture
def server(tmp_path: Path, built_cache: Path) -> Iterator[str]:
    """`forge serve` on SQLite in this test's data dir, with the admin account `boss`."""
    data_dir = Path(os.environ["FORGE_DATA_DIR"])
    services = make_services(data_dir, built_cache)
    add_user(services, "boss", "admin")
    services.close()
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([*forge_command(), "serve", "--port", str(port)], env=os.environ | SERVE_ENV,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    """Until the server answers /healthz (a RuntimeError if it dies or never does)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("forge serve did not become healthy")
        time.sleep(0.3)


def _bench(url: str, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    """`forge bench load` as a subprocess, the admin's password on standard input."""
    return subprocess.run([*forge_command(), "bench", "load", "--url", url, "--admin", "boss", "--password-stdin",
                           *args], input=password + "\n", capture_output=True, text=True, timeout=900)  # fmt: skip


@pytest.mark.slow
def test_load_run_against_a_real_server(server: str) -> None:
    done = _bench(server, "--learners", "2", "--teachers", "1", "--seconds", "20", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["turns"] > 0
    assert (report["lost"], report["mixed"]) == (0, 0)
    assert report["accounts_left"] == []
    assert set(report["latency"]) == {"turn", "exercise", "page", "traces"}
    assert " s: " in done.stderr  # a progress line
    with httpx.Client(base_url=server) as http:
        csrf = http.post("/api/login", json={"username": "boss", "password": PASSWORD}).json()["csrf"]
        names = [u["name"] for u in http.get("/api/users", headers={"X-CSRF-Token": csrf}).json()]
    assert names == ["boss"]
    assert max(len(line) for line in _text(report).splitlines()) <= 80


def _text(report: dict[str, Any]) -> str:
    """What `forge bench load` prints for this report, on a console wider than 80 columns."""
    from forge.cli import bench

    out = io.StringIO()
    saved, bench.console = bench.console, Console(file=out, width=200, color_system=None)
    try:
        bench._print_load(report)
    finally:
        bench.console = saved
    return out.getvalue()


def test_a_wrong_admin_password_is_one_sentence(tmp_path: Path, cache_dir: Path) -> None:
    from tests.support.web_helpers import live_server

    services = make_services(tmp_path / "data", cache_dir)
    add_user(services, "boss", "admin")
    with live_server(services) as base:  # no model: the bench stops at the admin's login
        done = _bench(base, "--seconds", "1", password="not the password")
    services.close()
    assert done.returncode == 2
    said = " ".join(done.stderr.split())
    assert "Wrong user name or password" in said and "Traceback" not in said


def test_an_unreachable_url_is_one_sentence() -> None:
    done = _bench(f"http://127.0.0.1:{free_port()}", "--seconds", "1")
    assert done.returncode == 2
    said = " ".join(done.stderr.split())
    assert "No forge server answers at" in said and "Traceback" not in said


def test_admin_json_routes_add_and_remove_accounts(tmp_path: Path, cache_dir: Path) -> None:
    from tests.support.web_helpers import ApiClient, live_server

    services = make_services(tmp_path / "data", cache_dir)
    add_user(services, "boss", "admin")
    add_user(services, "ana", "learner")
    with live_server(services) as base, ApiClient(base, "boss") as admin, ApiClient(base, "ana") as ana:
        body = {"name": "ben", "role": "teacher", "password": PASSWORD, "class": "7b"}
        assert admin.http.post("/api/users", json=body).status_code == 403  # no CSRF token
        assert ana.post("/api/users", body, expect=403)
        assert admin.post("/api/users", body, expect=201)["class"] == "7b"
        assert "already exists" in admin.post("/api/users", body, expect=400)["error"]
        assert [u["name"] for u in admin.get("/api/users")] == ["ana", "ben", "boss"]
        gone = admin.http.delete("/api/users/ben", headers={"X-CSRF-Token": admin.csrf})
        assert gone.status_code == 200 and gone.json()["name"] == "ben"
        again = admin.http.delete("/api/users/ben", headers={"X-CSRF-Token": admin.csrf})
        assert again.status_code == 404
        own = admin.http.delete("/api/users/boss", headers={"X-CSRF-Token": admin.csrf})
        assert own.status_code == 400
    services.close()
