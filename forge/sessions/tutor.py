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

    def get(self, session_id: str) -> SessionInfo:
        """A tutoring session by id or unique prefix (UserInputError if unknown or of another kind)."""
        return self.store.get(session_id, kind="tutor")

    def turn(self, session_id: str, message: str, *, now: datetime | None = None) -> TutorTurnResult:
        """Run one turn: a bad message or an unknown session is refused before anything is written."""
        text = check_message(message, self.policy.max_turn_chars)
        info = self.get(session_id)
        start = parse_level(info.level) if info.level else self.policy.start_level
        with self.store.writing(info.id):
            result = run_tutor_turn(self.graph, info.id, text, run_id=uuid.uuid4().hex, now=now, start_level=start)
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


#: Tutoring turns the kill bench runs in a subprocess and kills (each detects errors and writes a reply).
KILL_TEXTS = (
    "Yesterday I go to the market and buy many apple.",
    "My sister have two childs.",
    "I didn't went to work today because I was sick.",
    "Last week I visit my grandmother.",
)


class TutorDriver:
    """Drives tutoring sessions for `forge bench sessions` (its `SessionDriver` protocol)."""

    kind: str = "tutor"
    kill_texts: tuple[str, ...] = KILL_TEXTS

    def __init__(self, services: Services, script: tuple[str, ...]) -> None:
        self.sessions = TutorSessions(services)
        self.script = script

    def start(self, title: str) -> str:
        """A new tutoring session."""
        return self.sessions.start(title).id

    def turn(self, session_id: str, text: str) -> bool:
        """One turn in this process; whether it called the model (every turn but an exercise answer does)."""
        result = self.sessions.turn(session_id, text)
        return "detect" in result.timings

    def phase(self, session_id: str) -> str:
        """The nodes an unfinished turn would run next ('idle': the last turn completed or left nothing)."""
        pending = self.sessions.graph.get_state(self.sessions.store.config(session_id)).next
        return "+".join(pending) if pending else "idle"

    def state(self, session_id: str) -> dict[str, Any]:
        """What must survive a crash: the turns, the learner model and the pending exercise, as JSON."""
        values = self.sessions.graph.get_state(self.sessions.store.config(session_id)).values
        learner, pending = values.get("learner"), values.get("pending")
        return {
            "turns": [t.model_dump(mode="json") for t in values.get("turns", [])],
            "learner": learner.model_dump(mode="json") if learner is not None else None,
            "pending": pending.model_dump(mode="json") if pending is not None else None,
        }

    def cli(self, session_id: str, text: str) -> list[str]:
        """`forge tutor --session ID --say TEXT --json`."""
        return ["tutor", "--session", session_id, "--say", text, "--json"]


def bench_driver(services: Services) -> TutorDriver:
    """The tutoring driver of `forge bench sessions`, over the bench's scripted 20-turn learner."""
    from forge.bench.sessions import TUTOR_SCRIPT

    return TutorDriver(services, TUTOR_SCRIPT)
