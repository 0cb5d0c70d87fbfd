"""The exercise-session graph's router: what `understand` decided, read as a route (pure)."""

from __future__ import annotations

from graphs.exercise_session.state import ExerciseSessionState, Route


def route(state: ExerciseSessionState) -> Route:
    """The router: apply the commands, or go straight to commit."""
    chosen = state.get("route")
    if chosen not in ("apply", "commit"):
        raise ValueError(f"exercise session reached a router without a decision (route={chosen!r})")
    return chosen

