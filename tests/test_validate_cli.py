"""`forge validate` and `forge bench review` as a teacher or a script runs them, on the real model.

Items come in the schema `forge generate --json` prints (a run's own fields such as `status` ignored) and in the
reviewed-items schema; the verdicts are the item graph's own accept decision.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli_helpers import assert_clean_error, run_forge

GOOD = {
    "type": "gap_fill", "level": "A2", "topic": "food",
    "instructions": "Choose the word that best completes the sentence.",
    "stem": "We drink _____ with our breakfast every morning.", "options": ["coffee", "chair", "window", "pencil"],
    "answer": "coffee", "target_word": "coffee", "pos": "noun",
    "status": "rejected", "aci": 0.1, "violations": [{"kind": "structure", "message": "ignored"}], "timings": {},
}  # fmt: skip
KINDRED = GOOD | {"options": ["coffee", "tea", "window", "pencil"], "status": "accepted"}
SAME_POS = {
    "type": "word_formation", "level": "B1", "topic": "home", "instructions": "Use the word in capitals.",
    "stem": "I want to _____ the door. (LOCK)", "base_word": "LOCK", "answer": "unlock",
}  # fmt: skip


def _lines(*records: Any) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


def test_validate_judges_each_line_afresh_in_input_order() -> None:
    proc = run_forge("validate", "-", "--json", stdin=_lines(GOOD, KINDRED, SAME_POS, {"item": GOOD, "reviews": []}))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4]
    assert [r["accepted"] for r in rows] == [True, False, False, True]
    assert all(set(p) >= {"kind", "detail"} for r in rows for p in r["problems"])
    assert any("beverage" in p["detail"] for p in rows[1]["problems"])
    assert any("fits the gap unchanged" in p["detail"] for p in rows[2]["problems"])


def test_unreadable_lines_are_reported_in_place_and_fail_the_run() -> None:
    proc = run_forge("validate", "-", "--json", stdin=_lines("{not json", {"type": "crossword"}, GOOD))
    assert_clean_error(proc, "2 input line(s) were not items")
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["line"], r["invalid"]) for r in rows] == [(1, True), (2, True), (3, False)]
    assert "unknown exercise type 'crossword'" in rows[1]["problems"][0]["detail"]


def test_validate_text_output_and_bad_sources(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(_lines(KINDRED), encoding="utf-8")
    proc = run_forge("validate", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "not accepted" in proc.stdout and "ambiguous_key" in proc.stdout
    assert_clean_error(run_forge("validate", str(tmp_path / "missing.jsonl")), "No file")
    assert_clean_error(run_forge("validate", "-", stdin="\n\n"), "holds no items")


def test_bench_review_compares_the_decision_with_reviewers(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    reviews = {
        "usable": [{"verdict": "accept", "reason": "fine"}, {"verdict": "modify", "reason": "one word"}],
        "rejected": [{"verdict": "reject", "reason": "tea fits too"}, {"verdict": "accept", "reason": "ok"}],
    }
    rows = [
        {"n": 1, "level": "A2", "type": "gap_fill", "item": GOOD, "reviews": reviews["usable"]},
        {"n": 2, "level": "A2", "type": "gap_fill", "item": KINDRED, "reviews": reviews["rejected"]},
    ]
    labels.write_text(_lines(*rows), encoding="utf-8")
    proc = run_forge("bench", "review", "--labels", str(labels), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["overall"] == {
        "items": 2, "usable": 1, "accepted": 1, "accepted_usable": 1, "precision": 1.0, "recall": 1.0,
    }  # fmt: skip
    assert set(report["by_type"]) == {"gap_fill"} and set(report["by_level"]) == {"A2"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"n": 1, "item": {}}\n', encoding="utf-8")
    assert_clean_error(run_forge("bench", "review", "--labels", str(bad)), "Line 1", "not a reviewed item")
