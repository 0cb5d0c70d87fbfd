"""The model queue: the embedded model serves one call at a time, so every model job of the web app runs here.

One worker thread takes jobs round-robin between users (a user who queues ten jobs does not hold up the next
user for ten turns: each user with waiting jobs gets one turn in order). A job reports events while it runs —
its place in the queue, text as the model writes it, progress ("item 2 of 3") — which pages read as server-sent
events, and its result or its error at the end. Page loads, reviews and trace browsing never go through here.

A job runs in the process that accepted it, but any process can answer for it: with a `JobTable` every job's
state (its place, the text so far, its progress, its result or error) is kept in the session database, written
at once when the state changes and at most every `FLUSH_S` while text streams, and the owner refreshes its jobs'
`heartbeat_at` every `HEARTBEAT_S`. A job whose heartbeat is older than `STALE_AFTER_S` belonged to a process
that died, and is reported as failed with `STOPPED`. Fairness is per process: each process has its own queue in
front of its own embedded model. Finished jobs are kept `KEEP_DONE_S`. Hosts' clocks must agree to a second or
two (NTP), as heartbeats are compared across machines.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from agents import streaming
from knowledge.errors import ForgeError, UserInputError

if TYPE_CHECKING:
    from forge.sessions.store import SessionStore

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed"]
LIVE: tuple[JobState, ...] = ("queued", "running")
#: How long a finished job's result stays readable.
KEEP_DONE_S = 600.0
#: Jobs one user may have waiting at once (more are refused with a clear message).
MAX_WAITING_PER_USER = 5
#: Streamed text reaches the database at most this often (state changes are written at once).
FLUSH_S = 0.3
#: The owner refreshes its live jobs' heartbeat this often ...
HEARTBEAT_S = 2.0
#: ... and a live job whose heartbeat is older than this belonged to a process that stopped.
STALE_AFTER_S = 10.0
STOPPED = "The server running this turn stopped; send it again."


@dataclass(frozen=True)
class JobView:
    """What anyone may read of a job, from the owner's memory or from the database: the same fields either way."""

    id: str
    user: str
    state: JobState = "queued"
    position: int = 0
    text: str = ""
    resets: int = 0
    progress: Any = None
    result: Any = None
    error: str | None = None
    status: int = 200


@dataclass
class Job:
    """One unit of model work for one user, in the process that runs it."""

    id: str
    user: str
    label: str
    work: Callable[[], Any]
    state: JobState = "queued"
    position: int = 0
    text: str = ""
    resets: int = 0
    progress: Any = None
    result: Any = None
    error: str | None = None
    status: int = 200
    finished_at: float | None = None
    version: int = 0
    dirty: bool = False
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def emit(self, kind: str, data: Any) -> None:
        """Fold a reported event into the job's state and wake whoever is waiting for a change."""
        with self._changed:
            if kind == "text":
                self.text += str(data)
            elif kind == "reset":
                self.text, self.resets = "", self.resets + 1
            elif kind == "progress":
                self.progress = data
            elif kind == "position" and (self.state == "queued" or not data):  # never a place once running
                self.position = int(data)
            self._bump()

    def view(self) -> JobView:
        """A consistent snapshot of the job."""
        with self._changed:
            return JobView(id=self.id, user=self.user, state=self.state, position=self.position, text=self.text,
                           resets=self.resets, progress=self.progress, result=self.result, error=self.error,
                           status=self.status)  # fmt: skip

    def finish(self, final: JobView, saved: bool = True) -> None:
        """Take the final state (done or failed) and wake every waiter; `saved` when the database has it."""
        with self._changed:
            self.state, self.result, self.error, self.status = final.state, final.result, final.error, final.status
            self.position, self.finished_at = 0, time.monotonic()
            self._bump()
            self.dirty = not saved

    def wait_change(self, version: int, timeout_s: float) -> int:
        """Wait until the job changes after `version` (or the timeout passes); the version now."""
        with self._changed:
            if self.version == version and self.state in LIVE:
                self._changed.wait(timeout_s)
            return self.version

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the job has finished; False if the timeout passed first."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._changed:
            while self.state in LIVE:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def _bump(self) -> None:
        """Mark a change (under the condition's lock)."""
        self.version += 1
        self.dirty = True
        self._changed.notify_all()


_JOB_COLUMNS = "id, user_name, state, position, text, resets, progress, result, error, status, heartbeat_at"


