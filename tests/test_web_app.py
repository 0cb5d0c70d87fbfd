"""The web app's core, through a real uvicorn server: accounts and roles, CSRF, limits, the JSON API contract over
the real SmolLM2 (a tutoring turn is `forge tutor --say --json`), streaming through the model queue, the queue's
fairness, `forge users` and `forge serve`, and the data directory's permissions.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from forge.services import Services
from forge.web.accounts import MAX_FAILURES, Accounts
from forge.web.queue import STALE_AFTER_S, STOPPED, Cursor, JobTable, ModelQueue
from tests.support.cli_helpers import FORGE, assert_clean_error, run_forge
from tests.support.services_helpers import make_services
from tests.support.session_helpers import pg_url  # noqa: F401  (fixture)
from tests.support.web_helpers import PASSWORD, ApiClient, add_user, free_port, job_events, live_server

ERROR_SENTENCE = "Yesterday I go to the cinema with my friend."


@pytest.fixture
def services(isolated_env: Path, cache_dir: Path) -> Iterator[Services]:
    """Real services over this test's data dir."""
    svc = make_services(isolated_env, cache_dir)
    yield svc
    svc.close()


@pytest.fixture
def server(services: Services) -> Iterator[str]:
    """A live server with one account of each role (ana and eve are learners of class 7b, bo teaches it)."""
    for name, role, klass in (("ana", "learner", "7b"), ("eve", "learner", "7c"), ("bo", "teacher", "7b"),
                              ("rex", "researcher", None), ("root", "admin", None)):  # fmt: skip
        add_user(services, name, role, class_name=klass)
    with live_server(services) as base:
        yield base


# accounts


def test_passwords_are_hashed_with_argon2_and_checked(services: Services) -> None:
    accounts = Accounts(services.sessions)
    accounts.add("ana", "learner", PASSWORD, "7b")
    stored = services.sessions.query("SELECT password_hash FROM forge_users WHERE name = 'ana'")[0][0]
    assert str(stored).startswith("$argon2id$") and PASSWORD not in str(stored)
    assert accounts.authenticate("ana", PASSWORD).role == "learner"
    with pytest.raises(ValueError, match="Wrong user name or password"):
        accounts.authenticate("ana", "wrong password")
    with pytest.raises(ValueError, match="Wrong user name or password"):
        accounts.authenticate("nobody", PASSWORD)


