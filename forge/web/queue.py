"""The model queue: the embedded model serves one call at a time, so every model job of the web app runs here.

One worker thread takes jobs round-robin between users (a user who queues ten jobs does not hold up the next
user for ten turns: each user with waiting jobs gets one turn in order). A job reports events while it runs —
its place in the queue, text as the model writes it, progress ("item 2 of 3") — which pages read as server-sent
events, and its result or its error at the end. Page loads, reviews and trace browsing never go through here.

Jobs live in this process only: a job outlives neither the process nor `KEEP_DONE_S` after it finished.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from agents import streaming
from knowledge.errors import ForgeError, UserInputError

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed"]
#: How long a finished job's result stays readable.
KEEP_DONE_S = 600.0
#: Jobs one user may have waiting at once (more are refused with a clear message).
MAX_WAITING_PER_USER = 5


@dataclass
class Event:
    """One thing a job reported: kind ('position', 'text', 'progress', 'reset', 'done', 'failed') and data."""

    seq: int
    kind: str
    data: Any


@dataclass
class Job:
    """One unit of model work for one user."""

    id: str
    user: str
    label: str
    work: Callable[[], Any]
    state: JobState = "queued"
    result: Any = None
    error: str | None = None
    status: int = 200
    events: list[Event] = field(default_factory=list)
    finished_at: float | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _seq: Iterator[int] = field(default_factory=itertools.count)

    def emit(self, kind: str, data: Any) -> None:
        """Record an event and wake whoever is waiting for one."""
        with self._changed:
            self.events.append(Event(next(self._seq), kind, data))
            self._changed.notify_all()

    def wait_events(self, after: int, timeout_s: float) -> list[Event]:
        """Events after sequence number `after`, waiting up to `timeout_s` for one if there are none yet."""
        with self._changed:
            if not self._new(after) and self.state in ("queued", "running"):
                self._changed.wait(timeout_s)
            return self._new(after)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the job has finished; False if the timeout passed first."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._changed:
            while self.state in ("queued", "running"):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def _new(self, after: int) -> list[Event]:
        """Events with a sequence number above `after`."""
        return [e for e in self.events if e.seq > after]


class ModelQueue:
    """A fair queue of model jobs with one worker thread (started on the first job)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._waiting: OrderedDict[str, deque[Job]] = OrderedDict()
        self._jobs: dict[str, Job] = {}
        self._worker: threading.Thread | None = None
        self._running: Job | None = None
        self._stopped = False

    def submit(self, user: str, label: str, work: Callable[[], Any]) -> Job:
        """Queue a job for a user; it runs when every user ahead in the rotation has had a turn."""
        job = Job(id=uuid.uuid4().hex[:16], user=user, label=label, work=work)
        with self._lock:
            if self._stopped:
                raise UserInputError("The server is shutting down; try again in a moment.")
            line = self._waiting.setdefault(user, deque())
            if len(line) >= MAX_WAITING_PER_USER:
                raise UserInputError(
                    f"You already have {len(line)} requests waiting; wait for one to finish before sending more."
                )
            line.append(job)
            self._jobs[job.id] = job
            self._forget_old()
            self._ensure_worker()
            self._lock.notify_all()
        self._announce_positions()
        return job

    def get(self, job_id: str, user: str) -> Job | None:
        """A job by id, only for the user who submitted it."""
        job = self._jobs.get(job_id)
        return job if job is not None and job.user == user else None

    def position(self, job: Job) -> int:
        """How many jobs run before this one (0 when it is running or next)."""
        with self._lock:
            order = self._order()
        return order.index(job) if job in order else 0

    def waiting(self) -> int:
        """Jobs waiting, not counting the one running."""
        with self._lock:
            return sum(len(line) for line in self._waiting.values())

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

    def _ensure_worker(self) -> None:
        """Start the worker thread if it is not running (under the lock)."""
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="forge-model-queue", daemon=True)
            self._worker.start()

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
        job.state = "running"
        job.emit("position", 0)
        try:
            with streaming.streaming_to(job.emit):
                job.result = job.work()
            job.state = "done"
            job.emit("done", job.result)
        except UserInputError as exc:
            self._fail(job, str(exc), 400)
        except ForgeError as exc:
            self._fail(job, str(exc), 503)
        except Exception as exc:  # our bug: the server goes on, the user gets a sentence, the log the traceback
            log.exception("model job %s (%s) failed", job.id, job.label)
            self._fail(job, f"Internal error ({type(exc).__name__}); the request was not completed.", 500)
        finally:
            job.finished_at = time.monotonic()

    def _fail(self, job: Job, message: str, status: int) -> None:
        """Finish a job with an error."""
        job.error, job.status, job.state = message, status, "failed"
        job.emit("failed", {"error": message, "status": status})

    def _announce_positions(self) -> None:
        """Tell every waiting job its place in the queue."""
        with self._lock:
            order = self._order()
        for place, job in enumerate(order):
            if job.state == "queued":
                job.emit("position", place)

    def _forget_old(self) -> None:
        """Drop finished jobs older than KEEP_DONE_S (under the lock)."""
        now = time.monotonic()
        for job_id in [j.id for j in self._jobs.values() if j.finished_at and now - j.finished_at > KEEP_DONE_S]:
            del self._jobs[job_id]
