"""`forge trace list/show/diff/stats/purge` over real recorded runs, and their handling of bad input."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agents import telemetry
from forge.settings import Settings
from forge.telemetry import Tracing, setup_tracing, trace_db_path
from tests.support.cli_helpers import assert_clean_error, run_forge
from tests.support.trace_helpers import build_item_graph, invoke_cli, ollama_stand_in, run_item

Cli = tuple[pytest.MonkeyPatch, pytest.CaptureFixture[str]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.setenv("COLUMNS", "200")
    return monkeypatch, capsys


def forge(cli: Cli, *args: str) -> tuple[int, str, str]:
    return invoke_cli(cli[0], cli[1], *args)


def forge_json(cli: Cli, *args: str) -> object:
    code, out, err = forge(cli, *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def recorded(isolated_env: Path) -> Iterator[Tracing]:
    """Six runs with scripted models: two levels, two sessions, escalations, a failure, a tutoring turn."""
    handle = setup_tracing(Settings(data_dir=isolated_env), schedule_delay_ms=50)
    assert handle is not None
    ok = build_item_graph(ollama_stand_in("smollm2-135m", "A cat."), ollama_stand_in())
    bad = build_item_graph(ollama_stand_in("smollm2-135m", "A cat."), ollama_stand_in(retries=1), force_invalid=True)
    run_item(ok, run_id="ok-b1", session="s1")
    run_item(bad, run_id="esc-b1", session="s1")
    run_item(ok, run_id="ok-a2", session="s2", level="A2", word="dog")
    run_item(bad, run_id="esc-a2", session="s2", level="A2", word="dog")
    with telemetry.run_span("item", "item_graph", run_id="failed-b1", attrs={telemetry.LEVEL: "B1"}):
        telemetry.mark_run_failed("no valid item")
    with telemetry.run_span("tutoring_turn", "tutoring", run_id="turn-1", conversation_id="s1"):
        pass
    handle.flush()
    yield handle
    handle.shutdown()


def run_ids(cli: Cli, *args: str) -> set[str]:
    runs = forge_json(cli, "trace", "list", *args)
    assert isinstance(runs, list)
    return {r["run_id"] for r in runs}


def test_ask_is_traced_with_real_tokens(cli: Cli) -> None:
    answer = forge_json(cli, "ask", "Say hello.", "--max-tokens", "8", "--seed", "1")
    assert isinstance(answer, dict)
    (run,) = forge_json(cli, "trace", "list")  # type: ignore[misc]
    assert run["trace_id"] == answer["trace_id"] and run["kind"] == "ask"
    assert run["input_tokens"] == answer["usage"]["input_tokens"] > 0
    assert run["output_tokens"] == answer["usage"]["output_tokens"] > 0
    view = forge_json(cli, "trace", "show", answer["trace_id"][:8])
    assert isinstance(view, dict)
    (root,) = view["roots"]
    (chat,) = root["children"]
    assert root["name"] == "invoke_agent ask" and chat["name"] == "chat smollm2-135m"
    assert chat["model"] == "llamacpp:smollm2-135m" and chat["output_tokens"] == answer["usage"]["output_tokens"]
    assert chat["ttft_s"] > 0 and chat["duration_ms"] > 0
    code, out, _ = forge(cli, "trace", "show", answer["trace_id"], "--content")
    assert code == 0 and "chat smollm2-135m" in out and "llamacpp:smollm2-135m" in out and "Say hello." in out


def test_list_filters(cli: Cli, recorded: Tracing) -> None:
    assert len(run_ids(cli)) == 6
    assert run_ids(cli, "--level", "b1", "--kind", "item") == {"ok-b1", "esc-b1", "failed-b1"}
    assert run_ids(cli, "--session", "s2") == {"ok-a2", "esc-a2"}
    assert run_ids(cli, "--type", "gap_fill", "--escalated") == {"esc-b1", "esc-a2"}
    assert run_ids(cli, "--not-escalated", "--level", "A2") == {"ok-a2"}
    assert run_ids(cli, "--model", "ollama:qwen") == {"esc-b1", "esc-a2"}
    assert run_ids(cli, "--failed") == {"failed-b1"}
    assert run_ids(cli, "--kind", "tutoring_turn") == {"turn-1"}
    assert len(run_ids(cli, "--since", "1h", "--succeeded")) == 5
    assert run_ids(cli, "--until", "1h") == set()
    assert len(run_ids(cli, "--limit", "2")) == 2
    code, out, _ = forge(cli, "trace", "list", "--escalated")
    assert code == 0 and "escalated" in out and "ollama:qwen2.5:7b-instruct" in out


def test_show_escalated_item_says_why(cli: Cli, recorded: Tracing) -> None:
    code, out, _ = forge(cli, "trace", "show", "esc-b1")
    assert code == 0
    for fragment in ("invoke_workflow item_graph", "invoke_agent generate", "chat smollm2-135m",
                     "invoke_agent validate", "invalid", "route: escalate because validator found 1 level violation",
                     "word above B1", "invoke_agent escalate", "chat qwen2.5:7b-instruct", "execute_tool define_word",
                     "2 attempts", "forge.retry attempt=1, error.type=timeout"):
        assert fragment in out, fragment


def test_diff_aligns_nodes(cli: Cli, recorded: Tracing) -> None:
    result = forge_json(cli, "trace", "diff", "ok-b1", "esc-b1")
    assert isinstance(result, dict)
    steps = [(r["step"], r["a"] is not None, r["b"] is not None) for r in result["rows"]]
    assert ("invoke_agent generate > chat smollm2-135m", True, True) in steps
    assert ("invoke_agent escalate", False, True) in steps
    validate = next(r for r in result["rows"] if r["step"] == "invoke_agent validate")
    assert validate["a"]["valid"] is True and validate["b"]["valid"] is False and validate["delta_ms"] is not None
    code, out, _ = forge(cli, "trace", "diff", "ok-b1", "esc-b1")
    assert code == 0 and "absent" in out and "escalate" in out


def test_stats_json_and_csv(cli: Cli, recorded: Tracing) -> None:
    stats = forge_json(cli, "trace", "stats", "--kind", "item")
    assert isinstance(stats, dict)
    assert stats["runs"] == 5 and stats["escalated"] == 2 and stats["escalation_rate"] == pytest.approx(0.4)
    assert stats["escalation_reasons"] == {"validator found 1 level violation": 2}
    assert stats["validated"] == 4 and stats["validity_rate"] == pytest.approx(0.5) and stats["failed"] == 1
    nodes = {n["name"]: n for n in stats["nodes"]}
    assert nodes["invoke_agent generate"]["count"] == 4 and nodes["invoke_agent escalate"]["count"] == 2
    assert nodes["invoke_agent generate"]["p50_ms"] <= nodes["invoke_agent generate"]["p99_ms"]
    models = {m["model"]: m for m in stats["models"]}
    assert models["ollama:qwen2.5:7b-instruct"]["calls"] == 2 and models["ollama:smollm2-135m"]["output_tokens"] == 8
    code, out, _ = forge(cli, "trace", "stats", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert set(rows[0]) == {"section", "name", "metric", "value"}
    assert {"section": "runs", "name": "all", "metric": "runs", "value": "6"} in rows
    assert any(r["section"] == "latency" and r["name"] == "invoke_agent validate" and r["metric"] == "p95_ms"
               for r in rows)  # fmt: skip
    code, out, _ = forge(cli, "trace", "stats")
    assert code == 0 and "Latency by span" in out and "Tokens by model" in out and "Escalation reasons" in out


def test_purge_before_date(cli: Cli, recorded: Tracing) -> None:
    nothing = forge_json(cli, "trace", "purge", "--before", "2000-01-01")
    assert isinstance(nothing, dict) and nothing["runs"] == nothing["spans"] == 0
    future = (datetime.now() + timedelta(minutes=1)).isoformat(timespec="seconds")
    result = forge_json(cli, "trace", "purge", "--before", future)
    assert isinstance(result, dict) and result["runs"] == 6 and result["spans"] > 30
    assert run_ids(cli) == set()
    assert b"I has a cat." not in trace_db_path(recorded.path.parent).read_bytes()


def test_bad_input_is_one_sentence_and_exit_2(cli: Cli, recorded: Tracing) -> None:
    for args, fragment in [
        (("trace", "show", "0123456789abcdef"), "No trace '0123456789abcdef'"),
        (("trace", "show", "s1"), "No trace 's1'"),
        (("trace", "list", "--level", "Z9"), "Unknown CEFR level"),
        (("trace", "list", "--kind", "essay"), "Unknown run kind 'essay'"),
        (("trace", "list", "--since", "last tuesday"), "Cannot read 'last tuesday' as a time"),
        (("trace", "purge", "--before", "soon"), "Cannot read 'soon' as a time"),
        (("trace", "stats", "--json", "--csv"), "either --json or --csv"),
        (("trace", "diff", "ok-b1", "nope"), "No trace 'nope'"),
    ]:
        code, _, err = forge(cli, *args)
        assert code == 2 and fragment in " ".join(err.split()) and "Traceback" not in err, (args, err)


def test_corrupt_database_exit_2_and_runs_still_work(isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    trace_db_path(isolated_env).write_bytes(b"\x00garbage" * 512)
    proc = run_forge("trace", "list")
    assert_clean_error(proc, "trace database", "cannot be read", "move it away")
    proc = run_forge("trace", "show", "abcd")
    assert_clean_error(proc, "cannot be read")
    proc = run_forge("ask", "Say hi.", "--max-tokens", "4", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["usage"]["output_tokens"] > 0
    assert "Traces are not being saved" in proc.stderr


def test_unknown_trace_in_a_real_process(isolated_env: Path) -> None:
    assert_clean_error(run_forge("trace", "show", "feedface"), "No trace 'feedface'", "forge trace list")


def test_tracing_setting_off(cli: Cli, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGE_TRACING", "false")
    answer = forge_json(cli, "ask", "Hi.", "--max-tokens", "4")
    assert isinstance(answer, dict) and answer["trace_id"] is None
    assert not trace_db_path(isolated_env).exists()
    assert forge_json(cli, "trace", "list") == []
