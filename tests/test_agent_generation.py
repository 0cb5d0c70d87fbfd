"""Unit tier of the generation agent: one attempt comes back as an Outcome, never as an exception."""

from __future__ import annotations

import pytest

from agents.context import AgentContext
from agents.item.constraints import Constraints
from agents.item.exercises.base import CANDIDATES, HUMAN_SOURCE
from agents.item.generation import Outcome, attempt_item
from agents.models.fallback import EscalationChain
from agents.models.llamacpp import LlamaCppModel
from knowledge.items import EXERCISE_TYPES, ExerciseType
from knowledge.levels import Level
from knowledge.validators import validate
from tests.support.agent_helpers import MakeContext, constraints_for, word_choice
from tests.support.scripted_model import ScriptedModel

pytest_plugins = ["tests.support.agent_fixtures"]

LUNCH = "We had bread and cheese for lunch today."


@pytest.fixture
def a2_food(make_ctx: MakeContext) -> Constraints:
    return constraints_for(make_ctx(), Level.A2, "food")


def _bread(ctx: AgentContext, constraints: Constraints) -> Constraints:
    return constraints.model_copy(update={"target_words": [word_choice(ctx, "bread", "noun")]})


def test_a_good_local_attempt_returns_the_item_and_its_cost(make_ctx: MakeContext, a2_food: Constraints) -> None:
    model = ScriptedModel([LUNCH])
    ctx = make_ctx(model)
    outcome = attempt_item(ctx, "open_gap", _bread(ctx, a2_food), seed=2, escalated=False)
    assert outcome.item is not None and outcome.item.type == "open_gap"
    assert outcome.violations == [] and outcome.errors == [] and outcome.chain_failures == []
    assert outcome.model == model.id and not outcome.escalated and not outcome.local_model_failed
    assert outcome.calls == model.calls == CANDIDATES, "one round of candidates"
    assert outcome.model_s >= 0.0
    assert "build_s" in outcome.notes and LUNCH in [c["text"] for c in outcome.notes["candidates"]]


@pytest.mark.parametrize("kind", EXERCISE_TYPES)
def test_unusable_text_gives_violations(make_ctx: MakeContext, a2_food: Constraints, kind: ExerciseType) -> None:
    outcome = attempt_item(make_ctx(ScriptedModel(["ok"])), kind, a2_food, seed=1, escalated=False)
    assert isinstance(outcome, Outcome) and outcome.errors == []
    if outcome.item is None:
        assert outcome.violations and all(v.blocking for v in outcome.violations)
        assert not outcome.local_model_failed, "the model answered; what it wrote was unusable"
    else:  # matching uses WordNet glosses or opposites; a sentence type may use a WordNet example sentence
        assert outcome.violations == []
        assert kind == "matching" or outcome.notes["candidates"][-1].get("source") == HUMAN_SOURCE


@pytest.mark.parametrize("kind", ["gap_fill", "reading", "error_correction"])
def test_a_failing_local_model_is_recorded_as_degraded(
    make_ctx: MakeContext, a2_food: Constraints, kind: ExerciseType
) -> None:
    outcome = attempt_item(make_ctx(ScriptedModel(["TIMEOUT"])), kind, a2_food, seed=1, escalated=False)
    assert outcome.item is None and outcome.violations
    assert outcome.errors and all(e.startswith("timeout: ") for e in outcome.errors)
    assert len(outcome.errors) == outcome.calls
    assert outcome.local_model_failed


def test_an_escalated_attempt_over_a_failing_chain_reports_why(make_ctx: MakeContext, a2_food: Constraints) -> None:
    local = ScriptedModel([LUNCH])
    chain = EscalationChain([ScriptedModel(["TIMEOUT"], name="big"), ScriptedModel(["TIMEOUT"], name="bigger")])
    ctx = make_ctx(local, escalation=chain)
    outcome = attempt_item(ctx, "reorder", _bread(ctx, a2_food), seed=1, escalated=True)
    assert outcome.escalated and outcome.item is None and outcome.violations
    assert outcome.model == "chain:scripted:big,scripted:bigger", "no model answered"
    assert outcome.errors and outcome.chain_failures
    assert {f.split(": ")[0] for f in outcome.chain_failures} == {"scripted:big", "scripted:bigger"}
    assert all("ModelTimeout" in f for f in outcome.chain_failures)
    assert local.calls == 0, "an escalated attempt never writes with the local model"
    assert not outcome.local_model_failed


def test_an_escalated_attempt_names_the_model_that_answered(make_ctx: MakeContext, a2_food: Constraints) -> None:
    chain = EscalationChain([ScriptedModel(["TIMEOUT"], name="big"), ScriptedModel(["not json"], name="small")])
    ctx = make_ctx(escalation=chain)
    outcome = attempt_item(ctx, "gap_fill", _bread(ctx, a2_food), seed=1, escalated=True)
    assert outcome.model == "scripted:small" and outcome.escalated
    assert outcome.item is None and outcome.violations, "a reply without the parsed JSON gives no sentence"
    assert [f.split(": ")[0] for f in outcome.chain_failures][:1] == ["scripted:big"]


def test_the_same_seed_gives_the_same_outcome(make_ctx: MakeContext, a2_food: Constraints) -> None:
    ctx = make_ctx(ScriptedModel([LUNCH]))
    first = attempt_item(ctx, "reorder", _bread(ctx, a2_food), seed=5, escalated=False)
    again = attempt_item(ctx, "reorder", _bread(ctx, a2_food), seed=5, escalated=False)
    assert first.item is not None and first.item == again.item
    assert validate(first.item, ctx.checker.lexicon) == []


def test_a_local_attempt_with_smollm_is_an_outcome(
    make_ctx: MakeContext, a2_food: Constraints, local_smollm: LlamaCppModel
) -> None:
    """Model-backed: the real few-shot writer and scorer; whatever the 135M model writes, an Outcome comes back."""
    ctx = make_ctx(local_smollm)
    outcome = attempt_item(ctx, "open_gap", a2_food, seed=7, escalated=False)
    assert outcome.model == local_smollm.id and not outcome.escalated
    assert outcome.errors == [] and outcome.calls >= 3 and outcome.model_s > 0
    assert (outcome.item is None) == bool(outcome.violations)
    if outcome.item is not None:
        assert validate(outcome.item, ctx.checker.lexicon) == []
    assert outcome.notes["candidates"], "every candidate the model wrote is recorded"
