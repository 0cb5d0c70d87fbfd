"""What a teacher thought of an item: accept, reject with a reason, or modify (the edit kept beside the original).

A `Review` is one teacher's decision about one item at one moment, with a copy of the item as it was reviewed (and,
for a modification, the item as the teacher left it), so a review stays readable when the set it came from moves on
to later versions. Reviews are never replaced: a second review of the same item by the same teacher is a newer
decision, and two teachers reviewing one item both keep theirs. The reasons come from the reviewers' rubric.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from knowledge.errors import UserInputError

Decision = Literal["accept", "reject", "modify"]
DECISIONS: tuple[Decision, ...] = ("accept", "reject", "modify")
Source = Literal["set", "generated"]

#: Why a teacher rejects (or had to modify) an item: the rubric's list, in the order the rubric checks.
REASONS: dict[str, str] = {
    "unnatural": "the English is unnatural or the sentence means nothing",
    "wrong_key": "the key is wrong",
    "ambiguous_key": "the key is not the only answer (another option, order or form fits)",
    "bad_distractor": "a distractor or accepted answer is wrong, correct too, or absurd",
    "wrong_meaning": "a meaning or definition is wrong",
    "not_answerable": "a question cannot be answered from the text, or is copied from it",
    "off_level": "the item is clearly above or below its level",
    "off_topic": "the item ignores its topic and has no classroom value",
    "instructions": "the item does not test what its instructions say",
    "other": "another reason (say it in the note)",
}
#: How teachers say the reasons in a sentence ("reject 2: the key is wrong"), checked in this order.
_REASON_PATTERNS: tuple[tuple[str, str], ...] = (
    ("ambiguous_key", r"\b(also (fits|works|correct|right|possible)|(fits|works|correct|possible) too|not the only|"
                      r"more than one|two answers|ambiguous|either|both (fit|work|are correct))\b"),
    ("wrong_key", r"\b(key|answer) (is )?(wrong|incorrect|false|not right)|\bwrong (key|answer)\b"),
    ("bad_distractor", r"\b(distractors?|options?|choices?) (is |are )?(wrong|bad|silly|absurd|correct|odd)|"
                       r"\bbad (distractors?|options?)\b"),
    ("wrong_meaning", r"\b(meaning|definition|gloss)s? (is |are )?(wrong|false|incorrect)|"
                      r"\bwrong (meaning|definition)"),
    ("not_answerable", r"\b(not answerable|cannot be answered|can't be answered|not in the text|copied)\b"),
    ("off_level", r"\b(too (hard|difficult|easy|advanced|simple)|off[- ]level|above (the )?level|"
                  r"below (the )?level)\b"),
    ("off_topic", r"\b(off[- ]topic|not about|nothing to do with|ignores the topic)\b"),
    ("instructions", r"\binstructions?\b"),
    ("unnatural", r"\b(unnatural|nonsense|meaningless|makes no sense|doesn't make sense|odd|weird|strange|"
                  r"not english|ungrammatical)\b"),
)


class Review(BaseModel):
    """One teacher's decision about one item, with the item as reviewed and, for a modification, as edited."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    item_id: str = Field(description="The item's stable id: a set item's id, or a generated item's run id.")
    decision: Decision
    reason: str | None = Field(default=None, description="One of REASONS (required for a rejection).")
    note: str = Field(default="", description="The teacher's own words.")
    reviewer: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: Source
    session_id: str | None = Field(default=None, description="The exercise session, for a set item.")
    set_version: int | None = Field(default=None, description="The version of the set that was reviewed.")
    number: int | None = Field(default=None, description="The item's number (1-based) in that version.")
    run_id: str | None = Field(default=None, description="The item graph's run that made the item.")
    trace_id: str | None = None
    type: str
    level: str
    topic: str
    item: dict[str, Any] = Field(description="The exercise fields as reviewed.")
    edited: dict[str, Any] | None = Field(default=None, description="The exercise fields as the teacher left them.")
    edit_check: dict[str, Any] | None = Field(
        default=None, description="What the accept decision said of the edited item (accepted, problems)."
    )

    @property
    def kept(self) -> dict[str, Any] | None:
        """The item a class would get: the edited one, the original if accepted, None if rejected."""
        if self.decision == "modify":
            return self.edited
        return self.item if self.decision == "accept" else None


def check_reason(reason: str | None, decision: Decision) -> str | None:
    """The reason as stored; a rejection needs one from REASONS (the error says which are accepted)."""
    if reason is None or not reason.strip():
        if decision == "reject":
            raise UserInputError(f"A rejection needs a reason; give --reason with one of: {', '.join(REASONS)}.")
        return None
    key = reason.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in REASONS:
        raise UserInputError(f"Unknown reason {reason!r}; give one of: {', '.join(REASONS)}.")
    return key


def reason_in(text: str) -> str:
    """The rubric reason a teacher's words name ('the key is wrong' → wrong_key); 'other' when none does."""
    lowered = text.lower().replace("’", "'")
    for reason, pattern in _REASON_PATTERNS:
        if re.search(pattern, lowered):
            return reason
    return "other"


def latest(reviews: list[Review]) -> list[Review]:
    """Each reviewer's latest decision per item (earlier ones are history), oldest first."""
    newest: dict[tuple[str, str], Review] = {}
    for review in sorted(reviews, key=lambda r: r.time):
        newest[(review.item_id, review.reviewer)] = review
    return sorted(newest.values(), key=lambda r: r.time)


class ItemDecision(BaseModel):
    """A decision said in an exercise-session turn ("reject 2: the key is wrong"), before it is stored."""

    number: int = Field(ge=1, description="The item's number (1-based) in the set as the teacher sees it.")
    decision: Literal["accept", "reject"]
    reason: str | None = None
    note: str = ""
