"""The validation agent: structural checks of the exercise type plus the Alignment Consistency Index.

An item is accepted when it is structurally valid, its ACI reaches the policy threshold with no blocking ACI
violation, and at most `max_above_share` of its words are above the target level. For one-sentence exercise
types a "too easy" reading is advice, not a block: a C1 gap-fill tests its C1 target word, and the level of one
short sentence is a noisy estimate. Reading texts must fit their level.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.context import AgentContext
from knowledge import aci as aci_module
from knowledge.items import Item, Violation, ViolationKind
from knowledge.levels import Level
from knowledge.validators import validate as structural_violations

_KINDS: dict[str, ViolationKind] = {
    "word_above_level": "vocabulary",
    "unknown_word": "vocabulary",
    "too_many_words_above": "vocabulary",
    "construction_above_level": "grammar",
    "missing_construction": "missing_construction",
    "too_easy": "length",
    "too_hard": "length",
    "not_english": "safety",
    "not_judged": "length",
}
_ADVISORY_FOR_SENTENCES = frozenset({"too_easy", "too_hard"})


class Verdict(BaseModel):
    """How validation judged one item."""

    valid: bool = Field(description="Accepted: structurally valid and aligned with the level.")
    structural: bool = Field(description="Structurally valid, whatever its alignment.")
    aci: float | None = None
    above_share: float | None = Field(default=None, description="Share of word tokens above the target level.")
    violations: list[Violation] = Field(default_factory=list)

    @property
    def blocking(self) -> list[Violation]:
        """The violations that prevent acceptance."""
        return [v for v in self.violations if v.blocking]


def _aci_violation(v: aci_module.Violation, sentence_type: bool) -> Violation:
    """An ACI violation in the item's violation shape, keeping its evidence."""
    blocking = v.severity == "error" and not (sentence_type and v.kind in _ADVISORY_FOR_SENTENCES)
    evidence = {
        "aci_kind": v.kind,
        "node": v.node,
        "level": str(v.level) if v.level else None,
        "source": v.source,
        "text": v.text,
        "suggestions": [s.word for s in v.suggestions],
    }
    return Violation(
        kind=_KINDS.get(v.kind, "vocabulary"),
        message=v.message,
        evidence={k: x for k, x in evidence.items() if x},
        blocking=blocking,
    )


def validate_item(ctx: AgentContext, item: Item, level: Level, required: list[str] | None = None) -> Verdict:
    """Structural violations, then the ACI of everything the learner reads, into one verdict."""
    structural = structural_violations(item, ctx.checker.lexicon)
    report = ctx.checker.check(item.learner_text(), level, required=required or ())
    sentence_type = item.type != "reading"
    aligned = [_aci_violation(v, sentence_type) for v in report.violations]
    violations = structural + aligned
    blocking = [v for v in violations if v.blocking]
    within = report.above_level_share <= ctx.policy.max_above_share
    valid = not blocking and report.score >= ctx.policy.aci_threshold and within
    return Verdict(
        valid=valid,
        structural=not structural,
        aci=round(report.score, 4),
        above_share=round(report.above_level_share, 4),
        violations=violations,
    )


def feedback_words(verdict: Verdict) -> list[str]:
    """Words the next attempt should avoid: those the ACI flagged as above the level."""
    found = [
        str(v.evidence.get("text")) for v in verdict.violations if v.kind == "vocabulary" and v.evidence.get("text")
    ]
    return list(dict.fromkeys(w for w in found if w and " " not in w))[:10]
