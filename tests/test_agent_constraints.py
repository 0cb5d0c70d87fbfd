"""Unit tier of the KG-constraint agent: targets at or below the level, graph ids kept, used words, seeds."""

from __future__ import annotations

import random

import pytest

from agents.item.constraints import CONTENT_POS, Constraints, WordChoice, build_constraints, choose_targets
from agents.item.retrieval import Retrieved, retrieve
from knowledge.levels import Level
from tests.support.agent_helpers import MakeContext, constraints_for, hit_value

pytest_plugins = ["tests.support.agent_fixtures"]

LEVELS = [Level.A1, Level.A2, Level.B1, Level.B2, Level.C1, Level.C2]


def _choice(word: str, level: Level, pos: str = "noun", score: float = 0.5) -> WordChoice:
    return WordChoice(word=word, pos=pos, level=level, node=f"word:{word}|{pos}", score=score)


@pytest.mark.parametrize("level", LEVELS)
def test_targets_are_at_or_below_the_level_and_keep_their_graph_nodes(make_ctx: MakeContext, level: Level) -> None:
    ctx = make_ctx()
    c = constraints_for(ctx, level, "food")
    assert c.level == level and c.max_word_level == level and c.topic == "food"
    assert 1 <= len(c.target_words) <= 6
    for w in c.target_words:
        assert w.level <= level
        assert w.pos in CONTENT_POS and " " not in w.word
        node = ctx.graph.node(w.node)
        assert node.label == w.word and node.level == w.level and node.attrs.get("pos") == w.pos


@pytest.mark.parametrize("level", LEVELS)
def test_distractor_pool_is_the_level_or_one_below_without_targets(make_ctx: MakeContext, level: Level) -> None:
    ctx = make_ctx()
    c = constraints_for(ctx, level, "food")
    low = Level.from_rank(max(1, level.rank - 1))
    targets = {w.node for w in c.target_words}
    assert 0 < len(c.distractor_pool) <= 300
    for w in c.distractor_pool:
        assert low <= w.level <= level and w.node not in targets and w.pos in CONTENT_POS
        assert w.node in ctx.graph


def test_targets_prefer_words_at_the_level_itself(make_ctx: MakeContext) -> None:
    c = constraints_for(make_ctx(), Level.A2, "food")
    assert c.target_words[0].level == Level.A2


@pytest.mark.parametrize("level", [Level.A1, Level.B1, Level.C1])
def test_forbidden_constructions_are_one_level_above(make_ctx: MakeContext, level: Level) -> None:
    ctx = make_ctx()
    c = constraints_for(ctx, level, "travel")
    above = Level.from_rank(level.rank + 1)
    assert c.forbidden_constructions and all(ref.level == above for ref in c.forbidden_constructions)
    assert all(ref.id in ctx.graph for ref in [*c.forbidden_constructions, *c.target_constructions])
    assert all(ref.level <= level for ref in c.target_constructions)


def test_c2_forbids_no_construction(make_ctx: MakeContext) -> None:
    assert constraints_for(make_ctx(), Level.C2, "travel").forbidden_constructions == []


def test_descriptors_and_topic_nodes_come_from_retrieval(make_ctx: MakeContext) -> None:
    ctx = make_ctx()
    found = retrieve(ctx, "food", Level.B1)
    c = build_constraints(ctx.graph, Level.B1, "food", found, random.Random(1))
    assert c.descriptors == [str(hit_value(d, "id")) for d in found.descriptors[:4]]
    assert c.topic_nodes == found.topic_nodes
    assert all(d.startswith("descriptor:B1") for d in c.descriptors)


def test_the_same_seed_gives_the_same_constraints(make_ctx: MakeContext) -> None:
    ctx = make_ctx()
    first = constraints_for(ctx, Level.B1, "animals", seed=11)
    again = constraints_for(ctx, Level.B1, "animals", seed=11)
    assert first == again
    others = [constraints_for(ctx, Level.B1, "animals", seed=s) for s in range(12, 18)]
    assert any(o.distractor_pool != first.distractor_pool for o in others), "different seeds shuffle the pool"


def test_used_words_are_passed_over_while_others_remain(make_ctx: MakeContext) -> None:
    ctx = make_ctx()
    first = constraints_for(ctx, Level.A2, "food", seed=4)
    used = [w.word.upper() for w in first.target_words]  # case does not matter
    second = constraints_for(ctx, Level.A2, "food", seed=4, used_words=used)
    assert len(second.target_words) == len(first.target_words)
    assert not {w.word for w in second.target_words} & {w.word for w in first.target_words}


def test_used_words_are_reused_when_too_few_others_remain(make_ctx: MakeContext) -> None:
    ctx = make_ctx()
    found = retrieve(ctx, "food", Level.A2)
    every = [str(hit_value(h, "word")) for h in found.lexicon]
    c = build_constraints(ctx.graph, Level.A2, "food", found, random.Random(4), used_words=every)
    assert len(c.target_words) >= 2, "with every candidate used, the agent falls back to used words"


def test_no_lexicon_hits_gives_no_targets_but_a_valid_object(make_ctx: MakeContext) -> None:
    ctx = make_ctx()
    c = build_constraints(ctx.graph, Level.A1, "zyxwv", Retrieved(), random.Random(0))
    assert c.target_words == [] and c.targets() == []
    assert c.distractor_pool and c.forbidden_constructions
    assert Constraints.model_validate(c.model_dump()) == c


def test_hits_without_a_level_are_dropped(make_ctx: MakeContext) -> None:
    ctx = make_ctx()
    found = Retrieved(
        lexicon=[
            {"id": "word:apple|noun", "word": "apple", "pos": "noun", "level": "A1", "score": 0.9, "via": "graph"},
            {"id": "word:foo|noun", "word": "foo", "pos": "noun", "level": None, "score": 0.9, "via": "graph"},
        ]
    )
    c = build_constraints(ctx.graph, Level.A2, "food", found, random.Random(0))
    assert [w.node for w in c.target_words] == ["word:apple|noun"]
    assert c.target_words[0].score == 0.9


def test_choose_targets_orders_by_band_then_relevance() -> None:
    candidates = [
        _choice("soup", Level.A1, score=0.9),
        _choice("recipe", Level.A2, score=0.1),
        _choice("menu", Level.A2, score=0.8),
        _choice("cuisine", Level.B2, score=1.0),  # above the level
        _choice("ice cream", Level.A2, score=1.0),  # not one word
        _choice("quickly", Level.A2, pos="preposition", score=1.0),  # not a content word's POS
    ]
    chosen = choose_targets(candidates, Level.A2, 10, random.Random(0))
    words = [w.word for w in chosen]
    assert words[:2] == ["menu", "recipe"], "words at the level come first, most relevant first"
    assert words[2] == "soup", "then the level below"
    assert "cuisine" not in words and "ice cream" not in words and "quickly" not in words
    assert choose_targets(candidates, Level.A2, 1, random.Random(0)) == chosen[:1]


def test_constraints_filters_by_part_of_speech(make_ctx: MakeContext) -> None:
    c = constraints_for(make_ctx(), Level.B1, "food")
    assert all(w.pos == "verb" for w in c.pool("verb"))
    assert c.targets(("noun",)) == [w for w in c.target_words if w.pos == "noun"]
    assert c.targets() == c.target_words
