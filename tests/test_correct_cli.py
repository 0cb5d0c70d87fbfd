"""`forge correct` run as a user would: one line out per line in, JSON edits with explanations, clean errors."""

from __future__ import annotations

import json

from tests.support.cli_helpers import assert_clean_error, forge_json, run_forge


def test_stdin_gives_one_corrected_line_per_input_line() -> None:
    lines = ["I have went to Paris two years ago.", "", "This present is for we.", "She likes green tea.", "x" * 5000]
    proc = run_forge("correct", "-", stdin="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert len(out) == len(lines)
    assert out == ["I went to Paris two years ago.", "", "This present is for us.", "She likes green tea.", "x" * 5000]
    assert "1 line(s) longer than" in " ".join(proc.stderr.split())


def test_json_gives_the_edits_with_span_type_and_explanation() -> None:
    text = "I am looking forward to meet you. Despite of the rain, we went out."
    result = forge_json("correct", text)
    assert result["original"] == text
    assert result["corrected"] == "I am looking forward to meeting you. Despite the rain, we went out."
    edits = {e["type"]: e for e in result["edits"]}
    assert set(edits) == {"verb pattern", "preposition"}
    for edit in result["edits"]:
        start, end = edit["span"]
        assert text[start:end] == edit["text"] and edit["explanation"]
    assert "-ing" in edits["verb pattern"]["explanation"] and "despite of" in edits["preposition"]["explanation"]


def test_json_lines_from_stdin_and_a_correct_sentence_unchanged() -> None:
    proc = run_forge("correct", "-", "--json", stdin="My brother lives in London.\n\nHe go to work by bus.\n")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["corrected"] for r in records] == ["My brother lives in London.", "", "He goes to work by bus."]
    assert records[0]["edits"] == [] and records[2]["edits"][0]["type"] == "subject-verb agreement"


def test_bad_input_is_one_clear_sentence_and_exit_2() -> None:
    assert_clean_error(run_forge("correct", "   "), "Give a sentence to correct")
    assert_clean_error(run_forge("correct", "word " * 1000), "at most 4,000 are accepted")
