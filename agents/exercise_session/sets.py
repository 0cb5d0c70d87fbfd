"""The exercise set of a session and how each command edits it (pure functions, no model, no I/O).

`plan(current, command, versions)` turns one command into a `Step`: the set after the edits that need no model
(removals, level/topic/type settings, going back to a version) plus the `Slot`s the item graph must fill (new or
replacement items, each with its type, level and topic). The session graph fills the slots with `run_item` and
`fill` puts the results in place, so every item in a set was generated and validated by the item graph.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from itertools import cycle, islice
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from agents.exercise_session.commands import ALL_ITEMS, DEFAULT_MORE, DEFAULT_NEW_SET, MAX_ITEMS, Command, help_text
from knowledge.items import ExerciseType, FlatItem, GapFillItem, MatchingItem, ReadingItem, WordFormationItem
from knowledge.levels import Level
from knowledge.reviews import ItemDecision

DEFAULT_LEVEL = Level.A2
DEFAULT_TOPIC = "daily life"
#: Types used when nobody has named any: quick to generate and varied on a worksheet.
DEFAULT_MIX: tuple[ExerciseType, ...] = ("gap_fill", "open_gap", "error_correction", "reorder", "word_formation")
#: Words taken from the set to build a reading text around.
READING_WORDS = 5
ChangeKind = Literal["added", "replaced", "removed", "failed", "level", "topic", "types", "reverted", "exported"]


class SessionItem(BaseModel):
    """One item of the set, as the item graph produced it.

    The exercise is typed here and written flat under `fields` in JSON, exports and checkpoints (older checkpoints
    hold that flat object, which reads back as its type).
    """

    model_config = ConfigDict(serialize_by_alias=True)

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:8])
    type: ExerciseType
    level: Level
    topic: str
    status: Literal["accepted", "flagged"]
    item: FlatItem = Field(
        validation_alias=AliasChoices("item", "fields"), serialization_alias="fields", description="The exercise."
    )
    aci: float | None = None
    violations: list[str] = Field(default_factory=list, description="Why a flagged item was not accepted.")
    run_id: str | None = None
    trace_id: str | None = None


class ExerciseSet(BaseModel):
    """The set a session edits: its items and the settings new items follow."""

    level: Level = DEFAULT_LEVEL
    topic: str = DEFAULT_TOPIC
    types: list[ExerciseType] = Field(default_factory=list, description="Types new items cycle through.")
    items: list[SessionItem] = Field(default_factory=list)

    def mix(self) -> list[ExerciseType]:
        """The types new items cycle through (the default mix when none was asked for)."""
        return list(self.types) or list(DEFAULT_MIX)


class Change(BaseModel):
    """One thing a turn changed, for people (`text`) and scripts (`kind`, `item`)."""

    kind: ChangeKind
    item: int | None = Field(default=None, description="The item's number (1-based) in the new version.")
    text: str


class SetVersion(BaseModel):
    """One version of the set: the message that made it, what changed, and the whole set."""

    number: int
    message: str
    changes: list[Change]
    set: ExerciseSet
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Slot(BaseModel):
    """An item the item graph must generate: where it goes and what it must be."""

    position: int | None = Field(description="Index of the item it replaces; None appends.")
    type: ExerciseType
    level: Level
    topic: str
    why: Literal["add", "replace"]


class Step(BaseModel):
    """One command's effect: the set after the model-free edits, the slots to fill, and what to tell the user."""

    set: ExerciseSet
    slots: list[Slot] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="Replies that change nothing (help, show).")
    export: bool = False
    export_path: str | None = None
    export_format: str | None = Field(default=None, description="The format to export in; None: JSON + Markdown.")
    show_version: int | None = None
    decisions: list[ItemDecision] = Field(default_factory=list, description="Teacher's accept/reject, to be stored.")


def current_set(versions: list[SetVersion]) -> ExerciseSet:
    """The latest version's set (an empty default set before the first)."""
    return versions[-1].set if versions else ExerciseSet()


def plan(current: ExerciseSet, command: Command, versions: list[SetVersion]) -> Step:
    """What one command does to the set."""
    handlers = {
        "add": _plan_add, "replace": _plan_replace, "remove": _plan_remove, "harder": _plan_shift,
        "easier": _plan_shift, "set_level": _plan_level, "topic": _plan_topic, "only": _plan_only,
        "reading": _plan_reading,
    }
    if command.action in handlers:
        return handlers[command.action](current, command)
    if command.action == "undo":
        return _plan_undo(current, command, versions)
    if command.action == "export":
        return Step(set=current, export=True, export_path=command.path, export_format=command.format)
    if command.action in ("accept", "reject"):
        return _plan_decision(current, command)
    if command.action == "show":
        return Step(set=current, show_version=command.version)
    return Step(set=current, notes=[help_text()])


