"""Unit tier of the exercise builders: scripted text in, a structurally valid item of the type or BuildFailed out."""

from __future__ import annotations

import pytest

from agents.context import AgentContext
from agents.item.constraints import Constraints
from agents.item.exercises import BUILDERS, BuildFailed, Kit, build_item
from agents.item.exercises.base import CANDIDATES
from agents.item.exercises.options import MARGIN
from agents.item.exercises.reorder import chunks_of
from agents.models.llamacpp import LlamaCppModel
from knowledge.items import (
    EXERCISE_TYPES,
    ErrorCorrectionItem,
    GapFillItem,
    Item,
    MatchingItem,
    OpenGapItem,
    ReadingItem,
    ReorderItem,
    WordFormationItem,
    fill_gap,
    gap_count,
)
from knowledge.levels import Level
from knowledge.nlp import analyze
from knowledge.validators import validate
from tests.support.agent_helpers import MakeContext, build_context, constraints_for, word_choice

pytest_plugins = ["tests.support.agent_fixtures"]

LUNCH = "We had bread and cheese for lunch today."
#: What the model continues after "Sentence: She" (or He): the one sentence of a reading text it writes.
READING = "ate bread and cheese for lunch at a small cafe."
MEANINGS = {
    "bread": "a kind of food that you bake",
    "cheese": "a yellow food that comes from milk",
    "apple": "a red or green fruit that grows on trees",
    "milk": "a white drink that comes from cows",
}
#: (target words, scripted replies) per type that lead to an item.
GOOD: dict[str, tuple[list[str], list[str]]] = {
    "gap_fill": (["bread"], ["I like bread with butter and jam."]),
    "open_gap": (["bread"], [LUNCH]),
    "word_formation": (["dancer"], ["My sister is a very good dancer now."]),
    "reorder": (["bread"], [LUNCH]),
    "error_correction": (["bread"], ["Yesterday we bought some bread at the shop."]),
    "matching": (list(MEANINGS), [m for m in MEANINGS.values() for _ in range(2)]),
    "reading": (["bread"], [READING]),
}
GARBAGE = [["ok"], [""], ["TIMEOUT"], ["...."], ["_____ _____ _____."], ["Bread bread bread bread bread."], ["a" * 400]]


@pytest.fixture
def ctx(make_ctx: MakeContext) -> AgentContext:
    return make_ctx()


@pytest.fixture
def a2_food(ctx: AgentContext) -> Constraints:
    return constraints_for(ctx, Level.A2, "food")


def _with_targets(ctx: AgentContext, constraints: Constraints, words: list[str]) -> Constraints:
    return constraints.model_copy(update={"target_words": [word_choice(ctx, w, "noun") for w in words]})


def _build(ctx: AgentContext, constraints: Constraints, kind: str, replies: list[str], seed: int = 3) -> Item:
    build, _ = build_context(ctx, constraints, replies, seed=seed)
    return build_item(kind, build)  # type: ignore[arg-type]


def test_every_exercise_type_has_a_builder() -> None:
    assert set(BUILDERS) == set(EXERCISE_TYPES) == set(GOOD)


@pytest.mark.parametrize("kind", EXERCISE_TYPES)
def test_good_text_gives_a_structurally_valid_item_of_the_type(
    ctx: AgentContext, a2_food: Constraints, kind: str
) -> None:
    words, replies = GOOD[kind]
    item = _build(ctx, _with_targets(ctx, a2_food, words), kind, replies)
    assert item.type == kind and item.level == Level.A2 and item.topic == "food"
    assert item.instructions
    assert validate(item, ctx.checker.lexicon) == []


@pytest.mark.parametrize("kind", EXERCISE_TYPES)
def test_the_same_seed_builds_the_same_item(ctx: AgentContext, a2_food: Constraints, kind: str) -> None:
    words, replies = GOOD[kind]
    constraints = _with_targets(ctx, a2_food, words)
    assert _build(ctx, constraints, kind, replies, seed=9) == _build(ctx, constraints, kind, replies, seed=9)


