"""Typed state of the exercise-session graph: one turn's input, the session's state, a turn's result."""

from __future__ import annotations

import operator
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from agents.exercise_session.commands import Command, Parsed
from agents.exercise_session.export import ExportRecord
from agents.exercise_session.sets import Change, SessionItem, SetVersion, Step
from graphs.turns import Turns
from knowledge.reviews import ItemDecision

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
    decisions: list[ItemDecision] = Field(default_factory=list, description="The teacher's accepts and rejects.")
    trace_id: str | None = None

