"""The exercise-session graph: a teacher or learner refines a set of exercises over turns.

    START → understand ─┬→ apply ─→ commit → END
                        └─────────→ commit            (nothing to do: not understood, help)

`understand` reads the message (deterministic parser, the model's forced tool call as a fallback); `apply` runs
each command in turn: model-free edits directly, every new or replacement item through the item graph
(`run_item`, one nested trace per item, with the session id); `commit` appends the new version of the set (every
earlier one stays in `versions`) and the two turns in one update, so a turn becomes visible only when complete.
`run_exercise_turn` runs one turn as one trace (`exercise_turn`). The session store (forge/sessions) provides the
checkpointer, the writer lock and the registry around it.
"""

from __future__ import annotations

import operator
import zlib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from agents import telemetry
from agents.context import AgentContext
from agents.exercise_commands import Command, Parsed, understand
from agents.exercise_export import ExportRecord, write_export
from agents.exercise_set import (
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
from graphs.item import run_item
from graphs.state import MAX_USED_WORDS, ItemRequest, ItemResult
from graphs.turns import Turn, Turns, utc_now
from knowledge.errors import UserInputError
from knowledge.items import taught_words

GRAPH_NAME = "exercise_session"
Route = Literal["apply", "commit"]


class ExerciseTurnInput(TypedDict):
    """One turn's input: what was said, and the id of the run (the trace's root)."""

    message: str
    run_id: str


class ExerciseSessionState(TypedDict, total=False):
    """Everything an exercise session keeps. `versions` and `turns` persist; the rest is this turn's scratch."""

    #: This turn's message and run id.
    message: str
    run_id: str
    #: When the message arrived (scratch; the user turn's time).
    received: datetime
    #: What the message was understood as (scratch).
    parsed: Parsed
    #: Where `understand` sends the turn (routers read this).
    route: Route
    #: This turn's edits so far: the new set, its changes, problems and notes (scratch).
    step: Step | None
    #: The export this turn wrote, if any (scratch).
    export: ExportRecord | None
    #: Every version of the set, oldest first; the last is the current set. Appended to by `commit` only.
    versions: Annotated[list[SetVersion], operator.add]
    #: The turn log (`graphs.turns`), appended to by `commit` only.
    turns: Turns


class ExerciseTurnResult(BaseModel):
    """What one turn returns to its caller (the CLI prints it; --json prints it as is)."""

    session: str
    version: int = Field(description="The current version after the turn (0: the empty set).")
    shown_version: int = Field(description="The version whose items are listed (differs only for 'show version N').")
    level: str
    topic: str
    items: list[SessionItem]
    changes: list[Change]
    problems: list[str]
    notes: list[str]
    reply: str
    understood: bool
    commands: list[Command]
    export: ExportRecord | None = None
    trace_id: str | None = None


class ExerciseNodes:
    """The graph's nodes over an agent context, the item graph and the export directory."""

    def __init__(self, ctx: AgentContext, item_graph: Any, export_dir: Path) -> None:
        self.ctx, self.item_graph, self.export_dir = ctx, item_graph, export_dir

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
        export_wanted: tuple[bool, str | None] = (False, None)
        for number, command in enumerate(state["parsed"].commands):
            step = plan(total.set, command, versions)
            for index, slot in enumerate(step.slots):
                seed = _seed(session_id, len(versions), number, index)
                item, why = self._generate(slot, step.set, seed, session_id)
                fill(step, slot, item, why)
            total = _merge(total, step)
            if step.export:
                export_wanted = (True, step.export_path)
        return {"step": total, "export": self._export(state, total, session_id, *export_wanted)}

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
        text = reply_text(parsed, step, number, shown=_shown(step, number))
        payload = {
            "version": number,
            "understood": bool(parsed.commands),
            "commands": [c.model_dump(mode="json") for c in parsed.commands],
            "changes": [c.model_dump(mode="json") for c in step.changes],
            "problems": step.problems,
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
        used = [w for i in current.items for w in taught_words({"type": i.type, **i.fields})][-MAX_USED_WORDS:]
        for attempt in range(2):
            request = ItemRequest(level=slot.level, topic=slot.topic, type=slot.type, seed=seed + attempt,
                                  session_id=session_id or None, used_words=used)
            try:
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
        self, state: ExerciseSessionState, step: Step, session_id: str, wanted: bool, path: str | None
    ) -> ExportRecord | None:
        """Write the export the turn asked for, of the version the turn ends with."""
        if not wanted:
            return None
        versions = state.get("versions", [])
        number = len(versions) + (1 if _changed(current_set(versions), step.set) else 0)
        try:
            record = write_export(step.set, session_id=session_id, version=number, export_dir=self.export_dir,
                                  path=path)
        except UserInputError as exc:
            step.problems.append(str(exc))
            return None
        step.changes.append(Change(kind="exported", text=f"exported version {number} to {record.markdown_path}"))
        return record


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
    )