@pytest.mark.parametrize("replies", GARBAGE, ids=lambda r: r[0][:12] or "empty")
@pytest.mark.parametrize("kind", EXERCISE_TYPES)
def test_unusable_text_gives_a_valid_item_or_build_failed_never_another_error(
    ctx: AgentContext, a2_food: Constraints, kind: str, replies: list[str]
) -> None:
    try:
        item = _build(ctx, a2_food, kind, replies)
    except BuildFailed as exc:
        assert exc.violations and all(v.kind == "structure" and v.blocking for v in exc.violations)
        assert str(exc) == "; ".join(v.message for v in exc.violations)
        return
    # Matching can do without the writer (WordNet glosses, then opposites); whatever is built must be valid.
    assert item.type == kind
    assert validate(item, ctx.checker.lexicon) == []


def test_gap_fill_key_is_among_four_options_and_fills_the_one_gap(ctx: AgentContext, a2_food: Constraints) -> None:
    sentence = "I like bread with butter and jam."
    item = _build(ctx, _with_targets(ctx, a2_food, ["bread"]), "gap_fill", [sentence])
    assert isinstance(item, GapFillItem)
    assert len(item.options) == 4 == len(set(item.options)) and item.options.count(item.answer) == 1
    assert gap_count(item.stem) == 1 and fill_gap(item.stem, item.answer) == sentence
    assert item.target_word == "bread" and item.pos == "noun"
    pool = {w.word.lower() for w in a2_food.pool("noun")}
    assert all(o.lower() in pool for o in item.options if o != item.answer), "distractors come from the graph pool"


def test_open_gap_gaps_one_grammar_word(ctx: AgentContext, a2_food: Constraints) -> None:
    item = _build(ctx, _with_targets(ctx, a2_food, ["bread"]), "open_gap", [LUNCH])
    assert isinstance(item, OpenGapItem)
    assert gap_count(item.stem) == 1 and fill_gap(item.stem, item.answer) == LUNCH
    assert item.focus == "preposition" and item.answer == "for", "A2 practises prepositions first"


def test_word_formation_gives_the_base_in_capitals(ctx: AgentContext, a2_food: Constraints) -> None:
    sentence = "My sister is a very good dancer now."
    build, _ = build_context(ctx, _with_targets(ctx, a2_food, ["dancer"]), [sentence], seed=3)
    build.human_first = False  # the writer's sentence, not a WordNet example of another word family
    item = build_item("word_formation", build)
    assert isinstance(item, WordFormationItem)
    assert item.base_word == "DANCE" and item.answer == "dancer"
    assert item.stem.endswith(" (DANCE)") and fill_gap(item.stem, item.answer) == f"{sentence} (DANCE)"


def test_reorder_shuffles_the_chunks_of_the_sentence(ctx: AgentContext, a2_food: Constraints) -> None:
    item = _build(ctx, _with_targets(ctx, a2_food, ["bread"]), "reorder", [LUNCH])
    assert isinstance(item, ReorderItem)
    original = chunks_of(LUNCH, analyze(LUNCH))
    assert item.answer == LUNCH
    assert sorted(c.lower() for c in item.chunks) == sorted(c.lower() for c in original)
    assert item.chunks != original and item.chunks[0].lower() != original[0].lower()
    assert item.stem == " / ".join(item.chunks)


def test_error_correction_plants_exactly_one_mistake(ctx: AgentContext, a2_food: Constraints) -> None:
    sentence = "Yesterday we bought some bread at the shop."
    item = _build(ctx, _with_targets(ctx, a2_food, ["bread"]), "error_correction", [sentence])
    assert isinstance(item, ErrorCorrectionItem)
    assert item.answer == sentence and item.stem != sentence
    assert item.stem.replace(item.error, item.correction, 1) == sentence
    assert (item.error, item.correction, item.error_type) == ("buy", "bought", "verb tense")


def test_matching_never_shows_meanings_the_model_wrote(ctx: AgentContext, a2_food: Constraints) -> None:
    words, replies = GOOD["matching"]
    build, model = build_context(ctx, _with_targets(ctx, a2_food, words), replies)
    item = build_item("matching", build)
    assert isinstance(item, MatchingItem) and model.calls == 0, (
        "meanings come from WordNet (tests/test_matching_items.py)"
    )
    assert not set(item.options) & set(MEANINGS.values())
    assert sorted(item.options) == sorted(item.answer.values()) and item.options != list(item.answer.values())


