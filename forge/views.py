"""The JSON documents the CLI's `--json` prints and the web API returns: one function per document, used by both."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.exercise_session.sets import ExerciseSet
    from forge.sessions import SessionInfo, Turn
    from forge.traces import TraceView
    from graphs.exercise_session.state import ExerciseTurnResult
    from graphs.tutor.state import TutorTurnResult


def tutor_turn(result: TutorTurnResult, session_id: str) -> dict[str, Any]:
    """A tutoring turn (`forge tutor --say --json`), with the session id so a script can continue it."""
    return dict(to_jsonable(result.public() | {"session": session_id}))


def exercise_turn(result: ExerciseTurnResult) -> dict[str, Any]:
    """An exercise-session turn (`forge exercises --say --json`): the set with each item numbered."""
    data: dict[str, Any] = result.model_dump(mode="json")
    data["items"] = [numbered(n, item) for n, item in enumerate(data["items"], 1)]
    return data


def exercise_view(session_id: str, number: int, current: int, chosen: ExerciseSet) -> dict[str, Any]:
    """A version of a set without a turn (`forge exercises --session S [--version N] --json`)."""
    return {
        "session": session_id,
        "version": number,
        "current_version": current,
        "level": chosen.level,
        "topic": chosen.topic,
        "items": [numbered(n, item.model_dump(mode="json")) for n, item in enumerate(chosen.items, 1)],
        "changes": [],
        "trace_id": None,
    }


def empty_exercise_session(session_id: str) -> dict[str, Any]:
    """A new exercise session with nothing in it yet."""
    return {"session": session_id, "version": 0, "items": [], "changes": [], "trace_id": None}


def session_history(info: SessionInfo, turns: list[Turn]) -> dict[str, Any]:
    """A session and every turn of it (`forge sessions show --json`)."""
    return dict(to_jsonable({"session": info, "turns": turns}))


def trace_view(view: TraceView, reviews: list[Any]) -> dict[str, Any]:
    """One trace as a tree of spans with the teachers' reviews of its items (`forge trace show --json`)."""
    return {**view.model_dump(mode="json"), "reviews": to_jsonable(reviews)}


def numbered(number: int, item: dict[str, Any]) -> dict[str, Any]:
    """An item's JSON with its number first."""
    return {"number": number, **item}


def to_jsonable(value: Any) -> Any:
    """Convert pydantic models (and lists/dicts of them) to plain JSON values."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value
