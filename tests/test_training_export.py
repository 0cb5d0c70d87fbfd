"""Training data from teachers' reviews: SFT and DPO files, their cards, pairing, disagreement and redaction.

Hand-built reviews only (no model, no database): five items, two accepted, two rejected, one modified. The prompts
are checked against what `CompletionWriter` really sends, with the scripted model recording it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.item.training import training_pairs
from agents.item.writers import CompletionWriter, SentenceSpec, TextSpec
from forge.reviews.training import REDACTED, export_training, learner_names, redact_text
from knowledge.errors import UserInputError
from knowledge.levels import Level
from knowledge.reviews import Review
from tests.support.scripted_model import ScriptedModel

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
NOTE = "Maria wrote to maria.lopez@example.org, call +44 20 7946 0958"

TICKET = {
    "type": "gap_fill", "level": "A2", "topic": "travel", "instructions": "Choose the word that fits the gap.",
    "stem": "We bought a _____ for the train to London.", "options": ["ticket", "chair", "river", "song"],
    "answer": "ticket", "target_word": "ticket", "pos": "noun",
}  # fmt: skip
BAD_TICKET = {**TICKET, "stem": "The _____ ate a ticket of song.", "options": ["ticket", "bus", "cat", "sky"]}
ZOO = {
    "type": "reading", "level": "A1", "topic": "a day at the zoo", "instructions": "Read the text.",
    "title": "At the Zoo", "text": "Ben went to the zoo. He saw a big lion.",
    "questions": [{"kind": "true_false", "question": "Ben saw a lion.", "options": ["True", "False"],
                   "answer": "True", "evidence": "He saw a big lion."}],
    "answer": ["True"], "options": None,
}  # fmt: skip
WORDS = {
    "type": "matching", "level": "B1", "topic": "travel", "instructions": "Match each noun with its meaning.",
    "words": ["luggage", "journey"], "options": ["a long song", "a kind of bird"],
    "answer": {"luggage": "a kind of bird", "journey": "a long song"},
}  # fmt: skip
#: An item from a tutoring session: the learner's name is in the item, and in her sentence.
MARIA = {
    "type": "error_correction", "level": "A1", "topic": "school", "instructions": "Find the mistake and correct it.",
    "stem": "Maria go to school by bus.", "error": "go", "correction": "goes", "error_type": "subject-verb agreement",
    "answer": "Maria goes to school by bus.", "learner": "Maria Lopez",
}  # fmt: skip
MARIA_EDITED = {
    **MARIA, "stem": "Maria go to school by bus every day.", "answer": "Maria goes to school by bus every day."
}  # fmt: skip


def review(item_id: str, decision: str, item: dict[str, Any], minutes: int, **extra: Any) -> Review:
    """A teacher's review at T0 + minutes."""
    fields = {"reviewer": "t.jones", "source": "generated", "type": item["type"], "level": item["level"],
              "topic": item["topic"], "reason": "wrong_key" if decision == "reject" else None, **extra}  # fmt: skip
    return Review(item_id=item_id, decision=decision, item=item, time=T0 + timedelta(minutes=minutes), **fields)


def five_reviews() -> list[Review]:
    """Two accepted, two rejected and one modified item (the first one rejected first, then accepted)."""
    return [
        review("ticket", "reject", TICKET, 0),  # changed their mind: only the latest decision counts
        review("ticket", "accept", TICKET, 5),
        review("zoo", "accept", ZOO, 6, reviewer="a.khan", note=NOTE),
        review("bad-ticket", "reject", BAD_TICKET, 7, note=NOTE),
        review("words", "reject", WORDS, 8, reason="wrong_meaning"),
        review("maria", "modify", MARIA, 9, edited=MARIA_EDITED, reason="off_level", note=NOTE),
    ]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSONL file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def all_rows(directory: Path) -> list[dict[str, Any]]:
    """The rows of every level file of a directory."""
    return [row for path in sorted(directory.glob("*.jsonl")) for row in read_jsonl(path)]


def card_parts(directory: Path) -> tuple[dict[str, Any], dict[tuple[str, str], int], dict[str, int]]:
    """A card's YAML metadata, its (level, type) -> rows table and its review counts table."""
    text = (directory / "README.md").read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    rows, reviews = {}, {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and cells[2].isdigit() and line.startswith("| ") and cells[0] != "all":
            if cells[0] in {level.value for level in Level}:
                rows[(cells[0], cells[1])] = int(cells[2])
            else:
                reviews[cells[0]] = int(cells[2])
    return yaml.safe_load(front), rows, reviews


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, Path, Any]:
    """The five reviews exported, redacted (the default)."""
    sft, dpo = tmp_path / "sft", tmp_path / "dpo"
    return sft, dpo, export_training(five_reviews(), sft, dpo)


