"""Unit tier of the tool-calling agent: policy switches, failing models, applying the choice; one real-model run."""

from __future__ import annotations

import pytest

from agents.context import ItemPolicy
from agents.item.constraints import Constraints
from agents.item.tool_agent import FOLLOW_UP_TOOLS, ToolRecord, apply_choice, run_tools
from agents.models.llamacpp import LlamaCppModel
from knowledge.levels import Level
from tests.support.agent_helpers import MakeContext, constraints_for
from tests.support.scripted_model import ScriptedModel

pytest_plugins = ["tests.support.agent_fixtures"]


@pytest.fixture
def constraints(make_ctx: MakeContext) -> Constraints:
    return constraints_for(make_ctx(), Level.A2, "food")


def _chose(word: str, ok: bool = True) -> ToolRecord:
    return ToolRecord(name="choose_target_word", arguments={"word": word}, ok=ok, result={"word": word} if ok else None)


def test_no_tool_steps_means_no_model_call(make_ctx: MakeContext, constraints: Constraints) -> None:
    model = ScriptedModel(["ok"])
    assert run_tools(make_ctx(model, policy=ItemPolicy(tool_steps=0)), "gap_fill", constraints, seed=1) == []
    assert model.calls == 0


def test_no_target_words_means_no_model_call(make_ctx: MakeContext, constraints: Constraints) -> None:
    model = ScriptedModel(["ok"])
    empty = constraints.model_copy(update={"target_words": []})
    assert run_tools(make_ctx(model), "gap_fill", empty, seed=1) == []
    assert model.calls == 0


def test_a_model_that_calls_no_tool_ends_the_plan(make_ctx: MakeContext, constraints: Constraints) -> None:
    model = ScriptedModel(["I would choose ham."])
    assert run_tools(make_ctx(model), "gap_fill", constraints, seed=1) == []
    assert model.calls == 1, "no tool call on the first step: the follow-up steps are skipped"


@pytest.mark.parametrize("steps", [1, 2, 4])
def test_a_failing_model_degrades_to_no_calls_without_raising(
    make_ctx: MakeContext, constraints: Constraints, steps: int
) -> None:
    model = ScriptedModel(["TIMEOUT"])
    records = run_tools(make_ctx(model, policy=ItemPolicy(tool_steps=steps)), "reading", constraints, seed=1)
    assert records == []
    assert model.calls == 1
    assert apply_choice(constraints, records) == constraints, "the graph's own order is kept"


def test_the_chosen_word_moves_to_the_front(constraints: Constraints) -> None:
    words = [w.word for w in constraints.target_words]
    chosen = words[3]
    updated = apply_choice(constraints, [_chose(chosen)])
    assert [w.word for w in updated.target_words] == [chosen, *(w for w in words if w != chosen)]
    assert updated.distractor_pool == constraints.distractor_pool
    assert constraints.target_words[3].word == chosen, "the input constraints are not mutated"


def test_failed_or_foreign_records_leave_the_order_alone(constraints: Constraints) -> None:
    other = ToolRecord(name="lookup_word_level", arguments={"word": "ham"}, ok=True, result={"word": "garlic"})
    odd = ToolRecord(name="choose_target_word", arguments={}, ok=True, result="garlic")
    assert apply_choice(constraints, [_chose("garlic", ok=False), other, odd]) == constraints
    assert apply_choice(constraints, []) == constraints


def test_a_word_not_among_the_targets_changes_nothing(constraints: Constraints) -> None:
    assert apply_choice(constraints, [_chose("spaceship")]).target_words == constraints.target_words


def test_smollm_chooses_a_candidate_and_the_calls_are_recorded(
    make_ctx: MakeContext, constraints: Constraints, local_smollm: LlamaCppModel
) -> None:
    """Model-backed: the grammar-constrained tool call of the real 135M model is a valid choice."""
    ctx = make_ctx(local_smollm, policy=ItemPolicy(tool_steps=2))
    records = run_tools(ctx, "gap_fill", constraints, seed=5)
    assert 1 <= len(records) <= 2
    first = records[0]
    candidates = [w.word for w in constraints.target_words]
    assert first.name == "choose_target_word" and first.ok and first.model == local_smollm.id
    assert isinstance(first.result, dict) and first.result["word"] in candidates
    assert first.arguments == {"word": first.result["word"]}
    if len(records) == 2:
        assert records[1].name == FOLLOW_UP_TOOLS[0] and records[1].model == local_smollm.id
        assert records[1].ok or records[1].error
    updated = apply_choice(constraints, records)
    assert updated.target_words[0].word == first.result["word"]
    assert sorted(w.word for w in updated.target_words) == sorted(candidates)
