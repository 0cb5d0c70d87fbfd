"""`forge bench review`: how well the accept decision agrees with teachers who reviewed the same items.

Labels come in the reviewed-items format (`n`, `level`, `type`, `topic`, `item`, `reviews` with a `verdict` each
of accept | modify | reject). An item is *usable* when no reviewer rejected it. Each item is judged afresh by the
accept decision (`forge.validation`, the item graph's own); precision is the share of accepted items reviewers
found usable, recall the share of usable items accepted. Figures come per type and per level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from forge.reviews.labels import Labelled, figures
from forge.validation import Judgement, judge_record

if TYPE_CHECKING:
    from agents.context import AgentContext

def run(
    ctx: AgentContext, labels: list[Labelled], source: str, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Judge every labelled item and compare with the reviewers, overall, per type and per level."""
    pairs = []
    for lab in labels:
        pairs.append((lab, judge_record(ctx, lab.n, lab.record)))
        if progress:
            progress(1)
    return {
        "labels": source,
        "overall": figures(pairs),
        "by_type": {t: figures([p for p in pairs if p[0].type == t]) for t in sorted({lab.type for lab in labels})},
        "by_level": {v: figures([p for p in pairs if p[0].level == v]) for v in sorted({lab.level for lab in labels})},
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
