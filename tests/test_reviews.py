"""Teachers' reviews end to end: the real SmolLM2 makes the items, real SQLite and PostgreSQL keep the reviews.

A set of five items is made by an exercise session; the teacher accepts and rejects in a session turn and with
`forge review`, modifies one with an edited file, and the stats, the training export, the stored-review labels and
the trace link are read back as a teacher and a script would. Reviews survive kill -9 mid-write and are shared
between processes on PostgreSQL.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.exercise_session.commands import parse
from forge.reviews.store import ReviewFilter, ReviewStore
from forge.services import Services
from forge.sessions.exercises import ExerciseSessions
from knowledge.reviews import REASONS, Review, reason_in
from tests.support.cli_helpers import assert_clean_error, forge_json, run_forge
from tests.support.services_helpers import make_services
from tests.support.session_helpers import pg_url  # noqa: F401  (fixture)

SET_SIZE = 5
#: Types whose sentence is their stem, so a teacher's edit of the stem changes the text trained on.
_STEM_TYPES = ("gap_fill", "open_gap", "word_formation")


class Made:
    """A session holding five real items, and the environment a `forge` subprocess needs to reach it."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.sessions = ExerciseSessions(services)
        self.id = self.sessions.start("reviews").id
        result = self.sessions.turn(self.id, "five items about travel at A2")
        for _ in range(2):
            if len(result.items) >= SET_SIZE:
                break
            result = self.sessions.turn(self.id, f"{SET_SIZE - len(result.items)} more")
        self.items = result.items
        self.version = result.version

    def env(self, reviewer: str = "ana") -> dict[str, str]:
        return {"FORGE_DATA_DIR": str(self.services.settings.data_dir),
                "FORGE_CACHE_DIR": str(self.services.settings.resolved_cache_dir),
                "FORGE_OLLAMA_HOST": "http://127.0.0.1:9", "FORGE_REVIEWER": reviewer}

    def store(self) -> ReviewStore:
        return ReviewStore(self.services.sessions)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Iterator[Made]:
    svc = make_services(tmp_path_factory.mktemp("reviews-data"), cache_dir, reviewer="ana")
    found = Made(svc)
    assert len(found.items) >= SET_SIZE, "the session could not make five items"
    yield found
    svc.close()


def test_a_teachers_session_accept_2_reject_2_modify_1(made: Made, tmp_path: Path) -> None:
    modify = next(n for n in range(SET_SIZE, 0, -1) if made.items[n - 1].type in _STEM_TYPES)
    a1, a2, r1, r2 = [n for n in range(1, SET_SIZE + 1) if n != modify]
    turn = made.sessions.turn(made.id, f"accept {a1} and {a2}, reject {r1}: the key is wrong")
    assert [(d.number, d.decision, d.reason) for d in turn.decisions] == [
        (a1, "accept", None), (a2, "accept", None), (r1, "reject", "wrong_key")]
    assert f"Accepted items {a1}, {a2}." in turn.reply and turn.version == made.version  # the set is unchanged
    rejected = run_forge("review", f"{made.id}:{r2}", "--reject", "--reason", "unnatural", "--note", "odd sentence",
                         env=made.env())
    assert rejected.returncode == 0, rejected.stderr
    assert "Rejected (unnatural)" in rejected.stdout
    original = made.items[modify - 1]
    stem = original.item.key_text()
    edit = tmp_path / "edit.json"
    edit.write_text(json.dumps({"stem": "Now, " + stem[:1].lower() + stem[1:]}))
    modified = forge_json("review", f"{made.id}@{made.version}:{modify}", "--edit", str(edit), env=made.env())
    assert modified["decision"] == "modify" and modified["edited"]["stem"].startswith("Now, ")
    assert modified["item"]["stem"] == stem and modified["edit_check"] is not None

    stats = forge_json("review", "stats", "--session", made.id, env=made.env())
    assert stats["decisions"] == {"accept": 2, "reject": 2, "modify": 1}
    assert stats["items"] == 5 and stats["reasons"] == {"wrong_key": 1, "unnatural": 1}
    shown = run_forge("review", "stats", env=made.env())
    assert "accepted 2 · rejected 2 · modified 1" in " ".join(shown.stdout.split())
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80

    sft, dpo = tmp_path / "sft", tmp_path / "dpo"
    written = forge_json("review", "export", "--sft", str(sft), "--dpo", str(dpo), env=made.env())
    kept = {made.items[a1 - 1].id, made.items[a2 - 1].id, original.id}
    sft_rows = _rows(sft)
    assert {r["item_id"] for r in sft_rows} == kept
    assert any(r["item_id"] == original.id and "Now, " in r["completion"] for r in sft_rows)
    modified_rows = [r for r in _rows(dpo) if r["source"] == "modified"]
    assert [r["item_id"] for r in modified_rows] == [original.id] and written["training"]["reviews"]["modified"] == 1
    assert "Now, " in modified_rows[0]["chosen"] and "Now, " not in modified_rows[0]["rejected"]
    assert (sft / "README.md").is_file() and (dpo / "README.md").is_file()