def _plan_decision(current: ExerciseSet, command: Command) -> Step:
    """A teacher's accept or reject of items of the current set: nothing in the set changes, the decisions are kept."""
    held = len(current.items)
    numbers = list(range(1, held + 1)) if ALL_ITEMS in command.items else command.items
    wrong = [n for n in numbers if not 1 <= n <= held]
    problems = [f"There is no item {n}; the set holds {held} items." for n in wrong]
    decision: Literal["accept", "reject"] = "accept" if command.action == "accept" else "reject"
    decisions = [
        ItemDecision(number=n, decision=decision, reason=command.reason, note=command.note or "")
        for n in numbers if n not in wrong
    ]
    verb = "Accepted" if decision == "accept" else "Rejected"
    why = f" ({command.reason})" if command.reason else ""
    notes = [f"{verb} item{'s' if len(decisions) > 1 else ''} {', '.join(str(d.number) for d in decisions)}{why}."]
    return Step(set=current, decisions=decisions, problems=problems, notes=notes if decisions else [])


def _plan_add(current: ExerciseSet, command: Command) -> Step:
    """New items at the end: the settings the command names become the set's (level, topic, types)."""
    updates: dict[str, Any] = {}
    if command.level is not None and not current.items:
        updates["level"] = command.level
    if command.topic and not current.items:
        updates["topic"] = command.topic
    if command.types:
        updates["types"] = command.types
    edited = current.model_copy(update=updates)
    count = command.count or (DEFAULT_MORE if current.items else DEFAULT_NEW_SET)
    room = MAX_ITEMS - len(edited.items)
    if room <= 0:
        return Step(set=edited, problems=[f"The set already has {MAX_ITEMS} items, the most a set can hold."])
    level, topic = command.level or edited.level, command.topic or edited.topic
    kinds = list(islice(cycle(edited.mix()), min(count, room)))
    slots = [Slot(position=None, type=k, level=level, topic=topic, why="add") for k in kinds]
    problems = [f"Only {room} more items fit in a set of at most {MAX_ITEMS}."] if count > room else []
    return Step(set=edited, slots=slots, problems=problems)


def _plan_replace(current: ExerciseSet, command: Command) -> Step:
    """New items in place of the named ones, same type, level and topic unless the command says otherwise."""
    positions, problems = resolve_items(current, command.items)
    kind = command.types[0] if command.types else None
    slots = [_slot_for(current.items[p], p, level=command.level, kind=kind) for p in positions]
    return Step(set=current, slots=slots, problems=problems)


def _plan_remove(current: ExerciseSet, command: Command) -> Step:
    """Drop the named items."""
    positions, problems = resolve_items(current, command.items)
    kept = [item for i, item in enumerate(current.items) if i not in positions]
    changes = [Change(kind="removed", text=f"removed item {p + 1} ({current.items[p].type})") for p in positions]
    return Step(set=current.model_copy(update={"items": kept}), changes=changes, problems=problems)


def _plan_shift(current: ExerciseSet, command: Command) -> Step:
    """One level up (harder) or down (easier): the named items, or the whole set and its level."""
    delta = 1 if command.action == "harder" else -1
    if not current.items:
        return Step(set=current, problems=[_empty(command)])
    positions, problems = resolve_items(current, command.items) if command.items else (
        list(range(len(current.items))), [])
    step = Step(set=current, problems=problems)
    for p in positions:
        new = _shifted(current.items[p].level, delta)
        if new is None:
            step.problems.append(f"Item {p + 1} is already at {current.items[p].level}; it cannot go further.")
            continue
        step.slots.append(_slot_for(current.items[p], p, level=new))
    if not command.items:
        new_level = _shifted(current.level, delta)
        if new_level is not None:
            step.set = current.model_copy(update={"level": new_level})
            step.changes.append(Change(kind="level", text=f"level {current.level} → {new_level}"))
    return step


def _plan_level(current: ExerciseSet, command: Command) -> Step:
    """Move the set to a level: every item is regenerated at it."""
    level = command.level or current.level
    edited = current.model_copy(update={"level": level})
    changes = [Change(kind="level", text=f"level {current.level} → {level}")] if level != current.level else []
    slots = [_slot_for(item, p, level=level) for p, item in enumerate(current.items) if item.level != level]
    return Step(set=edited, slots=slots, changes=changes)


def _plan_topic(current: ExerciseSet, command: Command) -> Step:
    """Move the set to a topic: every item is regenerated about it."""
    topic = command.topic or current.topic
    edited = current.model_copy(update={"topic": topic})
    changes = [Change(kind="topic", text=f"topic {current.topic!r} → {topic!r}")] if topic != current.topic else []
    slots = [_slot_for(item, p, topic=topic) for p, item in enumerate(current.items) if item.topic != topic]
    return Step(set=edited, slots=slots, changes=changes)


