"""`forge tutor` as a user runs it: one turn with --json, resuming, the REPL over a pipe, Ctrl-C, and bad input.

Each run is a new process (model, knowledge and session store loaded from scratch), so the flow is tested in a
few long tests rather than many short ones.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess

from tests.support.cli_helpers import FORGE, assert_clean_error, run_forge

ENV = {"FORGE_OLLAMA_HOST": "http://127.0.0.1:9", "FORGE_OLLAMA_RETRIES": "0"}
#: The issue's keys, then the session id (so a script can continue a session the turn started).
KEYS = ["reply", "level_estimate", "corrections", "learner", "exercise", "trace_id", "session"]


def _user_turns(session_id: str) -> int:
    shown = run_forge("sessions", "show", session_id, "--json", env=ENV)
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.count('"role": "user"')


def test_a_session_from_the_command_line() -> None:
    first = run_forge("tutor", "--say", "Yesterday I go to the park with my freind.", "--json", env=ENV)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert list(out) == KEYS
    assert [c["suggestion"] for c in out["corrections"]] == ["went", "friend"]
    assert list(out["corrections"][0]) == ["span", "error_type", "suggestion", "explanation"]
    assert out["learner"]["turns"] == 1 and out["exercise"] is None and out["trace_id"]
    line = next(x for x in first.stderr.splitlines() if "Started tutoring session" in x)
    session_id = line.split("session ")[1].split()[0]
    assert out["session"] == session_id

    second = run_forge("tutor", "--session", session_id, "--say", "He like pizza.", "--json", env=ENV)
    assert second.returncode == 0, second.stderr
    out = json.loads(second.stdout)
    assert out["learner"]["turns"] == 2 and out["corrections"][0]["suggestion"] == "likes"

    assert_clean_error(run_forge("tutor", "--session", session_id, "--say", "  ", env=ENV), "empty")

    repl = run_forge("tutor", "--session", session_id, env=ENV, stdin="My cat are very small.\n/learner\n")
    assert repl.returncode == 0, repl.stderr
    assert "tutor>" in repl.stdout and "Level:" in repl.stdout and "He like pizza." in repl.stdout
    assert f"Session kept: forge tutor --session {session_id}" in " ".join(repl.stdout.split())
    assert _user_turns(session_id) == 3


def test_a_named_session_starts_when_there_is_none_and_continues_after() -> None:
    first = run_forge("tutor", "--session", "lucia-a2", "--say", "What does cheap mean?", "--json", env=ENV)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["session"] == "lucia-a2" and "Started tutoring session lucia-a2" in first.stderr
    assert "low in price" in out["reply"] and out["learner"]["turns"] == 1
    second = run_forge("tutor", "--session", "lucia-a2", "--say", "I like cheap shops.", "--json", env=ENV)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["learner"]["turns"] == 2 and "Started" not in second.stderr
    assert_clean_error(run_forge("tutor", "--session", "lucia-a2", "--level", "B1", env=ENV), "--level")
    made = run_forge("exercises", "--session", "set-lucia", "--json", env=ENV)
    assert made.returncode == 0 and json.loads(made.stdout)["session"] == "set-lucia"
    assert_clean_error(run_forge("tutor", "--session", "set-lucia", "--say", "Hi.", env=ENV), "exercises session")


def test_bad_input_exits_2_before_any_turn() -> None:
    assert_clean_error(run_forge("tutor", "--say", "word " * 20_000, env=ENV), "at most 2,000")
    assert_clean_error(run_forge("tutor", "--say", "Je voudrais un café, s'il vous plaît.", env=ENV), "English")
    assert_clean_error(run_forge("tutor", "--session", "no such", "--say", "Hello.", env=ENV), "not a session id")
    assert_clean_error(run_forge("tutor", "--json", env=ENV), "--json needs --say")


def test_ctrl_c_leaves_cleanly_and_keeps_the_session() -> None:
    started = run_forge("tutor", "--say", "I like music.", "--json", env=ENV)
    session_id = started.stderr.split("session ")[1].split()[0]
    proc = subprocess.Popen([*FORGE, "tutor", "--session", session_id], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ) | ENV)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "Type in English" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Session kept" in out and "Traceback" not in err
    assert _user_turns(session_id) == 1
