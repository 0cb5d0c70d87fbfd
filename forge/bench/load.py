"""`forge bench load`: simulated learners and teachers against a running deployment, over real HTTP.

Each simulated user is an httpx client with an account of its own, which the bench creates through the admin's
JSON routes (POST /api/users) and removes at the end (DELETE /api/users/{name}), also after Ctrl-C.

- A learner logs in, starts a tutoring session and takes turns from the scripted sessions of `forge bench sessions`
  (tutor_scripts.yaml, A2 and B2, mixed), each message carrying the learner's marker word and the turn's number,
  waiting for each reply; think time is 0-2 s, random (seeded).
- A teacher asks for small exercise sets (POST /api/exercises) in one thread and, in another, loads pages (/teach,
  /teach/class) and browses traces (/api/traces, /api/traces/{id}) — so page loads are timed while the model is
  busy. The teacher teaches the learners' class, so it sees their traces.
- When `seconds` have passed no new request starts; requests in flight finish (each bounded by `timeout_s`).
- Checks, from each learner's history (GET /api/tutor/{session}): a turn answered 200 that is missing from it, or
  out of order, is *lost*; another learner's marker in it, or a reply received that belongs to another learner's
  history and not to one's own, is *mixed*.
- Where the time of a turn goes: the turn's trace (its root span's duration) is the model's work; the rest of the
  turn's latency is waiting in the queue (and HTTP).
"""

from __future__ import annotations

import itertools
import random
import secrets
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from importlib.resources import files
from typing import Any

import httpx
import yaml
from pydantic import BaseModel, Field

from knowledge.errors import ResourceError, UserInputError

#: What a teacher asks for (small sets, a few types and levels).
EXERCISE_REQUESTS = (
    "two gap fills about food at A2",
    "two error correction items about travel at B1",
    "two word formation items about work at B2",
    "two reorder items about family at A2",
)
#: Pages a teacher loads (HTML), and the trace browsing (JSON), timed separately.
TEACHER_PAGES = ("/teach", "/teach/class")
#: Per-user password of the bench's accounts (random per run; never printed).
PASSWORD_BYTES = 18
PROGRESS_EVERY_S = 10.0


class LoadConfig(BaseModel):
    """What to run: where, how many of each, for how long."""

    url: str
    learners: int = Field(ge=0, le=200)
    teachers: int = Field(ge=0, le=50)
    seconds: float = Field(gt=0)
    seed: int = 0
    timeout_s: float = Field(default=300.0, description="Longest one request may take (turns wait in the queue).")
    think_s: float = Field(
        default=1.0, ge=0, description="Mean pause of a learner between a reply and its next message (0 to 2x)."
    )


@dataclass
class SentTurn:
    """A turn a learner got a 200 for: its token (marker and number) and the reply it received."""

    token: str
    reply: str


