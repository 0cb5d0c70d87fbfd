"""The meaning checks of an item, by its type: one entry point for the item graph and `forge validate`."""

from __future__ import annotations

from agents.item.meaning import matching, reading, sentences
from agents.item.meaning.base import Judge
from knowledge.items import Item
from knowledge.violations import Violation


def meaning_violations(judge: Judge, item: Item) -> list[Violation]:
    """Every meaning problem the checks of the item's type find (empty: the item works for a learner)."""
    if item.type == "reading":
        return reading.check(judge, item)
    if item.type == "matching":
        return matching.check(judge, item)
    return sentences.check(judge, item)
