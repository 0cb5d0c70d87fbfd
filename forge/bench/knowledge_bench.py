"""`forge bench knowledge`: how fast the knowledge layer answers; how well levels are estimated on labelled data.

- Graph load: the knowledge graph read back from its on-disk cache, as every command does on start.
- Retrieval: lexicon queries on the product's own index, filtered by level (at or below A1..C2) and by a real topic
  of the graph (WordNet lexicographer files), embedding of the query text included.
- Level estimation (only with a labelled file, since CEFR-SP is not shipped): the issue's three figures on
  tab-separated `sentence, label A, label B` lines (1 = A1 … 6 = C2), as in CEFR-SP.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from forge.services import Services
from knowledge.build.train_level_model import metrics
from knowledge.errors import UserInputError
from knowledge.graph import KnowledgeGraph
from knowledge.levels import TARGET_LEVELS
from knowledge.retrieval import LEXICON

#: (query text, topic filter) pairs: real topic nodes of the graph, with something a teacher might ask about.
TOPIC_QUERIES = (
    ("something to eat for breakfast", "topic:noun.food"), ("a pet at home", "topic:noun.animal"),
    ("flowers in the garden", "topic:noun.plant"), ("a pain in the arm", "topic:noun.body"),
    ("feeling happy or sad", "topic:noun.feeling"), ("going on a trip", "topic:verb.motion"),
    ("talking to friends", "topic:verb.communication"), ("a place in the city", "topic:noun.location"),
    ("a day of the week", "topic:noun.time"), ("a tool for the kitchen", "topic:noun.artifact"),
)  # fmt: skip


def graph_load(cache_dir: Path, repeats: int = 3) -> float:
    """Median seconds to load the knowledge graph from its cache (built first if missing)."""
    KnowledgeGraph.load(cache_dir)
    return statistics.median(_timed(lambda: KnowledgeGraph.load(cache_dir)) for _ in range(repeats))


def retrieval(services: Services, rounds: int = 3, tick: Callable[[], None] | None = None) -> dict[str, Any]:
    """Median and p95 milliseconds of level- and topic-filtered lexicon queries on the product index."""
    index = services.retrieval_index
    index.query(LEXICON, "warm up", n=5, max_level="B1", topic=TOPIC_QUERIES[0][1])
    times, empty = [], 0
    for _ in range(rounds):
        for level in TARGET_LEVELS:
            for text, topic in TOPIC_QUERIES:
                start = time.perf_counter()
                hits = index.query(LEXICON, text, n=10, max_level=level, topic=topic)
                times.append(1000 * (time.perf_counter() - start))
                empty += not hits
                if tick:
                    tick()
    ordered = sorted(times)
    return {
        "queries": len(times),
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "empty_results": empty,
        "entries": index.count(LEXICON),
    }


def query_count(rounds: int) -> int:
    """How many retrieval queries `retrieval` runs."""
    return rounds * len(TARGET_LEVELS) * len(TOPIC_QUERIES)


def level_estimation(services: Services, path: Path) -> dict[str, Any]:
    """The level estimator's figures on a labelled TSV (sentence, label A, label B; 1..6)."""
    texts, labels = _read_labelled(path)
    estimator = services.level_estimator
    estimator.estimate_sentence(texts[0])  # loads the lexicon, grammar detectors and weights: not timed
    start = time.perf_counter()
    # A sentence the estimator cannot judge counts as B1, the level a blind guess would give.
    ranks = [e.level.rank if e.level is not None else 3 for e in estimator.estimate_lines(texts)]
    per_sentence_ms = 1000 * (time.perf_counter() - start) / len(texts)
    figures = metrics(np.array(ranks), np.array(labels))
    return {"sentences": len(texts), **figures, "ms_per_sentence": round(per_sentence_ms, 2)}


def _read_labelled(path: Path) -> tuple[list[str], list[tuple[int, int]]]:
    """Sentences and label pairs from a CEFR-SP-style TSV; a malformed line is the user's error, with its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"Cannot read {path} ({exc}); give a UTF-8 TSV of sentence, label A, label B.") from exc
    texts, labels = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            a, b = int(parts[1]), int(parts[2])
            if not (1 <= a <= 6 and 1 <= b <= 6):
                raise ValueError
        except (IndexError, ValueError) as exc:
            raise UserInputError(
                f"Line {number} of {path} is not 'sentence<TAB>label<TAB>label' with labels 1-6 (1 = A1 … 6 = C2)."
            ) from exc
        texts.append(parts[0])
        labels.append((a, b))
    if not texts:
        raise UserInputError(f"{path} has no labelled sentences; give lines of sentence<TAB>label<TAB>label.")
    return texts, labels


def _timed(call: Callable[[], object]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start
