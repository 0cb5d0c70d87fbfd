"""Labelled items: what teachers said of items, as the accept decision is measured and calibrated against.

Two sources, one shape: a reviewed-items file (`n`, `level`, `type`, `topic`, `item`, `reviews` with a `verdict`
each of accept | modify | reject, as in the review panel's data) and the reviews stored by `forge review`. An item
is *usable* when no reviewer's latest decision rejects it (accepted as is, or after a small edit).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from forge.reviews.store import ReviewStore
from forge.validation import Judgement
from knowledge.errors import UserInputError
from knowledge.reviews import Review, latest

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


def figures(pairs: list[tuple[Labelled, Judgement]]) -> dict[str, Any]:
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



def labels_from_reviews(reviews: list[Review]) -> list[Labelled]:
    """Stored reviews as labelled items: one per item, with every reviewer's latest decision (modify = usable)."""
    return [
        Labelled(n=n, level=group[0].level, type=group[0].type, record=group[0].item,
                 verdicts=[r.decision for r in group], reasons=[r.reason or r.note for r in group])
        for n, group in _grouped(reviews)
    ]


def teacher_labels(store: ReviewStore, path: Path | None, stored: bool | None) -> tuple[list[Labelled], str]:
    """Labelled items from a reviewed-items file and/or the stored reviews (the default without a file).

    Items are numbered in order; the name says where they came from.
    """
    found, sources = [], []
    if path is not None:
        found += read_labels(path)
        sources.append(str(path))
    if stored or (stored is None and path is None):
        kept = labels_from_reviews(store.find())
        found += [lab.model_copy(update={"n": len(found) + i}) for i, lab in enumerate(kept, 1)]
        sources.append(f"{len(kept)} stored reviews")
    if not found:
        raise UserInputError("No reviewed items to compare with; review items with `forge review` or give --labels.")
    return found, " + ".join(sources)


def reviewed_items(reviews: list[Review], *, redact: bool = True) -> list[dict[str, Any]]:
    """Stored reviews in the reviewed-items format `read_labels` reads: one row per item, its latest verdicts.

    With `redact`, the teachers' names are left out (their reasons and notes are kept: they are what the
    validators' regression tests check against).
    """
    rows = []
    for lab, group in _grouped(reviews):
        verdicts = [
            {"verdict": r.decision, "reason": r.reason or "", "note": r.note}
            | ({} if redact else {"reviewer": r.reviewer})
            for r in group
        ]
        rows.append({"n": lab, "level": group[0].level, "type": group[0].type, "topic": group[0].topic,
                     "item": group[0].item, "reviews": verdicts})
    return rows


def _grouped(reviews: list[Review]) -> list[tuple[int, list[Review]]]:
    """Each reviewer's latest review, grouped by item, numbered from 1 in the order items were first reviewed."""
    by_item: dict[str, list[Review]] = {}
    for review in latest(reviews):
        by_item.setdefault(review.item_id, []).append(review)
    return list(enumerate(by_item.values(), 1))
