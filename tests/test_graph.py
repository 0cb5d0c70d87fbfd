"""The knowledge graph built from the real vendored resources, its cache, and its queries."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import store
from knowledge.errors import UserInputError
from knowledge.graph import GRAPH_VERSION, KnowledgeGraph, build_from_resources
from knowledge.levels import Level


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kg-cache")


@pytest.fixture(scope="module")
def kg(cache_dir: Path) -> KnowledgeGraph:
    return KnowledgeGraph.load(cache_dir)


def test_stats_meet_the_targets(kg: KnowledgeGraph) -> None:
    stats = kg.stats()
    assert stats["vocabulary"]["entries_with_level"] >= 9900
    assert stats["vocabulary"]["gloss_coverage"] >= 0.90
    assert stats["grammar"]["items"] >= 450 and stats["grammar"]["with_detector"] >= 450
    assert stats["descriptors"] >= 48
    assert set(stats["nodes"]) == {"level", "word", "construction", "descriptor", "competence", "topic", "domain"}
    assert all(stats["by_level"][lv]["descriptor"] >= 8 for lv in ("A1", "A2", "B1", "B2", "C1", "C2"))


def test_every_node_has_provenance(kg: KnowledgeGraph) -> None:
    assert all(kg.node(key).source for key in list(kg._nodes))
    assert all(src for key in ("word:dog|noun", "grammar:62") for *_, src in kg.edges(key))


def test_levels_are_ordered(kg: KnowledgeGraph) -> None:
    assert [n.key for n in kg.neighbors("level:A1", "next_level")] == ["level:A2"]
    assert kg.node("word:house|noun").level == Level.A1


def test_word_edges(kg: KnowledgeGraph) -> None:
    dog = {n.key for n in kg.neighbors("word:dog|noun")}
    assert {"level:A1", "topic:noun.animal"} <= dog
    assert "word:buy|verb" in {n.key for n in kg.synonyms("purchase", max_level="A2")}
    assert all(n.level is not None and n.level.rank <= Level.B1.rank for n in kg.synonyms("huge", max_level="B1"))


def test_grammar_edges(kg: KnowledgeGraph) -> None:
    assert [n.key for n in kg.neighbors("grammar:62-1", "variant_of")] == ["grammar:62"]
    assert "grammar:67" in {n.key for n in kg.neighbors("grammar:216", "requires")}
    assert kg.constructions(level="A2") and all(n.level == Level.A2 for n in kg.constructions(level="A2"))


def test_descriptors(kg: KnowledgeGraph) -> None:
    b1 = kg.descriptors("B1")
    assert len(b1) >= 8
    assert kg.descriptors("C1", "interaction")
    with pytest.raises(UserInputError, match="competence"):
        kg.descriptors("C1", "charisma")


def test_words_by_level_topic_pos(kg: KnowledgeGraph) -> None:
    food = kg.words(max_level="A2", topic="food", pos="noun")
    labels = {n.label for n in food}
    assert {"apple", "bread"} <= labels
    assert all(n.level is not None and n.level.rank <= Level.A2.rank and n.attrs["pos"] == "noun" for n in food)
    assert all(n.level == Level.C1 for n in kg.words(level="C1")[:50])


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("food", "topic:noun.food"),
        ("animals", "topic:noun.animal"),
        ("jobs", "word:teacher|noun"),
        ("travel", "word:journey|noun"),
    ],
)
def test_topics_for_free_text(kg: KnowledgeGraph, topic: str, expected: str) -> None:
    assert expected in {h.key for h in kg.topics_for(topic)}


def test_bad_queries_are_user_errors(kg: KnowledgeGraph) -> None:
    with pytest.raises(UserInputError, match="No node"):
        kg.node("word:xqzv|noun")
    with pytest.raises(UserInputError, match="CEFR level"):
        kg.words(level="Z9")
    with pytest.raises(UserInputError, match="empty"):
        kg.resolve("")
    with pytest.raises(UserInputError, match="topic"):
        kg.topics_for("\x00\x01 123")
    assert kg.resolve("\x00\xff") == []
    assert kg.resolve("went") == ["word:go|noun", "word:go|verb"]


def test_networkx_view(kg: KnowledgeGraph) -> None:
    graph = kg.graph
    assert graph.number_of_nodes() == len(kg)
    assert graph.has_edge("grammar:62-1", "grammar:62", key="variant_of")


def test_cache_is_reused_and_rebuilt_on_change(cache_dir: Path, kg: KnowledgeGraph) -> None:
    path = cache_dir / store.CACHE_FILE
    assert path.is_file()
    built: list[int] = []

    def build() -> store.GraphDocument:
        built.append(1)
        return build_from_resources()

    store.load_or_build(cache_dir, build, GRAPH_VERSION)
    assert built == []  # same sources, same version: read from the cache
    document, stamp = store.load_or_build(cache_dir, build, GRAPH_VERSION + "-changed")
    assert built == [1] and stamp != kg.fingerprint and len(document.nodes) == len(kg)
    path.write_bytes(b"\x00 not json")
    again = KnowledgeGraph.load(cache_dir)  # corrupt cache: rebuilt, not a crash
    assert len(again) == len(kg)
