"""Turn latency of a scripted 20-turn tutoring session with the embedded model, node by node.

    python -m tests.support.bench_tutor [DATA_DIR]        (BENCH_THREADS=1 runs llama.cpp on one thread)

The official figure is `forge bench sessions` (same script, same `TutorSessions.turn`); this prints where the time
of each turn goes (detection, level, reply drafts, exercise generation) and the machine's load, so a slow figure
can be told apart from a busy machine. Ollama is pointed at a closed port: the embedded model alone.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from forge.bench.sessions import TUTOR_SCRIPT
from forge.sessions.tutor import TutorSessions
from tests.support.item_fixtures import make_services


def main() -> None:
    """Run the script once and print per-turn seconds, the spread and per-node medians."""
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="bench-tutor-"))
    threads = int(os.environ.get("BENCH_THREADS", "0")) or None
    services = make_services(data, data / "cache", n_threads=threads)
    tutors = TutorSessions(services)
    start = time.perf_counter()
    services.model().complete("Warm up.", options=None)
    print(f"model ready in {time.perf_counter() - start:.1f} s; load average {os.getloadavg()[0]:.2f}")
    session = tutors.start("bench: tutor latency").id
    seconds: list[float] = []
    nodes: dict[str, list[float]] = {}
    for number, text in enumerate(TUTOR_SCRIPT, start=1):
        began = time.perf_counter()
        result = tutors.turn(session, text)
        seconds.append(time.perf_counter() - began)
        for node, value in result.timings.items():
            nodes.setdefault(node, []).append(value)
        extra = f" + exercise ({result.exercise['type']})" if result.exercise else ""
        slow = ", ".join(f"{k} {v:.1f}" for k, v in result.timings.items() if v >= 0.5)
        print(f"{number:2d} {seconds[-1]:6.2f} s  {len(result.corrections)} corrections{extra}  {result.reply[:60]!r}"
              f"  [{slow}]")
    ordered = sorted(seconds)
    print(f"turns {len(seconds)}: median {statistics.median(ordered):.2f} s, p90 {ordered[int(0.9 * 19)]:.2f} s, "
          f"max {ordered[-1]:.2f} s; load average {os.getloadavg()[0]:.2f}")
    print("node medians: " + ", ".join(f"{k} {statistics.median(v):.3f} s" for k, v in nodes.items()))
    services.close()


if __name__ == "__main__":
    main()