class JobTable:
    """Jobs in the session database (`forge_jobs`), so that every process answers for every job."""

    def __init__(self, sessions: SessionStore, owner: str) -> None:
        self.sessions = sessions
        self.owner = owner

    def insert(self, job: Job, label: str) -> None:
        """Record a new queued job, dropping rows older than KEEP_DONE_S in the same transaction."""
        now = time.time()
        self.sessions.execute([
            ("DELETE FROM forge_jobs WHERE heartbeat_at < ?", (now - KEEP_DONE_S,)),
            ("INSERT INTO forge_jobs (id, owner, user_name, label, state, position, text, resets, status, created, "
             "heartbeat_at) VALUES (?, ?, ?, ?, 'queued', ?, '', 0, 200, ?, ?)",
             (job.id, self.owner, job.user, label, job.position, now, now)),
        ])  # fmt: skip

    def save(self, views: list[JobView]) -> None:
        """Write jobs' current state (and a fresh heartbeat) in one transaction."""
        now = time.time()
        sql = ("UPDATE forge_jobs SET state = ?, position = ?, text = ?, resets = ?, progress = ?, result = ?, "
               "error = ?, status = ?, heartbeat_at = ? WHERE id = ?")  # fmt: skip
        self.sessions.execute((sql, _row(v, now)) for v in views)

    def beat(self) -> None:
        """Tell readers this process is alive and still has its live jobs."""
        self.sessions.execute([
            ("UPDATE forge_jobs SET heartbeat_at = ? WHERE owner = ? AND state IN ('queued', 'running')",
             (time.time(), self.owner)),
        ])  # fmt: skip

    def read(self, job_id: str, user: str) -> JobView | None:
        """A user's job as the database has it; a live job without a recent heartbeat is reported failed."""
        rows = self.sessions.query(f"SELECT {_JOB_COLUMNS} FROM forge_jobs WHERE id = ? AND user_name = ?",
                                   (job_id, user))  # fmt: skip
        if not rows:
            return None
        ident, name, state, position, text, resets, progress, result, error, status, beat = rows[0]
        view = JobView(id=str(ident), user=str(name), state=state, position=int(position), text=str(text),
                       resets=int(resets), progress=_load(progress), result=_load(result),
                       error=None if error is None else str(error), status=int(status))  # fmt: skip
        if view.state in LIVE and time.time() - float(beat) > STALE_AFTER_S:
            return replace(view, state="failed", position=0, error=STOPPED, status=503)
        return view

    def waiting(self, user: str) -> int:
        """How many of a user's jobs wait in any live process."""
        since = time.time() - STALE_AFTER_S
        rows = self.sessions.query(
            "SELECT COUNT(*) FROM forge_jobs WHERE user_name = ? AND state = 'queued' AND heartbeat_at > ?",
            (user, since),
        )
        return int(rows[0][0])


def _failed(job: Job, message: str, status: int) -> JobView:
    """A job's final state as failed with one sentence."""
    return replace(job.view(), state="failed", error=message, status=status, position=0)


def _row(view: JobView, heartbeat: float) -> tuple[Any, ...]:
    """The UPDATE parameters of a job's state."""
    return (view.state, view.position, view.text, view.resets, _dump(view.progress), _dump(view.result), view.error,
            view.status, heartbeat, view.id)  # fmt: skip


def _dump(value: Any) -> str | None:
    """A JSON column's text (None stays NULL)."""
    return None if value is None else json.dumps(value, default=str)


def _load(value: Any) -> Any:
    """A JSON column's value."""
    return None if value is None else json.loads(str(value))


