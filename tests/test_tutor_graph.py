"""The tutoring graph: real SmolLM2 and real SQLite sessions (persistence, resuming, bad input), the exercise offer
and grading flow, and degradation when models fail or escalation is unreachable.

Exercise *generation* is the item graph's and is measured elsewhere (tens of seconds per item on two shared cores);
here the offer/grade logic runs against a scripted stand-in item graph so the suite stays fast.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agents.context import AgentContext
from agents.models.llamacpp import LlamaCppModel
from agents.tutor.policy import TutorPolicy
from forge.services import Services
from forge.sessions.tutor import TutorSessions
from graphs.item.state import ItemResult
from graphs.tutor.graph import build_tutor_graph, run_tutor_turn
from graphs.tutor.state import TutorState
from knowledge.errors import UserInputError
from knowledge.levels import Level
from tests.support.item_fixtures import make_services
from tests.support.ollama_server import OllamaTestServer
from tests.support.scripted_model import ScriptedModel

pytest_plugins = ["tests.support.ollama_fixtures"]

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JSON_KEYS = ["reply", "level_estimate", "corrections", "learner", "exercise", "trace_id"]


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, smollm: LlamaCppModel) -> Iterator[Services]:
    """Services over a module data dir, the session's SmolLM2, and an unreachable Ollama."""
    svc = make_services(tmp_path_factory.mktemp("tutor-data"), cache_dir)
    svc.models._models[svc.settings.local_model] = smollm  # type: ignore[attr-defined]
    yield svc
    svc.close()


def _tutors(services: Services, **policy: Any) -> TutorSessions:
    return TutorSessions(services, TutorPolicy(**({"exercises": False} | policy)))


def test_a_session_persists_and_resumes_in_a_new_process_view(services: Services, tmp_path: Path) -> None:
    tutors = _tutors(services)
    info = tutors.start(title="first", level="A2")
    first = tutors.turn(info.id, "Yesterday I go to the park with my freind.", now=T0)
    assert list(first.public()) == JSON_KEYS
    assert [(c.error_type, c.suggestion) for c in first.corrections] == [("verb tense", "went"), ("spelling", "friend")]
    assert first.reply.startswith("Oh, yesterday you went to the park with your friend.") and "?" in first.reply
    assert first.level_estimate == "A2"
    second = tutors.turn(info.id, "He like football very much.", now=T0 + timedelta(minutes=1))
    assert second.turn == 2 and second.corrections[0].suggestion == "likes"

    # a second store over the same database: another process resuming the session
    other = make_services(services.settings.data_dir, services.settings.resolved_cache_dir)
    try:
        resumed = TutorSessions(other, TutorPolicy(exercises=False))
        other.models._models[other.settings.local_model] = services.model()  # type: ignore[attr-defined]
        assert [t.role for t in resumed.history(info.id)] == ["user", "assistant"] * 2
        learner = resumed.learner(info.id)
        assert learner is not None and learner.turns == 2 and learner.errors["spelling"].count == 1
        assert [e.turn for e in learner.level.evidence] == [1, 2]
        third = resumed.turn(info.id, "My sister have two cat.", now=T0 + timedelta(minutes=2))
        assert third.turn == 3 and third.learner["errors"]["subject-verb agreement"]["count"] == 2
        assert other.sessions.get(info.id).turns == 3
    finally:
        other.close()


@pytest.mark.parametrize(
    ("message", "fragment"),
    [("", "empty"), ("   ", "empty"), ("word " * 20_000, "at most"),
     ("Je voudrais un café, s'il vous plaît.", "English"), ("bad\x00bytes", "binary")],
)
def test_bad_messages_are_refused_and_nothing_is_written(services: Services, message: str, fragment: str) -> None:
    tutors = _tutors(services)
    info = tutors.start()
    tutors.turn(info.id, "I like music.", now=T0)
    with pytest.raises(UserInputError, match=fragment):
        tutors.turn(info.id, message)
    assert len(tutors.history(info.id)) == 2 and services.sessions.get(info.id).turns == 1


def test_unknown_session_is_a_clear_error(services: Services) -> None:
    with pytest.raises(UserInputError, match="No session"):
        _tutors(services).turn("nosuchsession", "Hello there.")


def test_a_named_session_is_started_then_continued(services: Services) -> None:
    tutors = _tutors(services)
    info, created = tutors.open("ana-b1", level="B1")
    assert created and info.id == "ana-b1" and info.level == "B1"
    tutors.turn("ana-b1", "I like my new job.", now=T0)
    again, created = tutors.open("ana-b1")
    assert not created and again.id == "ana-b1" and tutors.learner("ana-b1").turns == 1  # type: ignore[union-attr]
    services.sessions.create("exercises", session_id="set-for-ana")
    with pytest.raises(UserInputError, match="is a exercises session"):
        tutors.open("set-for-ana")
    with pytest.raises(UserInputError, match="not a session id"):
        tutors.open("a b")


# --- the exercise flow, over a scripted item graph ----------------------------------------------------------


