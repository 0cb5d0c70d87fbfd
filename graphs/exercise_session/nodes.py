"""The exercise-session graph's nodes: read the message, apply its commands (new items from the item graph), commit."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig

from agents import streaming, telemetry
from agents.context import AgentContext
from agents.exercise_session.commands import Parsed, understand
from agents.exercise_session.export import ExportRecord, write_export
from agents.exercise_session.sets import (
    Change,
    ExerciseSet,
    SessionItem,
    SetVersion,
    Slot,
    Step,
    current_set,
    fill,
    plan,
)
from graphs.exercise_session.state import ExerciseSessionState, Route
from graphs.item.graph import run_item
from graphs.item.state import MAX_USED_WORDS, ItemRequest, ItemResult
from graphs.turns import Turn, utc_now
from knowledge.errors import UserInputError


class ExerciseNodes:
    """The graph's nodes over an agent context, the item graph and the export directory."""

    def __init__(self, ctx: AgentContext, item_graph: Any, export_dir: Path, *, confined: bool = False) -> None:
        self.ctx, self.item_graph, self.export_dir = ctx, item_graph, export_dir
        #: True for sessions run on someone else's behalf (the web app): exports stay in the export directory
        self.confined = confined

    def understand(self, state: ExerciseSessionState) -> dict[str, Any]:
        """Parse the message; decide whether there is anything to apply."""
        parsed = understand(self.ctx, state["message"], seed=len(state.get("versions", [])))
        route: Route = "apply" if parsed.commands else "commit"
        reason = f"{len(parsed.commands)} command(s)" if parsed.commands else parsed.problem or "nothing to do"
        telemetry.record_decision(None, "exercise.route", route, reason)
        return {"parsed": parsed, "route": route, "step": None, "export": None, "received": utc_now()}

    def apply(self, state: ExerciseSessionState, config: RunnableConfig) -> dict[str, Any]:
        """Run the commands one after another; new items come from the item graph."""
        session_id = _thread(config)
        versions = state.get("versions", [])
        total = Step(set=current_set(versions))
        export_wish: Step | None = None  # the last command's step that asked for an export
        for number, command in enumerate(state["parsed"].commands):
            step = plan(total.set, command, versions)
            for index, slot in enumerate(step.slots):
                streaming.emit("progress", {"done": index, "total": len(step.slots), "what": slot.type})
                seed = _seed(session_id, len(versions), number, index)
                item, why = self._generate(slot, step.set, seed, session_id)
                fill(step, slot, item, why)
            if step.slots:
                streaming.emit("progress", {"done": len(step.slots), "total": len(step.slots), "what": ""})
            total = _merge(total, step)
            if step.export:
                export_wish = step
        return {"step": total, "export": self._export(state, total, session_id, export_wish)}

    def commit(self, state: ExerciseSessionState) -> dict[str, Any]:
        """Append the new version (if the set changed) and the turn's two turns, in one update."""
        versions = state.get("versions", [])
        step = state.get("step") or Step(set=current_set(versions))
        update: dict[str, Any] = {}
        number = len(versions)
        if _changed(current_set(versions), step.set):
            number += 1
            version = SetVersion(number=number, message=state["message"][:500], changes=step.changes, set=step.set)
            update["versions"] = [version]
        parsed = state.get("parsed") or Parsed()
        text = reply_text(parsed, step, number, shown=shown_version(step, number))
        payload = {
            "version": number,
            "understood": bool(parsed.commands),
            "commands": [c.model_dump(mode="json") for c in parsed.commands],
            "changes": [c.model_dump(mode="json") for c in step.changes],
            "problems": step.problems,
            "decisions": [d.model_dump(mode="json") for d in step.decisions],
            "export": export.model_dump(mode="json") if (export := state.get("export")) else None,
            "trace_id": telemetry.current_trace_id(),
        }
        asked = Turn(role="user", text=state["message"], time=state.get("received") or utc_now())
        update["turns"] = [asked, Turn(role="assistant", text=text, payload=payload)]
        return update

    # helpers

    def _generate(
        self, slot: Slot, current: ExerciseSet, seed: int, session_id: str
    ) -> tuple[SessionItem | None, str]:
        """One item for a slot from the item graph; a second try if it repeats an item already in the set."""
        why = ""
        used = [w for i in current.items for w in i.item.taught_words()][-MAX_USED_WORDS:]
        for attempt in range(2):
            try:
                request = ItemRequest.of({"level": slot.level, "topic": slot.topic, "type": slot.type,
                                          "seed": seed + attempt, "session_id": session_id or None,
                                          "used_words": used})  # fmt: skip
                result = run_item(self.item_graph, request)
            except UserInputError as exc:
                return None, str(exc)
            item = to_session_item(result)
            if item is None:
                return None, result.failure or "no valid item"
            if not _repeats(item, current):
                return item, ""
            why = "it repeated an item already in the set"
        return None, why

    def _export(
        self, state: ExerciseSessionState, step: Step, session_id: str, wish: Step | None
    ) -> ExportRecord | None:
        """Write the export the turn asked for (its path and format), of the version the turn ends with."""
        if wish is None:
            return None
        if self.confined and wish.export_path and not _plain_name(wish.export_path):
            step.problems.append(
                f"{wish.export_path!r} is not a plain file name; here an export is kept with the set's other exports, "
                "so give a name without a folder (e.g. week3.xml) or use the Export links."
            )
            return None
        versions = state.get("versions", [])
        number = len(versions) + (1 if _changed(current_set(versions), step.set) else 0)
        try:
            record = write_export(step.set, session_id=session_id, version=number, export_dir=self.export_dir,
                                  path=wish.export_path, fmt=wish.export_format)
        except UserInputError as exc:
            step.problems.append(str(exc))
            return None
        step.changes.append(Change(kind="exported", text=f"exported version {number} to {record.path}"))
        return record