@dataclass
class Tally:
    """Every timed request and every error, shared by the users' threads."""

    samples: dict[str, list[float]] = field(default_factory=lambda: {"turn": [], "exercise": [], "page": [],
                                                                       "traces": []})  # fmt: skip
    errors: Counter[str] = field(default_factory=Counter)
    items: int = 0
    trace_ids: list[tuple[str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float) -> None:
        """One successful request of a kind."""
        with self.lock:
            self.samples[kind].append(seconds)

    def error(self, kind: str) -> None:
        """One failed request, by kind of failure."""
        with self.lock:
            self.errors[kind] += 1


class Client:
    """One simulated user's HTTP client: logged in, the CSRF token sent with every change, failures tallied."""

    def __init__(self, url: str, name: str, password: str, timeout_s: float) -> None:
        self.name = name
        self.http = httpx.Client(base_url=url, timeout=timeout_s, headers={"Accept": "application/json"})
        try:
            response = self.http.post("/api/login", json={"username": name, "password": password})
        except httpx.TransportError as exc:
            self.http.close()
            raise ResourceError(f"No forge server answers at {url} ({type(exc).__name__}); is it running?") from exc
        if response.status_code != 200:
            self.http.close()
            raise UserInputError(f"Could not log in as {name} at {url}: {_sentence(response)}")
        self.csrf = str(response.json()["csrf"])

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        """One request (the CSRF header on changes)."""
        headers = {} if method == "GET" else {"X-CSRF-Token": self.csrf}
        return self.http.request(method, path, json=body, headers=headers)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


def timed(tally: Tally, kind: str, fn: Callable[[], httpx.Response]) -> tuple[httpx.Response | None, float]:
    """One request: (response, seconds) when it answers 200/201, else (None, seconds) with its failure counted."""
    start = time.perf_counter()
    try:
        response = fn()
    except httpx.TimeoutException:
        tally.error("timeout")
        return None, time.perf_counter() - start
    except httpx.TransportError:
        tally.error("connection")
        return None, time.perf_counter() - start
    seconds = time.perf_counter() - start
    if response.status_code not in (200, 201):
        tally.error(f"HTTP {response.status_code}")
        return None, seconds
    tally.record(kind, seconds)
    return response, seconds


def script_messages() -> list[str]:
    """The learner messages of the scripted sessions (A2 and B2 mixed; exercise answers left out)."""
    data = yaml.safe_load((files("forge.bench") / "tutor_scripts.yaml").read_text(encoding="utf-8"))
    return [t["say"] for s in data["sessions"] for t in s["turns"] if "{" not in t["say"]]


def marker_word(rng: random.Random) -> str:
    """A made-up word, unique to one learner, that no tutor reply would say on its own."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    return "q" + "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(4))


# the users


@dataclass
class Learner:
    """A simulated learner: name, marker, session, the turns answered 200 and the session's history at the end."""

    name: str
    marker: str
    session: str | None = None
    sent: list[SentTurn] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)


def run_learner(client: Client, learner: Learner, think_s: float, tally: Tally, stop: threading.Event,
                rng: random.Random) -> None:  # fmt: skip
    """Take turns until told to stop: a script message with the marker, wait for the reply, think, again."""
    messages = script_messages()
    offset = rng.randrange(len(messages))
    n = 0
    while not stop.is_set():
        n += 1
        token = f"{learner.marker}{n}"
        text = f"{messages[(offset + n) % len(messages)]} ({token})"
        body: dict[str, Any] = {"message": text, "session": learner.session}
        if learner.session is None:
            body["level"] = rng.choice(("A2", "B1", "B2"))
        response, seconds = timed(tally, "turn", partial(client.call, "POST", "/api/tutor", body))
        if response is not None:
            data = response.json()
            learner.session = learner.session or str(data.get("session"))
            learner.sent.append(SentTurn(token, str(data.get("reply", ""))))
            if data.get("trace_id"):
                with tally.lock:
                    tally.trace_ids.append((str(data["trace_id"]), seconds))
        stop.wait(rng.uniform(0, 2.0 * think_s))


def run_teacher_sets(client: Client, tally: Tally, stop: threading.Event, rng: random.Random) -> None:
    """Ask for small exercise sets, one after the other, until told to stop."""
    while not stop.is_set():
        say = rng.choice(EXERCISE_REQUESTS)
        response, _ = timed(tally, "exercise", partial(client.call, "POST", "/api/exercises", {"say": say}))
        if response is not None:
            with tally.lock:
                tally.items += len(response.json().get("items", []))
        stop.wait(rng.uniform(0, 2.0))


def run_teacher_browsing(client: Client, tally: Tally, stop: threading.Event, rng: random.Random) -> None:
    """Load the teacher's pages and browse the traces (list, then one run) until told to stop."""
    while not stop.is_set():
        for path in TEACHER_PAGES:
            timed(tally, "page", partial(client.http.get, path, headers={"Accept": "text/html"}))
        listed, _ = timed(tally, "traces", partial(client.call, "GET", "/api/traces?limit=20"))
        runs = listed.json() if listed is not None else []
        if runs:
            trace_id = rng.choice(runs)["trace_id"]
            timed(tally, "traces", partial(client.call, "GET", f"/api/traces/{trace_id}"))
        stop.wait(rng.uniform(0.5, 1.5))


