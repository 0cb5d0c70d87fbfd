"""CEFR levels order as the scale does (not as strings), and parse from the forms people write."""

from __future__ import annotations

import pytest

from knowledge.errors import UserInputError
from knowledge.levels import Level, parse_level


def test_every_comparison_follows_the_scale() -> None:
    ordered = [Level.PRE_A1, Level.A1, Level.A2, Level.B1, Level.B2, Level.C1, Level.C2]
    for i, low in enumerate(ordered):
        for high in ordered[i + 1 :]:
            assert low < high and low <= high and high > low and high >= low
            assert not (low > high) and not (low >= high)
    assert sorted(reversed(ordered)) == ordered
    assert max(ordered) is Level.C2 and Level.from_rank(3) is Level.B1


@pytest.mark.parametrize(("text", "level"), [("a2", Level.A2), (" B1 ", Level.B1), ("B2.1", Level.B2),
                                             ("pre-A1", Level.PRE_A1), ("C2+", Level.C2)])
def test_parse(text: str, level: Level) -> None:
    assert parse_level(text) is level


@pytest.mark.parametrize("bad", ["Z9", "", "A3", "beginner", "B1; drop table"])
def test_parse_rejects_with_the_accepted_levels(bad: str) -> None:
    with pytest.raises(UserInputError, match="accepted levels are Pre-A1, A1, A2, B1, B2, C1 and C2"):
        parse_level(bad)
