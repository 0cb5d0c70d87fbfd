"""`forge kg` as a user runs it: the real console script in a subprocess, network not needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli_helpers import assert_clean_error, run_forge


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kg-cli")
    proc = run_forge("--data-dir", str(path), "kg", "stats")  # builds the graph once for the module
    assert proc.returncode == 0, proc.stderr
    return path


def test_stats_json(data_dir: Path) -> None:
    proc = run_forge("--data-dir", str(data_dir), "kg", "stats", "--json")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["vocabulary"]["entries_with_level"] >= 9900
    assert stats["grammar"]["items"] >= 450
    assert stats["descriptors"] >= 48
    assert stats["vocabulary"]["gloss_coverage"] >= 0.9
    assert stats["edges"]["at_level"] > 10000


def test_stats_table(data_dir: Path) -> None:
    proc = run_forge("--data-dir", str(data_dir), "kg", "stats")
    assert proc.returncode == 0
    assert "By level" in proc.stdout and "construction" in proc.stdout


def test_show_word_and_construction(data_dir: Path) -> None:
    proc = run_forge("--data-dir", str(data_dir), "kg", "show", "house")
    assert proc.returncode == 0, proc.stderr
    assert "word:house|noun" in proc.stdout and "CEFR-J Wordlist 1.5" in proc.stdout
    proc = run_forge("--data-dir", str(data_dir), "kg", "show", "62", "--json")
    nodes = json.loads(proc.stdout)
    assert nodes[0]["key"] == "grammar:62" and nodes[0]["level"] == "A2"
    assert any(e["type"] == "variant_of" and e["from"] == "grammar:62-1" for e in nodes[0]["edges"])


@pytest.mark.parametrize("query", ["xqzzvq", "\x01\x02", "Z9"])
def test_show_unknown_is_one_clear_sentence(data_dir: Path, query: str) -> None:
    proc = run_forge("--data-dir", str(data_dir), "kg", "show", query)
    assert_clean_error(proc, "Nothing in the knowledge graph matches")


def test_show_empty_query(data_dir: Path) -> None:
    assert_clean_error(run_forge("--data-dir", str(data_dir), "kg", "show", ""), "empty")
