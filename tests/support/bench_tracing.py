"""Tracing overhead benchmark (not a test: prints figures). Run: `python -m tests.support.bench_tracing [RUNS]`.

Runs the toy item graph (5 nodes, a tool, a retrieval, one real SmolLM2-135M call; about 10 spans per run)
alternately with tracing on and off (off, on, on, off, …, so drift in machine load hits both alike), then the same
graph with a scripted model to isolate what tracing costs on the hot path per run.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from agents import telemetry
from agents.models.llamacpp import LlamaCppConfig, LlamaCppModel
from forge.settings import Settings
from forge.telemetry import setup_tracing
from forge.traces import TraceStore
from tests.support.trace_helpers import build_item_graph, ollama_stand_in, run_item


def paired(graph: Any, runs: int) -> dict[str, list[float]]:
    """Seconds per run with tracing on and off, alternating; the store is written in the background throughout."""
    handle = setup_tracing(Settings(data_dir=Path(tempfile.mkdtemp())))
    if handle is None:
        raise RuntimeError("tracing did not start")
    times: dict[str, list[float]] = {"off": [], "on": []}
    for i in range(2 * runs + 4):
        mode = "on" if i % 4 in (1, 2) else "off"
        telemetry.set_tracer_provider(handle.provider if mode == "on" else None)
        start = time.perf_counter()
        run_item(graph, run_id=f"bench-{i}")
        if i >= 4:  # the first four warm up
            times[mode].append(time.perf_counter() - start)
    telemetry.set_tracer_provider(handle.provider)
    handle.shutdown()
    stored = TraceStore(handle.path).runs()
    print(f"stored runs: {len(stored)}; one run: {stored[0].span_count} spans, "
          f"{stored[0].input_tokens}+{stored[0].output_tokens} tokens")  # fmt: skip
    return times


def report(label: str, times: dict[str, list[float]]) -> None:
    """Print totals, medians and the relative overhead."""
    off, on = times["off"], times["on"]
    print(f"{label}: {len(off)} runs each")
    for mode, values in (("off", off), ("on", on)):
        print(f"  tracing {mode:3}: total {sum(values):.3f} s, median {statistics.median(values) * 1000:.2f} ms/run")
    median_delta = statistics.median(on) - statistics.median(off)
    print(f"  overhead: {100 * (sum(on) - sum(off)) / sum(off):+.2f}% of total time, "
          f"{median_delta * 1000:+.2f} ms per run (median)")  # fmt: skip


def main() -> None:
    """Benchmark with the real model, then the hot-path cost alone."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    local = LlamaCppModel("smollm2-135m", LlamaCppConfig(n_ctx=2048, timeout_s=120))
    local.warm_up()
    report("real SmolLM2", paired(build_item_graph(local, ollama_stand_in(), checkpointer=InMemorySaver()), runs))
    scripted = build_item_graph(ollama_stand_in("smollm2-135m", "A cat."), ollama_stand_in())
    report("scripted model (tracing cost alone)", paired(scripted, runs * 4))


if __name__ == "__main__":
    main()