def test_accounts_on_postgresql_are_shared_between_processes(
    isolated_env: Path, cache_dir: Path, pg_url: str  # noqa: F811
) -> None:  # fmt: skip
    """Two app processes over one PostgreSQL: an account, a login and ownership made by one are seen by the other."""
    first = make_services(isolated_env / "one", cache_dir, postgres_url=pg_url)
    second = make_services(isolated_env / "two", cache_dir, postgres_url=pg_url)
    try:
        one, two = Accounts(first.sessions), Accounts(second.sessions)
        one.add("ana", "learner", PASSWORD, "7b")
        token, login = two.open_login(two.authenticate("ana", PASSWORD))
        found = one.login(token)
        assert found is not None and found.csrf == login.csrf and found.user.class_name == "7b"
        one.own("session", "abcd1234", "ana")
        assert two.owner_of("session", "abcd1234") == "ana"
        for _ in range(MAX_FAILURES):
            with pytest.raises(ValueError):
                one.authenticate("ana", "not the password")
        with pytest.raises(ValueError, match="Too many failed logins"):
            two.authenticate("ana", PASSWORD)
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(("name", "role", "password", "message"), [
    ("Ana Smith", "learner", PASSWORD, "is not a user name"),
    ("ana", "pupil", PASSWORD, "accepted roles are learner, teacher, researcher, admin"),
    ("ana", "learner", "short", "8-256 characters"),
])  # fmt: skip
def test_bad_accounts_are_refused_with_one_sentence(
    services: Services, name: str, role: str, password: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Accounts(services.sessions).add(name, role, password)


def test_login_contract_cookie_and_throttling(server: str) -> None:
    with httpx.Client(base_url=server) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        wrong = http.post("/api/login", json={"username": "ana", "password": "not it at all"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "Wrong user name or password."
        good = http.post("/api/login", json={"username": "ana", "password": PASSWORD})
        assert good.status_code == 200 and good.json()["role"] == "learner"
        cookie = good.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert http.get("/api/me").json()["user"] == "ana"
        for _ in range(MAX_FAILURES):
            http.post("/api/login", json={"username": "bo", "password": "guessing wrong"})
        throttled = http.post("/api/login", json={"username": "bo", "password": PASSWORD})
        assert throttled.status_code == 429 and "Too many failed logins" in throttled.json()["error"]
        assert int(throttled.headers["retry-after"]) > 0


def test_roles_csrf_and_limits(server: str) -> None:
    with ApiClient(server, "ana") as ana, ApiClient(server, "rex") as rex:
        # a learner has no trace routes, a researcher no tutor
        assert ana.get("/api/traces", expect=403)["status"] == 403
        assert ana.http.get("/admin", follow_redirects=False).status_code == 403
        rex.post("/api/tutor", {"message": "Hello there."}, expect=403)
        # no CSRF token: refused before anything runs
        bare = ana.http.post("/api/tutor", json={"message": "Hello there."})
        assert bare.status_code == 403 and "security token" in bare.json()["error"]
        # a 1 MB message: 413 with one sentence, nothing queued
        huge = ana.http.post("/api/tutor", content=json.dumps({"message": "a" * 1_000_000}),
                             headers={"X-CSRF-Token": ana.csrf, "Content-Type": "application/json"})  # fmt: skip
        assert huge.status_code == 413 and "larger than" in huge.json()["error"]
        # an empty message and an unknown session: one sentence each
        assert "empty" in ana.post("/api/tutor", {"message": "   "}, expect=400)["error"]
        assert ana.post("/api/tutor", {"message": "Hi.", "session": "nosuchsession"}, expect=404)["status"] == 404
        assert ana.get("/api/tutor/nosuchsession", expect=404)["status"] == 404
        # the framework's own errors answer with one sentence too
        wrong_type = ana.http.post("/api/tutor", json={"message": 42}, headers={"X-CSRF-Token": ana.csrf})
        assert wrong_type.status_code == 422 and wrong_type.json()["error"].startswith("message:")
        assert ana.get("/api/no/such/route", expect=404)["error"] == "There is no such page."
    with httpx.Client(base_url=server) as anonymous:
        assert anonymous.post("/api/tutor", json={"message": "Hi."}).status_code == 401
        page = anonymous.get("/learn", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_pages_send_security_headers_and_nothing_from_elsewhere(server: str) -> None:
    with httpx.Client(base_url=server) as http:
        login = http.get("/login")
        assert "script-src 'self'" in login.headers["content-security-policy"]
        assert login.headers["x-frame-options"] == "DENY"
        docs = http.get("/docs")
        assert docs.status_code == 200 and "/static/swagger/swagger-ui-bundle.js" in docs.text
        assert http.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
        assert http.get("/openapi.json").json()["paths"]["/api/tutor"]["post"]
        for text in (login.text, docs.text):
            assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), "a page loads something from elsewhere"


# the API contract over the real model


def test_tutor_turn_is_the_cli_json_and_only_its_learner_sees_it(server: str) -> None:
    with ApiClient(server, "ana") as ana, ApiClient(server, "eve") as eve, ApiClient(server, "bo") as bo:
        turn = ana.post("/api/tutor", {"message": ERROR_SENTENCE, "level": "A2"})
        assert set(turn) == {"reply", "level_estimate", "corrections", "learner", "exercise", "trace_id", "session"}
        assert any(c["suggestion"] == "went" for c in turn["corrections"]), turn["corrections"]
        session = turn["session"]
        history = ana.get(f"/api/tutor/{session}")
        assert [t["role"] for t in history["turns"]] == ["user", "assistant"]
        assert history["turns"][0]["text"] == ERROR_SENTENCE
        # another learner: not found, whether reading or writing; the class's teacher may read it
        assert eve.get(f"/api/tutor/{session}", expect=404)["status"] == 404
        eve.post("/api/tutor", {"message": "Hello.", "session": session}, expect=404)
        assert bo.get(f"/api/tutor/{session}")["session"]["id"] == session
        # the teacher sees the trace of the turn; the other learner has no trace routes at all
        assert bo.get(f"/api/traces/{turn['trace_id']}")["run"]["conversation_id"] == session
    with ApiClient(server, "rex") as rex:
        runs = rex.get("/api/traces", kind="tutoring_turn")
        assert turn["trace_id"] in [r["trace_id"] for r in runs]


def test_a_queued_turn_streams_its_place_and_its_text(server: str) -> None:
    with ApiClient(server, "ana") as ana:
        queued = ana.post("/api/tutor", {"message": "I like to play football with my brother.", "wait": False},
                          expect=202)  # fmt: skip
        events = job_events(ana.http, queued["job"])
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "position" and kinds[-1] == "done", kinds
    done = json.loads(events[-1][1])
    assert done["session"] == queued["session"] and done["reply"]
    streamed = "".join(json.loads(data) for kind, data in events if kind == "text")
    if "text" in kinds:  # the rule-written first question needs no model; a model draft streams
        assert streamed.strip()


# the queue


def test_the_queue_is_fair_between_users_and_reports_places() -> None:
    queue = ModelQueue()
    gate = threading.Event()
    ran: list[str] = []

    def work(label: str) -> Callable[[], str]:
        def run() -> str:
            gate.wait(10)
            ran.append(label)
            return label

        return run

    first = queue.submit("ana", "a1", work("a1"))
    time.sleep(0.1)  # a1 is running
    jobs = [queue.submit("ana", "a2", work("a2")), queue.submit("ana", "a3", work("a3")),
            queue.submit("bo", "b1", work("b1"))]  # fmt: skip
    assert [queue.position(j) for j in jobs] == [1, 3, 2]  # bo's first job goes before ana's second
    gate.set()
    for job in [first, *jobs]:
        assert job.wait(10)
    assert ran == ["a1", "a2", "b1", "a3"]
    assert queue.get(first.id, "bo") is None and queue.get(first.id, "ana") is first


def test_a_failing_job_gives_one_sentence_and_the_queue_goes_on() -> None:
    queue = ModelQueue()

    def broken() -> object:
        raise RuntimeError("boom")

    bad = queue.submit("ana", "bad", broken)
    good = queue.submit("ana", "good", lambda: "fine")
    assert bad.wait(10) and good.wait(10)
    assert bad.state == "failed" and bad.status == 500 and "boom" not in (bad.error or "")
    assert good.result == "fine"


def test_a_job_reads_the_same_from_the_database_as_from_its_process(services: Services) -> None:
    """Another process sees a job through the session database as its own process does, text and progress too."""
    from agents import streaming

    here, elsewhere = JobTable(services.sessions, owner="one"), JobTable(services.sessions, owner="two")
    queue = ModelQueue(here)

    def work() -> dict[str, object]:
        for word in ("Hello", " there", "."):
            streaming.emit("text", word)
        streaming.emit("progress", {"done": 1, "total": 1, "what": "gap_fill"})
        return {"reply": "Hello there.", "when": datetime(2026, 1, 2, tzinfo=UTC)}

    job = queue.submit("ana", "greeting", work)
    assert job.wait(10)
    queue.stop()
    time.sleep(0.5)  # past the last flush
    mine, theirs = queue.view(job.id, "ana"), elsewhere.read(job.id, "ana")
    assert mine == theirs and mine is not None and theirs is not None
    assert mine.text == "Hello there." and mine.result == {"reply": "Hello there.", "when": "2026-01-02 00:00:00+00:00"}
    assert elsewhere.read(job.id, "eve") is None  # only its user's
    events = Cursor().advance(theirs)  # the stream a reader on another process gets
    assert [k for k, _ in events] == ["position", "text", "progress", "done"]
    resumed = Cursor.parse("0.5").advance(theirs)  # a reconnection after "Hello"
    assert ("text", " there.") in resumed
    # a live job whose process stopped beating is reported failed with one sentence
    stale = time.time() - STALE_AFTER_S - 1
    services.sessions.execute([("UPDATE forge_jobs SET state = 'running', heartbeat_at = ? WHERE id = ?",
                                (stale, job.id))])  # fmt: skip
    gone = elsewhere.read(job.id, "ana")
    assert gone is not None and (gone.state, gone.error, gone.status) == ("failed", STOPPED, 503)


def test_health_names_the_process_and_checks_the_database(server: str) -> None:
    with httpx.Client(base_url=server) as http:
        health = http.get("/healthz")
        body = health.json()
        assert body["status"] == "ok" and body["database"] == "ok" and body["traces"]
        assert health.headers["x-forge-process"] == body["process"]
        assert http.get("/login").headers["x-forge-process"] == body["process"]


# the command line


def test_users_commands(isolated_env: Path) -> None:
    added = run_forge("users", "add", "ana", "--role", "learner", "--class", "7b", "--password-stdin",
                      stdin=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0 and "Added learner ana in class 7b" in added.stdout
    listed = json.loads(run_forge("users", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["class_name"]) for u in listed["users"]] == [("ana", "learner", "7b")]
    assert_clean_error(run_forge("users", "add", "bo", "--role", "pupil", "--password-stdin", stdin=PASSWORD),
                       "accepted roles are")  # fmt: skip
    assert_clean_error(run_forge("users", "add", "bo", "--role", "teacher"), "--password-stdin")
    assert_clean_error(run_forge("users", "add", "ana", "--role", "learner", "--password-stdin", stdin=PASSWORD),
                       "already exists")  # fmt: skip
    assert run_forge("users", "remove", "ana").returncode == 0
    assert_clean_error(run_forge("users", "remove", "ana"), "No user 'ana'")


def test_the_data_dir_and_its_databases_are_private(isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    isolated_env.chmod(0o755)
    assert run_forge("users", "add", "ana", "--role", "learner", "--password-stdin", stdin=PASSWORD).returncode == 0
    assert stat.S_IMODE(isolated_env.stat().st_mode) == 0o700
    files = [p for p in isolated_env.rglob("*") if p.is_file()]
    assert any(p.name == "sessions.sqlite" for p in files), files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path, oct(path.stat().st_mode))


@pytest.mark.usefixtures("built_cache")
def test_forge_serve_binds_to_loopback_and_answers(isolated_env: Path, tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([*FORGE, "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ))  # fmt: skip
    try:
        deadline = time.monotonic() + 180  # it loads the graphs and the model's weights before it listens
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["status"] == "ok"
                break
            except httpx.TransportError:
                alive = time.monotonic() < deadline and proc.poll() is None
                assert alive, (tmp_path / "serve.log").read_text()
                time.sleep(0.3)
        with socket.socket() as s:  # not on other addresses of this machine
            s.settimeout(1)
            address = _non_loopback_address()
            if address:
                assert s.connect_ex((address, port)) != 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _non_loopback_address() -> str | None:
    """An IPv4 address of this machine other than loopback, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
            address = str(s.getsockname()[0])
    except OSError:
        return None
    return None if address.startswith("127.") else address