def _plain_name(path: str) -> bool:
    """Whether an export path is a bare file name (no folder, no '..', not absolute, no '~')."""
    candidate = Path(path)
    return len(candidate.parts) == 1 and candidate.name not in ("", ".", "..") and not path.startswith("~")


def _thread(config: RunnableConfig) -> str:
    """The session id (the checkpointer's thread id) of the run."""
    return str((config.get("configurable") or {}).get("thread_id", ""))


def _seed(session_id: str, version: int, command: int, slot: int) -> int:
    """A reproducible seed per session, version, command and slot (so a replacement differs from the original)."""
    return zlib.crc32(f"{session_id}:{version}:{command}:{slot}".encode()) % 1_000_000


def _merge(total: Step, step: Step) -> Step:
    """Accumulate one command's step into the turn's."""
    return Step(
        set=step.set,
        changes=[*total.changes, *step.changes],
        problems=[*total.problems, *step.problems],
        notes=[*total.notes, *step.notes],
        show_version=step.show_version if step.show_version is not None else total.show_version,
        decisions=[*total.decisions, *step.decisions],
    )


def _changed(before: ExerciseSet, after: ExerciseSet) -> bool:
    """Whether a step changed the set (items or settings)."""
    return before.model_dump() != after.model_dump()


def _repeats(item: SessionItem, current: ExerciseSet) -> bool:
    """Whether an item's text is already in the set."""
    key = item.item.key_text()
    return bool(key) and any(i.item.key_text() == key for i in current.items)


def to_session_item(result: ItemResult) -> SessionItem | None:
    """The item graph's result as an item of the set (None when it produced no usable item)."""
    if result.status == "failed" or result.item is None:
        return None
    return SessionItem(
        type=result.type, level=result.level, topic=result.topic, status=result.status, item=result.item,
        aci=result.aci, violations=[v.message for v in result.violations if v.blocking][:4], run_id=result.run_id,
        trace_id=result.trace_id,
    )


def shown_version(step: Step, version: int) -> int:
    """The version a turn lists: the one 'show version N' asked for, else the current one."""
    wanted = step.show_version
    return wanted if wanted is not None and 0 <= wanted <= version else version


def reply_text(parsed: Parsed, step: Step, version: int, *, shown: int) -> str:
    """What the session answers: how it read the message, what changed, what could not be done."""
    if not parsed.commands:
        return parsed.problem or "I did not understand that."
    lines: list[str] = []
    guessed = [c for c in parsed.commands if c.source == "model"]
    if guessed:
        what = "; ".join(c.describe() for c in guessed)
        lines.append(f"I took this as: {what} (my best guess; say 'undo' if it is not what you meant).")
    lines += [change.text for change in step.changes] + step.problems + step.notes
    current = step.set
    if shown != version:
        lines.append(f"Showing version {shown} (the current version is {version}).")
    elif not step.changes:
        lines.append(f"No change: the set is still version {version}.")
    lines.append(f"Version {version}: {len(current.items)} items at {current.level}, topic {current.topic!r}.")
    return "\n".join(lines)


def version_set(versions: list[SetVersion], number: int) -> ExerciseSet:
    """The set of version `number` (0: the empty set); UserInputError naming the versions there are."""
    if number == 0:
        return ExerciseSet()
    if not 1 <= number <= len(versions):
        raise UserInputError(f"There is no version {number}; this session has versions 0-{len(versions)}.")
    return versions[number - 1].set

