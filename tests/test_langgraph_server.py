"""The item and tutoring graphs under LangGraph's own server (`langgraph dev`), driven through langgraph_sdk.

`langgraph dev` (from the `server` extra, langgraph-cli[inmem]) loads langgraph.json in a subprocess on a free
loopback port with the real SmolLM2 model; every served run must be one trace in the trace store with our root
run span and the graph's node spans under it. Skipped when langgraph_api is not installed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("langgraph_api", reason="the `server` extra (langgraph-cli[inmem]) is not installed")
from langgraph_sdk import get_sync_client

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, built_cache: Path) -> Iterator[tuple[str, Path]]:
    """`langgraph dev` serving langgraph.json; yields its URL and the data dir holding its trace store."""
    data_dir = tmp_path_factory.mktemp("langgraph-data")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORGE_", "OLLAMA_"))}
    env |= {"FORGE_DATA_DIR": str(data_dir), "FORGE_CACHE_DIR": str(built_cache), "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
    if os.environ.get("PF_TEST_POSTGRES_URL"):  # the tutoring sessions then live in PostgreSQL (`bash .ci/postgres`)
        env["FORGE_POSTGRES_URL"] = os.environ["PF_TEST_POSTGRES_URL"]
    langgraph = Path(sys.executable).with_name("langgraph")
    command = [str(langgraph), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)]
    log = (data_dir / "langgraph.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        print(f"langgraph dev answered in {_wait_for(url, process, data_dir):.1f} s")
        yield url, data_dir
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_for(url: str, process: subprocess.Popen[bytes], data_dir: Path) -> float:
    """Wait for the server's /ok (the first start may build the retrieval index: minutes); seconds taken."""
    begin = time.perf_counter()
    while time.perf_counter() - begin < 900:
        if process.poll() is not None:
            pytest.fail(f"langgraph dev exited: {(data_dir / 'langgraph.log').read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                return time.perf_counter() - begin
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail("langgraph dev did not answer within 15 minutes")


def _forge_json(data_dir: Path, *args: str) -> Any:
    """What a `forge ... --json` command prints, run over the server's data dir (and its PostgreSQL, if any)."""
    forge = str(Path(sys.executable).with_name("forge"))
    env = {**os.environ, "FORGE_DATA_DIR": str(data_dir)}
    if os.environ.get("PF_TEST_POSTGRES_URL"):
        env["FORGE_POSTGRES_URL"] = os.environ["PF_TEST_POSTGRES_URL"]
    done = subprocess.run([forge, *args, "--json"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _trace(data_dir: Path, trace_id: str) -> dict[str, Any]:
    """A trace as `forge trace show --json` reads it from the server's trace store."""
    return dict(_forge_json(data_dir, "trace", "show", trace_id))


def _children(span: dict[str, Any]) -> list[str]:
    return [c["name"] for c in span.get("children", [])]


def test_both_graphs_are_served(server: tuple[str, Path]) -> None:
    client = get_sync_client(url=server[0])
    assert {a["graph_id"] for a in client.assistants.search()} >= {"item", "tutor"}


def test_an_item_through_the_server_is_one_trace_with_a_root(server: tuple[str, Path]) -> None:
    url, data_dir = server
    client = get_sync_client(url=url)
    thread = client.threads.create()
    request = {"level": "A2", "topic": "food", "type": "gap_fill"}
    output = client.runs.wait(thread["thread_id"], "item", input={"request": request})
    assert isinstance(output, dict)
    result = output["result"]
    assert result["status"] in {"accepted", "flagged"} and result["item"]["type"] == "gap_fill"
    trace = _trace(data_dir, result["trace_id"])
    (root,) = trace["roots"]
    assert root["name"] == "invoke_workflow item_graph" and trace["run"]["kind"] == "item"
    assert {"invoke_agent intake", "invoke_agent retrieve", "invoke_agent finalize"} <= set(_children(root))


def test_tutoring_turns_through_the_server_continue_the_thread_and_are_traced(server: tuple[str, Path]) -> None:
    url, data_dir = server
    client = get_sync_client(url=url)
    thread = client.threads.create()
    first = client.runs.wait(thread["thread_id"], "tutor", input={"learner_message": "Yesterday I goed to the park."})
    second = client.runs.wait(thread["thread_id"], "tutor", input={"learner_message": "What does park mean?"})
    assert isinstance(first, dict) and isinstance(second, dict)
    assert first["reply"].strip() and second["reply"].strip()
    assert (first["turn"], second["turn"]) == (1, 2) and first["session"] == second["session"]
    assert thread["thread_id"] in first["session"] and second["intent"] == "word_question"
    # The session is in the application's session store (PostgreSQL when configured): the CLI sees both turns.
    shown = _forge_json(data_dir, "sessions", "show", first["session"])
    assert len(shown["turns"]) >= 4, shown  # two learner turns and two replies
    for output in (first, second):
        trace = _trace(data_dir, output["trace_id"])
        (root,) = trace["roots"]
        assert root["name"] == "invoke_workflow tutor_graph" and trace["run"]["kind"] == "tutoring_turn"
        assert trace["run"]["conversation_id"] == output["session"]
        assert {"invoke_agent intake", "invoke_agent finalize"} <= set(_children(root))
