"""`forge trace export`: JSONL for pandas (one row per span) and OTLP/HTTP to a collector (one tree per run)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from agents import telemetry
from agents.models.llamacpp import LlamaCppModel
from forge.settings import Settings
from forge.telemetry import Tracing, setup_tracing
from forge.trace_export import JSONL_FIELDS, otlp_endpoint
from forge.traces import TraceStore
from knowledge.errors import UserInputError
from tests.support.trace_helpers import build_item_graph, invoke_cli, ollama_stand_in, otlp_receiver, run_item

LEARNER = "Yesterday I goed to the park with my sister."


@pytest.fixture
def tracing(isolated_env: Path) -> Iterator[Tracing]:
    handle = setup_tracing(Settings(data_dir=isolated_env), schedule_delay_ms=50)
    assert handle is not None
    yield handle
    handle.shutdown()


def forge(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(monkeypatch, capsys, *args)


def record_runs(handle: Tracing, count: int) -> TraceStore:
    """`count` item runs with scripted models (every third one escalated)."""
    ok = build_item_graph(ollama_stand_in("smollm2-135m", "A cat."), ollama_stand_in())
    bad = build_item_graph(ollama_stand_in("smollm2-135m", "A cat."), ollama_stand_in(), force_invalid=True)
    for n in range(count):
        run_item(bad if n % 3 == 0 else ok, run_id=f"run-{n:03d}", session=f"s{n % 5}", learner_text=LEARNER)
    handle.flush()
    return TraceStore(handle.path)


def test_jsonl_of_100_runs_has_one_row_per_span(
    tracing: Tracing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = record_runs(tracing, 100)
    total = sum(r.span_count for r in store.runs())
    out = tmp_path / "spans.jsonl"
    code, stdout, err = forge(monkeypatch, capsys, "trace", "export", "--jsonl", str(out))
    assert code == 0, err
    assert f"Exported {total} spans of 100 runs" in stdout
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == total > 900
    assert all(list(row) == list(JSONL_FIELDS) for row in rows)
    assert len({(r["trace_id"], r["span_id"]) for r in rows}) == total
    roots = [r for r in rows if r["parent_span_id"] is None]
    assert len(roots) == 100 and len({r["trace_id"] for r in roots}) == 100
    assert all(r["run_id"] and r["run_kind"] == "item" for r in rows)
    chats = [r for r in rows if r["operation"] == "chat"]
    assert chats and all(isinstance(r["input_tokens"], int) and r["model"] for r in chats)
    for row in rows[:50]:
        start = datetime.fromisoformat(row["start_time"].replace("Z", "+00:00"))
        assert start.tzinfo is not None and row["duration_ms"] >= 0 and row["end_ns"] >= row["start_ns"]
        assert isinstance(row["attributes"], dict) and isinstance(row["events"], list)
    assert LEARNER in out.read_text(encoding="utf-8")  # kept locally unless --redact


def test_jsonl_loads_into_pandas(tracing: Tracing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    import pandas  # a test dependency: researchers load the export with it
    store = record_runs(tracing, 100)
    out = tmp_path / "spans.jsonl"
    assert forge(monkeypatch, capsys, "trace", "export", "--jsonl", str(out))[0] == 0
    frame = pandas.read_json(out, lines=True, dtype={"trace_id": str, "span_id": str, "parent_span_id": str})
    assert len(frame) == sum(r.span_count for r in store.runs())


def test_redacted_jsonl_to_stdout_hashes_learner_text(
    tracing: Tracing, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], isolated_env: Path
) -> None:
    record_runs(tracing, 2)
    code, stdout, err = forge(monkeypatch, capsys, "trace", "export", "--jsonl", "-", "--redact")
    assert code == 0 and "learner text redacted" in err
    assert LEARNER not in stdout and "goed" not in stdout
    rows = [json.loads(line) for line in stdout.splitlines()]
    roots = [r for r in rows if r["parent_span_id"] is None]
    hashes = {r["attributes"][telemetry.LEARNER_TEXT] for r in roots}
    assert len(hashes) == 1 and next(iter(hashes)).startswith("sha256:")  # same text, same hash
    assert (isolated_env / "trace-salt").is_file()
    generate = next(r for r in rows if r["name"] == "invoke_agent generate")
    assert next(iter(hashes)) in generate["attributes"][telemetry.NODE_INPUT]
    assert '"level": "B1"' in generate["attributes"][telemetry.NODE_INPUT]  # the rest of the state stays readable


def test_otlp_export_nests_one_tree_per_run(
    tracing: Tracing, smollm: LlamaCppModel, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_item(build_item_graph(smollm, ollama_stand_in(), force_invalid=True), run_id="real-1", learner_text=LEARNER)
    store = record_runs(tracing, 4)
    stored = {(r.trace_id, r.span_count) for r in store.runs()}
    with otlp_receiver() as (url, receiver):
        code, stdout, err = forge(monkeypatch, capsys, "trace", "export", "--otlp", url + "/", "--redact", "--json")
    assert code == 0, err
    assert json.loads(stdout)["spans"] == sum(n for _, n in stored) and set(receiver.paths) == {"/v1/traces"}
    received = receiver.spans()
    assert {res["service.name"] for res, _ in received} == {"pedagogical-forge"}
    by_trace: dict[str, list] = {}
    for _, span in received:
        by_trace.setdefault(span.trace_id.hex(), []).append(span)
    assert {(t, len(s)) for t, s in by_trace.items()} == stored
    for spans in by_trace.values():
        ids = {s.span_id for s in spans}
        assert sum(1 for s in spans if not s.parent_span_id) == 1
        assert all(s.parent_span_id in ids for s in spans if s.parent_span_id)
    real = next(spans for spans in by_trace.values() if any(s.name == "chat smollm2-135m" and
                _attr(s, telemetry.MODEL_ID) == "llamacpp:smollm2-135m" for s in spans))  # fmt: skip
    chat = next(s for s in real if s.name == "chat smollm2-135m")
    assert _attr(chat, telemetry.INPUT_TOKENS) > 10 and _attr(chat, telemetry.OUTPUT_TOKENS) > 0
    assert chat.kind == 3 and chat.end_time_unix_nano > chat.start_time_unix_nano  # SPAN_KIND_CLIENT
    root = next(s for s in real if not s.parent_span_id)
    assert _attr(root, telemetry.ESCALATED) is True and _attr(root, telemetry.LEARNER_TEXT).startswith("sha256:")
    assert any(e.name == telemetry.DECISION_EVENT for s in real for e in s.events)
    assert LEARNER not in str(received)


def _attr(span: object, key: str) -> object:
    """An attribute of a protobuf span as a Python value."""
    for kv in span.attributes:  # type: ignore[attr-defined]
        if kv.key == key:
            return getattr(kv.value, kv.value.WhichOneof("value"))
    raise KeyError(key)


def test_export_one_trace_only(tracing: Tracing, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    store = record_runs(tracing, 3)
    with otlp_receiver() as (url, receiver):
        code, _, err = forge(monkeypatch, capsys, "trace", "export", "--otlp", url, "--trace", "run-001",
                             "--header", "Authorization=Basic cGs6c2s=")
    assert code == 0, err
    assert receiver.headers[0]["Authorization"] == "Basic cGs6c2s="
    (run,) = [r for r in store.runs() if r.run_id == "run-001"]
    assert {s.trace_id.hex() for _, s in receiver.spans()} == {run.trace_id}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_or_refusing_collector_is_exit_2(
    tracing: Tracing, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    record_runs(tracing, 1)
    url = f"http://127.0.0.1:{free_port()}"
    code, _, err = forge(monkeypatch, capsys, "trace", "export", "--otlp", url)
    assert code == 2 and f"Cannot reach the OTLP collector at {url}/v1/traces" in " ".join(err.split())
    with otlp_receiver(status=500) as (url, _):
        code, _, err = forge(monkeypatch, capsys, "trace", "export", "--otlp", url)
    assert code == 2 and "refused the traces (HTTP 500" in " ".join(err.split())
    for args, fragment in [
        (("--otlp", "localhost:4318"), "is not a collector URL"),
        (("--otlp", url, "--header", "Authorization"), "is not Name=value"),
        ((), "exactly one destination"),
        (("--otlp", url, "--jsonl", "x.jsonl"), "exactly one destination"),
        (("--jsonl", "/nonexistent/dir/x.jsonl"), "Cannot write /nonexistent/dir/x.jsonl"),
        (("--jsonl", "-", "--trace", "nope"), "No trace 'nope'"),
    ]:
        code, _, err = forge(monkeypatch, capsys, "trace", "export", *args)
        assert code == 2 and fragment in " ".join(err.split()), (args, err)


def test_otlp_endpoint_follows_the_otel_environment_convention() -> None:
    assert otlp_endpoint("http://collector:4318") == "http://collector:4318/v1/traces"
    assert otlp_endpoint("https://cloud.example/otlp/") == "https://cloud.example/otlp/v1/traces"
    assert otlp_endpoint("http://127.0.0.1:6006/v1/traces") == "http://127.0.0.1:6006/v1/traces"
    with pytest.raises(UserInputError):
        otlp_endpoint("ftp://collector")
