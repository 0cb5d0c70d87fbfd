"""`forge validate` and `forge bench review`: judge items from anywhere with the item graph's own accept decision.

Each input line is one JSON object in the schema `forge generate --json` prints under `items` (or a reviewed-items
record, the item under `item`). The item is judged afresh by `agents.item.validation.validate_item`, the function
the item graph accepts with; what the input says about itself (status, ACI, violations) is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from knowledge.levels import Level, parse_level

if TYPE_CHECKING:
    from agents.context import AgentContext
    from agents.item.validation import Verdict


class Problem(BaseModel):
    """Why an item is not accepted (or, as a warning, what a teacher should know)."""

    kind: str
    detail: str


class Judgement(BaseModel):
    """How one input line was judged."""

    line: int
    accepted: bool
    problems: list[Problem] = Field(default_factory=list)
    warnings: list[Problem] = Field(default_factory=list)
    type: str | None = None
    level: str | None = None
    topic: str | None = None
    aci: float | None = None
    headline: str = ""
    invalid: bool = Field(default=False, description="The line could not be read as an item.")


def judge_lines(ctx: AgentContext, lines: Iterable[str]) -> Iterator[Judgement]:
    """One judgement per non-blank input line, in input order (unreadable lines say why)."""
    for number, raw in enumerate(lines, 1):
        if raw.strip():
            yield judge_line(ctx, number, raw)


def judge_line(ctx: AgentContext, number: int, raw: str) -> Judgement:
    """Read one line as an item and judge it; an unreadable line comes back invalid with the reason."""
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        return _invalid(number, f"not JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(record, dict):
        return _invalid(number, "not a JSON object; each line must be one item object")
    return judge_record(ctx, number, record)


def judge_record(ctx: AgentContext, number: int, record: dict[str, Any]) -> Judgement:
    """Judge one item record with the item graph's accept decision."""
    from agents.item.validation import validate_item
    from knowledge.items import item_from_record

    try:
        item = item_from_record(record)
        level = _level(record, item.level)
    except (ValueError, ValidationError) as exc:
        return _invalid(number, _why(exc))
    verdict = validate_item(ctx, item, level)
    return Judgement(
        line=number,
        accepted=verdict.valid,
        problems=problems_of(verdict, ctx),
        warnings=[Problem(kind=v.kind, detail=v.message) for v in verdict.violations if not v.blocking],
        type=item.type,
        level=level.value,
        topic=item.topic,
        aci=verdict.aci,
        headline=item.headline()[:120],
    )


def problems_of(verdict: Verdict, ctx: AgentContext) -> list[Problem]:
    """The blocking violations, plus the thresholds an item missed without a blocking violation."""
    found = [Problem(kind=v.kind, detail=v.message) for v in verdict.blocking]
    policy = ctx.policy
    if verdict.aci is not None and verdict.aci < policy.aci_threshold:
        found.append(Problem(kind="aci", detail=f"ACI {verdict.aci:.2f} is below {policy.aci_threshold:.2f}"))
    if verdict.above_share is not None and verdict.above_share > policy.max_above_share:
        found.append(
            Problem(
                kind="too_many_words_above",
                detail=f"{verdict.above_share:.0%} of words are above the level (at most {policy.max_above_share:.0%})",
            )
        )
    return found


def _level(record: dict[str, Any], fallback: Level) -> Level:
    """The level the record asks the item to be judged at (its own `level`)."""
    raw = record.get("level") or (record.get("item") or {}).get("level")
    return parse_level(str(raw)) if raw else fallback


def _why(exc: Exception) -> str:
    """One readable sentence from a parsing error."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"not a valid item: {where}: {first.get('msg', 'invalid')}"
    return str(exc)


def _invalid(number: int, reason: str) -> Judgement:
    """A judgement for a line that is not an item."""
    return Judgement(line=number, accepted=False, invalid=True, problems=[Problem(kind="invalid", detail=reason)])