class ModelQueue:
    """A fair queue of model jobs with one worker thread (started on the first job), and the jobs' state."""

    def __init__(self, table: JobTable | None = None) -> None:
        self.table = table
        self._lock = threading.Condition()
        self._waiting: OrderedDict[str, deque[Job]] = OrderedDict()
        self._jobs: dict[str, Job] = {}
        self._worker: threading.Thread | None = None
        self._flusher: threading.Thread | None = None
        self._running: Job | None = None
        self._stopped = False
        self._saving = threading.Lock()  # one write of job state at a time, so an older one never lands last

    def submit(self, user: str, label: str, work: Callable[[], Any]) -> Job:
        """Queue a job for a user; it runs when every user ahead in the rotation has had a turn."""
        job = Job(id=uuid.uuid4().hex[:16], user=user, label=label, work=work)
        with self._lock:
            if self._stopped:
                raise UserInputError("The server is shutting down; try again in a moment.")
            self._check_line(len(self._waiting.get(user, ())))
            job.position = len(self._order())
        if self.table is not None:  # the database, outside the lock: the limit counts every process's jobs
            self._check_line(self.table.waiting(user))
            self.table.insert(job, label)
        with self._lock:
            self._waiting.setdefault(user, deque()).append(job)
            self._jobs[job.id] = job
            self._forget_old()
            self._ensure_threads()
            self._lock.notify_all()
        self._announce_positions()
        return job

    @staticmethod
    def _check_line(waiting: int) -> None:
        """Refuse a job when the user already has MAX_WAITING_PER_USER waiting."""
        if waiting >= MAX_WAITING_PER_USER:
            raise UserInputError(
                f"You already have {waiting} requests waiting; wait for one to finish before sending more."
            )

    def get(self, job_id: str, user: str) -> Job | None:
        """A job this process runs (or ran), only for the user who submitted it."""
        job = self._jobs.get(job_id)
        return job if job is not None and job.user == user else None

    def view(self, job_id: str, user: str) -> JobView | None:
        """A user's job from any process: from memory when it runs here, else from the database."""
        job = self.get(job_id, user)
        if job is not None:
            return job.view()
        return self.table.read(job_id, user) if self.table is not None else None

    def watch(self, job_id: str, user: str, timeout_s: float) -> JobView | None:
        """The job's next state: wait for a change when it runs here, else read the database after FLUSH_S."""
        job = self.get(job_id, user)
        if job is not None:
            job.wait_change(job.version, timeout_s)
            return job.view()
        time.sleep(FLUSH_S)
        return self.table.read(job_id, user) if self.table is not None else None

    def position(self, job: Job) -> int:
        """How many jobs run before this one (0 when it is running or next)."""
        with self._lock:
            order = self._order()
        return order.index(job) if job in order else 0

    def waiting(self) -> int:
        """Jobs waiting, not counting the one running."""
        with self._lock:
            return sum(len(line) for line in self._waiting.values())

    def running(self) -> int:
        """1 while a job runs, else 0."""
        return 0 if self._running is None else 1

    def stop(self) -> None:
        """Refuse new jobs and let the worker end after the job it is running."""
        with self._lock:
            self._stopped = True
            self._lock.notify_all()

    def _order(self) -> list[Job]:
        """The jobs in the order they will run: the running one, then round-robin over users (under the lock)."""
        lines = [list(line) for line in self._waiting.values()]
        order = [self._running] if self._running is not None else []
        for rank in range(max((len(line) for line in lines), default=0)):
            order.extend(line[rank] for line in lines if rank < len(line))
        return order

    def _next(self) -> Job | None:
        """Take the next job: the first user in the rotation gives one job and goes to the back (under the lock)."""
        while not self._waiting and not self._stopped:
            self._lock.wait()
        if not self._waiting:
            return None
        user, line = next(iter(self._waiting.items()))
        job = line.popleft()
        del self._waiting[user]
        if line:
            self._waiting[user] = line  # to the back of the rotation
        return job

    def _ensure_threads(self) -> None:
        """Start the worker (and, with a table, the flusher) if they are not running (under the lock)."""
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="forge-model-queue", daemon=True)
            self._worker.start()
        if self.table is not None and (self._flusher is None or not self._flusher.is_alive()):
            self._flusher = threading.Thread(target=self._flush_loop, name="forge-job-flusher", daemon=True)
            self._flusher.start()

    def _work(self) -> None:
        """The worker: run jobs one at a time until stopped."""
        while True:
            with self._lock:
                job = self._next()
                self._running = job
            if job is None:
                return
            self._announce_positions()
            self._run(job)
            with self._lock:
                self._running = None

    def _run(self, job: Job) -> None:
        """Run one job, turning its outcome into its result or a one-sentence error."""
        with job._changed:
            job.state = "running"
        job.emit("position", 0)
        self._flush([job])
        try:
            with streaming.streaming_to(job.emit):
                result = json.loads(json.dumps(job.work(), default=str))  # what every reader gets back
            final = replace(job.view(), state="done", result=result, position=0)
        except UserInputError as exc:
            final = _failed(job, str(exc), 400)
        except ForgeError as exc:
            final = _failed(job, str(exc), 503)
        except Exception as exc:  # our bug, or the database gone: the server goes on, the user gets a sentence
            final = _failed(job, self._sentence(job, exc), 503 if self._outage(exc) else 500)
        with self._saving:  # written before waiters see it, and never overwritten by an older state
            job.finish(final, saved=self._save_final(final))

    def _sentence(self, job: Job, exc: Exception) -> str:
        """The one sentence for an unexpected failure (the log gets the traceback when it is our bug)."""
        if self._outage(exc):
            from forge.sessions.store import DB_UNAVAILABLE

            log.warning("model job %s (%s): the session database failed: %s", job.id, job.label, exc)
            return DB_UNAVAILABLE
        log.exception("model job %s (%s) failed", job.id, job.label)
        return f"Internal error ({type(exc).__name__}); the request was not completed."

    def _outage(self, exc: Exception) -> bool:
        """Whether an error means the session database cannot be reached."""
        return self.table is not None and isinstance(exc, self.table.sessions.outage_errors)

    def _save_final(self, final: JobView) -> bool:
        """Write a job's final state; False when the database did not take it (the flusher retries)."""
        if self.table is None:
            return True
        try:
            self.table.save([final])
            return True
        except Exception as exc:
            log.warning("job %s: its final state could not be written yet: %s", final.id, exc)
            return False

    def _flush_loop(self) -> None:
        """Write changed jobs every FLUSH_S and refresh the heartbeat every HEARTBEAT_S, until stopped and idle."""
        last_beat = 0.0
        while not (self._stopped and self._running is None and not self._waiting):
            time.sleep(FLUSH_S)
            with self._lock:
                jobs = list(self._jobs.values())
            self._flush([j for j in jobs if j.dirty])
            if time.monotonic() - last_beat >= HEARTBEAT_S and any(j.state in LIVE for j in jobs):
                last_beat = time.monotonic() if self._beat() else last_beat

    def _flush(self, jobs: list[Job]) -> None:
        """Write these jobs' state; on failure they stay dirty and are written at the next flush."""
        if self.table is None or not jobs:
            return
        with self._saving:
            for job in jobs:
                job.dirty = False
            try:
                self.table.save([job.view() for job in jobs])
            except Exception as exc:
                for job in jobs:
                    job.dirty = True
                log.warning("job state could not be written (retrying): %s", exc)

    def _beat(self) -> bool:
        """Refresh the heartbeat of this process's live jobs; False when the database did not take it."""
        try:
            if self.table is not None:
                self.table.beat()
            return True
        except Exception as exc:
            log.warning("job heartbeat could not be written (retrying): %s", exc)
            return False

    def _announce_positions(self) -> None:
        """Tell every waiting job its place in the queue."""
        with self._lock:
            order = self._order()
        for place, job in enumerate(order):
            if job.state == "queued":
                job.emit("position", place)

    def _forget_old(self) -> None:
        """Drop finished jobs older than KEEP_DONE_S from memory (under the lock)."""
        now = time.monotonic()
        for job_id in [j.id for j in self._jobs.values() if j.finished_at and now - j.finished_at > KEEP_DONE_S]:
            del self._jobs[job_id]