# the checks


class CheckResult(BaseModel):
    """Turns lost or mixed between learners, with the first few examples of each."""

    lost: int
    mixed: int
    examples: list[str]


def check_histories(learners: list[Learner]) -> CheckResult:
    """Turns lost (a 200 turn missing from its history, or out of order) and mixed between learners.

    Mixed: another's marker in a history, or a reply that is not the one stored after the learner's own message
    (the stored reply may carry an offered exercise after the text the client was sent, so the sent reply must
    begin it).
    """
    lost, mixed, examples = 0, 0, []
    for learner in learners:
        texts = [str(t.get("text", "")) for t in learner.history if t.get("role") == "user"]
        missing = _missing_in_order([t.token for t in learner.sent], texts)
        lost += len(missing)
        examples += [f"{learner.name}: turn {token} lost" for token in missing]
        for other in learners:
            if other is not learner and any(other.marker in text for text in texts):
                mixed += 1
                examples.append(f"{learner.name}: a message of {other.name} in the history")
        stored = _stored_replies(learner.history)
        for turn in learner.sent:
            kept = stored.get(turn.token)
            if turn.reply and kept is not None and not kept.startswith(turn.reply.strip()):
                mixed += 1
                examples.append(f"{learner.name}: turn {turn.token} was answered with a reply stored for another turn")
    return CheckResult(lost=lost, mixed=mixed, examples=examples[:5])


def _stored_replies(history: list[dict[str, Any]]) -> dict[str, str]:
    """The assistant text stored right after each marked user message, by the message's token."""
    replies: dict[str, str] = {}
    for turn, after in itertools.pairwise(history):
        text = str(turn.get("text", ""))
        if turn.get("role") == "user" and after.get("role") == "assistant" and text.endswith(")") and "(" in text:
            replies[text[text.rindex("(") + 1 : -1]] = str(after.get("text", "")).strip()
    return replies


def _missing_in_order(tokens: list[str], texts: list[str]) -> list[str]:
    """The tokens not found, in order, in the texts (each token's own word, so q..1 does not match q..12)."""
    missing, at = [], 0
    for token in tokens:
        found = next((i for i in range(at, len(texts)) if f"({token})" in texts[i]), None)
        if found is None:
            missing.append(token)
        else:
            at = found + 1
    return missing


# the run


class Admin:
    """The admin's client: creates and removes the bench's accounts, reads health, traces and histories."""

    def __init__(self, url: str, name: str, password: str) -> None:
        self.client = Client(url, name, password, timeout_s=30.0)
        self.created: list[str] = []

    def add(self, name: str, role: str, password: str, class_name: str) -> None:
        """Create an account (remembered, so it is removed at the end)."""
        body = {"name": name, "role": role, "password": password, "class": class_name}
        response = self.client.call("POST", "/api/users", body)
        if response.status_code != 201:
            raise UserInputError(f"Could not create the account {name}: {_sentence(response)}")
        self.created.append(name)

    def remove_all(self) -> list[str]:
        """Remove every account this run created; the names that could not be removed."""
        left = []
        for name in list(self.created):
            try:
                response = self.client.call("DELETE", f"/api/users/{name}")
                ok = response.status_code in (200, 404)
            except httpx.HTTPError:
                ok = False
            if ok:
                self.created.remove(name)
            else:
                left.append(name)
        return left

    def get(self, path: str) -> Any:
        """GET JSON (None when it does not answer 200)."""
        try:
            response = self.client.call("GET", path)
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None


