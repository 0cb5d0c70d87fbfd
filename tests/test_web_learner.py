"""The learner pages over HTTP: a real server, the real SmolLM2, a real SQLite session database.

The turns go the way the pages send them (POST /api/tutor with "wait": false, then the job's server-sent events,
then GET /learn/{session}); the model runs in few tests, each doing several things with its turns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest

from forge.services import Services
from forge.sessions.tutor import TutorSessions
from forge.web.accounts import Accounts
from tests.support.services_helpers import make_services
from tests.support.web_helpers import ApiClient, add_user, live_server

ERROR_SENTENCE = "Yesterday I go to the cinema with my friend."
QUESTION = "What is the difference between make and do?"
HOSTILE = "<script>alert(1)</script> I likes <b>x</b> pizza."


@pytest.fixture
def services(isolated_env: Path, cache_dir: Path) -> Services:
    """Services over this test's data dir (the shared cache), with the class 7b: two learners and their teacher."""
    found = make_services(isolated_env, cache_dir)
    add_user(found, "ana", "learner", class_name="7b")
    add_user(found, "bob", "learner", class_name="8a")
    add_user(found, "tess", "teacher", class_name="7b")
    add_user(found, "tom", "teacher", class_name="8a")
    add_user(found, "root", "admin")
    return found


@pytest.fixture
def base(services: Services) -> Iterator[str]:
    """The live server's base URL."""
    with live_server(services) as url:
        yield url


def send_turn(api: ApiClient, message: str, session: str | None = None) -> dict[str, Any]:
    """One turn as app.js sends it: 202 with the job, then its events until done; the done event's turn."""
    body: dict[str, Any] = {"message": message, "wait": False} | ({"session": session} if session else {})
    accepted = api.post("/api/tutor", body, expect=202)
    assert accepted["job"] and accepted["session"]
    kinds: list[str] = []
    with api.http.stream("GET", f"/api/jobs/{accepted['job']}/events") as events:
        assert events.status_code == 200
        kind = ""
        for line in events.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
                kinds.append(kind)
            elif line.startswith("data: ") and kind in ("done", "failed"):
                data = json.loads(line.removeprefix("data: "))
                assert kind == "done", data
                assert "position" in kinds
                assert data["session"] == accepted["session"]
                return dict(data)
    raise AssertionError(f"the event stream ended without done: {kinds}")


def page(http: httpx.Client, path: str, expect: int = 200) -> str:
    """GET a page as a browser does, checking the status."""
    response = http.get(path, headers={"Accept": "text/html"})
    assert response.status_code == expect, (path, response.status_code, response.text[:300])
    return response.text


def text_of(html: str) -> str:
    """A page's text without tags, whitespace collapsed (to look for sentences that have markup inside)."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_a_learner_chats_and_sees_corrections_answers_and_progress(services: Services, base: str) -> None:
    with ApiClient(base, "ana") as ana:
        first = send_turn(ana, ERROR_SENTENCE)
        session = first["session"]
        assert [c["suggestion"] for c in first["corrections"]] == ["went"]
        chat = page(ana.http, f"/learn/{session}")
        assert re.search(r'<mark class="fix"[^>]*>go<span class="sr-only"> \(mistake 1\)</span></mark>', chat)
        assert "<del>go</del> → <ins>went</ins>" in chat and "verb tense" in chat
        assert first["corrections"][0]["explanation"].replace('"', "&#34;") in chat
        assert 'data-enter-sends="1"' in chat and f'name="session" value="{session}"' in chat
        assert 'data-job="/api/tutor"' in chat and 'data-done="/learn/{session}"' in chat

        answer = send_turn(ana, QUESTION, session)
        assert "We use make" in answer["reply"]
        chat = page(ana.http, f"/learn/{session}")
        assert 'class="bubble tutor answer"' in chat and "We use make when we create" in chat

        send_turn(ana, HOSTILE, session)
        chat = page(ana.http, f"/learn/{session}")
        assert "<script>alert" not in chat and "<b>x</b>" not in chat
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in chat and "&lt;b&gt;x&lt;/b&gt;" in chat
        assert re.search(r'<mark class="fix"[^>]*>likes<span', chat)

        listing = page(ana.http, "/learn")
        assert f'href="/learn/{session}"' in listing and "Yesterday I go to the cinema" in listing

        progress = page(ana.http, "/learn/progress")
        assert progress.count("<svg") == 2 and "Estimated level, turn by turn" in progress
        assert "Errors by type" in progress and "verb tense" in progress and "subject-verb agreement" in progress
        assert "3 turns" in text_of(progress) and "cinema" in progress
        assert "<script>alert" not in progress

    with ApiClient(base, "tess") as tess:  # ana's teacher reads the chat, without the form, and her progress
        chat = page(tess.http, f"/learn/{session}")
        assert "read-only" in chat and "went" in chat and 'name="message"' not in chat
        assert "Errors by type" in page(tess.http, "/learn/progress?learner=ana")
    with ApiClient(base, "tom") as tom:  # another class's teacher sees neither
        page(tom.http, f"/learn/{session}", expect=404)
        page(tom.http, "/learn/progress?learner=ana", expect=404)
    with ApiClient(base, "bob") as bob:  # nor does another learner, nor may he write to it
        assert "No session" in page(bob.http, f"/learn/{session}", expect=404)
        bob.post("/api/tutor", {"message": "Hello.", "session": session}, expect=404)
        assert f"/learn/{session}" not in page(bob.http, "/learn")


def test_access_rules_without_the_model(services: Services, base: str) -> None:
    info = TutorSessions(services).start(title="Ana's chat")
    Accounts(services.sessions).own("session", info.id, "ana")
    with ApiClient(base, "ana") as ana:
        empty = page(ana.http, f"/learn/{info.id}")
        assert "No turns yet." in empty and 'name="message"' in empty
        assert page(ana.http, "/learn/progress").count("no data") >= 2  # both plots, with nothing to draw
        page(ana.http, "/learn/nosuchsession", expect=404)
        page(ana.http, "/learn/bad%20id!", expect=404)
        page(ana.http, "/learn/progress?learner=bob", expect=404)
        no_csrf = ana.http.post("/api/tutor", json={"message": "Hello.", "session": info.id})
        assert no_csrf.status_code == 403 and "security token" in no_csrf.json()["error"]
    with ApiClient(base, "bob") as bob:
        page(bob.http, f"/learn/{info.id}", expect=404)
    with ApiClient(base, "tess") as tess:
        tess.post("/api/tutor", {"message": "I am a teacher."}, expect=403)
        forbidden = tess.http.get("/learn", headers={"Accept": "text/html"})
        assert forbidden.status_code == 403 and "for learner" in forbidden.text
        assert "read-only" in page(tess.http, f"/learn/{info.id}")
        page(tess.http, "/learn/progress?learner=bob", expect=404)
    with ApiClient(base, "root") as root:
        assert "Progress of bob" in page(root.http, "/learn/progress?learner=bob")
        page(root.http, "/learn/progress?learner=nobody", expect=404)
    anonymous = httpx.get(f"{base}/learn", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