def _changed(before: ExerciseSet, after: ExerciseSet) -> bool:
    """Whether a step changed the set (items or settings)."""
    return before.model_dump() != after.model_dump()


def _repeats(item: SessionItem, current: ExerciseSet) -> bool:
    """Whether an item's text is already in the set."""
    key = item.fields.get("stem") or item.fields.get("text")
    return key is not None and any((i.fields.get("stem") or i.fields.get("text")) == key for i in current.items)


def to_session_item(result: ItemResult) -> SessionItem | None:
    """The item graph's result as an item of the set (None when it produced no usable item)."""
    if result.status == "failed" or result.item is None:
        return None
    return SessionItem(
        type=result.type, level=result.level, topic=result.topic, status=result.status, fields=result.item,
        aci=result.aci, violations=[v.message for v in result.violations if v.blocking][:4], run_id=result.run_id,
        trace_id=result.trace_id,
    )


def _shown(step: Step, version: int) -> int:
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


def turn_result(values: dict[str, Any], session_id: str, trace_id: str | None) -> ExerciseTurnResult:
    """The caller's view of a finished turn, from the graph's final state."""
    versions: list[SetVersion] = list(values.get("versions", []))
    step: Step = values.get("step") or Step(set=current_set(versions))
    parsed: Parsed = values.get("parsed") or Parsed()
    number = len(versions)
    shown = _shown(step, number)
    listed = version_set(versions, shown)
    return ExerciseTurnResult(
        session=session_id, version=number, shown_version=shown, level=listed.level.value, topic=listed.topic,
        items=listed.items, changes=step.changes, problems=step.problems, notes=step.notes,
        reply=reply_text(parsed, step, number, shown=shown), understood=bool(parsed.commands),
        commands=parsed.commands, export=values.get("export"), trace_id=trace_id,
    )


def route(state: ExerciseSessionState) -> Route:
    """The router: apply the commands, or go straight to commit."""
    chosen = state.get("route")
    if chosen not in ("apply", "commit"):
        raise ValueError(f"exercise session reached a router without a decision (route={chosen!r})")
    return chosen


def build_exercise_session_graph(ctx: AgentContext, item_graph: Any, export_dir: Path, checkpointer: Any) -> Any:
    """Compile the session graph over the item graph, with the session store's checkpointer."""
    nodes = ExerciseNodes(ctx, item_graph, export_dir)
    graph = StateGraph(ExerciseSessionState, input_schema=ExerciseTurnInput)
    for name in ("understand", "apply", "commit"):
        node = telemetry.traced_node(name, getattr(nodes, name), learner_fields=("message",))
        graph.add_node(name, node)
    graph.add_edge(START, "understand")
    graph.add_conditional_edges("understand", route, ["apply", "commit"])
    graph.add_edge("apply", "commit")
    graph.add_edge("commit", END)
    return graph.compile(checkpointer=checkpointer, name=GRAPH_NAME)


def run_exercise_turn(graph: Any, session_id: str, message: str, *, run_id: str) -> ExerciseTurnResult:
    """Run one turn as one trace (root span `invoke_workflow exercise_session`) and return what it did."""
    config: RunnableConfig = {"configurable": {"thread_id": session_id}}
    with telemetry.run_span("exercise_turn", GRAPH_NAME, run_id=run_id, conversation_id=session_id):
        telemetry.set_run_attrs({telemetry.LEARNER_TEXT: message[:2000]} if telemetry.capture_content() else {})
        values = graph.invoke({"message": message, "run_id": run_id}, config, durability="sync")
        result = turn_result(values, session_id, telemetry.current_trace_id())
        telemetry.set_run_attrs({telemetry.LEVEL: result.level})
        if not result.understood:
            telemetry.mark_run_failed(result.reply[:200])
        return result

