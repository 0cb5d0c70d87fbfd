"""The exercise-session parser, set planning, export rendering and routing: pure logic, no model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.exercise_session.commands import Command, check_message, grounded, parse
from agents.exercise_session.export import write_export
from agents.exercise_session.formats.markdown import worksheet
from agents.exercise_session.formats.sheet import ExportSheet
from agents.exercise_session.sets import ExerciseSet, SessionItem, SetVersion, Slot, fill, plan, words_of
from graphs.exercise_session.nodes import reply_text
from graphs.exercise_session.routing import route
from knowledge.errors import UserInputError
from knowledge.items import GapFillItem
from knowledge.levels import Level


def _cmd(text: str) -> dict[str, Any]:
    parsed = parse(text)
    assert parsed.commands, parsed.problem
    assert len(parsed.commands) == 1
    return parsed.commands[0].model_dump(exclude_defaults=True, exclude={"source"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ten gap fills about food at A2", {"action": "add", "count": 10, "level": Level.A2, "topic": "food",
                                            "types": ["gap_fill"]}),
        ("Make it harder.", {"action": "harder"}),
        ("three more about travel", {"action": "add", "count": 3, "topic": "travel"}),
        ("replace item 2", {"action": "replace", "items": [2]}),
        ("switch to B1", {"action": "set_level", "level": Level.B1}),
        ("turn these words into a reading text", {"action": "reading", "types": ["reading"]}),
        ("export", {"action": "export"}),
        ("export to sets/food.md", {"action": "export", "path": "sets/food.md", "format": "markdown"}),
        ("export moodle", {"action": "export", "format": "moodle"}),
        ("accept 1 and 3", {"action": "accept", "items": [1, 3]}),
        ("remove items 2-4", {"action": "remove", "items": [2, 3, 4]}),
        ("delete the last one", {"action": "remove", "items": [-1]}),
        ("only gap fills", {"action": "only", "types": ["gap_fill"]}),
        ("easier", {"action": "easier"}),
        ("make item 2 harder", {"action": "harder", "items": [2]}),
        ("show version 2", {"action": "show", "version": 2}),
        ("go back to version 1", {"action": "undo", "version": 1}),
        ("about sport instead", {"action": "topic", "topic": "sport"}),
        ("another one", {"action": "add", "count": 1}),
        ("level b1 please", {"action": "set_level", "level": Level.B1}),
    ],
)
def test_parser_reads_the_usual_requests(text: str, expected: dict[str, Any]) -> None:
    assert _cmd(text) == expected


def test_several_commands_in_one_message() -> None:
    parsed = parse("switch to B1 and add three more about travel; then export")
    assert [c.action for c in parsed.commands] == ["set_level", "add", "export"]


def test_unparseable_and_bad_messages() -> None:
    assert parse("hello there").problem == "I did not understand 'hello there'."
    assert not parse("please toss out number 2").commands  # a number alone is not a request for items
    with pytest.raises(UserInputError, match="empty"):
        check_message("   ")
    with pytest.raises(UserInputError, match="102,400 characters; at most 2,000"):
        check_message("x" * 102_400)


def test_model_guesses_are_used_only_when_grounded() -> None:
    text = "could you swap out number 2 please"
    assert grounded({"action": "replace", "item": 2}, text) == Command(action="replace", items=[2], source="model")
    assert grounded({"action": "remove", "item": 3}, text) is None  # item 3 is not in the message
    assert grounded({"action": "remove"}, text) is None  # a removal needs an item
    assert grounded({"action": "set_level", "level": "C2"}, text) is None
    assert grounded({"action": "explode"}, text) is None
    assert grounded({"action": "show"}, text) == Command(action="show", source="model")


def _item(n: int, kind: str = "gap_fill", level: Level = Level.A2) -> SessionItem:
    item = GapFillItem(level=level, topic="food", instructions="Choose.", stem=f"I like _____ {n}.",
                       options=["tea", "cat", "run", "blue"], answer="tea", target_word=f"tea{n}" if n > 1 else "tea",
                       pos="noun")  # fmt: skip
    return SessionItem(type=kind, level=level, topic="food", status="accepted", item=item)  # type: ignore[arg-type]


def test_plans() -> None:
    current = ExerciseSet(level=Level.A2, topic="food", items=[_item(1), _item(2), _item(3)])
    add = plan(current, Command(action="add", count=2, types=["reorder"]), [])
    assert [(s.position, s.type, s.topic) for s in add.slots] == [(None, "reorder", "food")] * 2
    harder = plan(current, Command(action="harder"), [])
    assert harder.set.level == Level.B1 and {s.level for s in harder.slots} == {Level.B1} and len(harder.slots) == 3
    missing = plan(current, Command(action="replace", items=[2, 7]), [])
    assert [s.position for s in missing.slots] == [1]
    assert missing.problems == ["There is no item 7; the set has items 1-3."]
    removed = plan(current, Command(action="remove", items=[1]), [])
    assert [i.item.key_text() for i in removed.set.items] == ["I like _____ 2.", "I like _____ 3."]
    only = plan(current.model_copy(update={"items": [_item(1), _item(2, "reorder")]}),
                Command(action="only", types=["reorder"]), [])
    assert [(s.position, s.type) for s in only.slots] == [(0, "reorder")]
    empty = plan(ExerciseSet(), Command(action="easier"), [])
    assert empty.problems and not empty.slots
    assert words_of(current) == ["tea"]


def test_undo_and_fill() -> None:
    v1 = SetVersion(number=1, message="a", changes=[], set=ExerciseSet(items=[_item(1)]))
    v2 = SetVersion(number=2, message="b", changes=[], set=ExerciseSet(items=[_item(1), _item(2)]))
    back = plan(v2.set, Command(action="undo"), [v1, v2])
    assert back.set == v1.set
    assert plan(v2.set, Command(action="undo", version=0), [v1, v2]).set.items == []
    assert plan(v2.set, Command(action="undo", version=9), [v1, v2]).problems
    step = plan(v2.set, Command(action="replace", items=[1]), [v1, v2])
    fill(step, step.slots[0], _item(9), "")
    assert step.set.items[0].item.key_text() == "I like _____ 9." and step.changes[0].kind == "replaced"
    fill(step, Slot(position=None, type="reorder", level=Level.A2, topic="food", why="add"), None, "no luck")
    assert step.changes[-1].kind == "failed" and "no luck" in step.changes[-1].text


def test_export_writes_json_and_a_worksheet_with_answer_key(tmp_path: Path) -> None:
    item = _item(1)
    current = ExerciseSet(items=[item])
    record = write_export(current, session_id="abcd1234", version=3, export_dir=tmp_path)
    text = Path(record.markdown_path or "").read_text()
    assert "## 1. Gap fill" in text and "*Choose.*" in text and "a) tea" in text and "## Answer key" in text
    assert "1. a) tea" in text
    assert Path(record.json_path or "").name == "abcd1234-v3.json"
    other = write_export(current, session_id="abcd1234", version=3, export_dir=tmp_path, path="out/set.json")
    assert (other.markdown_path or "").endswith("out/set.md")
    with pytest.raises(UserInputError, match=r"\.json, \.md or \.txt"):
        write_export(current, session_id="abcd1234", version=3, export_dir=tmp_path, path="set.exe")
    sheet = worksheet(ExportSheet.of(current, session_id="T", version=1))
    assert sheet.startswith("# Exercises (T)") and "version 1" in sheet


def test_router_and_reply() -> None:
    assert route({"route": "apply"}) == "apply"
    with pytest.raises(ValueError, match="without a decision"):
        route({})
    from agents.exercise_session.commands import Parsed
    from agents.exercise_session.sets import Step

    guess = Parsed(commands=[Command(action="harder", source="model")])
    reply = reply_text(guess, Step(set=ExerciseSet()), 0, shown=0)
    assert "my best guess" in reply and "No change" in reply


# --- typed items in checkpoints ---------------------------------------------------------------------------------

_READING = {"level": "A2", "topic": "pets", "instructions": "Read and answer.", "type": "reading", "title": "Tom",
            "text": "Tom has a dog.", "answer": ["True"], "options": None,
            "questions": [{"kind": "true_false", "question": "Tom has a dog.", "options": ["True", "False"],
                           "answer": "True", "evidence": "Tom has a dog.", "slot": None}]}  # fmt: skip


def test_items_stored_flat_before_they_were_typed_read_back_typed() -> None:
    """Checkpoints written before items were typed hold `fields` / `item` as flat dicts (reading: derived keys)."""
    from graphs.item.state import ItemResult
    from knowledge.items import ReadingItem

    old = {"id": "abc", "type": "reading", "level": "A2", "topic": "pets", "status": "accepted", "fields": _READING,
           "aci": 0.9, "violations": [], "run_id": "r", "trace_id": None}  # fmt: skip
    item = SessionItem.model_validate(old)
    assert isinstance(item.item, ReadingItem) and item.item.answer == ["True"]
    assert item.model_dump(mode="json") == old  # and the JSON document keeps its shape
    result = ItemResult.model_validate({"run_id": "r", "status": "accepted", "type": "reading", "level": "A2",
                                        "topic": "pets", "item": _READING})  # fmt: skip
    assert isinstance(result.item, ReadingItem) and result.model_dump(mode="json")["item"] == _READING


def test_the_checkpoint_serializer_revives_every_item_type(caplog: pytest.LogCaptureFixture) -> None:
    from forge.sessions.serde import allowed_types, strict_serializer
    from graphs.exercise_session.state import ExerciseSessionState
    from graphs.turns import Turn
    from knowledge.items import ITEM_TYPES, Question, ReadingItem

    allowed = allowed_types([ExerciseSessionState, Turn])
    assert {(c.__module__, c.__name__) for c in [*ITEM_TYPES.values(), Question]} <= allowed
    serde = strict_serializer().with_msgpack_allowlist(allowed)
    reading = SessionItem.model_validate({"type": "reading", "level": "A2", "topic": "pets", "status": "accepted",
                                          "fields": _READING})  # fmt: skip
    version = SetVersion(number=1, message="m", changes=[], set=ExerciseSet(items=[_item(1), reading]))
    with caplog.at_level("WARNING"):
        back = serde.loads_typed(serde.dumps_typed([version]))
    assert back == [version] and isinstance(back[0].set.items[1].item, ReadingItem)
    assert "unregistered" not in caplog.text
