"""`forge bench quality`: how good the items are, measured independently of how they were made.

Every level × type × topic cell is generated through the item graph; then, separately from the graph's own verdict,
each item is re-checked with the structural validators and the meaning checks of its type (the key the only
answer, definitions true, reading questions in other words) and the share of its word tokens above the target level
is recomputed. Topics are ones the generation was not tuned on. With an escalation target, the same requests are run
at several escalation thresholds to show quality against the share of items escalated (a RouteLLM-style table).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from forge.services import Services
from graphs.item.graph import build_item_graph, run_item
from graphs.item.state import ItemRequest, ItemResult
from knowledge.aci import above_level_share
from knowledge.items import EXERCISE_TYPES, Item
from knowledge.levels import TARGET_LEVELS, Level
from knowledge.validators import validate

#: Topics used while developing the prompts and builders; the benchmark never uses them.
TUNING_TOPICS = ("food", "travel")
#: Held-out topics for the benchmark.
BENCH_TOPICS = ("music", "weather", "health", "shopping", "the sea", "cinema", "gardening", "money", "sport", "school")
#: The product goal on word tokens above the target level.
MAX_ABOVE = 0.05


@dataclass
class Measured:
    """One generated item and the independent checks of it."""

    level: Level
    kind: str
    topic: str
    status: str
    structural: bool
    above_share: float | None
    aci: float | None
    escalated: bool
    seconds: float
    overhead_s: float
    problems: list[str] = field(default_factory=list)
    meaning: bool = False

    @property
    def within_level(self) -> bool:
        """Structurally valid and at most 5 % of word tokens above the target level."""
        return self.structural and self.above_share is not None and self.above_share <= MAX_ABOVE


def measure(result: ItemResult, seconds: float, services: Services) -> Measured:
    """Re-check one result: parse and validate its item, judge its meaning, recompute its above-level share."""
    problems: list[str] = []
    structural, meaning, share = False, False, None
    if result.item is not None:
        item = result.item
        problems = [v.message for v in validate(item, services.alignment_checker.lexicon)]
        structural = not problems
        meaning_problems = _meaning_problems(services, item, result.level) if structural else []
        meaning = structural and not meaning_problems
        problems += meaning_problems
        share = above_level_share(item.learner_text(), result.level, services.alignment_checker.lexicon)
    return Measured(
        result.level,
        result.type,
        result.topic,
        result.status,
        structural,
        share,
        result.aci,
        result.escalated,
        seconds,
        result.timings.get("overhead_s", 0.0),
        problems or ([result.failure] if result.failure else []),
        meaning,
    )


def _meaning_problems(services: Services, item: Item, level: Level) -> list[str]:
    """The blocking problems the meaning checks of the item's type find."""
    from agents.item.meaning.checks import meaning_violations
    from agents.item.validation import judge_for

    judge = judge_for(services.agent_context, level)
    if judge is None:
        return []
    return [v.message for v in meaning_violations(judge, item) if v.blocking]


def requests(levels: Iterable[Level], kinds: Iterable[str], topics: Iterable[str], seed: int) -> list[ItemRequest]:
    """Every level × type × topic cell as a request."""
    return [
        ItemRequest.model_validate({"level": level, "topic": topic, "type": kind, "seed": seed + i})
        for i, (level, kind, topic) in enumerate((lv, k, t) for lv in levels for k in kinds for t in topics)
    ]


def run(
    services: Services, batch: list[ItemRequest], graph: Any = None, progress: Callable[[], None] | None = None
) -> list[Measured]:
    """Generate and measure each request."""
    graph = graph or services.item_graph
    out = []
    for request in batch:
        start = time.perf_counter()
        result = run_item(graph, request)
        out.append(measure(result, time.perf_counter() - start, services))
        if progress:
            progress()
    return out


def summary(rows: list[Measured]) -> dict[str, Any]:
    """The goal figures over a set of items."""
    n = len(rows) or 1
    return {
        "items": len(rows),
        "structurally_valid": sum(r.structural for r in rows) / n,
        "meaning_valid": sum(r.meaning for r in rows) / n,
        "within_level": sum(r.within_level for r in rows) / n,
        "accepted": sum(r.status == "accepted" for r in rows) / n,
        "escalated": sum(r.escalated for r in rows) / n,
        "mean_aci": statistics.fmean([r.aci for r in rows if r.aci is not None] or [0.0]),
        "median_s": statistics.median([r.seconds for r in rows]) if rows else 0.0,
        "p90_s": _p90([r.seconds for r in rows]),
        "median_overhead_s": statistics.median([r.overhead_s for r in rows]) if rows else 0.0,
    }


def _p90(values: list[float]) -> float:
    """The 90th percentile (0 for no values)."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def breakdown(rows: list[Measured], key: Callable[[Measured], str]) -> dict[str, dict[str, Any]]:
    """`summary` per group (level or type)."""
    groups: dict[str, list[Measured]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return {name: summary(group) for name, group in groups.items()}


def routellm_table(
    services: Services, batch: list[ItemRequest], thresholds: list[int], progress: Callable[[], None] | None = None
) -> list[dict[str, Any]]:
    """Quality against the share escalated, for several 'local attempts before escalating' thresholds."""
    table = []
    base = services.agent_context
    for attempts in thresholds:
        policy = base.policy.model_copy(update={"max_local_attempts": attempts})
        ctx = type(base)(
            local=base.local,
            escalation=base.escalation,
            graph=base.graph,
            index=base.index,
            checker=base.checker,
            estimator=base.estimator,
            exemplars=base.exemplars,
            policy=policy,
        )
        rows = run(services, batch, build_item_graph(ctx), progress)
        table.append({"local_attempts_before_escalating": attempts, **summary(rows)})
    return table


def default_levels() -> list[Level]:
    """A1..C2."""
    return list(TARGET_LEVELS)


def default_kinds() -> list[str]:
    """Every exercise type."""
    return list(EXERCISE_TYPES)