def test_two_teachers_both_keep_their_review(made: Made) -> None:
    ref = f"{made.id}:1"
    second = forge_json("review", ref, "--reject", "--reason", "ambiguous_key", "--reviewer", "bo", env=made.env())
    assert second["reviewer"] == "bo"
    item_id = made.items[0].id
    kept = made.store().find(ReviewFilter(item_id=item_id))
    assert {(r.reviewer, r.decision) for r in kept} >= {("ana", "accept"), ("bo", "reject")}
    shown = forge_json("review", "show", ref, env=made.env())
    assert {r["reviewer"] for r in shown["reviews"]} >= {"ana", "bo"}


def test_bad_input_gets_one_sentence_and_stores_nothing(made: Made, tmp_path: Path) -> None:
    before = len(made.store().find())
    cases: list[tuple[list[str], str]] = [
        ([f"{made.id}:99", "--accept"], "no item 99"),
        (["feedface00", "--accept"], "No item 'feedface00'"),
        ([f"{made.id}:1", "--reject"], "A rejection needs a reason"),
        ([f"{made.id}:1", "--reject", "--reason", "boring"], "Unknown reason 'boring'"),
        ([f"{made.id}:1", "--accept", "--reject", "--reason", "other"], "Give exactly one of"),
        ([f"{made.id}:1", "--edit", str(tmp_path / "missing.json")], "No file"),
    ]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"stem": "A sentence with no gap at all."}))
    cases.append(([f"{made.id}:1", "--edit", str(broken)], "nothing was stored"))
    not_json = tmp_path / "not.json"
    not_json.write_text("{stem: ")
    cases.append(([f"{made.id}:1", "--edit", str(not_json)], "The edit is not JSON"))
    for args, fragment in cases:
        assert_clean_error(run_forge("review", *args, env=made.env()), fragment)
    assert len(made.store().find()) == before


def test_stored_reviews_are_labels_for_the_bench_and_too_few_to_calibrate(made: Made) -> None:
    report = forge_json("bench", "review", env=made.env())
    assert report["overall"]["items"] >= 5 and "stored reviews" in report["labels"]
    refused = run_forge("review", "calibrate", env=made.env())
    assert_clean_error(refused, "Calibration needs at least 12 reviewed items")


def test_a_generated_item_is_reviewed_by_its_run_id_and_its_trace_links_the_review(tmp_path: Path,
                                                                                   cache_dir: Path) -> None:
    env = {"FORGE_DATA_DIR": str(tmp_path / "data"), "FORGE_CACHE_DIR": str(cache_dir),
           "FORGE_OLLAMA_HOST": "http://127.0.0.1:9", "FORGE_REVIEWER": "cy"}
    made = forge_json("generate", "--level", "A1", "--topic", "food", "--type", "reorder", "--seed", "3", env=env)
    item = made["items"][0]
    reviewed = forge_json("review", item["run_id"][:10], "--accept", env=env)
    assert reviewed["source"] == "generated" and reviewed["item_id"] == item["run_id"]
    trace = forge_json("trace", "show", item["run_id"], env=env)
    assert [r["id"] for r in trace["reviews"]] == [reviewed["id"]]
    tree = run_forge("trace", "show", item["run_id"], env=env)
    assert "teacher reviews (1)" in tree.stdout and "accept of the item by cy" in tree.stdout