def test_matching_falls_back_to_opposites_when_meanings_are_above_the_level(
    ctx: AgentContext, a2_food: Constraints
) -> None:
    hard = "a substance of considerable nutritional significance"
    build, _ = build_context(ctx, _with_targets(ctx, a2_food, list(MEANINGS)), [hard])
    item = build_item("matching", build)
    assert isinstance(item, MatchingItem) and item.instructions == "Match each word with its opposite."
    assert len(item.answer) == 4 and "fallback" in build.notes
    levels = [ctx.checker.lexicon.level_of(w).level for pair in item.answer.items() for w in pair]
    assert all(lv is not None and lv <= Level.A2 for lv in levels)


def test_reading_questions_are_answerable_from_the_text(ctx: AgentContext, a2_food: Constraints) -> None:
    item = _build(ctx, _with_targets(ctx, a2_food, ["bread"]), "reading", [READING])
    assert isinstance(item, ReadingItem)
    assert "bread and cheese for lunch" in item.text and 3 <= len(item.questions) <= 5
    for q in item.questions:
        assert q.evidence in item.text and q.answer in q.options and q.slot is not None
        if q.kind == "multiple_choice":
            assert len(q.options) == 4 and q.question.endswith("?") and q.question not in item.text
        else:
            assert q.options == ["True", "False"] and q.question not in item.text


def test_rejected_candidates_are_recorded_with_their_reason(ctx: AgentContext, a2_food: Constraints) -> None:
    build, model = build_context(ctx, _with_targets(ctx, a2_food, ["bread"]), ["Bread is good."])
    with pytest.raises(BuildFailed, match="no sentence with three clearly wrong distractors"):
        build_item("gap_fill", build)
    written = [c for c in build.notes["candidates"] if c.get("source") is None]
    assert {c["rejected"] for c in written} == {"3 words (accepted 5-20)"}
    assert model.calls == 2 * CANDIDATES, "two rounds of candidates for the one target"


def test_gap_fill_without_targets_fails_at_once(ctx: AgentContext, a2_food: Constraints) -> None:
    build, model = build_context(ctx, a2_food.model_copy(update={"target_words": []}), ["ok"])
    with pytest.raises(BuildFailed, match="no target words"):
        build_item("gap_fill", build)
    assert model.calls == 0


@pytest.mark.xfail(strict=True, reason="bug: gap_fill does not check the target token's part of speech")
def test_gap_fill_does_not_build_an_item_whose_answer_reads_as_another_pos(
    ctx: AgentContext, a2_food: Constraints
) -> None:
    # The tagger reads 'bread' in 'We had bread and ...' as VBN; the builder keeps the sentence and inflects its
    # noun distractors as past participles ('jacketed', 'bargained'), and the item fails structural validation.
    try:
        item = _build(ctx, _with_targets(ctx, a2_food, ["bread"]), "gap_fill", [LUNCH])
    except BuildFailed:
        return
    assert validate(item, ctx.checker.lexicon) == []


def test_the_real_scorer_judges_options_and_gaps(
    ctx: AgentContext, a2_food: Constraints, local_smollm: LlamaCppModel
) -> None:
    """Model-backed: scripted sentences, SmolLM2 as the kit's scorer (distractors must be clearly less likely)."""
    constraints = _with_targets(ctx, a2_food, ["bread"])
    build, _ = build_context(ctx, constraints, ["I like bread with butter and jam."])
    build.kit = Kit(ctx.checker.lexicon, ctx.exemplars, local_smollm)
    try:
        item = build_item("gap_fill", build)
    except BuildFailed:
        item = None
    scored = build.notes["option_scores"][0]
    assert scored["answer"] == "bread" and isinstance(scored["answer_score"], float)
    assert scored["scores"] and all(isinstance(s, float) for s in scored["scores"].values())
    for form, reason in scored["dropped"].items():
        assert scored["scores"][form] > scored["answer_score"] - MARGIN and "too close" in reason
    if item is not None:
        assert isinstance(item, GapFillItem) and validate(item, ctx.checker.lexicon) == []
        assert not set(item.options) & set(scored["dropped"]), "a distractor nearly as likely as the key is dropped"
    assert build.kit.model_s > 0
