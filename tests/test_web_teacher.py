"""The teacher pages through a real uvicorn server over real SmolLM2 and SQLite: one set of three gap fills is made
once for the module (POST /api/exercises, its progress read from the job's events), then its cards and evidence,
reviews (a rejection with a reason, an edit in place, a broken edit refused), exports, the class page, who may see
what, escaping, and paths in exports.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from markupsafe import escape

from agents.exercise_session.commands import parse
from forge.reviews.store import ReviewFilter, ReviewStore
from forge.services import Services
from forge.web.accounts import Accounts
from forge.web.teacher import COUNT_WORDS, TYPE_PHRASES, compose_request, download_name
from knowledge.errors import UserInputError
from knowledge.items import EXERCISE_TYPES
from tests.support.services_helpers import make_services
from tests.support.web_helpers import ApiClient, add_user, live_server

XSS = "<script>alert(1)</script>"
BOLD = "<b>x</b>"


@dataclass
class World:
    """The module's server, its services and data dir, and the set teacher bo made."""

    base: str
    services: Services
    data_dir: Path
    session: str
    progress: list[dict[str, Any]]
    result: dict[str, Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Iterator[World]:
    """A server with teachers bo (class 7b) and cy, learners ana (7b) and eve (7c); bo makes a set of three."""
    data_dir = tmp_path_factory.mktemp("teacher-web") / "data"
    services = make_services(data_dir, cache_dir)
    for name, role, klass in (("bo", "teacher", "7b"), ("cy", "teacher", "7c"), ("ana", "learner", "7b"),
                              ("eve", "learner", "7c")):  # fmt: skip
        add_user(services, name, role, class_name=klass)
    with live_server(services) as base, ApiClient(base, "bo") as bo:
        say = compose_request("A2", "food", "gap_fill", 3)
        started = bo.post("/api/exercises", {"say": say, "wait": False}, expect=202)
        progress, result = _follow(bo, started["job"])
        yield World(base, services, data_dir, started["session"], progress, result)
    services.close()


def _follow(api: ApiClient, job: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Read a job's server-sent events until it is done: its progress events and its result."""
    progress: list[dict[str, Any]] = []
    seen = ""  # event ids are opaque ("resets.sent"); the stream resumes after the one given
    for _ in range(30):  # each response stays open at most a minute; reconnect after the last event seen
        with api.http.stream("GET", f"/api/jobs/{job}/events", params={"after": seen}) as response:
            kind = ""
            for line in response.iter_lines():
                if line.startswith("id: "):
                    seen = line[4:]
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                    if kind == "progress":
                        progress.append(data)
                    elif kind == "failed":
                        raise AssertionError(f"the set was not made: {data}")
                    elif kind == "done":
                        return progress, data
    raise AssertionError("the job did not finish")


def _page(api: ApiClient, path: str, expect: int = 200, **params: Any) -> str:
    """A page's HTML, checking its status."""
    response = api.http.get(path, params=params) if params else api.http.get(path)
    assert response.status_code == expect, (response.status_code, response.text[:300])
    return response.text


def _review(api: ApiClient, world: World, number: int, fields: dict[str, str], expect: int = 303) -> httpx.Response:
    """POST a review form of item `number` (with the page's CSRF token), checking the status."""
    form = {"csrf": api.csrf, "version": "1", **fields}
    response = api.http.post(f"/teach/sets/{world.session}/items/{number}/review", data=form)
    assert response.status_code == expect, (response.status_code, response.text[:300])
    return response


def _reviews(world: World) -> list[Any]:
    """Every stored review of the module's set."""
    return ReviewStore(world.services.sessions).find(ReviewFilter(session_id=world.session))


def _alert(text: str, number: int) -> str:
    """The error sentence shown on item `number`'s card."""
    found = re.search(rf'id="item-{number}-error">(.*?)</p>', text, re.S)
    assert found, "no error on the card"
    return html.unescape(found.group(1))


# composing the form's sentence (no model)


@pytest.mark.parametrize("kind", EXERCISE_TYPES)
def test_every_form_choice_composes_a_sentence_the_session_reads_the_same(kind: str) -> None:
    assert tuple(TYPE_PHRASES) == EXERCISE_TYPES
    for count in (1, 3, len(COUNT_WORDS)):
        for level in ("A1", "B2", "C2"):
            say = compose_request(level, "  A visit to  the dentist ", kind, str(count))
            (command,) = parse(say).commands
            assert (command.action, command.count, command.types, str(command.level), command.topic) == (
                "add", count, [kind], level, "visit to the dentist")  # fmt: skip


@pytest.mark.parametrize(("level", "topic", "kind", "count", "message"), [
    ("D1", "food", "gap_fill", "3", "Choose a level from A1 to C2"),
    ("A2", "food", "essay", "3", "Choose an exercise type"),
    ("A2", "food", "gap_fill", "11", "Choose how many items: 1 to 10"),
    ("A2", "   ", "gap_fill", "3", "Give a topic"),
    ("A2", XSS, "gap_fill", "3", "cannot be sent as a plain topic"),
    ("A2", "only children", "gap_fill", "3", "cannot be sent as a plain topic"),
    ("A2", "save the planet", "gap_fill", "3", "cannot be sent as a plain topic"),
])  # fmt: skip
def test_form_choices_the_session_would_misread_are_refused(
    level: str, topic: str, kind: str, count: str, message: str
) -> None:
    with pytest.raises(UserInputError, match=message):
        compose_request(level, topic, kind, count)


# the set


def test_the_set_is_made_with_progress_and_listed(world: World) -> None:
    assert len(world.result["items"]) == 3 and world.result["session"] == world.session
    assert world.progress[0] == {"done": 0, "total": 3, "what": "gap_fill"}
    assert world.progress[-1]["done"] == 3 and world.progress[-1]["total"] == 3
    with ApiClient(world.base, "bo") as bo:
        listing = _page(bo, "/teach")
    assert f'href="/teach/sets/{world.session}"' in listing and "three gap fills about food at A2" in listing
    assert 'data-job="/api/exercises"' in listing and 'data-job="/teach/sets"' in listing
    assert "<progress hidden" in listing


def test_cards_show_the_item_its_key_and_its_evidence(world: World) -> None:
    with ApiClient(world.base, "bo") as bo:
        text = _page(bo, f"/teach/sets/{world.session}")
    items = world.result["items"]
    for item in items:
        card = text.split(f'id="item-{item["number"]}"', 1)[1].split("</article>", 1)[0]
        assert str(escape(item["fields"]["stem"])) in card
        assert "Key:</strong>" in card and str(escape(item["fields"]["answer"])) in card
        assert f'href="/research/traces/{item["trace_id"]}"' in card and item["run_id"][:8] in card
        assert "llamacpp:smollm2-135m" in card  # the model, from the item's run in the trace
        assert "ACI</dt>" in card and "Escalation</dt>" in card
        assert 'class="word' in card and "ACI parts" in card and "vocabulary" in card  # re-checked now
        assert "Target words the run was given" in card and "Decisions" in card
    assert "Versions" in text and f'href="/teach/sets/{world.session}?version=1"' in text
    assert f'name="session" value="{world.session}"' in text  # the refinement box continues this set
    with ApiClient(world.base, "bo") as bo:
        assert "This version has no items" in _page(bo, f"/teach/sets/{world.session}", version="0")
        assert "There is no version 9" in _page(bo, f"/teach/sets/{world.session}", expect=400, version="9")
        assert "whole number" in _page(bo, f"/teach/sets/{world.session}", expect=400, version="abc")


def test_a_rejection_needs_a_reason_and_is_stored_with_its_note_escaped(world: World) -> None:
    before = len(_reviews(world))
    with ApiClient(world.base, "bo") as bo:
        refused = _review(bo, world, 1, {"decision": "reject", "reason": ""}, expect=400)
        assert "A rejection needs a reason" in _alert(refused.text, 1)
        missing = _review(bo, world, 9, {"decision": "accept"}, expect=400)
        assert "no item 9" in html.unescape(missing.text)
        assert len(_reviews(world)) == before
        done = _review(
            bo, world, 1, {"decision": "reject", "reason": "wrong_key", "note": f"{BOLD} {XSS} the key is odd"}
        )
        assert done.headers["location"] == f"/teach/sets/{world.session}?version=1&reviewed=1#item-1"
        text = _page(bo, done.headers["location"])
    (stored,) = _reviews(world)[before:]
    assert (stored.decision, stored.reason, stored.reviewer, stored.set_version, stored.number) == (
        "reject", "wrong_key", "bo", 1, 1)  # fmt: skip
    assert "bo: rejected (wrong key)" in text and "Your review of item 1 is stored" in text
    assert XSS not in text and BOLD not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_an_edit_in_place_is_checked_and_a_broken_one_stores_nothing(world: World) -> None:
    item = world.result["items"][1]
    fields = item["fields"]
    before = len(_reviews(world))
    with ApiClient(world.base, "bo") as bo:
        broken = _review(bo, world, 2, {"decision": "modify", "field.stem": "There is no gap here."}, expect=400)
        assert "is not a well-formed gap_fill item" in _alert(broken.text, 2)
        assert 'value="There is no gap here."' not in broken.text  # a stem is a textarea: its draft is kept there
        assert ">There is no gap here.</textarea>" in broken.text
        assert len(_reviews(world)) == before
        unchanged = _review(bo, world, 2, {"decision": "modify", "field.stem": fields["stem"]}, expect=400)
        assert "Nothing was changed" in _alert(unchanged.text, 2)
        options = list(fields["options"])
        swap = next(i for i, o in enumerate(options) if o != fields["answer"])
        options[swap] = "window"
        edit = {"decision": "modify", "reason": "bad_distractor", "note": "a better distractor",
                "field.options": "\r\n".join(options)}  # fmt: skip
        _review(bo, world, 2, edit)
        text = _page(bo, f"/teach/sets/{world.session}")
    (stored,) = _reviews(world)[before:]
    assert stored.decision == "modify" and stored.reason == "bad_distractor" and stored.reviewer == "bo"
    assert stored.edited is not None and stored.edited["options"] == options
    assert stored.edited["stem"] == fields["stem"] and stored.edit_check is not None
    assert "bo: edited (bad distractor)" in text and "As edited:" in text and "window" in text


def test_export_moodle_is_a_download_that_lxml_reads_with_three_questions(world: World) -> None:
    with ApiClient(world.base, "bo") as bo:
        response = bo.http.get(f"/teach/sets/{world.session}/export", params={"format": "moodle"})
        assert response.status_code == 200
        assert response.headers["content-disposition"] == (f'attachment; filename="exercises-{world.session}-v1.xml"')
        root = etree.fromstring(response.content)
        questions = [q for q in root.findall("question") if q.get("type") != "category"]
        assert root.tag == "quiz" and len(questions) == 3
        assert {q.get("type") for q in questions} == {"multichoice"}
        for name, ending in (("gift", ".gift"), ("qti", ".zip"), ("anki", ".apkg"), ("pdf", ".pdf"),
                             ("docx", ".docx"), ("markdown", ".md"), ("json", ".json")):  # fmt: skip
            other = bo.http.get(f"/teach/sets/{world.session}/export", params={"format": name, "version": "1"})
            assert other.status_code == 200 and other.content, name
            assert other.headers["content-disposition"].endswith(f'-v1{ending}"'), name
    assert not (world.data_dir / "exports").exists()  # made in memory: nothing is written for a download


def test_export_refuses_unknown_formats_and_paths_never_leave_the_data_dir(world: World) -> None:
    outside = sorted(p.name for p in world.data_dir.parent.iterdir())
    with ApiClient(world.base, "bo") as bo:
        for fmt in ("pptx", "../../etc/passwd", "/etc/passwd", ""):
            text = _page(bo, f"/teach/sets/{world.session}/export", expect=400, format=fmt)
            assert "accepted formats: moodle, gift, qti, anki, pdf, docx, markdown, json." in html.unescape(text)
        _page(bo, f"/teach/sets/{world.session}/export", expect=400, format="moodle", version="../../etc/passwd")
        for bad in ("..%2F..%2Fetc%2Fpasswd", "....", world.session[:6]):
            _page(bo, f"/teach/sets/{bad}/export", expect=404, format="moodle")
    assert sorted(p.name for p in world.data_dir.parent.iterdir()) == outside
    assert download_name("../../etc/passwd", 2, ".xml") == "exercises-etcpasswd-v2.xml"


def test_an_export_turn_sent_from_the_web_cannot_write_outside_the_data_dir(world: World) -> None:
    target = world.data_dir.parent / "outside.xml"
    with ApiClient(world.base, "bo") as bo:
        turn = bo.post("/api/exercises", {"say": "export moodle to ../../outside.xml", "session": world.session})
    written = target.exists()
    target.unlink(missing_ok=True)
    assert not written
    assert "not a plain file name" in turn["reply"] + " ".join(turn.get("problems") or []), turn


# who may see what


def test_another_teachers_set_is_not_found_and_learners_get_403(world: World) -> None:
    with ApiClient(world.base, "cy") as cy:
        assert "Your sets" in _page(cy, "/teach") and world.session not in _page(cy, "/teach")
        _page(cy, f"/teach/sets/{world.session}", expect=404)
        _page(cy, f"/teach/sets/{world.session}/export", expect=404, format="moodle")
        response = cy.http.post(f"/teach/sets/{world.session}/items/1/review",
                                data={"csrf": cy.csrf, "decision": "accept", "version": "1"})  # fmt: skip
        assert response.status_code == 404
        _page(cy, "/teach/sets/no-such-set", expect=404)
    trace = world.result["items"][0]["trace_id"]
    with ApiClient(world.base, "bo") as bo:
        _page(bo, f"/research/traces/{trace}")  # the card's trace link opens for its teacher
    with ApiClient(world.base, "cy") as cy:
        _page(cy, f"/research/traces/{trace}", expect=404)
    with ApiClient(world.base, "ana") as ana:
        for path in ("/teach", f"/teach/sets/{world.session}", "/teach/class"):
            assert "This page is for teacher accounts" in _page(ana, path, expect=403)
    with ApiClient(world.base, "bo") as bo:
        response = bo.http.post(f"/teach/sets/{world.session}/items/1/review", data={"decision": "accept"})
        assert response.status_code == 403  # no CSRF token
        form = bo.http.post("/teach/sets", json={"level": "A2", "topic": "food", "type": "gap_fill", "count": 3})
        assert form.status_code == 403
        wrong_item = bo.http.post(f"/teach/sets/{world.session}/items/x/review", data={"csrf": bo.csrf})
        assert wrong_item.status_code == 404
    with httpx.Client(base_url=world.base) as anonymous:
        assert anonymous.get("/teach").status_code == 303  # to the login page


def test_the_class_page_lists_the_teachers_learners_and_their_sessions(world: World) -> None:
    store, accounts = world.services.sessions, Accounts(world.services.sessions)
    first = store.create("tutor", title=f"My weekend {BOLD}", level="A2")
    accounts.own("session", first.id, "ana")
    other = store.create("tutor", title="Eve's chat", level="B1")
    accounts.own("session", other.id, "eve")
    with ApiClient(world.base, "bo") as bo:
        text = _page(bo, "/teach/class")
    assert 'href="/learn/progress?learner=ana"' in text and f'href="/learn/{first.id}"' in text
    assert ">eve<" not in text and other.id not in text  # eve is in class 7c
    assert "&lt;b&gt;x&lt;/b&gt;" in text and BOLD not in text
    row = r'<th scope="row"><a href="#learner-1">ana</a></th>\s*<td><span class="badge">A2</span></td>\s*<td>1</td>'
    assert re.search(row, text)


def test_a_set_title_with_html_is_escaped_on_every_page(world: World) -> None:
    with ApiClient(world.base, "bo") as bo:
        refused = bo.http.post("/teach/sets", json={"level": "A2", "topic": XSS, "type": "gap_fill", "count": "3"},
                               headers={"X-CSRF-Token": bo.csrf, "Accept": "application/json"})  # fmt: skip
        assert refused.status_code == 400 and "cannot be sent as a plain topic" in refused.json()["error"]
        shown = bo.post("/api/exercises", {"say": f"show {XSS} {BOLD}"})  # no items, no model: a 'show' turn
        for path in ("/teach", f"/teach/sets/{shown['session']}"):
            text = _page(bo, path)
            assert XSS not in text and BOLD not in text
            assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;x&lt;/b&gt;" in text