class _ScriptedItemGraph:
    """Stands in for the compiled item graph: every request gets the same error-correction item."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def invoke(self, state: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        request = state["request"]
        self.requests.append(request)
        item = {"type": "error_correction", "level": request.level.value, "topic": request.topic,
                "instructions": "One word in this sentence is wrong. Find it and correct it.",
                "stem": "She have a cat.", "error": "have", "correction": "has", "error_type": "agreement",
                "answer": "She has a cat."}  # fmt: skip
        result = ItemResult(run_id=request.run_id, status="accepted", type=request.type, level=request.level,
                            topic=request.topic, item=item)  # fmt: skip
        return {"result": result}


def _graph(ctx: AgentContext, **kwargs: Any) -> Any:
    from langgraph.checkpoint.memory import InMemorySaver

    from forge.sessions.serde import allowed_types, strict_serializer
    from graphs.turns import Turn

    saver = InMemorySaver(serde=strict_serializer()).with_allowlist(allowed_types([TutorState, Turn]))
    return build_tutor_graph(ctx, saver, **kwargs)


def test_recurring_errors_bring_an_exercise_and_the_answer_is_graded(services: Services) -> None:
    items = _ScriptedItemGraph()
    graph = _graph(services.agent_context, item_graph=lambda: items, policy=TutorPolicy())
    turns = ["My brother like football.", "I go to school every day.", "She have a big dog."]
    results = [run_tutor_turn(graph, "ex-1", m, now=T0 + timedelta(minutes=i)) for i, m in enumerate(turns)]
    assert [r.exercise is None for r in results] == [True, True, False]
    offered = results[-1].exercise
    assert offered is not None and offered["type"] == "error_correction" and "She have a cat." in offered["text"]
    assert "subject-verb agreement" in offered["reason"]
    assert items.requests[0].level == Level.A2 and items.requests[0].session_id == "ex-1"
    graded = run_tutor_turn(graph, "ex-1", "has", now=T0 + timedelta(minutes=4))
    assert graded.graded is not None and graded.graded.correct and graded.reply.startswith('Yes, "has" is right!')
    assert graded.corrections == [] and graded.learner["exercises"][-1]["status"] == "correct"
    chat = run_tutor_turn(graph, "ex-1", "I like my dog very much.", now=T0 + timedelta(minutes=5))
    assert chat.graded is None and chat.exercise is None  # cooldown
    assert any(d.node == "offer" and "turn(s) ago" in d.reason for d in chat.decisions)


def test_an_ignored_exercise_is_dropped_and_the_chat_goes_on(services: Services) -> None:
    items = _ScriptedItemGraph()
    graph = _graph(services.agent_context, item_graph=lambda: items, policy=TutorPolicy(exercise_first_turn=1,
                                                                                          recurring_min=1))
    first = run_tutor_turn(graph, "ex-2", "He like tennis.", now=T0)
    assert first.exercise is not None
    later = T0 + timedelta(minutes=1)
    second = run_tutor_turn(graph, "ex-2", "I played tennis with my father last weekend.", now=later)
    assert second.graded is None and second.learner["exercises"][-1]["status"] == "skipped"
    assert second.decisions[0].choice == "detect" and "dropped" in second.decisions[0].reason


def test_turns_are_routed_by_intent_and_questions_are_answered(services: Services) -> None:
    items = _ScriptedItemGraph()
    graph = _graph(services.agent_context, item_graph=lambda: items, policy=TutorPolicy())
    said = ["What does cheap mean?", "When do I use the present perfect?", "yes please", "has",
            "Can you give me an exercise about articles?", "What do you think about football? I love it."]
    results = [run_tutor_turn(graph, "intents", m, now=T0 + timedelta(minutes=i)) for i, m in enumerate(said)]
    assert [r.intent for r in results] == ["word_question", "grammar_question", "exercise_request",
                                           "exercise_answer", "exercise_request", "opinion_question"]
    word, grammar, accepted, graded, requested, opinion = results
    assert '"cheap" (adjective, level A2) means: low in price.' in word.reply and word.answer is not None
    assert [(d.node, d.choice) for d in word.decisions][:3] == [("intake", "detect"), ("intent", "answer"),
                                                                 ("answer", "word_question")]
    assert "have or has + the past participle" in grammar.reply and grammar.answer.point == "present-perfect"  # type: ignore[union-attr]
    # yes to the offered exercise: an exercise in this turn (the stand-in item is not a tense item: said so)
    assert accepted.exercise is not None and "could not make one exactly on the present perfect" in accepted.reply
    assert [r.type for r in items.requests[:2]] == ["error_correction"] * 2  # asked twice for a tense item
    assert items.requests[0].topic == "daily life"  # no chat yet: questions give no topic
    assert graded.graded is not None and graded.graded.correct
    assert requested.exercise is not None and "exactly on articles" in requested.reply  # the stand-in has no a/the gap
    assert items.requests[-1].type == "open_gap"  # requested even within the cooldown
    assert "What do you think about football" not in opinion.reply and opinion.reply.endswith("?")


# --- degradation --------------------------------------------------------------------------------------------


def _broken_model() -> ScriptedModel:
    """A local model that times out on every call (for the degradation path only)."""
    return ScriptedModel(["TIMEOUT"], "broken", scores=["TIMEOUT"])


def _off_topic_model() -> ScriptedModel:
    """A local model that writes fluent but unrelated questions (its other calls time out)."""
    return ScriptedModel(["TIMEOUT"], "off_topic", completions=[" What is your favourite colour?"], scores=["TIMEOUT"])


def test_a_failing_local_model_degrades_to_rules_and_the_fallback_question(services: Services) -> None:
    ctx = dataclasses.replace(services.agent_context, local=_broken_model())
    graph = _graph(ctx, item_graph=lambda: None, policy=TutorPolicy(exercises=False))
    result = run_tutor_turn(graph, "broken-1", "i have a apple and my sister like bananas.", now=T0)
    assert {(c.text, c.suggestion) for c in result.corrections} == {("i", "I"), ("a", "an")}
    assert result.reply.endswith("about the apple?")
    reasons = " ".join(d.reason for d in result.decisions)
    assert "scorer failed" in reasons and "no escalation target is reachable" in reasons


def test_off_topic_drafts_are_rewritten_then_replaced(services: Services) -> None:
    ctx = dataclasses.replace(services.agent_context, local=_off_topic_model())
    graph = _graph(ctx, item_graph=lambda: None, policy=TutorPolicy(exercises=False))
    result = run_tutor_turn(graph, "off-1", "My grandmother lives in a small village.", now=T0)
    checks = [d for d in result.decisions if d.node == "check"]
    assert [d.choice for d in checks] == ["write", "offer"]
    assert "not about the learner's message" in checks[0].reason
    assert result.reply == "What do you like doing with your grandmother?"  # the fallback asks about their person


# --- escalation to the Ollama chain (the test server over the real GGUF) ----------------------------------


def _escalating_graph(tmp_path: Path, cache_dir: Path, url: str, smollm: LlamaCppModel) -> Any:
    """A graph whose local model writes off-topic questions, with the Ollama chain at `url`."""
    svc = make_services(tmp_path / "esc", cache_dir, ollama_host=url, escalation_chain=["ollama:qwen2.5:7b-instruct"],
                        ollama_timeout_s=5.0)
    svc.models._models[svc.settings.local_model] = smollm  # type: ignore[attr-defined]
    ctx = dataclasses.replace(svc.agent_context, local=_off_topic_model())
    return _graph(ctx, item_graph=lambda: None, policy=TutorPolicy(exercises=False, escalation_timeout_s=5.0))


def test_failing_local_drafts_escalate_to_the_chain(
    ollama_api: OllamaTestServer, tmp_path: Path, cache_dir: Path, smollm: LlamaCppModel
) -> None:
    graph = _escalating_graph(tmp_path, cache_dir, ollama_api.url, smollm)
    result = run_tutor_turn(graph, "esc-1", "My grandmother lives in a small village.", now=T0)
    checks = [d for d in result.decisions if d.node == "check"]
    assert [d.choice for d in checks][:2] == ["write", "escalate"] and checks[-1].choice == "offer"
    assert ollama_api.chat_requests(), "the escalation target was never asked"
    assert result.reply.endswith("?")


def test_a_hanging_escalation_target_degrades_within_its_budget(
    ollama_api: OllamaTestServer, tmp_path: Path, cache_dir: Path, smollm: LlamaCppModel
) -> None:
    ollama_api.inject("delay", delay_s=30)
    graph = _escalating_graph(tmp_path, cache_dir, ollama_api.url, smollm)
    result = run_tutor_turn(graph, "esc-2", "My grandmother lives in a small village.", now=T0)
    assert result.reply == "What do you like doing with your grandmother?"  # the fallback asks about their person
    assert "using the fallback question" in [d for d in result.decisions if d.node == "check"][-1].reason


# --- the reply checks ---------------------------------------------------------------------------------------


def test_reply_checks_simplify_keep_the_learners_words_and_refuse_off_topic(services: Services) -> None:
    from agents.tutor.reply import judge

    ctx, policy = services.agent_context, TutorPolicy()
    message = "I bought a new car at the market yesterday."
    simplified = judge(ctx, "Did you purchase it at the market?", message, Level.A1, policy)
    assert simplified.ok and simplified.text == "Did you buy it at the market?", simplified
    assert simplified.replaced == {"purchase": "buy"}
    too_hard = judge(ctx, "Is the vehicle fast?", message, Level.A1, policy)
    assert not too_hard.ok and too_hard.above == ["vehicle"]
    assert not judge(ctx, "Was the journey enormous?", message, Level.A1, policy).ok
    assert "tutor" in judge(ctx, "Do I have a car?", message, Level.A1, policy).problems[0]
    assert "not a question" in judge(ctx, "Nice car.", message, Level.A1, policy).problems[0]