def test_the_session_parser_reads_decisions_and_their_reasons() -> None:
    read = parse("Accept 1, 2 and 4 reject 3 - too hard for A2").commands
    assert [(c.action, c.items, c.reason) for c in read] == [("accept", [1, 2, 4], None), ("reject", [3], "off_level")]
    assert parse("accept all").commands[0].items == [0]
    assert reason_in("'toast' fits too") == "ambiguous_key"
    assert reason_in("it means nothing, nonsense") == "unnatural"
    assert reason_in("I just don't like it") == "other" and "other" in REASONS


# kill -9 and two processes: the store's own guarantees, on SQLite and on PostgreSQL

_WRITER = """
import sys, time
from pathlib import Path
from forge.reviews.store import ReviewStore
from forge.sessions import open_store
from knowledge.reviews import Review
store = ReviewStore(open_store(Path(sys.argv[1]), sys.argv[2] or None))
n = 0
while True:
    store.add(Review(item_id=f"item{n % 7}", decision="accept", reviewer="writer", source="generated",
                     type="reorder", level="A1", topic="food", item={"note": "x" * 5000, "n": n}))
    n += 1
    print(n, flush=True)
"""


def _kill_mid_write(data_dir: Path, url: str | None) -> int:
    """Start a process writing reviews as fast as it can, kill -9 it mid-stream; how many it said it wrote."""
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(data_dir), url or ""], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    written = 0
    deadline = time.monotonic() + 120
    while written < 30 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "the writer stopped before it could be killed"
        written = int(line)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return written


def _check_after_kill(store: ReviewStore, written: int) -> None:
    """Every row the killed writer left is whole; the store takes new reviews at once."""
    found = store.find(ReviewFilter(reviewer="writer"))
    assert written <= len(found) <= written + 1
    assert all(r.item["note"] == "x" * 5000 for r in found)
    store.add(Review(item_id="after", decision="reject", reason="other", reviewer="after", source="generated",
                     type="reorder", level="A1", topic="food", item={}))
    assert [r.reviewer for r in store.find(ReviewFilter(item_id="after"))] == ["after"]


def test_reviews_survive_kill_9_mid_write_on_sqlite(tmp_path: Path) -> None:
    from forge.sessions import open_store

    written = _kill_mid_write(tmp_path, None)
    _check_after_kill(ReviewStore(open_store(tmp_path)), written)


def test_reviews_are_shared_between_processes_and_survive_kill_9_on_postgres(
    tmp_path: Path, cache_dir: Path, pg_url: str  # noqa: F811
) -> None:
    from forge.sessions import open_store

    sessions = open_store(tmp_path, pg_url)
    store = ReviewStore(sessions)
    store.keep_generated([{"run_id": "abcdef0123456789", "trace_id": None, "type": "reorder", "level": "A1",
                           "topic": "food", "status": "accepted", "chunks": ["I", "like", "tea."],
                           "answer": "I like tea."}])
    env = {"FORGE_DATA_DIR": str(tmp_path), "FORGE_CACHE_DIR": str(cache_dir), "FORGE_POSTGRES_URL": pg_url,
           "FORGE_OLLAMA_HOST": "http://127.0.0.1:9"}
    other = forge_json("review", "abcdef01", "--reject", "--reason", "off_topic", "--reviewer", "dee", env=env)
    seen = store.find(ReviewFilter(item_id="abcdef0123456789"))
    assert [(r.id, r.reviewer, r.reason) for r in seen] == [(other["id"], "dee", "off_topic")]
    written = _kill_mid_write(tmp_path, pg_url)
    _check_after_kill(store, written)
    sessions.close()


def _rows(folder: Path) -> list[dict[str, Any]]:
    """Every JSON Lines row of an export directory."""
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]


def test_a_review_keeps_the_item_as_reviewed(made: Made) -> None:
    review = made.store().find(ReviewFilter(session_id=made.id))[0]
    assert isinstance(review, Review) and review.item["type"] == review.type
    assert review.session_id == made.id and review.set_version == made.version
