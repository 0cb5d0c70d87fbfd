"""Exercise sessions for the application: the session graph over the session store, one locked turn at a time."""

from __future__ import annotations

import uuid
from functools import cached_property
from typing import TYPE_CHECKING, Any

from agents.exercise_session.commands import check_message
from agents.exercise_session.sets import ExerciseSet, SetVersion
from forge.reviews.service import make_review, reviewer_name, set_target
from forge.reviews.store import ReviewStore
from forge.sessions.store import SessionInfo
from graphs.exercise_session.graph import build_exercise_session_graph, run_exercise_turn
from graphs.exercise_session.nodes import version_set
from graphs.exercise_session.state import ExerciseSessionState, ExerciseTurnResult
from graphs.turns import user_turns

if TYPE_CHECKING:
    from forge.services import Services

EXPORT_DIR = "exports"


class ExerciseSessions:
    """Create exercise sessions, run their turns under the writer lock, and show any version of their set."""

    def __init__(self, services: Services, *, confined: bool = False) -> None:
        self.services = services
        self.store = services.sessions
        #: exports named in a turn stay in the export directory (the web app)
        self.confined = confined

    @cached_property
    def graph(self) -> Any:
        """The compiled session graph with the store's checkpointer (builds the index on first use)."""
        self.services.ensure_index()
        return build_exercise_session_graph(
            self.services.agent_context,
            self.services.item_graph,
            self.services.data_dir / EXPORT_DIR,
            self.store.checkpointer_for(ExerciseSessionState),
            confined=self.confined,
        )

    def start(self, title: str = "") -> SessionInfo:
        """Register a new, empty exercise session."""
        return self.store.create("exercises", title=" ".join(title.split())[:80])

    def open(self, name: str, title: str = "") -> tuple[SessionInfo, bool]:
        """The exercise session called `name`, started empty when there is none yet; True if it is new."""
        return self.store.get_or_create(name, "exercises", title=" ".join(title.split())[:80])

    def turn(self, session_id: str, message: str, reviewer: str | None = None) -> ExerciseTurnResult:
        """Run one turn: bad messages and unknown sessions are refused before anything is written.

        A teacher's accepts and rejects ("accept 1 and 3, reject 2: the key is wrong") are stored as reviews of
        the current version's items, under `reviewer` (the `reviewer` setting or the login name by default).
        """
        text = check_message(message)
        info = self.store.get(session_id, kind="exercises")
        name = reviewer_name(reviewer, self.services.settings.reviewer)
        with self.store.writing(info.id):
            graph = self.graph
            result = run_exercise_turn(graph, info.id, text, run_id=uuid.uuid4().hex)
            if result.decisions:
                self._keep_decisions(result, name)
            turns = user_turns(self.store.turns(info.id))
            self.store.touch(info.id, turns=turns, level=result.level, title=info.title or text)
        return result

    def _keep_decisions(self, result: ExerciseTurnResult, reviewer: str) -> None:
        """Store a turn's accepts and rejects as reviews of the shown version's items, in one transaction."""
        reviews = [
            make_review(set_target(result.items[d.number - 1], result.session, result.shown_version, d.number),
                        d.decision, reason=d.reason, note=d.note, reviewer=reviewer)
            for d in result.decisions if d.number <= len(result.items)
        ]
        ReviewStore(self.store).add_many(reviews)

    def show(self, session_id: str, version: int | None = None) -> tuple[SessionInfo, int, ExerciseSet]:
        """A session's set at a version (the current one by default), read from the checkpoint: no model needed."""
        info = self.store.get(session_id, kind="exercises")
        versions = self.versions(info.id)
        number = len(versions) if version is None else version
        return info, len(versions), version_set(versions, number)

    def versions(self, session_id: str) -> list[SetVersion]:
        """Every version of a session's set, typed, straight from its latest checkpoint."""
        saver = self.store.checkpointer_for(ExerciseSessionState)
        found = saver.get_tuple({"configurable": {"thread_id": session_id, "checkpoint_ns": ""}})
        return list(found.checkpoint["channel_values"].get("versions", [])) if found else []
