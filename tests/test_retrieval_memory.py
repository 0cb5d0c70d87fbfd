"""The in-memory copy of a collection for filtered queries: loaded lazily, once per process, and from a snapshot."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from knowledge.retrieval import LEXICON, RetrievalIndex, _FilterCache
from tests.test_retrieval import lexicon


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """An embedded index whose lexicon was synced by another client (so a new one must load its copy)."""
    RetrievalIndex(path=tmp_path / "index").sync(LEXICON, lexicon())
    return tmp_path / "index"


def _counting_loads(index: RetrievalIndex, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every load of an in-memory copy made by this index."""
    loads: list[str] = []
    original = index._load_filter_cache

    def counted(target: object, fingerprint: str) -> _FilterCache:
        loads.append(getattr(target, "name", "?"))
        return original(target, fingerprint)  # type: ignore[arg-type]

    monkeypatch.setattr(index, "_load_filter_cache", counted)
    return loads


def test_only_a_filtered_query_loads_the_copy(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = RetrievalIndex(path=path)
    loads = _counting_loads(index, monkeypatch)
    index.query(LEXICON, "fruit", n=3)
    assert loads == [] and not Path(f"{path}-memory").exists()
    index.query(LEXICON, "fruit", n=3, max_level="A2")
    assert loads == [LEXICON]


def test_parallel_first_queries_share_one_load(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = RetrievalIndex(path=path)
    loads = _counting_loads(index, monkeypatch)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def query() -> None:
        try:
            results.append([h.id for h in index.query(LEXICON, "the weather", n=4, max_level="B1")])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=query) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and loads == [LEXICON]
    assert len(results) == 6 and all(r == results[0] for r in results)


def test_the_next_process_reads_the_snapshot_and_ranks_alike(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = RetrievalIndex(path=path)
    expected = first.query(LEXICON, "something to eat", n=6, max_level="B1", topic="food")
    snapshots = list(Path(f"{path}-memory").glob(f"{LEXICON}-*.npz"))
    assert len(snapshots) == 1
    second = RetrievalIndex(path=path)

    def from_chromadb(*_: object) -> _FilterCache:
        raise AssertionError("the copy was read back from chromadb although a snapshot exists")

    monkeypatch.setattr(_FilterCache, "with_content", from_chromadb)
    assert second.query(LEXICON, "something to eat", n=6, max_level="B1", topic="food") == expected


def test_a_damaged_snapshot_is_replaced(path: Path) -> None:
    RetrievalIndex(path=path).query(LEXICON, "rain", n=2, max_level="A2")
    (snapshot,) = Path(f"{path}-memory").glob("*.npz")
    snapshot.write_bytes(b"not a snapshot")
    hits = RetrievalIndex(path=path).query(LEXICON, "rain", n=2, max_level="A2")
    assert [h.metadata["headword"] for h in hits] == ["rain", "storm"]
    fingerprint = RetrievalIndex(path=path).fingerprint(LEXICON)
    assert fingerprint is not None and _FilterCache.read(snapshot, fingerprint) is not None



def test_loading_after_a_sync_writes_the_snapshot_for_the_next_process(tmp_path: Path) -> None:
    index = RetrievalIndex(path=tmp_path / "index")
    index.sync(LEXICON, lexicon())
    assert not Path(f"{tmp_path / 'index'}-memory").exists()
    index.load_in_memory(LEXICON)
    (snapshot,) = Path(f"{tmp_path / 'index'}-memory").glob(f"{LEXICON}-*.npz")
    fingerprint = index.fingerprint(LEXICON)
    assert fingerprint is not None and fingerprint[:32] in snapshot.name
    loaded = _FilterCache.read(snapshot, fingerprint)
    assert loaded is not None and loaded.ids == index._filters[LEXICON].ids
