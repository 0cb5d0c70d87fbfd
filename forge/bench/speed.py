"""`forge bench speed`: latency per item, orchestration overhead, backend throughput, and tracing overhead.

- Latency: items of every type through the item graph, with the local model only.
- Orchestration overhead: everything but model calls, as each run's own timings report it.
- Backend throughput: generated tokens per second through our llama.cpp backend vs llama-cpp-python called directly
  on the same prompt with the same settings (so the wrapper's cost is visible).
- Tracing overhead: the same requests alternately with tracing on and off (off, on, on, off, ...: machine drift hits
  both alike), comparing total time.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from agents import telemetry
from agents.models.base import GenerationOptions
from agents.models.llamacpp import LlamaCppModel
from forge.services import Services
from graphs.item.graph import run_item
from graphs.item.state import ItemRequest

THROUGHPUT_PROMPT = "Word: apple (noun)\nSentence: I eat an apple every morning.\n\nWord: garden (noun)\nSentence:"


def warm_up(services: Services, batch: list[ItemRequest]) -> float:
    """Run one request of each type unmeasured (loads weights, caches, grammars); return the seconds it took."""
    start = time.perf_counter()
    seen: set[str] = set()
    for request in batch:
        if request.type not in seen:
            seen.add(request.type)
            run_item(services.item_graph, request.model_copy(update={"seed": request.seed + 777}))
    return time.perf_counter() - start


def item_latency(
    services: Services, batch: list[ItemRequest], progress: Callable[[], None] | None = None
) -> list[dict[str, Any]]:
    """Wall seconds, model seconds and overhead of each request (steady state: run `warm_up` first)."""
    rows = []
    for request in batch:
        start = time.perf_counter()
        result = run_item(services.item_graph, request)
        wall = time.perf_counter() - start
        rows.append(
            {
                "type": request.type,
                "level": request.level.value,
                "status": result.status,
                "seconds": wall,
                "model_s": result.timings.get("model_s", 0.0),
                "overhead_s": result.timings.get("overhead_s", 0.0),
            }
        )
        if progress:
            progress()
    return rows


def backend_throughput(model: LlamaCppModel, runs: int = 10, tokens: int = 64) -> dict[str, float]:
    """Generated tokens per second: through our backend, and llama-cpp-python directly, same prompt and settings."""
    options = GenerationOptions(max_tokens=tokens, temperature=0.7, top_p=0.95, seed=1)
    ours, direct = [], []
    llm = model._instance(None).llm
    for i in range(runs):
        result = model.complete(THROUGHPUT_PROMPT, options=options.model_copy(update={"seed": i}))
        ours.append(result.usage.output_tokens / max(1e-9, result.latency_s))
        start = time.perf_counter()
        out = llm.create_completion(THROUGHPUT_PROMPT, max_tokens=tokens, temperature=0.7, top_p=0.95, seed=i)
        direct.append(out["usage"]["completion_tokens"] / (time.perf_counter() - start))
    ours_median, direct_median = statistics.median(ours), statistics.median(direct)
    return {
        "ours_tokens_per_s": ours_median,
        "direct_tokens_per_s": direct_median,
        "difference": ours_median / direct_median - 1.0,
    }


def tracing_overhead(services: Services, batch: list[ItemRequest]) -> dict[str, float]:
    """Total seconds with tracing on and off over the same requests, alternating."""
    handle = services.tracing
    if handle is None:
        return {"on_s": 0.0, "off_s": 0.0, "overhead": 0.0, "note_tracing_disabled": 1.0}
    times = {"on": 0.0, "off": 0.0}
    for i, request in enumerate(batch):
        for mode in ("on", "off") if i % 2 == 0 else ("off", "on"):
            telemetry.set_tracer_provider(handle.provider if mode == "on" else None)
            start = time.perf_counter()
            run_item(services.item_graph, request.model_copy(update={"run_id": f"{request.run_id}-{mode}"}))
            times[mode] += time.perf_counter() - start
    telemetry.set_tracer_provider(handle.provider)
    return {"on_s": times["on"], "off_s": times["off"], "overhead": times["on"] / max(1e-9, times["off"]) - 1.0}


def medians(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Median wall seconds, model seconds and overhead seconds."""
    if not rows:
        return {"median_s": 0.0, "median_model_s": 0.0, "median_overhead_s": 0.0}
    return {
        "median_s": statistics.median(r["seconds"] for r in rows),
        "median_model_s": statistics.median(r["model_s"] for r in rows),
        "median_overhead_s": statistics.median(r["overhead_s"] for r in rows),
    }