def run(config: LoadConfig, admin_name: str, admin_password: str,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """Create the accounts, run the users for `seconds`, check the histories, remove the accounts; the report."""
    note = progress or (lambda _: None)
    admin = Admin(config.url.rstrip("/"), admin_name, admin_password)
    rng = random.Random(config.seed)
    tag = secrets.token_hex(3)
    try:
        learners, teachers = _accounts(admin, config, rng, tag)
        tally, elapsed, health_during = _drive(config, learners, teachers, rng, note)
        for learner in (lr for lr, _ in learners):
            data = admin.get(f"/api/tutor/{learner.session}") if learner.session else None
            learner.history = list(data.get("turns", [])) if data else []
        model_s = _model_times(admin, tally)
        health = admin.get("/healthz")
    finally:
        left = admin.remove_all()
        admin.client.close()
    return report(
        config, tally, elapsed, check_histories([lr for lr, _ in learners]), model_s, health, health_during, left
    )


def _accounts(admin: Admin, config: LoadConfig, rng: random.Random,
              tag: str) -> tuple[list[tuple[Learner, str]], list[tuple[str, str]]]:  # fmt: skip
    """Create the learners (in one class) and the teachers (teaching it): (learner, password), (name, password)."""
    klass = f"bench-{tag}"
    learners, teachers = [], []
    for i in range(config.learners):
        password = secrets.token_urlsafe(PASSWORD_BYTES)
        admin.add(f"bench-{tag}-l{i}", "learner", password, klass)
        learners.append((Learner(f"bench-{tag}-l{i}", marker_word(rng)), password))
    for i in range(config.teachers):
        password = secrets.token_urlsafe(PASSWORD_BYTES)
        admin.add(f"bench-{tag}-t{i}", "teacher", password, klass)
        teachers.append((f"bench-{tag}-t{i}", password))
    return learners, teachers


def _drive(config: LoadConfig, learners: list[tuple[Learner, str]], teachers: list[tuple[str, str]],
           rng: random.Random, note: Callable[[str], None]) -> tuple[Tally, float, list[int]]:  # fmt: skip
    """Log every user in, run their threads until `seconds` have passed, let requests in flight finish."""
    tally, stop = Tally(), threading.Event()
    with _clients(config, [lr.name for lr, _ in learners] + [t for t, _ in teachers],
                  [p for _, p in learners] + [p for _, p in teachers]) as clients:  # fmt: skip
        threads = _threads(clients, [lr for lr, _ in learners], [t for t, _ in teachers], config.think_s, tally,
                           stop, rng)  # fmt: skip
        start = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            queue_seen = _watch(config, tally, start, stop, note, clients)
        finally:
            stop.set()  # also on Ctrl-C: no new request starts
        for thread in threads:
            thread.join(timeout=max(0.0, start + config.seconds + config.timeout_s + 5 - time.monotonic()))
        elapsed = time.monotonic() - start
    return tally, elapsed, queue_seen


def _threads(clients: dict[str, Client], learners: list[Learner], teachers: list[str], think_s: float, tally: Tally,
             stop: threading.Event, rng: random.Random) -> list[threading.Thread]:  # fmt: skip
    """One thread per learner, two per teacher (sets; pages and traces), each with a random generator of its own."""
    jobs: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
        (run_learner, (clients[lr.name], lr, think_s)) for lr in learners
    ]
    for name in teachers:
        jobs += [(run_teacher_sets, (clients[name],)), (run_teacher_browsing, (clients[name],))]
    return [threading.Thread(target=fn, args=(*args, tally, stop, random.Random(rng.random())), daemon=True)
            for fn, args in jobs]  # fmt: skip


@contextmanager
def _clients(config: LoadConfig, names: list[str], passwords: list[str]) -> Iterator[dict[str, Client]]:
    """Every user logged in with its own client (closed on exit)."""
    clients: dict[str, Client] = {}
    try:
        for name, password in zip(names, passwords, strict=True):
            clients[name] = Client(config.url.rstrip("/"), name, password, config.timeout_s)
        yield clients
    finally:
        for client in clients.values():
            client.close()


