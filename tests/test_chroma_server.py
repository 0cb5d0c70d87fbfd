"""Retrieval on a real Chroma server (`chroma run`): same hits as the embedded index, degrading when it is gone.

The server is chromadb's own CLI on a free loopback port with a temporary data directory; it is stopped and
restarted on the same port and directory, and the index in this process reconnects (no process restart).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from knowledge.retrieval import LEXICON, FallbackIndex, RetrievalIndex, ServerUnreachable
from tests.test_retrieval import lexicon

QUERIES = [
    ("weather with thunder", "A2", "weather"),
    ("something to eat in the morning", "B1", None),
    ("a plan for travelling", None, "travel"),
    ("teaching methods", "C2", "school"),
]


class ChromaServer:
    """`chroma run` on a fixed loopback port and data directory, which a test can stop, pause and start again."""

    def __init__(self, data: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.data = data
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start the server and wait for its heartbeat; the seconds it took."""
        chroma = Path(sys.executable).with_name("chroma")
        command = [str(chroma), "run", "--path", str(self.data), "--host", "127.0.0.1", "--port", str(self.port)]
        begin = time.perf_counter()
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(240):
            if self.process.poll() is not None:
                pytest.fail(f"chroma run exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return time.perf_counter() - begin
            except httpx.HTTPError:
                time.sleep(0.25)
        pytest.fail("chroma run did not answer within 60 s")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then wait)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-data")
    print(f"chroma run started in {server.start():.2f} s")
    try:
        yield server
    finally:
        server.stop()


def _ids(index: RetrievalIndex, text: str, level: str | None, topic: str | None) -> list[str]:
    return [h.id for h in index.query(LEXICON, text, n=4, max_level=level, topic=topic)]


def test_server_gives_the_embedded_hits_degrades_and_comes_back(
    chroma: ChromaServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedded = RetrievalIndex(path=tmp_path / "index")
    embedded.sync(LEXICON, lexicon())
    reasons: list[str] = []
    index = FallbackIndex(chroma.url, fallback=tmp_path / "index", on_fallback=reasons.append, retry_s=0)
    assert index.sync(LEXICON, lexicon()).added == len(lexicon())
    expected = {q: _ids(embedded, *q) for q in QUERIES}
    assert {q: _ids(index, *q) for q in QUERIES} == expected and not reasons

    chroma.stop()
    caplog.set_level(logging.WARNING, logger="knowledge.retrieval")
    begin = time.perf_counter()
    assert _ids(index, *QUERIES[0]) == expected[QUERIES[0]]
    print(f"first read with the server gone: {time.perf_counter() - begin:.2f} s")
    assert index.degraded and reasons
    assert f"Chroma server at {chroma.url} unreachable" in reasons[0] and "using the embedded index" in reasons[0]
    assert any("using the embedded index" in r.getMessage() for r in caplog.records)
    assert {q: _ids(index, *q) for q in QUERIES} == expected
    with pytest.raises(ServerUnreachable):  # writes never fall back
        index.sync(LEXICON, lexicon()[:-1])

    chroma.start()
    served_before = len(reasons)
    assert {q: _ids(index, *q) for q in QUERIES} == expected
    assert not index.degraded and len(reasons) == served_before


def test_a_server_down_at_start_without_an_embedded_index_fails_in_one_sentence(
    chroma: ChromaServer, tmp_path: Path
) -> None:
    chroma.stop()
    begin = time.perf_counter()
    index = FallbackIndex(chroma.url, fallback=tmp_path / "no-index")
    with pytest.raises(ServerUnreachable) as caught:
        index.query(LEXICON, "rain", n=3)
    print(f"server down at start, no embedded index: failed in {time.perf_counter() - begin:.2f} s")
    message = str(caught.value)
    assert chroma.url in message and "chroma run" in message and "\n" not in message
    chroma.start()
    index.sync(LEXICON, lexicon())  # the same object reaches the server once it is up
    assert not index.degraded and index.count(LEXICON) == len(lexicon())


def test_a_hung_server_costs_one_read_timeout_then_reads_degrade(chroma: ChromaServer, tmp_path: Path) -> None:
    RetrievalIndex(path=tmp_path / "index").sync(LEXICON, lexicon())
    index = FallbackIndex(chroma.url, fallback=tmp_path / "index", retry_s=60)
    index.sync(LEXICON, lexicon())
    assert chroma.process is not None
    os.kill(chroma.process.pid, signal.SIGSTOP)  # accepts connections, never answers
    try:
        begin = time.perf_counter()
        assert _ids(index, *QUERIES[0])
        first = time.perf_counter() - begin
        begin = time.perf_counter()
        assert _ids(index, *QUERIES[1])
        print(f"hung server: first read {first:.2f} s, next read {time.perf_counter() - begin:.3f} s")
        assert index.degraded
    finally:
        os.kill(chroma.process.pid, signal.SIGCONT)


def test_forge_index_on_a_server_reopens_in_another_process(chroma: ChromaServer, tmp_path: Path) -> None:
    # Collections created here with our registered embedding function reopen in a fresh process (the CLI).
    index = FallbackIndex(chroma.url, fallback=tmp_path / "index")
    index.sync(LEXICON, lexicon())
    env = {**os.environ, "FORGE_CHROMA_URL": chroma.url}
    forge = [str(Path(sys.executable).with_name("forge")), "index", "status", "--json"]
    done = subprocess.run(forge, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert f'"lexicon": {len(lexicon())}' in done.stdout and chroma.url in done.stdout
    chroma.stop()
    env["FORGE_CACHE_DIR"] = str(tmp_path / "empty-cache")  # no embedded copy to fall back to
    failed = subprocess.run(forge, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    assert chroma.url in failed.stderr and "chroma run" in failed.stderr


def test_the_application_records_the_fallback_on_the_trace(
    chroma: ChromaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agents import telemetry
    from forge.services import Services
    from forge.settings import load_settings

    monkeypatch.setenv("FORGE_CHROMA_URL", chroma.url)
    monkeypatch.setenv("FORGE_CACHE_DIR", str(tmp_path / "cache"))
    RetrievalIndex(path=tmp_path / "cache" / "index").sync(LEXICON, lexicon())
    index = Services(load_settings()[0]).retrieval_index
    index.sync(LEXICON, lexicon())
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.set_tracer_provider(provider)
    try:
        chroma.stop()
        with telemetry.retrieval_span(LEXICON, "rain"):
            assert index.query(LEXICON, "rain", n=2)
    finally:
        telemetry.set_tracer_provider(None)
    (span,) = exporter.get_finished_spans()
    (event,) = [e for e in span.events if e.name == telemetry.DECISION_EVENT]
    assert event.attributes is not None and event.attributes[telemetry.DECISION_NAME] == "retrieval_index"
    assert event.attributes[telemetry.DECISION_CHOICE] == "embedded"
    assert f"Chroma server at {chroma.url} unreachable" in str(event.attributes[telemetry.DECISION_REASON])
