"""Typed state of the item graph: a narrow request in, a fuller internal state, a typed result out.

Nodes return partial updates; fields that accumulate over a run (attempts, tool calls, decisions, timings) have
reducers, so each node returns only what it adds.
"""

from __future__ import annotations

import operator
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from typing_extensions import TypedDict

from agents.item.constraints import Constraints
from agents.item.generation import Outcome
from agents.item.intake import check_level, check_source, check_type, clean_topic
from agents.item.retrieved import Retrieved
from agents.item.tool_agent import ToolRecord
from agents.item.validation import Verdict
from graphs.common import Decision
from knowledge.errors import UserInputError
from knowledge.items import ExerciseType, FlatItem, Item
from knowledge.levels import Level
from knowledge.violations import Violation

Status = Literal["accepted", "flagged", "failed"]
Route = Literal["generate", "escalate", "finalize"]


#: How many of a set's earlier target words an item request carries (the most recent ones).
MAX_USED_WORDS = 200


class ItemRequest(BaseModel):
    """What a teacher or learner asks for: one exercise of a type, at a level, on a topic.

    This is where a request is validated, once (the checks of `agents.item.intake`): the graph trusts the object.
    Build one from outside input with `ItemRequest.of`, which says what is wrong in one sentence.
    """

    model_config = ConfigDict(extra="forbid")

    level: Level
    topic: str = Field(description="Free-text topic such as 'food' or 'travel', kept as its cleaned phrase.")
    type: ExerciseType
    source_text: str | None = Field(default=None, description="Learner or teacher text the item relates to.")
    seed: int = Field(default=0, description="Seed for reproducible sampling.")
    session_id: str | None = Field(default=None, description="Conversation this item belongs to, if any.")
    used_words: list[str] = Field(
        default_factory=list,
        max_length=MAX_USED_WORDS,
        description="Target words the set already uses; others are chosen while the topic has enough candidates.",
    )
    run_id: str = Field(default_factory=lambda: uuid.uuid4().hex, description="Id of this run (the trace's root).")

    @classmethod
    def of(cls, fields: object) -> ItemRequest:
        """The request of outside fields (JSON, the CLI, a command); UserInputError in one sentence if one is wrong."""
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            first = exc.errors()[0]
            cause = first.get("ctx", {}).get("error")
            if isinstance(cause, UserInputError):
                raise UserInputError(str(cause)) from exc
            where = ".".join(str(p) for p in first["loc"]) or "request"
            raise UserInputError(f"Invalid request field {where!r}: {first['msg']}.") from exc

    @field_validator("level")
    @classmethod
    def _level(cls, level: Level) -> Level:
        """Exercises start at A1."""
        return check_level(level)

    @field_validator("topic")
    @classmethod
    def _topic(cls, topic: str) -> str:
        """A short, safe English phrase, normalised."""
        return clean_topic(topic)

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, kind: object) -> object:
        """A known exercise type, refused with the list of accepted ones."""
        return check_type(kind) if isinstance(kind, str) else kind

    @field_validator("source_text")
    @classmethod
    def _source(cls, text: str | None) -> str | None:
        """A text short enough to estimate."""
        return check_source(text)


class Attempt(BaseModel):
    """One generation attempt and how validation judged it."""

    number: int
    model: str
    escalated: bool
    valid: bool
    structural: bool
    aci: float | None = None
    violations: list[str] = Field(default_factory=list, description="Messages of the blocking violations.")
    model_s: float = 0.0
    errors: list[str] = Field(default_factory=list)


class BestItem(BaseModel):
    """An item with its verdict: the best one so far is kept in case later attempts do worse."""

    item: Item
    verdict: Verdict
    model: str
    escalated: bool
    attempt: int


class ItemResult(BaseModel):
    """What a run returns: the item (or why there is none), its alignment, and how it was reached."""

    run_id: str
    trace_id: str | None = None
    status: Status
    type: ExerciseType
    level: Level
    topic: str
    item: FlatItem | None = Field(default=None, description="The exercise (written flat, as `item_fields` gives it).")
    aci: float | None = None
    above_share: float | None = None
    violations: list[Violation] = Field(default_factory=list)
    model: str | None = None
    escalated: bool = False
    escalation_reason: str | None = None
    attempts: int = 0
    attempt_log: list[Attempt] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    failure: str | None = None
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per node, model time, overhead.")


def _merge_times(left: dict[str, float], right: dict[str, float]) -> dict[str, float]:
    """Add timings node by node."""
    return {k: round(left.get(k, 0.0) + right.get(k, 0.0), 6) for k in left.keys() | right.keys()}


class ItemInput(TypedDict):
    """The graph's input: one request."""

    request: ItemRequest


class ItemOutput(TypedDict):
    """The graph's output: one result."""

    result: ItemResult


class ItemState(TypedDict, total=False):
    """Everything one item run knows, node by node."""

    request: ItemRequest
    #: The request's (validated) topic.
    topic: str
    #: Why the case is hard from the start (escalate first), or None.
    hard_reason: str | None
    retrieved: Retrieved
    constraints: Constraints
    tool_calls: Annotated[list[ToolRecord], operator.add]
    #: The latest generation attempt and its validation.
    outcome: Outcome | None
    verdict: Verdict | None
    attempts: Annotated[list[Attempt], operator.add]
    decisions: Annotated[list[Decision], operator.add]
    #: Where the last decision sends the run next (routers read this).
    route: Route
    #: Why the run escalated (the first reason given), or None.
    escalation_reason: str | None
    best: BestItem | None
    result: ItemResult
    #: Wall seconds per node and model seconds per node, summed over the run.
    timings: Annotated[dict[str, float], _merge_times]
    model_time: Annotated[dict[str, float], _merge_times]