def test_sft_holds_the_three_kept_items_the_modified_one_edited(exported: tuple[Path, Path, Any]) -> None:
    sft, _, export = exported
    rows = all_rows(sft)
    assert sorted((r["item_id"], r["source"]) for r in rows) == [
        ("maria", "modified"), ("ticket", "accepted"), ("zoo", "accepted"),
    ]  # fmt: skip
    by_item = {r["item_id"]: r for r in rows}
    assert by_item["ticket"]["completion"] == " We bought a ticket for the train to London."
    assert by_item["ticket"]["prompt"].endswith("Word: ticket (noun)\nSentence:")
    assert by_item["maria"]["completion"] == f" {REDACTED} goes to school by bus every day."
    assert by_item["zoo"]["completion"] == " At the Zoo\nText: Ben went to the zoo. He saw a big lion."
    assert {r["level"] for r in rows} == {"A1", "A2"} and sorted(p.name for p in sft.iterdir()) == [
        "A1.jsonl", "A2.jsonl", "README.md",
    ]  # fmt: skip
    assert export.sft == {"A1": {"error_correction": 1, "reading": 1}, "A2": {"gap_fill": 1}}


def test_dpo_holds_the_edit_over_the_original_and_pairs_a_rejected_item_by_slot(
    exported: tuple[Path, Path, Any],
) -> None:
    _, dpo, export = exported
    rows = {r["source"]: r for r in all_rows(dpo)}
    assert len(all_rows(dpo)) == 2
    edit = rows["modified"]
    assert (edit["item_id"], edit["rejected_item_id"], edit["reason"]) == ("maria", "maria", "off_level")
    assert edit["chosen"] == f" {REDACTED} goes to school by bus every day."
    assert edit["rejected"] == f" {REDACTED} goes to school by bus."
    # the rejected gap-fill is set against the kept one with the same type, level and target word, under its prompt
    paired = rows["rejected"]
    assert (paired["item_id"], paired["rejected_item_id"], paired["type"]) == ("ticket", "bad-ticket", "gap_fill")
    assert paired["chosen"] == " We bought a ticket for the train to London."
    assert paired["rejected"] == " The ticket ate a ticket of song."
    assert paired["prompt"].endswith("Word: ticket (noun)\nSentence:")
    # the rejected matching item (B1) has no kept partner: its two words are unpaired
    assert export.reviews.unpaired == 2


def test_rows_carry_the_prompts_the_local_writer_sends() -> None:
    model = ScriptedModel(["We bought a ticket."])
    writer = CompletionWriter(model)
    writer.sentences(SentenceSpec(word="ticket", pos="noun", level=Level.A2), n=1, seed=0)
    writer.text(TextSpec(level=Level.A1, topic="a day at the zoo"), seed=0)
    writer.meanings(SentenceSpec(word="luggage", pos="noun", level=Level.B1), n=1, seed=0)
    sentence, text, meaning = model.prompts
    assert training_pairs(TICKET)[0].prompt == sentence
    assert training_pairs(ZOO)[0].prompt == text
    luggage = next(p for p in training_pairs(WORDS) if p.word == "luggage")
    assert (luggage.prompt, luggage.completion) == (meaning, " a kind of bird")


def test_every_row_has_the_trl_columns_and_the_metadata(exported: tuple[Path, Path, Any]) -> None:
    sft, dpo, _ = exported
    schemas = {
        sft: {"prompt", "completion", "level", "type", "item_id", "source"},
        dpo: {"prompt", "chosen", "rejected", "level", "type", "item_id", "rejected_item_id", "source", "reason"},
    }
    for directory, columns in schemas.items():
        for path in directory.glob("*.jsonl"):
            for row in read_jsonl(path):
                assert set(row) == columns and row["level"] == path.stem
                texts = [row[c] for c in ("prompt", "completion", "chosen", "rejected") if c in row]
                assert all(isinstance(t, str) and t for t in texts)
                assert row["source"] in {"accepted", "modified", "rejected"}


