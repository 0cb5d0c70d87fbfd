"""Typed state of the tutoring graph: one turn's input, the session's state (persistent and per turn), the result."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from agents.tutor.answers import Answer
from agents.tutor.errors import Detection
from agents.tutor.exercise import Grade, PendingExercise
from agents.tutor.feedback import Correction, Feedback
from agents.tutor.intent import Intent
from agents.tutor.learner import LearnerModel, TurnLevel
from agents.tutor.reply import ReplyDraft, ReplyVerdict
from graphs.common import Decision
from graphs.turns import Turns

Route = Literal["grade", "detect", "write", "answer", "escalate", "offer"]

#: State fields that hold text the learner wrote (or text built from it), hashed by `forge trace export --redact`.
LEARNER_FIELDS = ("learner_message", "text", "corrected", "recast", "explanation", "given", "hardest_words")


class TurnDecision(Decision):
    """A routing decision of one turn, with its reason (also recorded on the trace)."""

    turn: int


class NodeTime(BaseModel):
    """Wall seconds one node took in one turn."""

    turn: int
    node: str
    seconds: float


def this_turn(left: list[Any], right: list[Any]) -> list[Any]:
    """Append records of the current turn; records of earlier turns are dropped when a new turn's arrive."""
    if not right:
        return left
    current = right[-1].turn
    return [x for x in left if x.turn == current] + list(right)


class TutorTurnInput(TypedDict):
    """One turn's input: the message, the session and run ids, when it arrived, and a new session's start level."""

    learner_message: str
    session_id: str
    run_id: str
    received: datetime
    start_level: str


class TutorState(TypedDict, total=False):
    """A tutoring session: `learner`, `pending` and `turns` persist; the rest is the turn's scratch.

    Only `finalize` writes the persistent fields; `intake` resets the scratch of the turn before.
    """

    #: The learner's message, the session and run ids, when it arrived, and the level a new session starts from.
    learner_message: str
    session_id: str
    run_id: str
    received: datetime
    start_level: str
    #: This turn's number (1 for the first).
    turn: int
    #: Where the last decision sends the turn (routers read this).
    route: Route
    #: What the learner wants this turn (`agents.tutor.intent`), classified by intake.
    intent: Intent | None
    #: The answer to a question or request (answer node), if the intent asked for one.
    answer: Answer | None
    #: The errors found and the corrected message.
    detection: Detection | None
    #: What this turn said about the level.
    level_evidence: TurnLevel | None
    #: The learner model as this turn leaves it (becomes `learner` in `finalize`).
    learner_next: LearnerModel | None
    feedback: Feedback | None
    #: Reply drafts of this turn, and the verdict on the latest.
    drafts: Annotated[list[ReplyDraft], this_turn]
    verdict: ReplyVerdict | None
    #: The follow-up question chosen (a draft, or the fallback).
    reply: str | None
    #: The grade of an exercise answer, and the exercise offered this turn (with why, or why not).
    graded: Grade | None
    offered: PendingExercise | None
    decisions: Annotated[list[TurnDecision], this_turn]
    timings: Annotated[list[NodeTime], this_turn]
    #: The learner model after the last completed turn.
    learner: LearnerModel
    #: The exercise offered in the last turn, waiting for an answer.
    pending: PendingExercise | None
    #: The turn log (`graphs.turns`).
    turns: Turns


class TutorTurnResult(BaseModel):
    """What one turn returns; `public()` is exactly what `forge tutor --say ... --json` prints."""

    session: str
    turn: int
    reply: str
    level_estimate: str
    corrections: list[Correction]
    learner: dict[str, Any]
    exercise: dict[str, Any] | None = None
    graded: Grade | None = None
    intent: str = Field(default="conversation", description="The intent the turn was routed by.")
    answer: Answer | None = None
    trace_id: str | None = None
    decisions: list[TurnDecision] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    latency_s: float = 0.0

    def public(self) -> dict[str, Any]:
        """The JSON of `forge tutor --json`: reply, level estimate, corrections, learner, exercise, trace id."""
        return {
            "reply": self.reply,
            "level_estimate": self.level_estimate,
            "corrections": [c.public() for c in self.corrections],
            "learner": self.learner,
            "exercise": self.exercise,
            "trace_id": self.trace_id,
        }
