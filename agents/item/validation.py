"""The validation agent: structural checks, the Alignment Consistency Index, and the meaning checks.

An item is accepted when it is structurally valid, its ACI reaches the policy threshold with no blocking ACI
violation, at most `max_above_share` of its words are above the target level, and the meaning checks of its type
(`agents.item.meaning`: the key is the only answer, definitions are true, questions ask in other words) find no
blocking problem. The item graph's accept decision and `forge validate` are this one function. For one-sentence exercise
types a "too easy" reading is advice, not a block: a C1 gap-fill tests its C1 target word, and the level of one
short sentence is a noisy estimate. Reading texts must fit their level.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.context import AgentContext
from agents.item.meaning.base import Judge
from agents.item.meaning.checks import meaning_violations
from knowledge.aci import AlignmentReport
from knowledge.items import Item, ReadingItem
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
    meaning_s: float = Field(default=0.0, description="Seconds the meaning checks spent in models.")

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
    """Structural violations, the ACI of everything the learner reads, then meaning, into one verdict."""
    structural = structural_violations(item, ctx.checker.lexicon)
    report = ctx.checker.check(item.learner_text(), level, required=required or ())
    sentence_type = item.type != "reading"
    aligned = [_for_item(v, sentence_type) for v in report.violations]
    if isinstance(item, ReadingItem):
        report, aligned = _reading_alignment(ctx, item, level, report)
    judge = judge_for(ctx, level)
    meaning = meaning_violations(judge, item) if judge is not None and not structural else []
    violations = structural + aligned + meaning
    blocking = [v for v in violations if v.blocking]
    within = report.above_level_share <= ctx.policy.max_above_share
    valid = not blocking and report.score >= ctx.policy.aci_threshold and within
    return Verdict(
        valid=valid,
        structural=not structural,
        aci=round(report.score, 4),
        above_share=round(report.above_level_share, 4),
        violations=violations,
        meaning_s=round(judge.model_s, 4) if judge is not None else 0.0,
    )


def _reading_alignment(
    ctx: AgentContext, item: ReadingItem, level: Level, everything: AlignmentReport
) -> tuple[AlignmentReport, list[Violation]]:
    """A reading item's level is its text's; its vocabulary is everything the learner reads.

    Questions and options are short and plain by design, so judging the text's level with them in would read a C2
    text as B1; words above the level count wherever they are.
    """
    text = ctx.checker.check(item.text, level)
    words = [v for v in everything.violations if v.category == "vocabulary"]
    seen = {(v.kind, v.text) for v in text.violations}
    merged = text.violations + [v for v in words if (v.kind, v.text) not in seen]
    blended = text.model_copy(update={"above_level_share": max(text.above_level_share, everything.above_level_share)})
    return blended, merged


def judge_for(ctx: AgentContext, level: Level) -> Judge | None:
    """The meaning judge over the context's local model and MiniLM, or None when the policy turns meaning off."""
    if not ctx.policy.meaning_checks:
        return None
    from knowledge.embeddings import embed

    return Judge(lexicon=ctx.checker.lexicon, level=level, scorer=ctx.local, embed=embed,
                 thresholds=ctx.policy.thresholds)


def feedback_words(verdict: Verdict) -> list[str]:
    """Words the next attempt should avoid: those the ACI flagged as above the level."""
    found = [v.text for v in verdict.violations if v.category == "vocabulary" and v.text]
    return list(dict.fromkeys(w for w in found if w and " " not in w))[:10]
