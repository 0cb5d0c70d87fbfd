"""The chromadb retrieval index: incremental sync, level/topic-filtered queries, reopening, a real Chroma server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from knowledge.errors import ResourceError, UserInputError
from knowledge.levels import Level
from knowledge.retrieval import (
    COLLECTIONS,
    CONSTRUCTIONS,
    DESCRIPTORS,
    EXEMPLARS,
    LEXICON,
    Doc,
    Hit,
    RetrievalIndex,
    build_where,
)

WORDS = [
    ("apple", "noun", "A1", ["food"], "a round fruit with red or green skin"),
    ("bread", "noun", "A1", ["food"], "a basic food made from flour and water and baked"),
    ("breakfast", "noun", "A1", ["food", "home"], "the first meal of the day"),
    ("dog", "noun", "A1", ["animals", "home"], "an animal kept as a pet"),
    ("school", "noun", "A1", ["school"], "a place where children learn"),
    ("teacher", "noun", "A1", ["school", "work"], "a person who teaches at a school"),
    ("rain", "noun", "A1", ["weather"], "water that falls from clouds"),
    ("train", "noun", "A1", ["travel"], "a vehicle that runs on rails"),
    ("delicious", "adjective", "A2", ["food"], "having a very pleasant taste"),
    ("recipe", "noun", "A2", ["food"], "instructions for cooking a dish"),
    ("journey", "noun", "A2", ["travel"], "travelling from one place to another"),
    ("storm", "noun", "A2", ["weather"], "very bad weather with strong wind and rain"),
    ("ingredient", "noun", "B1", ["food"], "one of the foods used to make a dish"),
    ("nutrition", "noun", "B1", ["food", "health"], "the food you need to stay healthy"),
    ("curriculum", "noun", "B1", ["school"], "the subjects studied at a school"),
    ("forecast", "noun", "B1", ["weather"], "a statement of what the weather will be"),
    ("cuisine", "noun", "B2", ["food", "travel"], "a style of cooking of a country"),
    ("appetite", "noun", "B2", ["food", "health"], "the feeling that you want to eat"),
    ("itinerary", "noun", "B2", ["travel"], "a plan of a journey"),
    ("drought", "noun", "B2", ["weather", "nature"], "a long period without rain"),
    ("gourmet", "noun", "C1", ["food"], "a person who knows a lot about good food"),
    ("culinary", "adjective", "C1", ["food"], "connected with cooking"),
    ("pedagogy", "noun", "C1", ["school"], "the study of teaching methods"),
    ("precipitation", "noun", "C1", ["weather", "science"], "rain or snow that falls"),
    ("gastronomy", "noun", "C2", ["food", "travel"], "the art of cooking and eating good food"),
    ("epicurean", "adjective", "C2", ["food"], "taking pleasure in food and drink"),
    ("pedantic", "adjective", "C2", ["school"], "too concerned with small details or rules"),
    ("monsoon", "noun", "C2", ["weather", "travel"], "the season of heavy rain in South Asia"),
]


def _rank(hit: Hit) -> int:
    value = hit.metadata["level_rank"]
    assert isinstance(value, int)
    return value


def lexicon() -> list[Doc]:
    return [
        Doc(f"{w}|{pos}", f"{w} ({pos}): {gloss}", {"headword": w, "pos": pos, "level": lvl, "topics": topics})
        for w, pos, lvl, topics, gloss in WORDS
    ]


@pytest.fixture
def index(tmp_path: Path) -> RetrievalIndex:
    built = RetrievalIndex(path=tmp_path / "index")
    built.sync(LEXICON, lexicon())
    return built


def test_sync_is_incremental_and_idempotent(tmp_path: Path) -> None:
    index = RetrievalIndex(path=tmp_path / "index")
    calls: list[tuple[int, int]] = []
    first = index.sync(LEXICON, lexicon(), progress=lambda done, total: calls.append((done, total)))
    assert (first.added, first.updated, first.deleted, first.skipped) == (len(WORDS), 0, 0, False)
    assert calls[0] == (0, len(WORDS)) and calls[-1] == (len(WORDS), len(WORDS))
    again = index.sync(LEXICON, lexicon())
    assert again.skipped and again.unchanged == len(WORDS)
    docs = lexicon()
    docs[0] = Doc(docs[0].id, docs[0].text + " that grows on trees", docs[0].metadata)
    docs[1] = Doc(docs[1].id, docs[1].text, {**docs[1].metadata, "level": "A2"})
    changed = index.sync(LEXICON, [*docs[:-1], Doc("kiwi|noun", "kiwi (noun): a small green fruit", {"level": "A2"})])
    assert (changed.added, changed.updated, changed.deleted, changed.unchanged) == (1, 2, 1, len(WORDS) - 3)
    assert index.count(LEXICON) == len(WORDS)
    bread = index.query(LEXICON, "bread", n=1)[0]
    assert bread.metadata["level"] == "A2" and bread.metadata["level_rank"] == Level.A2.rank


def test_query_finds_meaning_and_scores_descend(index: RetrievalIndex) -> None:
    hits = index.query(LEXICON, "something to eat in the morning", n=5)
    assert hits[0].id == "breakfast|noun"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(-1.0 <= h.score <= 1.0 for h in hits)
    assert "content_hash" not in hits[0].metadata and hits[0].metadata["topics"] == ["food", "home"]


def test_level_and_topic_filters(index: RetrievalIndex) -> None:
    for level in (Level.A1, Level.B1, Level.C2):
        hits = index.query(LEXICON, "cooking and food", n=50, max_level=level)
        assert hits and all(_rank(h) <= level.rank for h in hits)
        assert len(hits) == sum(Level(w[2]).rank <= level.rank for w in WORDS)
    weather = index.query(LEXICON, "rain", n=50, max_level="B1", topic="weather")
    assert {h.metadata["headword"] for h in weather} == {"rain", "storm", "forecast"}
    assert index.query(LEXICON, "rain", topic="no-such-topic") == []
    adjectives = index.query(LEXICON, "tasty", n=50, where={"pos": "adjective"}, max_level="A2")
    assert [h.metadata["headword"] for h in adjectives] == ["delicious"]


def test_planned_filters_agree_with_chromadb_filtering(index: RetrievalIndex) -> None:
    # A `where` clause makes chromadb do all the filtering: the planned fast path must give the same hits.
    for level in ("A1", "A2", "B2", "C2"):
        for topic in (None, "food", "travel"):
            planned = index.query(LEXICON, "a meal", n=4, max_level=level, topic=topic)
            clause = build_where(max_level=level, topic=topic)
            native = index.query(LEXICON, "a meal", n=4, where=clause)
            assert [h.id for h in planned] == [h.id for h in native], (level, topic)


def test_documents_without_level_are_excluded_by_a_level_filter(index: RetrievalIndex) -> None:
    index.sync(EXEMPLARS, [Doc("e1", "We had bread for breakfast."), Doc("e2", "Toast and tea.", {"level": "A1"})])
    assert [h.id for h in index.query(EXEMPLARS, "breakfast", max_level="C2")] == ["e2"]
    assert len(index.query(EXEMPLARS, "breakfast")) == 2


def test_reopening_and_is_built(tmp_path: Path, index: RetrievalIndex) -> None:
    assert not index.is_built()
    for name in (CONSTRUCTIONS, DESCRIPTORS, EXEMPLARS):
        index.sync(name, [])
    assert index.is_built() and index.count(CONSTRUCTIONS) == 0
    reopened = RetrievalIndex(path=tmp_path / "index")
    assert reopened.is_built() and reopened.fingerprint(LEXICON) == index.fingerprint(LEXICON)
    assert reopened.sync(LEXICON, lexicon()).skipped
    assert reopened.query(LEXICON, "a dog", n=1)[0].id == "dog|noun"


def test_a_sync_by_another_client_is_not_skipped_over(tmp_path: Path, index: RetrievalIndex) -> None:
    other = RetrievalIndex(path=tmp_path / "index")
    other.sync(LEXICON, lexicon()[:3])
    report = index.sync(LEXICON, lexicon())
    assert not report.skipped and report.added == len(WORDS) - 3 and index.count(LEXICON) == len(WORDS)


def test_a_sync_by_another_client_is_seen_by_queries(tmp_path: Path, index: RetrievalIndex) -> None:
    index.query(LEXICON, "food", max_level="A1")  # loads the filter cache
    other = RetrievalIndex(path=tmp_path / "index")
    other.sync(LEXICON, [*lexicon(), Doc("soup|noun", "soup (noun): a hot liquid food", {"level": "A1"})])
    assert "soup|noun" in {h.id for h in index.query(LEXICON, "hot soup", n=3, max_level="A1")}


@pytest.mark.parametrize(
    ("docs", "fragment"),
    [
        ([Doc("a", "x"), Doc("a", "y")], "unique"),
        ([Doc("", "x")], "non-empty"),
        ([Doc("a", "x", {"content_hash": "h"})], "reserved"),
        ([Doc("a", "x", {"level": "Z9"})], "CEFR level"),
        ([Doc("a", "x", {"topics": ["ok", 3]})], "strings"),  # type: ignore[list-item]
        ([Doc("a", "x", {"when": None})], "NoneType"),  # type: ignore[dict-item]
    ],
)
def test_bad_documents_are_user_errors(tmp_path: Path, docs: list[Doc], fragment: str) -> None:
    with pytest.raises(UserInputError, match=fragment):
        RetrievalIndex(path=tmp_path / "index").sync(LEXICON, docs)


def test_bad_arguments(tmp_path: Path, index: RetrievalIndex) -> None:
    with pytest.raises(UserInputError):
        index.query("words", "x")
    with pytest.raises(UserInputError):
        index.query(LEXICON, "  ")
    with pytest.raises(UserInputError):
        index.query(LEXICON, "x", n=0)
    with pytest.raises(UserInputError):
        index.query(LEXICON, "x", topic=" ")
    with pytest.raises(UserInputError):
        RetrievalIndex()
    with pytest.raises(UserInputError):
        RetrievalIndex(path=tmp_path, url="http://127.0.0.1:1")
    with pytest.raises(UserInputError):
        RetrievalIndex(url="ftp://example")


def test_unreachable_server_is_a_resource_error() -> None:
    with pytest.raises(ResourceError):
        RetrievalIndex(url=f"http://127.0.0.1:{_free_port()}")


def test_build_where() -> None:
    assert build_where() is None
    assert build_where(max_level="b2") == {"level_rank": {"$lte": 4}}
    assert build_where(max_level=Level.A1, topic="food", where={"pos": "noun"}) == {
        "$and": [{"level_rank": {"$lte": 1}}, {"topics": {"$contains": "food"}}, {"pos": "noun"}]
    }
    assert set(COLLECTIONS) == {"lexicon", "constructions", "descriptors", "exemplars"}


# --- a real Chroma server on loopback -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` (shipped with chromadb) on a free loopback port, with its own data directory."""
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    data = tmp_path_factory.mktemp("chroma-server")
    command = [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(120):
        if process.poll() is not None:
            pytest.fail(f"chroma run exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.25)
    pytest.fail("chroma run did not answer within 30 s")


def test_the_index_works_on_a_chroma_server(chroma_server: str) -> None:
    index = RetrievalIndex(url=chroma_server)
    assert index.sync(LEXICON, lexicon()).added == len(WORDS)
    assert index.sync(LEXICON, lexicon()).skipped
    hits = index.query(LEXICON, "weather with thunder", n=3, max_level="A2", topic="weather")
    assert hits[0].id == "storm|noun" and all(_rank(h) <= 2 for h in hits)
    again = RetrievalIndex(url=chroma_server)
    assert again.count(LEXICON) == len(WORDS) and again.fingerprint(LEXICON) == index.fingerprint(LEXICON)
