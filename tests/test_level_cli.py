"""`forge level` and `forge check` run as a user would: JSON, one level per stdin line, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli_helpers import assert_clean_error, forge_json, run_forge

LEVELS = {"A1", "A2", "B1", "B2", "C1", "C2"}


def test_level_json_has_level_probabilities_and_evidence() -> None:
    result = forge_json("level", "I like my house. The committee's deliberations were protracted.")
    assert result["level"] in LEVELS and set(result["probabilities"]) == LEVELS
    assert len(result["sentences"]) == 2
    words = {w["text"]: w for s in result["sentences"] for w in s["words"]}
    assert words["house"]["node"] == "word:house|noun" and "line" in words["house"]["evidence"]
    assert all(c["node"].startswith("grammar:") for s in result["sentences"] for c in s["constructions"])
    assert "words" in result["sentences"][0]["features"]


def test_level_for_people_shows_the_level_and_words() -> None:
    proc = run_forge("level", "My timid brother detests tedious lessons.")
    assert proc.returncode == 0, proc.stderr
    assert "Level:" in proc.stdout and "timid" in proc.stdout and "Octanove" in proc.stdout


def test_level_stdin_prints_exactly_one_level_per_line() -> None:
    hard = "Notwithstanding the ostensibly benign rhetoric, its epistemological underpinnings remain contentious."
    lines = ["I like tea.", "", "Der Hund ist sehr groß und die Katze ist klein.", "x" * 3000, hard]
    proc = run_forge("level", "-", stdin="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert len(out) == len(lines)
    assert out[1] == out[2] == out[3] == "unknown" and out[0] in LEVELS and out[4] in LEVELS
    assert "3 line(s) could not be judged" in " ".join(proc.stderr.split())


def test_level_stdin_json_lines_and_binary_input() -> None:
    proc = run_forge("level", "-", "--json", stdin="Go home.\n\x00\x01\x02 binary\n")
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["line"] for r in records] == [1, 2]
    assert records[0]["level"] in LEVELS and records[1]["level"] is None and "binary" in records[1]["reason"]


def test_level_bad_input_is_a_clean_error() -> None:
    assert_clean_error(run_forge("level", "   "), "The text is empty")


def test_check_flags_planted_words_and_passes_ordinary_text() -> None:
    planted = forge_json("check", "--level", "A2", "If I had known, my timid brother would have come.")
    assert not planted["passed"]
    kinds = {(v["kind"], v["text"]) for v in planted["violations"]}
    assert ("word_above_level", "timid") in kinds
    assert any(v["kind"] == "construction_above_level" and v["item_id"] == "216" for v in planted["violations"])
    ordinary = forge_json("check", "--level", "A2", "She has two cats and a dog. They play in the garden.")
    assert ordinary["passed"] and ordinary["score"] >= 0.9
    assert not [v for v in ordinary["violations"] if v["severity"] == "error"]


def test_check_required_construction_and_people_output() -> None:
    proc = run_forge("check", "--level", "B1", "--require", "62", "I saw him yesterday.")
    assert proc.returncode == 0, proc.stderr
    assert "not passed" in proc.stdout and "PRESENT PERFECT" in proc.stdout


def test_check_unknown_level_is_one_sentence_and_exit_2() -> None:
    proc = run_forge("check", "--level", "Z9", "Hello there.")
    assert_clean_error(proc, "Unknown target level 'Z9'; give one of A1, A2, B1, B2, C1 or C2.")
    assert len(proc.stderr.strip().splitlines()) <= 2


def test_bench_knowledge_scores_a_labelled_file_and_times_retrieval(tmp_path: Path) -> None:
    labelled = tmp_path / "dev.tsv"
    labelled.write_text("I like my cat.\t1\t1\nThe committee postponed its deliberations.\t4\t5\n", encoding="utf-8")
    report = forge_json("bench", "knowledge", "--rounds", "1", "--labelled", str(labelled), "--json")
    assert report["retrieval"]["queries"] == 60 and report["retrieval"]["median_ms"] > 0
    assert report["retrieval"]["empty_results"] < 60 and report["graph_load_s"] > 0
    lev = report["level_estimation"]
    assert lev["sentences"] == 2 and 0 <= lev["either_label"] <= 1


def test_bench_knowledge_rejects_a_malformed_labelled_file(tmp_path: Path) -> None:
    labelled = tmp_path / "bad.tsv"
    labelled.write_text("a sentence without labels\n", encoding="utf-8")
    assert_clean_error(run_forge("bench", "knowledge", "--labelled", str(labelled)), "Line 1", "label")