@dataclass
class Cursor:
    """What one reader of a job's events has been sent: the text's reset count and length, place and progress.

    Its event id (`resets.sent`) comes back as Last-Event-ID when the browser reconnects, so the stream goes on
    where it stopped, whichever process the reconnection reaches.
    """

    resets: int | None = None
    sent: int = 0
    position: int | None = None
    progress: Any = None

    @classmethod
    def parse(cls, event_id: str | None) -> Cursor:
        """The cursor an event id stands for (a fresh one for none or a malformed one)."""
        resets, _, sent = (event_id or "").partition(".")
        if resets.isdigit() and sent.isdigit():
            return cls(resets=int(resets), sent=int(sent))
        return cls()

    @property
    def event_id(self) -> str:
        """The cursor as an event id."""
        return f"{self.resets or 0}.{self.sent}"

    def advance(self, view: JobView) -> list[tuple[str, Any]]:
        """The events that bring this reader from what it was sent to the job's state: (kind, data) pairs."""
        events: list[tuple[str, Any]] = []
        if view.position != self.position:
            self.position = view.position
            events.append(("position", view.position))
        if self.resets is None or view.resets != self.resets:
            if self.resets is not None and self.sent:
                events.append(("reset", "draft replaced"))
            self.resets, self.sent = view.resets, 0
        if len(view.text) > self.sent:
            events.append(("text", view.text[self.sent :]))
            self.sent = len(view.text)
        if view.progress is not None and view.progress != self.progress:
            self.progress = view.progress
            events.append(("progress", view.progress))
        if view.state == "done":
            events.append(("done", view.result))
        elif view.state == "failed":
            events.append(("failed", {"error": view.error, "status": view.status}))
        return events


def view_json(view: JobView) -> dict[str, Any]:
    """A job as GET /api/jobs/{id} answers for it."""
    return {"job": view.id, "state": view.state, "position": view.position, "result": view.result,
            "error": view.error}  # fmt: skip
