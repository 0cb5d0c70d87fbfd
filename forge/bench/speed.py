"""`forge bench speed`: start-up, latency per item, orchestration overhead, backend throughput, tracing overhead.

- Start-up: median wall time of `forge --help` and `forge config show`, each run as a new process, beside
  `python -c "import typer"` with the same interpreter (the floor of any typer CLI); goal at most 5 times that.
- Cold first item: the first item of a fresh process (a subprocess that opens the index and builds the item graph
  first, outside the item's own figures); its orchestration overhead, from the run's `timings`, is the goal figure.
- Latency: items of every type through the item graph, with the local model only.
- Orchestration overhead: everything but model calls, as each run's own timings report it.
- Backend throughput: generated tokens per second through our llama.cpp backend vs llama-cpp-python called directly
  on the same prompt with the same settings (so the wrapper's cost is visible).
- Tracing overhead: the same requests alternately with tracing on and off (off, on, on, off, ...: machine drift hits
  both alike), comparing total time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents import telemetry
from agents.models.base import GenerationOptions
from agents.models.llamacpp import LlamaCppModel
from forge.services import Services
from graphs.item.graph import run_item
from graphs.item.state import ItemRequest

THROUGHPUT_PROMPT = "Word: apple (noun)\nSentence: I eat an apple every morning.\n\nWord: garden (noun)\nSentence:"
#: Goals: start-up at most this many times `import typer`; the cold first item's overhead below this many seconds.
STARTUP_GOAL_RATIO = 5.0
COLD_OVERHEAD_GOAL_S = 0.5
#: The commands timed for start-up, by how the report names them.
STARTUP_COMMANDS = {"forge --help": ["--help"], "forge config show": ["config", "show"]}


def startup(runs: int = 5) -> dict[str, Any]:
    """Median seconds of each start-up command in a new process, beside `import typer`, and their ratio to it."""
    baseline = _median_wall([sys.executable, "-c", "import typer"], runs)
    commands = {}
    for name, args in STARTUP_COMMANDS.items():
        seconds = _median_wall(_forge(args), runs)
        commands[name] = {"median_s": seconds, "ratio": seconds / max(1e-9, baseline)}
    return {"import_typer_s": baseline, "runs": runs, "commands": commands, "goal_ratio": STARTUP_GOAL_RATIO}


def _median_wall(command: list[str], runs: int) -> float:
    """Median wall seconds of a command over `runs` runs, after one unmeasured run (disk caches)."""
    seconds = []
    for run in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=120)
        if run:
            seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def _forge(args: list[str]) -> list[str]:
    """The `forge` console script installed beside this interpreter, else its entry point run by this interpreter."""
    script = Path(sys.executable).with_name("forge")
    if script.is_file():
        return [str(script), *args]
    return [sys.executable, "-c", "from forge.cli.app import main; main()", *args]


def cold_first_item(services: Services, request: ItemRequest, timeout_s: float = 600) -> dict[str, Any]:
    """The first item of a fresh process, run in a subprocess over the same data and cache dirs as `services`."""
    code = "import sys; from forge.bench.speed import _cold_item_child; _cold_item_child(sys.argv[1])"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, request.model_dump_json()], env=_env(services), capture_output=True,
        text=True, timeout=timeout_s,
    )  # fmt: skip
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return {"error": f"the cold-item subprocess failed (exit code {proc.returncode}): {tail[:300]}"}
    report: dict[str, Any] = json.loads(lines[-1])
    report |= {"process_s": time.perf_counter() - start, "goal_overhead_s": COLD_OVERHEAD_GOAL_S}
    return report


def _cold_item_child(request_json: str) -> None:
    """In the fresh process: open the services and build the item graph, run one item, print its figures as JSON."""
    from forge.settings import load_settings

    began = time.perf_counter()
    services = Services(load_settings({})[0])
    services.ensure_index()  # a quick check when the index is built (the parent built it)
    graph = services.item_graph
    ready = time.perf_counter()
    result = run_item(graph, ItemRequest.model_validate_json(request_json))
    done = time.perf_counter()
    services.close()
    timings = result.timings
    nodes = {k: v for k, v in timings.items() if k not in ("total_s", "model_s", "overhead_s")}
    print(json.dumps({
        "status": result.status,
        "type": result.type,
        "overhead_s": timings.get("overhead_s", 0.0),
        "model_s": timings.get("model_s", 0.0),
        "total_s": timings.get("total_s", 0.0),
        "item_wall_s": done - ready,
        "setup_s": ready - began,
        "nodes_s": nodes,
    }))  # fmt: skip


def _env(services: Services) -> dict[str, str]:
    """The subprocess's environment: this process's data and cache dirs (command-line overrides included)."""
    s = services.settings
    return dict(os.environ) | {"FORGE_DATA_DIR": str(s.data_dir), "FORGE_CACHE_DIR": str(s.resolved_cache_dir)}


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
