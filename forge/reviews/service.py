"""Reviewing items: find the item a reference names, record a teacher's decision, and count decisions.

An item reference is `SESSION:N` (item N of an exercise session's current set), `SESSION@V:N` (item N of version V)
or the run id `forge generate` printed for an item (a unique prefix is enough). A modification is checked by the
accept decision the item graph uses (`forge.validation`): an edit that is no longer a well-formed item is refused,
and what the checks still find is stored with the review for the teacher to see.
"""

from __future__ import annotations

import getpass
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from forge.reviews.store import ReviewStore
from knowledge.errors import UserInputError
from knowledge.items import item_fields
from knowledge.reviews import DECISIONS, REASONS, Decision, Review, Source, check_reason, latest

if TYPE_CHECKING:
    from agents.exercise_session.sets import SessionItem
    from forge.services import Services

_SET_REF = re.compile(r"^(?P<session>[A-Za-z0-9_-]{4,64})(?:@v?(?P<version>\d+))?:(?P<number>\d+)$")
REF_HELP = "SESSION:N (item N of an exercise set), SESSION@V:N (of version V) or a generated item's run id"
#: What the system said about an item, dropped from a teacher's edit (the edit is judged afresh).
_VERDICT_FIELDS = frozenset({"status", "flagged", "aci", "above_level_share", "violations", "failure", "attempts"})
#: Longest teacher's note kept.
MAX_NOTE_CHARS = 1000


class Target(BaseModel):
    """The item a reference names, with where it came from."""

    item_id: str
    source: Source
    type: str
    level: str
    topic: str
    record: dict[str, Any] = Field(description="The item as `forge generate --json` prints it (fields flat).")
    session_id: str | None = None
    set_version: int | None = None
    number: int | None = None
    run_id: str | None = None
    trace_id: str | None = None


class ReviewStats(BaseModel):
    """Counts of each reviewer's latest decisions: overall, by reason, type and level."""

    reviews: int
    items: int
    decisions: dict[str, int]
    reasons: dict[str, int]
    by_type: dict[str, dict[str, int]]
    by_level: dict[str, dict[str, int]]
    reviewers: list[str]


class Reviewing:
    """Resolve references and record reviews, over the application's services."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = ReviewStore(services.sessions)

    def target(self, ref: str) -> Target:
        """The item a reference names; a clear error when it names nothing."""
        ref = ref.strip()
        match = _SET_REF.match(ref)
        if match:
            version = int(match["version"]) if match["version"] else None
            return self._set_target(match["session"], version, int(match["number"]))
        found = self.store.generated(ref) if re.fullmatch(r"[0-9a-f]{4,64}", ref) else None
        if found is None:
            raise UserInputError(f"No item {ref!r}; give {REF_HELP}.")
        return Target(
            item_id=found.run_id, source="generated", type=found.type, level=found.level, topic=found.topic,
            record=found.record, run_id=found.run_id, trace_id=found.trace_id,
        )

    def review(
        self, target: Target, decision: Decision, *, reason: str | None = None, note: str = "",
        reviewer: str | None = None, edited: dict[str, Any] | None = None,
    ) -> Review:
        """Record one decision about a target (a modification with its edited item, checked first)."""
        if decision not in DECISIONS:
            raise UserInputError(f"Unknown decision {decision!r}; give one of: {', '.join(DECISIONS)}.")
        if (decision == "modify") != (edited is not None):
            raise UserInputError("A modification needs the edited item (--edit FILE), and only a modification has one.")
        check = self.check_edit(target, edited) if edited is not None else None
        who = reviewer_name(reviewer, self.services.settings.reviewer)
        review = make_review(target, decision, reason=check_reason(reason, decision), note=note, reviewer=who,
                             edited=check[0] if check else None, edit_check=check[1] if check else None)
        return self.store.add(review)

    def check_edit(self, target: Target, edited: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The edited record (the original's type, level and topic unless the edit says otherwise) and its check."""
        from forge.validation import judge_record

        changes = edited.get("item", edited)
        record = {k: v for k, v in target.record.items() if k not in _VERDICT_FIELDS} | changes
        judgement = judge_record(self.services.agent_context, 1, record)
        broken = [p.detail for p in judgement.problems if judgement.invalid or p.kind == "structure"]
        if judgement.invalid or broken:
            detail = broken[0] if broken else "it is not an item"
            raise UserInputError(
                f"The edited item is not a well-formed {record.get('type')} item ({detail}); nothing was stored. "
                "Give the item's fields as `forge review show REF --json` prints them (changed fields are enough)."
            )
        return record, judgement.model_dump(mode="json", include={"accepted", "problems", "warnings", "aci"})

    def _set_target(self, session: str, version: int | None, number: int) -> Target:
        """Item `number` of a session's set at a version (the current one by default)."""
        from forge.sessions.exercises import ExerciseSessions

        info, current, chosen = ExerciseSessions(self.services).show(session, version)
        if not 1 <= number <= len(chosen.items):
            held = f"items 1 to {len(chosen.items)}" if chosen.items else "no items"
            raise UserInputError(f"Session {info.id} version {version or current} holds {held}; no item {number}.")
        return set_target(chosen.items[number - 1], info.id, version or current, number)