def test_every_file_loads_with_datasets_as_trl_users_load_it(
    exported: tuple[Path, Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    sft, dpo, export = exported
    for directory, counts in ((sft, export.sft), (dpo, export.dpo)):
        for level, kinds in counts.items():
            data = datasets.load_dataset(
                "json", data_files=str(directory / f"{level}.jsonl"), split="train", cache_dir=str(tmp_path / "hf")
            )
            assert data.num_rows == sum(kinds.values())
            assert {"prompt", "level", "type", "item_id", "source"} <= set(data.column_names)
        # the card's configs are what `load_dataset(<dir>, <level>)` reads
        first = next(iter(counts))
        by_config = datasets.load_dataset(str(directory), first, split="train", cache_dir=str(tmp_path / "hf"))
        assert by_config.num_rows == sum(counts[first].values())


def test_the_cards_counts_match_the_files(exported: tuple[Path, Path, Any]) -> None:
    for directory in exported[:2]:
        meta, table, reviews = card_parts(directory)
        files = {}
        for row in all_rows(directory):
            files[(row["level"], row["type"])] = files.get((row["level"], row["type"]), 0) + 1
        assert table == files
        assert [c["config_name"] for c in meta["configs"]] == sorted({level for level, _ in files})
        assert all((directory / c["data_files"][0]["path"]).exists() for c in meta["configs"])
        assert meta["language"] == ["en"] and meta["license"] == "other" and meta["task_categories"]
        assert reviews == {"reviews": 6, "latest": 5, "items": 5, "accepted": 2, "modified": 1, "rejected": 2,
                           "disputed": 0, "unreadable": 0, "unpaired": 2}  # fmt: skip
        text = (directory / "README.md").read_text(encoding="utf-8")
        assert "prompts/sentence.yaml` (version 1)" in text and "standard" in text and "conversational" in text


def test_redaction_removes_notes_reviewers_addresses_phones_and_the_learners_name(
    exported: tuple[Path, Path, Any],
) -> None:
    for directory in exported[:2]:
        for path in directory.glob("*.jsonl"):
            raw = path.read_text(encoding="utf-8")
            for secret in ("Maria", "Lopez", "maria.lopez@", "7946", "t.jones", "a.khan", '"note"', '"reviewer"'):
                assert secret not in raw, (path, secret)
    assert redact_text("Mail me at ann@example.com or 0171 555 0199 at 7:30 in 2026.") == (
        "Mail me at [redacted] or [redacted] at 7:30 in 2026."
    )
    assert learner_names({"learner": {"name": "Maria Lopez"}}) == ["Maria Lopez", "Lopez", "Maria"]


def test_without_redaction_rows_keep_notes_reviewers_and_names(tmp_path: Path) -> None:
    export_training(five_reviews(), tmp_path / "sft", tmp_path / "dpo", redact=False)
    sft = {r["item_id"]: r for r in all_rows(tmp_path / "sft")}
    assert sft["zoo"]["reviewer"] == "a.khan" and sft["zoo"]["note"] == NOTE
    assert sft["maria"]["completion"] == " Maria goes to school by bus every day."
    assert sft["ticket"]["note"] is None


def test_disagreement_gives_no_row_and_is_counted(tmp_path: Path) -> None:
    reviews = [*five_reviews(), review("zoo", "reject", ZOO, 20, reviewer="b.lee")]
    export = export_training(reviews, tmp_path / "sft", tmp_path / "dpo")
    assert "zoo" not in {r["item_id"] for r in all_rows(tmp_path / "sft")}
    assert (export.reviews.disputed, export.reviews.accepted) == (1, 1)


def test_a_level_no_longer_present_leaves_no_stale_file(exported: tuple[Path, Path, Any]) -> None:
    sft, dpo, _ = exported
    export_training([review("ticket", "accept", TICKET, 0)], sft, dpo)
    assert sorted(p.name for p in sft.iterdir()) == ["A2.jsonl", "README.md"]
    assert sorted(p.name for p in dpo.iterdir()) == ["README.md"]
    meta, table, _ = card_parts(dpo)
    assert meta["configs"] == [] and table == {}


def test_one_directory_for_both_sets_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="must differ"):
        export_training(five_reviews(), tmp_path, tmp_path)


def test_sentence_items_without_a_recorded_word_name_a_content_word_of_their_level() -> None:
    # "Maria goes to school by bus every day.": every content word is A1; the name is skipped, the first one wins
    (pair,) = training_pairs(MARIA_EDITED)
    assert (pair.word, pair.target) == ("go", None)
    assert pair.prompt.endswith("Word: go (verb)\nSentence:")
    formed = {
        "type": "word_formation", "level": "B1", "topic": "feelings", "instructions": "Form a word.",
        "stem": "She smiled with _____ at the party. (HAPPY)", "base_word": "HAPPY", "answer": "happiness",
    }  # fmt: skip
    (pair,) = training_pairs(formed)
    assert (pair.word, pair.target) == ("happiness", "happiness")
    assert pair.completion == " She smiled with happiness at the party."
    opposites = {**WORDS, "instructions": "Match each word with its opposite."}
    assert training_pairs(opposites) == []


def test_an_unreadable_item_or_edit_gives_no_row_and_is_counted(tmp_path: Path) -> None:
    essay = {"type": "essay", "level": "B1", "topic": "work"}
    reviews = [
        review("essay", "accept", essay, 0),
        review("no-edit", "modify", TICKET, 1),  # a modification without the edited item
        review("ticket", "accept", TICKET, 2),
    ]
    export = export_training(reviews, tmp_path / "sft", tmp_path / "dpo")
    assert export.reviews.unreadable == 2
    assert [r["item_id"] for r in all_rows(tmp_path / "sft")] == ["ticket"]
