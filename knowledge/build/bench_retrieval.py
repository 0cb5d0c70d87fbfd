"""Benchmark the retrieval index on a realistic lexicon: ~12,000 CEFR-J/Octanove entries, level and topic filters.

Development time only (the product's speed checks belong in `forge bench`). Builds a lexicon collection from the
CEFR-J 1.5 and Octanove C1/C2 word lists (the CSVs are passed in; the product never reads them from here), times a
full sync, a no-op re-sync and a small incremental change, then times filtered queries end to end (embedding the
query text included) and prints median and p95 latencies.

Topics are synthetic (each entry gets one to three of 24 topic names, chosen by a hash of its id): real topics come
from the knowledge graph, and only the filter's selectivity matters for speed.

Usage: python -m knowledge.build.bench_retrieval /work/shared/data/cefrj [--db DIR] [--queries 200]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from knowledge.embeddings import embed, embed_one
from knowledge.levels import TARGET_LEVELS
from knowledge.retrieval import LEXICON, Doc, RetrievalIndex

TARGET_SIZE = 12_000
TOPICS = (
    "food", "family", "school", "work", "travel", "health", "sport", "weather", "home", "shopping", "nature",
    "animals", "clothes", "city", "technology", "money", "feelings", "time", "body", "music", "science", "politics",
    "media", "law",
)  # fmt: skip
QUERIES = (
    "something to eat for breakfast", "a place where children learn", "feeling very happy", "going on holiday",
    "a machine that computes", "bad weather with rain", "talking to friends", "money in a bank", "a doctor's visit",
    "playing football", "an old building", "a quick decision", "a word for sad", "the law of a country",
)  # fmt: skip
_CSVS = ("cefrj-vocabulary-profile-1.5.csv", "octanove-vocabulary-profile-c1c2-1.0.csv")


def lexicon_docs(cefrj_dir: Path, size: int = TARGET_SIZE) -> list[Doc]:
    """Lexicon documents from the CSVs (one per headword variant and POS), padded to `size` with second senses."""
    docs = {d.id: d for d in _csv_docs(cefrj_dir)}
    base = list(docs.values())
    for doc in base:
        if len(docs) >= size:
            break
        twin = Doc(f"{doc.id}#2", f"{doc.text}, another sense", doc.metadata)
        docs[twin.id] = twin
    return list(docs.values())[:size]


def _csv_docs(cefrj_dir: Path) -> Iterator[Doc]:
    for name in _CSVS:
        with (cefrj_dir / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                for word in filter(None, (w.strip() for w in row["headword"].split("/"))):
                    doc_id = f"{word}|{row['pos']}"
                    yield Doc(doc_id, f"{word} ({row['pos']})", {"level": row["CEFR"], "topics": _topics(doc_id)})


def _topics(doc_id: str) -> list[str]:
    digest = hashlib.sha256(doc_id.encode()).digest()
    return sorted({TOPICS[b % len(TOPICS)] for b in digest[: 1 + digest[31] % 3]})


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _timed_both(call: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads) of one call: CPU time is less distorted by a busy machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms (n={len(ordered)})"


def _wall_and_cpu(pairs: list[tuple[float, float]]) -> str:
    cpu = statistics.median(c for _, c in pairs) * 1000
    return f"wall {_percentiles([w for w, _ in pairs])}; CPU median {cpu:.1f} ms"


def bench_queries(index: RetrievalIndex, rounds: int) -> None:
    """Print latency of unfiltered, level-filtered and level+topic-filtered lexicon queries."""
    cases: dict[str, Callable[[int], object]] = {
        "no filter": lambda i: index.query(LEXICON, QUERIES[i % len(QUERIES)], n=10),
        "level <= B1": lambda i: index.query(LEXICON, QUERIES[i % len(QUERIES)], n=10, max_level="B1"),
        "level + topic": lambda i: index.query(
            LEXICON, QUERIES[i % len(QUERIES)], n=10, max_level=TARGET_LEVELS[i % 6], topic=TOPICS[i % len(TOPICS)]
        ),
    }
    for label, case in cases.items():
        case(0)  # warm-up
        samples = [_timed_both(partial(case, i)) for i in range(rounds)]
        print(f"query {label:14s}: {_wall_and_cpu(samples)}")


def bench_embeddings(docs: list[Doc]) -> None:
    """Print the latency of embedding one short query and the throughput of batch embedding."""
    embed_one("warm up")
    samples = [_timed_both(partial(embed_one, QUERIES[i % len(QUERIES)])) for i in range(100)]
    print(f"embed one query: {_wall_and_cpu(samples)}")
    texts = [d.text for d in docs[:2000]]
    elapsed = _timed(partial(embed, texts))
    print(f"embed {len(texts)} lexicon texts in batches: {len(texts) / elapsed:.0f} texts/s")
    sentences = [f"{q.capitalize()} is what the learner wrote about in a short paragraph today." for q in QUERIES] * 20
    elapsed = _timed(partial(embed, sentences))
    print(f"embed {len(sentences)} sentences (~16 words) in batches: {len(sentences) / elapsed:.0f} texts/s")


def main() -> None:
    """Build the benchmark collection and print sync and query timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cefrj_dir", type=Path)
    parser.add_argument("--db", type=Path, help="database directory (default: a temporary one; reused if given)")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    docs = lexicon_docs(args.cefrj_dir)
    with tempfile.TemporaryDirectory() as tmp:
        index = RetrievalIndex(path=args.db or Path(tmp) / "db")
        print(f"corpus: {len(docs)} lexicon entries; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        bench_embeddings(docs)
        start = time.perf_counter()
        report = index.sync(LEXICON, docs)
        print(f"full sync: {time.perf_counter() - start:.1f} s ({report})")
        print(f"no-op re-sync: {_timed(lambda: index.sync(LEXICON, docs)) * 1000:.0f} ms")
        edited = [*docs[:-10], *(Doc(d.id, d.text + " (edited)", d.metadata) for d in docs[-10:])]
        print(f"re-sync with 10 edited entries: {_timed(lambda: index.sync(LEXICON, edited)) * 1000:.0f} ms")
        bench_queries(index, args.queries)


if __name__ == "__main__":
    main()