def set_target(item: SessionItem, session_id: str, version: int, number: int) -> Target:
    """A set item as a review target."""
    record = {**item_fields(item.item), "type": item.type, "level": item.level.value, "topic": item.topic,
              "status": item.status, "aci": item.aci, "run_id": item.run_id, "trace_id": item.trace_id}
    return Target(
        item_id=item.id, source="set", type=item.type, level=item.level.value, topic=item.topic, record=record,
        session_id=session_id, set_version=version, number=number, run_id=item.run_id, trace_id=item.trace_id,
    )


def make_review(
    target: Target, decision: Decision, *, reason: str | None, note: str, reviewer: str,
    edited: dict[str, Any] | None = None, edit_check: dict[str, Any] | None = None,
) -> Review:
    """A review of a target, not yet stored."""
    return Review(
        item_id=target.item_id, decision=decision, reason=reason, note=" ".join(note.split())[:MAX_NOTE_CHARS],
        reviewer=reviewer, source=target.source, session_id=target.session_id, set_version=target.set_version,
        number=target.number, run_id=target.run_id, trace_id=target.trace_id, type=target.type, level=target.level,
        topic=target.topic, item=target.record, edited=edited, edit_check=edit_check,
    )


def reviewer_name(given: str | None, configured: str | None = None) -> str:
    """Who reviews: the name given, else the `reviewer` setting (FORGE_REVIEWER), else the login name."""
    name = (given or configured or _login()).strip()
    if not re.fullmatch(r"[\w .@'-]{1,64}", name):
        raise UserInputError(f"Reviewer name {name!r} is not usable; give 1 to 64 letters, digits, spaces or .@'-.")
    return name


def _login() -> str:
    """The login name, or 'teacher' where there is none (a container without a user entry)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "teacher"


def stats(reviews: list[Review]) -> ReviewStats:
    """Counts of each reviewer's latest decision per item."""
    current = latest(reviews)
    by_type: dict[str, Counter[str]] = {}
    by_level: dict[str, Counter[str]] = {}
    for r in current:
        by_type.setdefault(r.type, Counter())[r.decision] += 1
        by_level.setdefault(r.level, Counter())[r.decision] += 1
    return ReviewStats(
        reviews=len(reviews),
        items=len({r.item_id for r in current}),
        decisions={d: sum(r.decision == d for r in current) for d in DECISIONS},
        reasons={k: n for k in REASONS if (n := sum(r.reason == k for r in current))},
        by_type={k: dict(v) for k, v in sorted(by_type.items())},
        by_level={k: dict(v) for k, v in sorted(by_level.items())},
        reviewers=sorted({r.reviewer for r in current}),
    )


