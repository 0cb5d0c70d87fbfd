"""The item graph's routing decisions, as pure functions over plain facts."""

from __future__ import annotations

import pytest

from agents.context import ItemPolicy
from graphs.common import AttemptFacts
from graphs.item.routing import decide_next, decide_start, route

POLICY = ItemPolicy(max_local_attempts=3, max_escalated_attempts=2)


def facts(**overrides: object) -> AttemptFacts:
    base: dict[str, object] = {
        "passed": False,
        "escalated": False,
        "local_attempts": 1,
        "escalated_attempts": 0,
        "reachable": True,
        "problems": "x",
    }
    return AttemptFacts(**(base | overrides))  # type: ignore[arg-type]


def test_start_locally_unless_hard() -> None:
    assert decide_start(None, reachable=True)[0] == "generate"
    route_, reason = decide_start("target level C1 is at or above C1", reachable=True)
    assert route_ == "escalate" and "C1" in reason
    route_, reason = decide_start("target level C2 is at or above C1", reachable=False)
    assert route_ == "generate" and "no escalation target is reachable" in reason


def test_valid_items_are_accepted_whatever_else() -> None:
    assert decide_next(facts(passed=True, escalated=True, escalated_attempts=2), POLICY)[0] == "finalize"


@pytest.mark.parametrize(
    ("local", "reachable", "expected"),
    [(1, True, "generate"), (2, False, "generate"), (3, True, "escalate"), (3, False, "finalize")],
)
def test_local_failures_regenerate_then_escalate(local: int, reachable: bool, expected: str) -> None:
    route_, reason = decide_next(facts(local_attempts=local, reachable=reachable), POLICY)
    assert route_ == expected
    if expected == "escalate":
        assert "after 3 local attempts" in reason
    if expected == "finalize":
        assert "no escalation target is reachable" in reason


def test_local_model_failure_escalates_at_once_when_possible() -> None:
    route_, reason = decide_next(facts(local_failed=True, problems="timeout: slow"), POLICY)
    assert route_ == "escalate" and "local model failed" in reason
    assert decide_next(facts(local_failed=True, reachable=False), POLICY)[0] == "generate"


def test_escalated_failures_retry_then_fall_back_then_stop() -> None:
    assert decide_next(facts(escalated=True, escalated_attempts=1, local_attempts=0), POLICY)[0] == "escalate"
    assert decide_next(facts(escalated=True, escalated_attempts=2, local_attempts=0), POLICY)[0] == "generate"
    assert decide_next(facts(escalated=True, escalated_attempts=2, local_attempts=3), POLICY)[0] == "finalize"
    assert decide_next(facts(escalated=True, escalated_attempts=1, reachable=False, local_attempts=3), POLICY)[0] == (
        "finalize"
    )


def test_every_path_terminates() -> None:
    """Walking the decisions from any start reaches finalize within the attempt budget."""
    for reachable in (True, False):
        for always_failing_model in (True, False):
            local, escalated, step = 0, 0, decide_start("hard", reachable)[0]
            for _ in range(POLICY.max_local_attempts + POLICY.max_escalated_attempts + 1):
                if step == "finalize":
                    break
                if step == "generate":
                    local += 1
                else:
                    escalated += 1
                step = decide_next(
                    facts(
                        escalated=step == "escalate",
                        local_attempts=local,
                        escalated_attempts=escalated,
                        reachable=reachable,
                        local_failed=always_failing_model,
                    ),
                    POLICY,
                )[0]
            assert step == "finalize"


def test_router_refuses_states_without_a_decision() -> None:
    assert route({"route": "escalate"}) == "escalate"
    with pytest.raises(ValueError, match="without a decision"):
        route({})
