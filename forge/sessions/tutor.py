"""Tutoring sessions for the application: the tutoring graph over the session store, one locked turn at a time.

Exercises offered in a session come from the item graph, built here with a lighter policy than `forge generate`
(no tool-calling step, two local attempts) because the learner is waiting for the turn; it uses the retrieval
index when one is built and the knowledge graph alone otherwise (building the index takes minutes, and a
tutoring session should start in seconds).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from agents.context import AgentContext
from agents.models.deadline import deadline
from agents.tutor.learner import LearnerModel
from agents.tutor.messages import check_message
from agents.tutor.policy import TutorPolicy
from forge.sessions.store import SessionInfo
from graphs.common import lazy
from graphs.item.graph import build_item_graph
from graphs.turns import Turn
from graphs.tutor.graph import build_tutor_graph, run_tutor_turn
from graphs.tutor.state import TutorState, TutorTurnResult
from knowledge.errors import ForgeError
from knowledge.levels import Level, parse_level

if TYPE_CHECKING:
    from forge.services import Services

#: The item graph's knobs for exercises offered during a turn (see the module docstring).
EXERCISE_ITEM_POLICY = {"tool_steps": 0, "max_local_attempts": 2}


class TutorSessions:
    """Create tutoring sessions and run their turns under the session's writer lock."""

    def __init__(self, services: Services, policy: TutorPolicy | None = None) -> None:
        self.services = services
        self.store = services.sessions
        self.policy = policy or TutorPolicy()

    @cached_property
    def graph(self) -> Any:
        """The compiled tutoring graph with the store's checkpointer."""
        ctx = self.services.agent_context
        exercise_ctx = lambda: _exercise_context(ctx, self._index_built())  # noqa: E731
        # built at the first exercise: most turns never need it
        lazy_item_graph = lazy(lambda: build_item_graph(exercise_ctx(), checkpointer=False))
        saver = self.store.checkpointer_for(TutorState)
        return build_tutor_graph(ctx, saver, item_graph=lazy_item_graph, policy=self.policy)

    def _index_built(self) -> bool:
        """Whether the retrieval index is there to use (never built here: that takes minutes)."""
        try:
            return bool(self.services.retrieval_index.is_built())
        except ForgeError:  # an unusable index only means exercises use the knowledge graph alone
            return False

    def start(self, title: str = "", level: str | Level | None = None) -> SessionInfo:
        """Register a new tutoring session, starting from the given level (default the policy's)."""
        start = parse_level(level) if level is not None else self.policy.start_level
        return self.store.create("tutor", title=" ".join(title.split())[:60], level=start.value)

    def open(self, name: str, level: str | Level | None = None, title: str = "") -> tuple[SessionInfo, bool]:
        """The tutoring session called `name`, started from `level` when there is none yet; True if it is new."""
        start = parse_level(level) if level is not None else self.policy.start_level
        return self.store.get_or_create(name, "tutor", title=" ".join(title.split())[:60], level=start.value)

    def get(self, session_id: str) -> SessionInfo:
        """A tutoring session by id or unique prefix (UserInputError if unknown or of another kind)."""
        return self.store.get(session_id, kind="tutor")

    def turn(self, session_id: str, message: str, *, now: datetime | None = None) -> TutorTurnResult:
        """Run one turn: a bad message or an unknown session is refused before anything is written."""
        text = check_message(message, self.policy.max_turn_chars)
        info = self.get(session_id)
        start = parse_level(info.level) if info.level else self.policy.start_level
        graph = self.graph  # built (models loaded) before the turn's deadline starts
        with self.store.writing(info.id), deadline(self.services.settings.turn_deadline_s, label="tutoring_turn"):
            # The deadline bounds every model call of the turn (a hung Ollama host included); see deadline.py.
            result = run_tutor_turn(graph, info.id, text, run_id=uuid.uuid4().hex, now=now, start_level=start)
            self.store.touch(info.id, turns=result.turn, level=result.level_estimate, title=info.title or text)
        return result

    def history(self, session_id: str) -> list[Turn]:
        """Every completed turn of a tutoring session."""
        return self.store.turns(self.get(session_id).id)

    def learner(self, session_id: str) -> LearnerModel | None:
        """The learner model as the last completed turn left it (None before the first turn)."""
        values = self.graph.get_state(self.store.config(self.get(session_id).id)).values
        learner = values.get("learner")
        return learner if isinstance(learner, LearnerModel) else None


def _exercise_context(ctx: AgentContext, index_built: bool) -> AgentContext:
    """The agent context the tutor's item graph runs with: the lighter policy, the index only if built."""
    policy = ctx.policy.model_copy(update=EXERCISE_ITEM_POLICY)
    return dataclasses.replace(ctx, policy=policy, index=ctx.index if index_built else None)
