"""A learner's progress across their tutoring sessions: the data behind /learn/progress (and the teacher's links to it).

`learner_progress(ctx, name)` reads, for every tutoring session the user owns, the turn log (each assistant turn's
payload records the level estimate after it) and the learner model the last turn left (`TutorSessions.learner`):
words on their Leitner schedule, error counts by type, exercises and how they went. Nothing here runs the model,
so the page never waits for the model queue.

Each session keeps its own learner model; across sessions a word's newest card counts (the one seen last) and
error counts add up.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from agents.tutor.learner import MASTERED_BOX, LearnerModel, WordCard
from forge.sessions.store import SessionInfo
from graphs.turns import Turn, utc_now
from knowledge.errors import UserInputError
from knowledge.levels import TARGET_LEVELS

if TYPE_CHECKING:
    from forge.web.app import WebContext

#: The level axis of the level plot, lowest first (a level's index is its y value).
LEVEL_LABELS: tuple[str, ...] = tuple(level.value for level in TARGET_LEVELS)


class LevelPoint(BaseModel):
    """The level estimate after one tutor turn."""

    session: str
    turn: int
    time: datetime
    level: str


class WordRow(BaseModel):
    """A word the learner has met: its Leitner box and when it is next due."""

    word: str
    pos: str
    level: str | None
    box: int
    due: datetime
    uses: int
    errors: int
    session: str


class SessionRow(BaseModel):
    """One of the learner's tutoring sessions, as the progress page lists it."""

    id: str
    title: str
    level: str | None
    turns: int
    updated: datetime


class ExerciseTally(BaseModel):
    """Exercises offered in the learner's sessions, by how they went."""

    offered: int = 0
    correct: int = 0
    wrong: int = 0
    skipped: int = 0

    @property
    def waiting(self) -> int:
        """Offered and not answered yet (the latest exercise of a session, until the next message)."""
        return self.offered - self.correct - self.wrong - self.skipped


class LearnerProgress(BaseModel):
    """Everything the progress page shows about one learner."""

    user: str
    now: datetime
    sessions: list[SessionRow] = Field(default_factory=list, description="Newest first.")
    levels: list[LevelPoint] = Field(default_factory=list, description="Every turn's estimate, oldest first.")
    due: list[WordRow] = Field(default_factory=list, description="Due for review, the longest overdue first.")
    mastered: list[WordRow] = Field(default_factory=list)
    learning: int = Field(default=0, description="Words met, not mastered and not due yet.")
    boxes: dict[int, int] = Field(default_factory=dict, description="Leitner box -> words in it.")
    errors: dict[str, int] = Field(default_factory=dict, description="Error type -> count, most frequent first.")
    exercises: ExerciseTally = Field(default_factory=ExerciseTally)

    @property
    def level(self) -> str | None:
        """The latest level estimate, if any turn made one."""
        return self.levels[-1].level if self.levels else None

    @property
    def words_met(self) -> int:
        """How many different words the learner has met."""
        return sum(self.boxes.values())

    def level_points(self) -> list[tuple[str, float]]:
        """The level plot's points: (turn number across sessions, index of the level in LEVEL_LABELS)."""
        return [(str(n), float(LEVEL_LABELS.index(p.level))) for n, p in enumerate(self.levels, 1)
                if p.level in LEVEL_LABELS]  # fmt: skip

    def error_bars(self) -> list[tuple[str, float]]:
        """The error plot's bars: (error type, count)."""
        return [(kind, float(count)) for kind, count in self.errors.items()]


def learner_progress(ctx: WebContext, user_name: str, now: datetime | None = None) -> LearnerProgress:
    """The progress of one user over every tutoring session they own."""
    moment = now or utc_now()
    infos = tutor_sessions(ctx, user_name)
    levels: list[LevelPoint] = []
    models: list[tuple[str, LearnerModel]] = []
    for info in sorted(infos, key=lambda i: i.created):
        levels += level_points(info.id, ctx.services.sessions.turns(info.id))
        model = ctx.tutors.learner(info.id) if info.turns else None  # no turn yet: no model (and no graph to build)
        if model is not None:
            models.append((info.id, model))
    cards = newest_cards(models)
    return LearnerProgress(
        user=user_name, now=moment, levels=sorted(levels, key=lambda p: p.time),
        sessions=[_session_row(i) for i in infos],
        due=[_word_row(c, s) for s, c in sorted(cards.values(), key=lambda sc: sc[1].due)
             if c.due <= moment and not c.mastered],
        mastered=[_word_row(c, s) for s, c in sorted(cards.values(), key=lambda sc: sc[1].word) if c.mastered],
        learning=sum(1 for _, c in cards.values() if c.due > moment and not c.mastered),
        boxes={box: sum(1 for _, c in cards.values() if c.box == box) for box in range(1, MASTERED_BOX + 1)},
        errors=error_counts(m for _, m in models), exercises=exercise_tally(m for _, m in models),
    )  # fmt: skip


def tutor_sessions(ctx: WebContext, user_name: str) -> list[SessionInfo]:
    """The user's tutoring sessions, most recently updated first (ids of other kinds or gone are left out)."""
    found = []
    for ident in ctx.accounts.owned_by("session", [user_name]):
        try:
            info = ctx.services.sessions.get(ident)
        except UserInputError:  # deleted since, or an id the store no longer knows
            continue
        if info.kind == "tutor":
            found.append(info)
    return sorted(found, key=lambda i: i.updated, reverse=True)


def level_points(session_id: str, turns: list[Turn]) -> list[LevelPoint]:
    """The level estimate each assistant turn of a session recorded."""
    points: list[LevelPoint] = []
    for turn in turns:
        level = turn.payload.get("level_estimate") if turn.role == "assistant" else None
        if isinstance(level, str):
            number = turn.payload.get("turn")
            points.append(LevelPoint(session=session_id, turn=number if isinstance(number, int) else len(points) + 1,
                                     time=turn.time, level=level))  # fmt: skip
    return points


def newest_cards(models: list[tuple[str, LearnerModel]]) -> dict[str, tuple[str, WordCard]]:
    """Every word card across the sessions' models, the most recently seen card of each word, with its session."""
    cards: dict[str, tuple[str, WordCard]] = {}
    for session_id, model in models:
        for key, card in model.words.items():
            if key not in cards or card.last_seen > cards[key][1].last_seen:
                cards[key] = (session_id, card)
    return cards


def error_counts(models: Iterable[LearnerModel]) -> dict[str, int]:
    """Error counts by type summed over the models, the most frequent first."""
    totals: dict[str, int] = {}
    for model in models:
        for kind, stat in model.errors.items():
            totals[kind] = totals.get(kind, 0) + stat.count
    return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


def exercise_tally(models: Iterable[LearnerModel]) -> ExerciseTally:
    """Exercises offered over the models, counted by status."""
    tally = ExerciseTally()
    for model in models:
        for record in model.exercises:
            tally.offered += 1
            if record.status in ("correct", "wrong", "skipped"):
                setattr(tally, record.status, getattr(tally, record.status) + 1)
    return tally


def _session_row(info: SessionInfo) -> SessionRow:
    """A registry row as the page lists it."""
    return SessionRow(id=info.id, title=info.title, level=info.level, turns=info.turns, updated=info.updated)


def _word_row(card: WordCard, session_id: str) -> WordRow:
    """A word card as the page lists it."""
    return WordRow(word=card.word, pos=card.pos, level=card.level.value if card.level else None, box=card.box,
                   due=card.due, uses=card.uses, errors=card.errors, session=session_id)  # fmt: skip
