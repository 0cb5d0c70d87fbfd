"""`forge bench sessions`: turn latency, kill -9 recovery and isolation of parallel sessions, measured for real.

- Latency: a scripted 20-turn session with the embedded model; median (and p90, max) seconds per turn.
- Kill -9: a turn runs in a subprocess (the real `forge` command) and is killed at a random point after it took the
  session's writer lock; then every completed turn (and the session's own state: the learner model of a tutoring
  session, the versions of an exercise set) must be intact and a new turn must run.
- Parallel: four sessions driven at once (threads sharing one process's model and store; two of them tutoring
  sessions) must each hold exactly their own turns and items.

- Scripted: the two learners of `tutor_scripts.yaml` (A2 and B2, with errors, word and grammar questions, an
  exercise request and its answer, an opinion question), each turn with the intent it should be routed by:
  intent accuracy, questions answered, exercises offered for requests, corrections per turn, the share of generic
  replies ("Can you tell me more..."), turn p50/p90, and the transcript to read.

Sessions are driven through a `SessionDriver`; both drivers are here, over the product's `TutorSessions` and
`ExerciseSessions`, with the scripts they are given (the product never imports the bench). The latency and kill
figures are measured on a tutoring session (the issue's goal) with `TUTOR_SCRIPT`.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import BaseModel, ConfigDict

from agents.tutor.exercise import expected_answers
from agents.tutor.intent import IntentKind
from agents.tutor.reply import is_generic
from forge.services import Services
from forge.sessions.exercises import ExerciseSessions
from forge.sessions.tutor import TutorSessions
from graphs.exercise_session.state import ExerciseSessionState

#: What a learner says in the scripted tutoring session (for the tutor driver).
TUTOR_SCRIPT = (
    "Hello! My name is Ana and I am from Brazil.",
    "I live in a small city near the sea.",
    "Yesterday I go to the market and buy many apple.",
    "I like cooking but I am not very good.",
    "My sister have two childs.",
    "We eats together every sunday.",
    "What do you do in the weekend?",
    "I am studying English since two years.",
    "I want to travel to London next year.",
    "I didn't went to work today because I was sick.",
    "The weather is very hot here in summer.",
    "Can you help me with the past tense?",
    "I has a dog and he is very funny.",
    "Last week I visit my grandmother.",
    "She make the best cake in the world.",
    "I am agree with you.",
    "Tomorrow I will to go to the cinema.",
    "My favourite food is pizza.",
    "I think English is difficult but interesting.",
    "Thank you, see you next time!",
)
#: The scripted exercise session: model turns make at most one item, so turns are comparable.
EXERCISE_SCRIPT = (
    "one gap fill about food at A2",
    "another one",
    "show",
    "replace item 1",
    "one open gap",
    "remove item 2",
    "export",
    "show version 1",
    "undo",
    "one reorder exercise",
    "make item 1 easier",
    "show",
    "remove item 1",
    "one error correction",
    "switch to A1",
    "export",
    "undo",
    "hello there",
    "help",
    "show",
)
#: Exercise turns that call the model, for the kill rounds.
EXERCISE_KILL_TEXTS = ("one open gap", "replace item 1", "one reorder exercise", "another one")
#: Tutoring turns run in a subprocess and killed (each detects errors and writes a reply).
TUTOR_KILL_TEXTS = (
    "Yesterday I go to the market and buy many apple.",
    "My sister have two childs.",
    "I didn't went to work today because I was sick.",
    "Last week I visit my grandmother.",
)
#: Four parallel sessions: (topic, level, exercise words) each; every item must keep its own topic and level.
PARALLEL = (
    ("food", "A1", "reorder"),
    ("travel", "A2", "open gap"),
    ("sport", "B1", "reorder"),
    ("animals", "A2", "open gap"),
)


class SessionDriver(Protocol):
    """How the bench drives one kind of session."""

    kind: str
    #: The scripted session (20 turns).
    script: tuple[str, ...]
    #: Turns that take a while (they call the model), run in a subprocess and killed.
    kill_texts: tuple[str, ...]

    def start(self, title: str) -> str:
        """Create a session and return its id."""

    def turn(self, session_id: str, text: str) -> bool:
        """Run one turn in this process; return whether it called the model."""

    def phase(self, session_id: str) -> str:
        """Where an unfinished turn stopped (the checkpoint's next nodes), or 'idle'."""

    def state(self, session_id: str) -> dict[str, Any]:
        """What must survive a crash: the turns and the session's own state, as plain JSON values."""

    def cli(self, session_id: str, text: str) -> list[str]:
        """The `forge` arguments that run the same turn in a new process."""


class ExerciseDriver:
    """Exercise sessions, in process through `ExerciseSessions` and in a subprocess through `forge exercises`."""

    kind: str = "exercises"
    script: tuple[str, ...] = EXERCISE_SCRIPT
    kill_texts: tuple[str, ...] = EXERCISE_KILL_TEXTS

    def __init__(self, services: Services) -> None:
        self.sessions = ExerciseSessions(services)

    def start(self, title: str) -> str:
        """A new exercise session."""
        return self.sessions.start(title).id

    def turn(self, session_id: str, text: str) -> bool:
        """One turn; it used the model if it made items or was not understood (the fallback asks the model)."""
        result = self.sessions.turn(session_id, text)
        return not result.understood or any(c.kind in ("added", "replaced", "failed") for c in result.changes)

    def phase(self, session_id: str) -> str:
        """The nodes an unfinished turn would run next."""
        pending = self.sessions.graph.get_state(self.sessions.store.config(session_id)).next
        return "+".join(pending) if pending else "idle"

    def state(self, session_id: str) -> dict[str, Any]:
        """Turns and every version of the set."""
        values: ExerciseSessionState = self.sessions.graph.get_state(self.sessions.store.config(session_id)).values
        return {
            "turns": [t.model_dump(mode="json") for t in values.get("turns", [])],
            "versions": [v.model_dump(mode="json") for v in values.get("versions", [])],
        }

    def cli(self, session_id: str, text: str) -> list[str]:
        """`forge exercises --session ID --say TEXT`."""
        return ["exercises", "--session", session_id, "--say", text]


class TutorDriver:
    """Tutoring sessions, in process through `TutorSessions` and in a subprocess through `forge tutor`."""

    kind: str = "tutor"
    kill_texts: tuple[str, ...] = TUTOR_KILL_TEXTS

    def __init__(self, services: Services, script: tuple[str, ...] = TUTOR_SCRIPT) -> None:
        self.sessions = TutorSessions(services)
        self.script = script

    def start(self, title: str) -> str:
        """A new tutoring session."""
        return self.sessions.start(title).id

    def turn(self, session_id: str, text: str) -> bool:
        """One turn in this process; whether it called the model (every turn but an exercise answer does)."""
        result = self.sessions.turn(session_id, text)
        return "detect" in result.timings

    def phase(self, session_id: str) -> str:
        """The nodes an unfinished turn would run next ('idle': the last turn completed or left nothing)."""
        pending = self.sessions.graph.get_state(self.sessions.store.config(session_id)).next
        return "+".join(pending) if pending else "idle"

    def state(self, session_id: str) -> dict[str, Any]:
        """What must survive a crash: the turns, the learner model and the pending exercise, as JSON."""
        values = self.sessions.graph.get_state(self.sessions.store.config(session_id)).values
        learner, pending = values.get("learner"), values.get("pending")
        return {
            "turns": [t.model_dump(mode="json") for t in values.get("turns", [])],
            "learner": learner.model_dump(mode="json") if learner is not None else None,
            "pending": pending.model_dump(mode="json") if pending is not None else None,
        }

    def cli(self, session_id: str, text: str) -> list[str]:
        """`forge tutor --session ID --say TEXT --json`."""
        return ["tutor", "--session", session_id, "--say", text, "--json"]


def latency(driver: SessionDriver, progress: Callable[[], None] | None = None) -> dict[str, Any]:
    """Seconds per turn of the scripted session."""
    session_id = driver.start(f"bench: {len(driver.script)}-turn {driver.kind} session")
    seconds, model_seconds = [], []
    for text in driver.script:
        start = time.perf_counter()
        used_model = driver.turn(session_id, text)
        seconds.append(time.perf_counter() - start)
        if used_model:
            model_seconds.append(seconds[-1])
        if progress:
            progress()
    return {
        "kind": driver.kind,
        "session": session_id,
        "turns": len(seconds),
        **_spread(seconds, ""),
        "model_turns": len(model_seconds),
        **_spread(model_seconds, "model_"),
        "per_turn_s": [round(s, 3) for s in seconds],
    }


def _spread(seconds: list[float], prefix: str) -> dict[str, float | None]:
    """Median, p90 and max of some durations (None when there are none)."""
    if not seconds:
        return {f"{prefix}median_s": None, f"{prefix}p90_s": None, f"{prefix}max_s": None}
    ordered = sorted(seconds)
    return {
        f"{prefix}median_s": statistics.median(ordered),
        f"{prefix}p90_s": ordered[int(0.9 * (len(ordered) - 1))],
        f"{prefix}max_s": ordered[-1],
    }


def kill_and_resume(
    driver: SessionDriver,
    services: Services,
    rounds: int,
    rng: random.Random,
    progress: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Kill a subprocess's turn at a random point, `rounds` times; check the state and that the session resumes."""
    session_id = driver.start(f"bench: kill -9 ({driver.kind})")
    for text in driver.script[:2]:
        driver.turn(session_id, text)
    typical = _subprocess_turn(driver, services, session_id, driver.kill_texts[0])
    results = []
    for r in range(rounds):
        text = driver.kill_texts[(r + 1) % len(driver.kill_texts)]
        results.append(_kill_round(driver, services, session_id, text, typical, rng))
        if progress:
            progress()
    return {
        "kind": driver.kind,
        "session": session_id,
        "subprocess_turn_s": round(typical, 2),
        "rounds": results,
        "kept_every_completed_turn": all(r["kept"] for r in results),
        "resumed": all(r["resumed"] for r in results),
    }


def _kill_round(
    driver: SessionDriver, services: Services, session_id: str, text: str, typical: float, rng: random.Random
) -> dict[str, Any]:
    """One kill: once the subprocess holds the lock, wait a random share of a whole turn, then SIGKILL."""
    before = driver.state(session_id)
    proc = subprocess.Popen(
        _forge(driver.cli(session_id, text)), env=_env(services), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    began = _wait_for_lock(services, session_id, proc)
    time.sleep(rng.uniform(0.0, typical))
    finished = proc.poll() is not None
    killed_after = time.perf_counter() - began
    if not finished:
        proc.kill()
    proc.wait()
    phase = "finished" if finished else driver.phase(session_id)
    after = driver.state(session_id)
    kept = after == before or (finished and _extends(after, before))
    try:
        driver.turn(session_id, driver.script[2])
        resumed = _extends(driver.state(session_id), after)
    except Exception:  # a failed resume is what this round measures
        resumed = False
    return {
        "killed_after_s": round(killed_after, 2),
        "turn_finished_first": finished,
        "phase": phase,
        "completed_turns": len(before["turns"]) // 2,
        "kept": kept,
        "resumed": resumed,
    }


def _subprocess_turn(driver: SessionDriver, services: Services, session_id: str, text: str) -> float:
    """Run one turn in a subprocess to the end; return its seconds from taking the lock to exiting."""
    proc = subprocess.Popen(
        _forge(driver.cli(session_id, text)), env=_env(services), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    began = _wait_for_lock(services, session_id, proc)
    proc.wait()
    return time.perf_counter() - began


def parallel(services: Services, tutor: SessionDriver | None, sessions: int = 4) -> dict[str, Any]:
    """Drive several sessions at once in threads (half of them tutoring, when given); check none mixes."""
    exercise = ExerciseDriver(services)
    plans: list[tuple[SessionDriver, str, list[str], Callable[[dict[str, Any]], bool]]] = []
    for n in range(sessions):
        if tutor is not None and n % 2:
            script = list(tutor.script[n : n + 3])
            plans.append((tutor, tutor.start(f"bench: parallel tutor {n}"), script, _said(script)))
            continue
        topic, level, words = PARALLEL[n % len(PARALLEL)]
        script = [f"one {words} about {topic} at {level}", "another one", "remove item 1"]
        sid = exercise.start(f"bench: parallel {topic} {level}")
        plans.append((exercise, sid, script, _own_items(script, topic, level)))
    errors: list[str] = []

    def drive(driver: SessionDriver, session_id: str, script: list[str]) -> None:
        try:
            for text in script:
                driver.turn(session_id, text)
        except Exception as exc:  # reported in the figures, not raised: the bench measures
            errors.append(f"{session_id}: {exc}")

    start = time.perf_counter()
    threads = [threading.Thread(target=drive, args=plan[:3]) for plan in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    mixed = [sid for driver, sid, _, own in plans if not own(driver.state(sid))]
    return {
        "sessions": sessions,
        "kinds": [d.kind for d, *_ in plans],
        "turns": sum(len(p[2]) for p in plans),
        "wall_s": wall,
        "errors": errors,
        "mixed": mixed,
        "isolated": not mixed and not errors,
    }


SCRIPTS_FILE = Path(__file__).with_name("tutor_scripts.yaml")
#: What the scripted learner says to an exercise when none was offered.
NO_EXERCISE_ANSWER = "I don't know."
_QUESTIONS = ("word_question", "grammar_question")


class ScriptedTurn(BaseModel):
    """One learner turn of a scripted session and the intent it should be routed by."""

    model_config = ConfigDict(extra="forbid")

    say: str
    intent: IntentKind


class ScriptedSession(BaseModel):
    """A scripted learner: a name, a starting level and the turns."""

    model_config = ConfigDict(extra="forbid")

    name: str
    level: str
    turns: list[ScriptedTurn]


def load_scripts(path: Path = SCRIPTS_FILE) -> list[ScriptedSession]:
    """The scripted sessions the bench plays."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [ScriptedSession.model_validate(s) for s in document["sessions"]]


def scripted(services: Services, scripts: list[ScriptedSession] | None = None,
             progress: Callable[[], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """Play the scripted sessions with the real tutor and measure what the issue asks for."""
    tutors = TutorSessions(services)
    turns: list[dict[str, Any]] = []
    for script in scripts or load_scripts():
        info = tutors.start(title=f"bench: scripted {script.name}", level=script.level)
        pending: list[str] = []
        for number, planned in enumerate(script.turns, 1):
            said = (pending[0] if pending else NO_EXERCISE_ANSWER) if planned.say == "{answer}" else planned.say
            result = tutors.turn(info.id, said)
            pending = _answers_of(result.exercise)
            turns.append(_scripted_turn(script, number, planned, said, result))
            if progress:
                progress()
    return {"sessions": [s.name for s in scripts or load_scripts()], **scripted_figures(turns), "turns": turns}


def _answers_of(exercise: dict[str, Any] | None) -> list[str]:
    """The expected answers of an offered exercise (empty when none was offered)."""
    if not exercise:
        return []
    from agents.tutor.exercise import PendingExercise

    pending = PendingExercise(turn=0, type=exercise["item"]["type"], item=exercise["item"], reason="",
                              run_id=exercise["run_id"])  # fmt: skip
    return expected_answers(pending)


def _scripted_turn(script: ScriptedSession, number: int, planned: ScriptedTurn, said: str, result: Any) -> dict[
        str, Any]:  # fmt: skip
    """One played turn as the report keeps it."""
    answer = result.answer
    return {
        "session": script.name, "level": script.level, "turn": number, "say": said, "expected": planned.intent,
        "intent": result.intent, "reply": result.reply, "seconds": round(result.latency_s, 3),
        "corrections": [(c.text, c.suggestion, c.error_type) for c in result.corrections],
        "answered": bool(answer is not None and answer.answered), "answer_level": answer.level if answer else None,
        "answer_sources": answer.sources if answer else [], "above": answer.above if answer else [],
        "exercise": result.exercise["text"] if result.exercise else None, "generic": is_generic(result.reply),
        "graded": result.graded.correct if result.graded else None,
    }  # fmt: skip


def scripted_figures(turns: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of played scripted turns (see the module docstring)."""
    questions = [t for t in turns if t["expected"] in _QUESTIONS]
    requests = [t for t in turns if t["expected"] == "exercise_request"]
    seconds = sorted(t["seconds"] for t in turns)
    chat = [t for t in turns if t["expected"] == "conversation"]
    return {
        "turn_count": len(turns),
        "intent_accuracy": _share(sum(t["intent"] == t["expected"] for t in turns), len(turns)),
        "misrouted": [
            f"{t['session']}#{t['turn']}: {t['expected']} -> {t['intent']}"
            for t in turns
            if t["intent"] != t["expected"]
        ],
        "questions": len(questions),
        "questions_answered": sum(t["answered"] for t in questions),
        "answers_within_level": sum(t["answered"] and not t["above"] for t in questions),
        "exercise_requests": len(requests),
        "exercises_offered": sum(t["exercise"] is not None for t in requests),
        "corrections_per_turn": round(sum(len(t["corrections"]) for t in turns) / max(len(turns), 1), 2),
        "generic_share": _share(sum(t["generic"] for t in turns), len(turns)),
        "generic_share_of_chat": _share(sum(t["generic"] for t in chat), len(chat)),
        "p50_s": statistics.median(seconds) if seconds else None,
        "p90_s": seconds[int(0.9 * (len(seconds) - 1))] if seconds else None,
        "max_s": seconds[-1] if seconds else None,
    }


def _share(count: int, total: int) -> float | None:
    """The share count / total, rounded (None when there is nothing to count)."""
    return round(count / total, 3) if total else None


def run(services: Services, *, kills: int = 3, seed: int = 0, progress: Callable[[str], None] | None = None,
        parts: tuple[str, ...] = ("scripted", "latency", "kill", "parallel")) -> dict[str, Any]:  # fmt: skip
    """The figures of the bench (`parts` chooses which; all by default)."""
    tutor = TutorDriver(services, TUTOR_SCRIPT)
    tick = (lambda: progress("turn")) if progress else None
    report: dict[str, Any] = {"note": None}
    if "scripted" in parts:
        report["scripted"] = scripted(services, progress=tick)
    if "latency" in parts:
        report["latency"] = latency(tutor, tick)
    if "kill" in parts:
        report["kill"] = kill_and_resume(tutor, services, kills, random.Random(seed))
    if "parallel" in parts:
        report["parallel"] = parallel(services, tutor)
    return report


def _said(script: list[str]) -> Callable[[dict[str, Any]], bool]:
    """A check that a session's user turns are exactly its own script."""
    return lambda state: [t["text"] for t in state["turns"] if t["role"] == "user"] == script


def _own_items(script: list[str], topic: str, level: str) -> Callable[[dict[str, Any]], bool]:
    """A check that an exercise session holds its own script and only items of its own topic and level."""

    def check(state: dict[str, Any]) -> bool:
        items = [i for v in state["versions"] for i in v["set"]["items"]]
        return _said(script)(state) and all(i["topic"] == topic and i["level"] == level for i in items)

    return check


def _extends(after: dict[str, Any], before: dict[str, Any]) -> bool:
    """Whether a later state keeps an earlier one whole (every turn, and the rest unchanged or grown)."""
    turns = after["turns"][: len(before["turns"])] == before["turns"]
    versions = after.get("versions", [])[: len(before.get("versions", []))] == before.get("versions", [])
    return turns and versions


def _wait_for_lock(services: Services, session_id: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> float:
    """Wait until the subprocess holds the session's writer lock; return when that was seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if services.sessions.lock_holder(session_id) == proc.pid:
            return time.perf_counter()
        time.sleep(0.05)
    return time.perf_counter()


def _forge(args: list[str]) -> list[str]:
    """The real `forge` command in this interpreter."""
    return [sys.executable, "-c", "from forge.cli.app import main; main()", *args]


def _env(services: Services) -> dict[str, str]:
    """The subprocess's environment: this process's settings that matter for sessions."""
    s = services.settings
    env = dict(os.environ) | {"FORGE_DATA_DIR": str(s.data_dir), "FORGE_CACHE_DIR": str(s.resolved_cache_dir)}
    if s.postgres_url:
        env["FORGE_POSTGRES_URL"] = s.postgres_url
    return env
