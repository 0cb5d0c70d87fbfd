"""The item graph's nodes: each reads the state, calls one agent (`agents/item/`), and returns a partial update."""

from __future__ import annotations

import random
import time
from typing import Any

from agents import telemetry
from agents.context import AgentContext
from agents.item.constraints import Constraints, build_constraints
from agents.item.generation import Outcome, attempt_item
from agents.item.intake import intake
from agents.item.retrieval import retrieve
from agents.item.tool_agent import apply_choice, run_tools
from agents.item.validation import Verdict, feedback_words, validate_item
from graphs.common import AttemptFacts, Decision
from graphs.item.routing import decide_next, decide_start
from graphs.item.state import Attempt, BestItem, ItemRequest, ItemResult, ItemState, Route, Status

#: How many target words the constraint agent hands over (matching needs spares).
TARGETS = {"matching": 12}
DEFAULT_TARGETS = 6
#: Target words each attempt starts from (later attempts start further down the list).
TARGETS_PER_ATTEMPT = 3

class ItemNodes:
    """The graph's nodes: each reads the state, calls one agent, and returns a partial update."""

    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx

    def intake(self, state: ItemState) -> dict[str, Any]:
        """Classify the request (hard from the start or not).

        A typed request was validated when it was made; LangGraph Server hands the request over as JSON, which is
        validated into an `ItemRequest` here (UserInputError on bad input).
        """
        request = _as_request(state["request"])
        checked = intake(self.ctx, request.level, request.source_text)
        return {"request": request, "topic": request.topic, "hard_reason": checked.hard_reason}

    def retrieve(self, state: ItemState) -> dict[str, Any]:
        """Level- and topic-filtered lexicon, constructions, descriptors and exemplars."""
        return {"retrieved": retrieve(self.ctx, state["topic"], state["request"].level)}

    def constrain(self, state: ItemState) -> dict[str, Any]:
        """The typed constraints the knowledge graph sets for this item."""
        request = state["request"]
        constraints = build_constraints(
            self.ctx.graph,
            request.level,
            state["topic"],
            state["retrieved"],
            random.Random(request.seed),
            targets=TARGETS.get(request.type, DEFAULT_TARGETS),
            max_above_share=self.ctx.policy.max_above_share,
            used_words=request.used_words,
        )
        telemetry.set_attrs(telemetry.trace.get_current_span(), {telemetry.CONSTRAINTS: constraints})
        return {"constraints": constraints}

    def tools(self, state: ItemState) -> dict[str, Any]:
        """The model consults the tools; then decide where generation starts."""
        request, constraints = state["request"], state["constraints"]
        start = time.perf_counter()
        records = run_tools(self.ctx, request.type, constraints, request.seed)
        spent = time.perf_counter() - start
        route, reason = decide_start(state.get("hard_reason"), self._reachable(state))
        update = self._decide("tools", route, reason, state)
        return update | {
            "tool_calls": records,
            "constraints": apply_choice(constraints, records),
            "model_time": {"tools": spent if records else 0.0},
        }

    def generate(self, state: ItemState) -> dict[str, Any]:
        """One local attempt, starting from the next target words, avoiding words that failed before."""
        return self._attempt(state, escalated=False)

    def escalate(self, state: ItemState) -> dict[str, Any]:
        """One attempt by the escalation chain (same builder, same validation)."""
        return self._attempt(state, escalated=True)

    def validate(self, state: ItemState) -> dict[str, Any]:
        """Judge the latest attempt, keep the best so far, and decide what comes next."""
        outcome = state["outcome"]
        if outcome is None:
            raise ValueError("validate ran before any generation attempt")
        verdict = self._verdict(state, outcome)
        attempt = self._attempt_record(state, outcome, verdict)
        facts = self._facts(state, outcome, verdict, attempt)
        route, reason = decide_next(facts, self.ctx.policy)
        update = self._decide("validate", route, reason, state)
        best = _better(state.get("best"), outcome, verdict, attempt.number)
        timing = {"model_time": {"validate": verdict.meaning_s}}  # the meaning checks' scoring and MiniLM
        return update | {"verdict": verdict, "attempts": [attempt], "best": best} | timing

    def finalize(self, state: ItemState) -> dict[str, Any]:
        """Assemble the result: the accepted item, else the best flagged one, else a clear failure."""
        return {"result": _result(state)}

    # helpers

    def _attempt(self, state: ItemState, *, escalated: bool) -> dict[str, Any]:
        """Run the generation agent once under rotated constraints and record its model time."""
        number = len(state.get("attempts", [])) + 1
        constraints = _for_attempt(state["constraints"], state, number)
        seed = state["request"].seed * 1009 + number
        outcome = attempt_item(self.ctx, state["request"].type, constraints, seed=seed, escalated=escalated)
        name = "escalate" if escalated else "generate"
        return {"outcome": outcome, "model_time": {name: outcome.model_s}}

    def _verdict(self, state: ItemState, outcome: Outcome) -> Verdict:
        """Validate the attempt's item, or turn its build failure into a failed verdict."""
        if outcome.item is None:
            return Verdict(valid=False, structural=False, violations=outcome.violations)
        verdict = validate_item(self.ctx, outcome.item, state["request"].level)
        telemetry.record_validation(verdict.valid, violations=[v.message for v in verdict.blocking], aci=verdict.aci)
        return verdict

    def _attempt_record(self, state: ItemState, outcome: Outcome, verdict: Verdict) -> Attempt:
        """The attempt as the result's log shows it."""
        return Attempt(
            number=len(state.get("attempts", [])) + 1,
            model=outcome.model,
            escalated=outcome.escalated,
            valid=verdict.valid,
            structural=verdict.structural,
            aci=verdict.aci,
            violations=[v.message for v in verdict.blocking][:6],
            model_s=outcome.model_s,
            errors=(outcome.errors + outcome.chain_failures)[:6],
        )

    def _facts(self, state: ItemState, outcome: Outcome, verdict: Verdict, attempt: Attempt) -> AttemptFacts:
        """What the routing decision depends on."""
        done = [*state.get("attempts", []), attempt]
        return AttemptFacts(
            passed=verdict.valid,
            escalated=outcome.escalated,
            local_attempts=sum(not a.escalated for a in done),
            escalated_attempts=sum(a.escalated for a in done),
            reachable=self._reachable(state),
            local_failed=outcome.local_model_failed,
            problems="; ".join((attempt.violations + attempt.errors)[:2]) or "no usable output",
        )

    def _reachable(self, state: ItemState) -> bool:
        """Whether an escalation target answers now (cached by the context for a short while)."""
        return self.ctx.escalation_target() is not None

    def _decide(self, node: str, route: Route, reason: str, state: ItemState) -> dict[str, Any]:
        """Record a decision on the trace and in the state; escalations also set the run's escalation reason."""
        escalating = route == "escalate"
        telemetry.record_decision(None, f"{node}.route", route, reason, escalation=escalating)
        update: dict[str, Any] = {"route": route, "decisions": [Decision(node=node, choice=route, reason=reason)]}
        if escalating and not state.get("escalation_reason"):
            update["escalation_reason"] = reason
        return update


