"""CEFR levels as an ordered type, and the one parser every entry point uses."""

from __future__ import annotations

import re
from enum import StrEnum

from knowledge.errors import UserInputError


class Level(StrEnum):
    """A CEFR level, ordered Pre-A1 < A1 < A2 < B1 < B2 < C1 < C2."""

    PRE_A1 = "Pre-A1"
    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"

    @property
    def rank(self) -> int:
        """Position on the scale: Pre-A1 = 0, A1 = 1 ... C2 = 6 (CEFR-SP's 1..6 for A1..C2)."""
        return _ORDER.index(self)

    @classmethod
    def from_rank(cls, rank: int) -> Level:
        """The level at a position on the scale, clamped to Pre-A1..C2."""
        return _ORDER[max(0, min(len(_ORDER) - 1, rank))]

    # str defines all four orderings, so each must be overridden (total_ordering would keep str's).
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank >= other.rank


_ORDER: tuple[Level, ...] = tuple(Level)

#: Levels a learner or an exercise can target (CEFR-J and the item graph start at A1).
TARGET_LEVELS: tuple[Level, ...] = _ORDER[1:]

_SUBLEVEL = re.compile(r"^(pre-?a1|[abc][12])(\.\d)?\+?$", re.IGNORECASE)


def parse_level(text: str | Level) -> Level:
    """Parse a CEFR level such as 'a2', 'B1', 'B2.1' (CEFR-J sub-level) or 'pre-A1'; raise UserInputError if not."""
    if isinstance(text, Level):
        return text
    cleaned = str(text).strip()
    match = _SUBLEVEL.match(cleaned)
    if not match:
        raise UserInputError(
            f"Unknown CEFR level {cleaned[:20]!r}; accepted levels are Pre-A1, A1, A2, B1, B2, C1 and C2."
        )
    base = match.group(1).upper()
    return Level.PRE_A1 if base.startswith("PRE") else Level(base)