def _watch(config: LoadConfig, tally: Tally, start: float, stop: threading.Event, note: Callable[[str], None],
           clients: dict[str, Client]) -> list[int]:  # fmt: skip
    """Until `seconds` have passed: a progress line every ~10 s, and the queue's length sampled every 2 s."""
    probe = next(iter(clients.values()), None)
    queue_seen: list[int] = []
    last_note = start
    while (now := time.monotonic()) < start + config.seconds:
        stop.wait(min(2.0, start + config.seconds - now))
        queue_seen += _queue_length(probe)
        if time.monotonic() - last_note >= PROGRESS_EVERY_S:
            last_note = time.monotonic()
            with tally.lock:
                done, errors = len(tally.samples["turn"]), sum(tally.errors.values())
            note(f"{last_note - start:5.0f} s: {done} turns, {errors} errors")
    stop.set()
    note("time is up; waiting for the requests in flight")
    return queue_seen


def _queue_length(client: Client | None) -> list[int]:
    """The queue's length now (jobs waiting plus the one running, in the process /healthz reached; [] if unknown)."""
    if client is None:
        return []
    try:
        data = client.http.get("/healthz", timeout=5.0).json()
        return [int(data["queue"]) + int(data["running"])]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return []


def _model_times(admin: Admin, tally: Tally) -> list[tuple[float, float]]:
    """(latency, model time) of each turn whose trace the admin can read (the trace's root span duration)."""
    runs = admin.get("/api/traces?kind=tutoring_turn&limit=1000") or []
    durations = {r["trace_id"]: r["duration_ms"] / 1000 for r in runs}
    return [(latency, durations[t]) for t, latency in tally.trace_ids if t in durations]


# the report


def percentiles(values: list[float]) -> dict[str, Any]:
    """Count, p50, p95 and max of latencies in seconds (None when there are none)."""
    if not values:
        return {"n": 0, "p50_s": None, "p95_s": None, "max_s": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"n": len(ordered), "p50_s": round(statistics.median(ordered), 3), "p95_s": round(p95, 3),
            "max_s": round(ordered[-1], 3)}  # fmt: skip


def report(config: LoadConfig, tally: Tally, elapsed: float, check: CheckResult, model_s: list[tuple[float, float]],
           health: Any, queue_seen: list[int], left: list[str]) -> dict[str, Any]:  # fmt: skip
    """The figures `forge bench load` prints (the top-level keys scripts rely on first)."""
    turns = percentiles(tally.samples["turn"])
    minutes = max(elapsed, 1e-9) / 60
    return {
        "turns": turns["n"],
        "errors": dict(sorted(tally.errors.items())),
        "lost": check.lost,
        "mixed": check.mixed,
        "p50_s": turns["p50_s"],
        "p95_s": turns["p95_s"],
        "max_s": turns["max_s"],
        "turns_per_min": round(turns["n"] / minutes, 2),
        "items": tally.items,
        "items_per_min": round(tally.items / minutes, 2),
        "latency": {k: percentiles(v) for k, v in tally.samples.items()},
        "where_turn_time_goes": _split(model_s),
        "queue_length": {
            "mean": round(statistics.fmean(queue_seen), 2) if queue_seen else None,
            "max": max(queue_seen) if queue_seen else None,
        },
        "examples": check.examples,
        "config": config.model_dump(),
        "elapsed_s": round(elapsed, 1),
        "health": health,
        "accounts_left": left,
    }


def _split(model_s: list[tuple[float, float]]) -> dict[str, Any]:
    """Median and p95 of the model's time and of the rest (queue wait and HTTP) over the turns with a trace."""
    if not model_s:
        return {"turns": 0}
    return {"turns": len(model_s), "model": percentiles([m for _, m in model_s]),
            "queue_and_http": percentiles([max(0.0, lat - m) for lat, m in model_s])}  # fmt: skip


def _sentence(response: httpx.Response) -> str:
    """The server's one sentence for a failed request (its status when it gave none)."""
    try:
        return str(response.json().get("error") or f"HTTP {response.status_code}.")
    except ValueError:
        return f"HTTP {response.status_code}."
