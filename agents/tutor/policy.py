"""The knobs of a tutoring session, with the values the latency and quality figures were measured with."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from knowledge.levels import Level


class TutorPolicy(BaseModel):
    """How the tutoring graph writes replies, escalates and offers exercises."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_level: Level = Field(default=Level.A2, description="Level a new learner is assumed to have.")
    max_local_replies: int = Field(default=2, ge=1, le=5, description="Local drafts of the reply before escalating.")
    max_escalated_replies: int = Field(default=1, ge=0, le=3, description="Escalated drafts before the fallback.")
    escalation_timeout_s: float = Field(default=20.0, gt=0, description="Wall-clock budget of one escalated draft.")
    min_relevance: float = Field(
        default=0.3, ge=0, le=1, description="Lowest MiniLM similarity of the reply to the learner's message."
    )
    max_turn_chars: int = Field(default=2000, ge=10, description="Longest learner message accepted.")
    exercise_first_turn: int = Field(default=3, ge=1, description="No exercise before this turn.")
    exercise_cooldown: int = Field(default=5, ge=1, description="Turns between two exercise offers at least.")
    recurring_window: int = Field(default=6, ge=1, description="Turns looked back for a recurring error type.")
    recurring_min: int = Field(default=2, ge=1, description="Turns an error type must occur in to be recurring.")
    due_words_min: int = Field(default=3, ge=1, description="Words due for review that make a vocabulary exercise.")
    exercises: bool = Field(default=True, description="Whether exercises are offered at all.")
