"""Exercise builders, one module per type: the knowledge graph supplies structure, a writer supplies sentences.

`build_item(type, build)` dispatches to the module of the type; each builder raises `BuildFailed` with the reasons
when it cannot produce an item from what it was given, so the graph can regenerate or escalate.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.item.exercises import (
    error_correction,
    gap_fill,
    matching,
    open_gap,
    reading,
    reorder,
    word_formation,
)
from agents.item.exercises.base import BuildContext, BuildFailed, Kit
from knowledge.items import ExerciseType, Item

BUILDERS: dict[str, Callable[[BuildContext], Item]] = {
    "gap_fill": gap_fill.build,
    "open_gap": open_gap.build,
    "word_formation": word_formation.build,
    "reorder": reorder.build,
    "error_correction": error_correction.build,
    "matching": matching.build,
    "reading": reading.build,
}


def build_item(kind: ExerciseType, build: BuildContext) -> Item:
    """Build one exercise of the given type."""
    return BUILDERS[kind](build)


__all__ = ["BUILDERS", "BuildContext", "BuildFailed", "Kit", "build_item"]
