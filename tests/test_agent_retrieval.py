"""Unit tier of the retrieval agent: level filtering, graph-only degradation, memoisation, a failing index."""

from __future__ import annotations

import pytest

from agents.item.retrieval import Retrieved, retrieve
from knowledge.errors import ResourceError
from knowledge.levels import Level
from knowledge.retrieval import Hit, RetrievalIndex
from tests.support.agent_helpers import MakeContext, hit_value

pytest_plugins = ["tests.support.agent_fixtures"]

LEVELS = [Level.A1, Level.A2, Level.B1, Level.B2, Level.C1]


class BrokenIndex(RetrievalIndex):
    """An index whose every query fails as an unreachable Chroma server does."""

    def __init__(self) -> None:
        self.queries = 0

    def query(self, collection: str, text: str, **kwargs: object) -> list[Hit]:  # type: ignore[override]
        self.queries += 1
        raise ResourceError("Cannot open the retrieval index at http://127.0.0.1:9: connection refused")


def _levels(found: Retrieved) -> list[Level]:
    return [Level(str(hit_value(h, "level"))) for h in found.lexicon]


@pytest.mark.parametrize("level", LEVELS)
def test_graph_only_retrieval_never_returns_a_word_above_the_level(make_ctx: MakeContext, level: Level) -> None:
    found = retrieve(make_ctx(), "food", level)
    assert found.lexicon, "the graph links words to 'food'"
    assert all(lv <= level for lv in _levels(found))
    assert all(hit_value(h, "via") == "graph" for h in found.lexicon)
    assert all(str(hit_value(c, "level")) == level.value for c in found.constructions)
    assert all(str(hit_value(d, "level")) == level.value for d in found.descriptors)


def test_without_an_index_the_graph_alone_is_used_and_the_result_says_so(make_ctx: MakeContext) -> None:
    ctx = make_ctx()
    found = retrieve(ctx, "food", Level.A2)
    assert any("no retrieval index configured" in n for n in found.notes)
    assert "topic:noun.food" in found.topic_nodes
    assert found.constructions and found.descriptors, "the graph fills in constructions and descriptors"
    ids = [hit_value(h, "id") for h in found.lexicon]
    assert len(ids) == len(set(ids))
    for hit in found.lexicon:
        node = ctx.graph.node(str(hit_value(hit, "id")))
        assert node.label == hit_value(hit, "word") and str(node.level) == hit_value(hit, "level")


def test_retrieval_is_remembered_per_topic_and_level(make_ctx: MakeContext) -> None:
    ctx = make_ctx()
    first = retrieve(ctx, "travel", Level.B1)
    again = retrieve(ctx, "travel", Level.B1)
    assert again.lexicon == first.lexicon
    assert "reused this process's retrieval for the topic" in again.notes
    assert "reused this process's retrieval for the topic" not in retrieve(ctx, "travel", Level.A2).notes
    assert not any("reused" in n for n in first.notes), "the memo must not alter the first result"


def test_a_failing_index_degrades_to_the_graph_and_is_not_remembered(make_ctx: MakeContext) -> None:
    index = BrokenIndex()
    ctx = make_ctx(index=index)
    found = retrieve(ctx, "food", Level.A2)
    assert any("retrieval index unavailable" in n and "127.0.0.1:9" in n for n in found.notes)
    assert found.lexicon and all(hit_value(h, "via") == "graph" for h in found.lexicon)
    assert all(lv <= Level.A2 for lv in _levels(found))
    retrieve(ctx, "food", Level.A2)
    assert index.queries == 2, "a degraded result is retried, not served from the memo"


def test_an_unknown_topic_gives_no_words_but_still_level_material(make_ctx: MakeContext) -> None:
    found = retrieve(make_ctx(), "zyxwv", Level.B1)
    assert found.lexicon == [] and found.topic_nodes == []
    assert found.constructions and found.descriptors


def test_the_index_adds_semantic_hits_filtered_by_level(make_ctx: MakeContext, built_index: RetrievalIndex) -> None:
    """The only test here over the real chromadb index (built once per session)."""
    found = retrieve(make_ctx(index=built_index), "cooking and meals", Level.A2)
    assert not any("unavailable" in n or "no retrieval index" in n for n in found.notes)
    via = {hit_value(h, "via") for h in found.lexicon}
    assert "index" in via
    assert all(lv <= Level.A2 for lv in _levels(found))
    assert all(
        Level(str(hit_value(h, "level"))) <= Level.A2
        for h in [*found.constructions, *found.exemplars]
        if hit_value(h, "level")
    )
    scores = [float(str(hit_value(h, "score"))) for h in found.lexicon if hit_value(h, "via") == "index"]
    assert scores == sorted(scores, reverse=True)