def _plan_only(current: ExerciseSet, command: Command) -> Step:
    """Keep the set's size but only the named types: other items are replaced by items of those types."""
    kinds = command.types
    edited = current.model_copy(update={"types": kinds})
    others = [p for p, item in enumerate(current.items) if item.type not in kinds]
    pool = cycle(kinds)
    slots = [_slot_for(current.items[p], p, kind=next(pool)) for p in others]
    change = Change(kind="types", text=f"new items will be {', '.join(kinds)}")
    return Step(set=edited, slots=slots, changes=[change])


def _plan_reading(current: ExerciseSet, command: Command) -> Step:
    """A reading text built around the set's words, added at the end."""
    words = words_of(current)[:READING_WORDS]
    if not words:
        return Step(set=current, problems=[_empty(command)])
    topic = ", ".join(words)
    slot = Slot(position=None, type="reading", level=command.level or current.level, topic=topic, why="add")
    return Step(set=current, slots=[slot], notes=[f"A reading text around the set's words: {topic}."])


def _plan_undo(current: ExerciseSet, command: Command, versions: list[SetVersion]) -> Step:
    """The set of an earlier version (the one before the latest when none is named), as a new version."""
    target = command.version if command.version is not None else len(versions) - 1
    if not 0 <= target < len(versions) or (command.version is None and not versions):
        known = f"versions 0-{len(versions)}" if versions else "only version 0 (the empty set)"
        return Step(set=current, problems=[f"There is no version {target} to go back to; there are {known}."])
    restored = versions[target - 1].set if target >= 1 else ExerciseSet()
    return Step(set=restored, changes=[Change(kind="reverted", text=f"back to the set of version {target}")])


def fill(step: Step, slot: Slot, item: SessionItem | None, reason: str = "") -> None:
    """Put a generated item in its slot (or record why there is none), with the change it makes."""
    items = step.set.items
    if item is None:
        where = f"item {slot.position + 1}" if slot.position is not None else "a new item"
        step.changes.append(Change(kind="failed", item=None, text=f"could not make {where} ({slot.type}): {reason}"))
        return
    if slot.position is None:
        step.set = step.set.model_copy(update={"items": [*items, item]})
        number = len(step.set.items)
        step.changes.append(Change(kind="added", item=number, text=f"added item {number}: {_label(item)}"))
        return
    replaced = [*items[: slot.position], item, *items[slot.position + 1 :]]
    step.set = step.set.model_copy(update={"items": replaced})
    number = slot.position + 1
    step.changes.append(Change(kind="replaced", item=number, text=f"replaced item {number}: {_label(item)}"))


def resolve_items(current: ExerciseSet, numbers: list[int]) -> tuple[list[int], list[str]]:
    """0-based positions of item numbers (-1 is the last), and a sentence for each that does not exist."""
    size = len(current.items)
    positions: list[int] = []
    problems: list[str] = []
    for n in numbers:
        p = size - 1 if n == -1 else n - 1
        if 0 <= p < size:
            positions.append(p)
        else:
            have = f"the set has items 1-{size}" if size else "the set is empty"
            problems.append(f"There is no item {n}; {have}.")
    return sorted(set(positions)), problems


def words_of(current: ExerciseSet) -> list[str]:
    """The vocabulary the set practises: target words, base words, matched words and one-word answers."""
    words: list[str] = []
    for entry in current.items:
        item = entry.item
        if isinstance(item, GapFillItem):
            words.append(item.target_word.lower())
        if isinstance(item, WordFormationItem):
            words.append(item.base_word.lower())
        if isinstance(item, MatchingItem):
            words += [w.lower() for w in item.words]
        if isinstance(item, GapFillItem | WordFormationItem) and " " not in item.answer:
            words.append(item.answer.lower())
    return [w for w in dict.fromkeys(words) if w.isalpha()]


def _slot_for(
    item: SessionItem, position: int, *, level: Level | None = None, topic: str | None = None,
    kind: ExerciseType | None = None,
) -> Slot:
    """A replacement slot for an item, changing only what is given."""
    return Slot(position=position, type=kind or item.type, level=level or item.level, topic=topic or item.topic,
                why="replace")


def _shifted(level: Level, delta: int) -> Level | None:
    """The level `delta` steps away within A1-C2, or None past either end."""
    rank = level.rank + delta
    if rank < Level.A1.rank or rank > Level.C2.rank:
        return None
    return Level.from_rank(rank)


def _empty(command: Command) -> str:
    """The answer when a command needs items and the set has none."""
    return f"The set is empty, so there is nothing to {command.action}; ask for items first, e.g. 'five gap fills'."


def _label(item: SessionItem) -> str:
    """A short label of an item: type, level, and the start of its text."""
    text = item.item.title if isinstance(item.item, ReadingItem) else item.item.key_text()
    flag = " (flagged)" if item.status == "flagged" else ""
    return f"{item.type} at {item.level}{flag} — {text[:60]}"
