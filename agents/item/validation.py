"""The validation agent: structural checks of the exercise type plus the Alignment Consistency Index.

An item is accepted when it is structurally valid, its ACI reaches the policy threshold with no blocking ACI
violation, and at most `max_above_share` of its words are above the target level. For one-sentence exercise
types a "too easy" reading is advice, not a block: a C1 gap-fill tests its C1 target word, and the level of one
short sentence is a noisy estimate. Reading texts must fit their level.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.context import AgentContext
from knowledge.items import Item
from knowledge.levels import Level
from knowledge.validators import validate as structural_violations
from knowledge.violations import Violation

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


def _for_item(v: Violation, sentence_type: bool) -> Violation:
    """An ACI violation as the item's verdict counts it: too easy / too hard is advice for one-sentence types."""
    if v.blocking and sentence_type and v.kind in _ADVISORY_FOR_SENTENCES:
        return v.model_copy(update={"severity": "warning"})
    return v


def validate_item(ctx: AgentContext, item: Item, level: Level, required: list[str] | None = None) -> Verdict:
    """Structural violations, then the ACI of everything the learner reads, into one verdict."""
    structural = structural_violations(item, ctx.checker.lexicon)
    report = ctx.checker.check(item.learner_text(), level, required=required or ())
    sentence_type = item.type != "reading"
    aligned = [_for_item(v, sentence_type) for v in report.violations]
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
    found = [v.text for v in verdict.violations if v.category == "vocabulary" and v.text]
    return list(dict.fromkeys(w for w in found if w and " " not in w))[:10]
