"""What every export format is written from: one version of a set, its items typed and numbered.

A leaf module (the writers import it, it imports none of them), so a format module can be read, tested and
replaced on its own.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.exercise_session.sets import ExerciseSet
from knowledge.items import Item
from knowledge.levels import Level
from knowledge.render import TYPE_TITLES


class SheetEntry(BaseModel):
    """One item of the set as a format writes it: its number on the sheet, its stable id and the typed exercise."""

    number: int = Field(description="1-based position in the set, as printed on the worksheet.")
    id: str = Field(description="The session item's id: stable across versions, so re-exports update, not add.")
    flagged: bool = Field(description="The item graph flagged it (kept in the set, marked on worksheets).")
    item: Item

    @property
    def title(self) -> str:
        """'3. Word formation': the number and the type's title."""
        return f"{self.number}. {TYPE_TITLES[self.item.type]}"


class ExportSheet(BaseModel):
    """A version of an exercise set ready to export: who it belongs to, its settings and its items."""

    session: str
    version: int
    level: Level
    topic: str
    set: ExerciseSet = Field(description="The set as stored (the JSON export writes it as is).")
    entries: list[SheetEntry]

    @classmethod
    def of(cls, current: ExerciseSet, *, session_id: str, version: int) -> ExportSheet:
        """The sheet of a set: every item parsed into its typed model and numbered."""
        entries = [
            SheetEntry(number=n, id=item.id, flagged=item.status == "flagged", item=item.item)
            for n, item in enumerate(current.items, 1)
        ]
        return cls(session=session_id, version=version, level=current.level, topic=current.topic, set=current,
                   entries=entries)

    @property
    def title(self) -> str:
        """The worksheet's title."""
        return f"Exercises ({self.session})"

    @property
    def subtitle(self) -> str:
        """Level, topic and version, for the line under the title."""
        return f"Level {self.level} · topic: {self.topic} · version {self.version}"
