"""`forge bench review`: how well the accept decision agrees with teachers who reviewed the same items.

Labels come in the reviewed-items format (`n`, `level`, `type`, `topic`, `item`, `reviews` with a `verdict` each
of accept | modify | reject). An item is *usable* when no reviewer rejected it. Each item is judged afresh by the
accept decision (`forge.validation`, the item graph's own); precision is the share of accepted items reviewers
found usable, recall the share of usable items accepted. Figures come per type and per level.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from forge.validation import Judgement, judge_record
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from agents.context import AgentContext

VERDICTS = ("accept", "modify", "reject")


class Labelled(BaseModel):
    """One reviewed item: its record, the reviewers' verdicts, and whether they found it usable."""

    n: int
    level: str
    type: str
    record: dict[str, Any]
    verdicts: list[str]
    reasons: list[str]

    @property
    def usable(self) -> bool:
        """No reviewer rejected it (accepted as is, or after a small edit)."""
        return "reject" not in self.verdicts

    @property
    def as_is(self) -> bool:
        """Every reviewer accepted it unchanged."""
        return all(v == "accept" for v in self.verdicts)


def read_labels(path: Path) -> list[Labelled]:
    """The reviewed items of a labels file; a malformed line is a clear error naming it."""
    if not path.is_file():
        raise UserInputError(f"No labels file '{path}'; give a reviewed-items JSON Lines file.")
    found = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if raw.strip():
            found.append(_labelled(number, raw, path))
    if not found:
        raise UserInputError(f"'{path}' holds no reviewed items.")
    return found


def _labelled(number: int, raw: str, path: Path) -> Labelled:
    """One line of the labels file."""
    try:
        record = json.loads(raw)
        reviews = record["reviews"]
        verdicts = [str(r["verdict"]) for r in reviews]
        item = record["item"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise UserInputError(
            f"Line {number} of '{path}' is not a reviewed item (needs `item` and `reviews` with a `verdict`)."
        ) from exc
    bad = [v for v in verdicts if v not in VERDICTS]
    if bad or not verdicts:
        raise UserInputError(f"Line {number} of '{path}': verdicts must be {', '.join(VERDICTS)}, got {bad or 'none'}.")
    return Labelled(
        n=int(record.get("n", number)),
        level=str(record.get("level") or item.get("level")),
        type=str(record.get("type") or item.get("type")),
        record=record,
        verdicts=verdicts,
        reasons=[str(r.get("reason", "")) for r in reviews],
    )


def _figures(pairs: list[tuple[Labelled, Judgement]]) -> dict[str, Any]:
    """Counts, precision and recall of "accepted" against "usable" for some items."""
    accepted = [lab for lab, j in pairs if j.accepted]
    usable = [lab for lab, _ in pairs if lab.usable]
    hits = [lab for lab in accepted if lab.usable]
    return {
        "items": len(pairs),
        "usable": len(usable),
        "accepted": len(accepted),
        "accepted_usable": len(hits),
        "precision": round(len(hits) / len(accepted), 3) if accepted else None,
        "recall": round(len(hits) / len(usable), 3) if usable else None,
    }


def run(ctx: AgentContext, path: Path, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Judge every labelled item and compare with the reviewers, overall, per type and per level."""
    labels = read_labels(path)
    pairs = []
    for lab in labels:
        pairs.append((lab, judge_record(ctx, lab.n, lab.record)))
        if progress:
            progress(1)
    return {
        "labels": str(path),
        "overall": _figures(pairs),
        "by_type": {t: _figures([p for p in pairs if p[0].type == t]) for t in sorted({lab.type for lab in labels})},
        "by_level": {v: _figures([p for p in pairs if p[0].level == v]) for v in sorted({lab.level for lab in labels})},
        "items": [_row(lab, j) for lab, j in pairs],
    }


def _row(lab: Labelled, judgement: Judgement) -> dict[str, Any]:
    """One item: the reviewers' verdicts beside the decision and its problems."""
    return {
        "n": lab.n,
        "type": lab.type,
        "level": lab.level,
        "usable": lab.usable,
        "verdicts": lab.verdicts,
        "accepted": judgement.accepted,
        "problems": [f"{p.kind}: {p.detail}" for p in judgement.problems],
        "agrees": judgement.accepted == lab.usable,
    }