def _as_request(value: object) -> ItemRequest:
    """The request as a typed object: trusted when it is one, validated when JSON (LangGraph Server) hands it over."""
    if isinstance(value, ItemRequest):
        return value
    return ItemRequest.of(value)


def _for_attempt(constraints: Constraints, state: ItemState, number: int) -> Constraints:
    """Constraints for attempt `number`: targets rotated past those already tried, failed words avoided."""
    words = constraints.target_words
    shift = ((number - 1) * TARGETS_PER_ATTEMPT) % max(1, len(words))
    verdict = state.get("verdict")
    avoid = list(dict.fromkeys([*constraints.avoid_words, *(feedback_words(verdict) if verdict else [])]))
    return constraints.model_copy(update={"target_words": words[shift:] + words[:shift], "avoid_words": avoid})


def _better(best: BestItem | None, outcome: Outcome, verdict: Verdict, number: int) -> BestItem | None:
    """Keep the better of the best-so-far and this attempt: valid beats structural beats nothing; then higher ACI."""
    if outcome.item is None:
        return best
    candidate = BestItem(
        item=outcome.item, verdict=verdict, model=outcome.model, escalated=outcome.escalated, attempt=number
    )

    def rank(c: BestItem) -> tuple[bool, bool, float]:
        return c.verdict.valid, c.verdict.structural, c.verdict.aci or 0.0

    return candidate if best is None or rank(candidate) > rank(best) else best


def _result(state: ItemState) -> ItemResult:
    """The run's result from its best candidate and its logs."""
    request, best = state["request"], state.get("best")
    attempts = state.get("attempts", [])
    status: Status = "failed"
    if best is not None:
        status = "accepted" if best.verdict.valid else "flagged" if best.verdict.structural else "failed"
    result = ItemResult(
        run_id=request.run_id,
        trace_id=telemetry.current_trace_id(),
        status=status,
        type=request.type,
        level=request.level,
        topic=state.get("topic", request.topic),
        attempts=len(attempts),
        attempt_log=attempts,
        decisions=state.get("decisions", []),
        escalation_reason=state.get("escalation_reason"),
        escalated=any(a.escalated for a in attempts),
        timings=_timings(state),
    )
    if best is None or status == "failed":
        why = "; ".join(attempts[-1].violations + attempts[-1].errors) if attempts else "no attempt was made"
        result.failure = f"no structurally valid item after {len(attempts)} attempts: {why}"
        return result
    verdict = best.verdict
    update = {"item": best.item, "aci": verdict.aci, "above_share": verdict.above_share}
    return result.model_copy(update=update | {"violations": verdict.violations, "model": best.model})


def _timings(state: ItemState) -> dict[str, float]:
    """Seconds per node, total model time, and orchestration overhead (everything but model calls)."""
    wall = dict(state.get("timings", {}))
    model = sum(state.get("model_time", {}).values())
    total = sum(wall.values())
    return {
        **{k: round(v, 4) for k, v in wall.items()},
        "total_s": round(total, 4),
        "model_s": round(model, 4),
        "overhead_s": round(max(0.0, total - model), 4),
    }

