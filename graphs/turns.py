"""The turn log every session graph keeps, in one shape, so sessions can be shown without knowing their kind.

A session graph (tutoring, exercise sessions) has a `turns` field in its state typed `Turns`: a list of `Turn`
with an appending reducer. The graph's *last* node of a turn returns `{"turns": [user_turn, reply_turn]}` (and
every other change that makes the turn visible) in the same update, so the checkpoint that records the turn is
the one that completes it: a process killed earlier leaves no half turn behind. `forge sessions show` reads this
list straight from the checkpointer, whatever graph wrote it.
"""

from __future__ import annotations

import operator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TurnRole = Literal["user", "assistant"]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (what turns and the session registry store)."""
    return datetime.now(UTC)


class Turn(BaseModel):
    """One message of a session: who said it, what, when, and a JSON payload of what the turn produced.

    `payload` holds plain JSON values only (dicts, lists, strings, numbers, booleans, None) so it survives any
    checkpointer and prints as is in `forge sessions show --json`. Examples: a tutor reply's corrections and level
    estimate, an exercise turn's version number and changes.
    """

    model_config = ConfigDict(extra="forbid")

    role: TurnRole
    text: str = Field(description="What was said: the user's message or the reply shown.")
    time: datetime = Field(default_factory=utc_now, description="When the turn was recorded (UTC).")
    payload: dict[str, Any] = Field(default_factory=dict, description="Plain JSON details of the turn.")


#: The state field type of a session graph's turn log: each update appends its turns.
Turns = Annotated[list[Turn], operator.add]


def user_turns(turns: list[Turn]) -> int:
    """How many user turns a log holds (what the session registry counts as the session's turns)."""
    return sum(turn.role == "user" for turn in turns)
