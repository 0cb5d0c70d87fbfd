"""A pool of Ollama servers: spread calls, take a failing server out, put it back when it answers again.

Routing: among the hosts in the pool, the one with the fewest calls in flight; ties go round-robin. A host that fails
(connection refused, timeout, HTTP 5xx, a dropped stream) is *ejected*: no call goes to it for `eject_s` (doubled for
each ejection in a row, up to `eject_max_s`), then a health check (`GET /api/version`, short timeout) decides whether
it comes back. The checks run in one background thread that exists only while some host is ejected. When every host
is ejected the pool still hands one out (the one whose ejection ends first), so a one-host setup behaves as before and
a pool never refuses work just because all its hosts failed once ("panic mode", as Envoy calls it).

Thread-safe: the web app calls from several threads; one lock guards the hosts' state.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from pydantic import BaseModel, Field

#: A health check: returns if the host is healthy, raises (anything) if not.
HealthCheck = Callable[[str, float], None]


class PoolConfig(BaseModel):
    """How the pool judges its hosts (filled from the application settings)."""

    check_timeout_s: float = Field(default=2.0, gt=0, description="Budget of one health check.")
    check_interval_s: float = Field(default=2.0, gt=0, description="Pause between health checks of ejected hosts.")
    eject_s: float = Field(default=5.0, ge=0, description="Shortest time a failed host stays out of the pool.")
    eject_max_s: float = Field(
        default=60.0, ge=0, description="Longest time out of the pool (after repeated failures)."
    )


@dataclass
class HostStatus:
    """One host as the pool sees it (a copy; changing it changes nothing)."""

    url: str
    healthy: bool
    in_flight: int
    served: int
    failed: int
    ejections: int
    reason: str | None


@dataclass
class _Host:
    """A host's mutable state, guarded by the pool's lock."""

    url: str
    in_flight: int = 0
    served: int = 0
    failed: int = 0
    #: Ejections in a row (reset by a call that succeeds); sets how long the next ejection lasts.
    ejections: int = 0
    #: Monotonic time before which the host is not checked again; None while the host is in the pool.
    ejected_until: float | None = None
    reason: str | None = None

    def status(self) -> HostStatus:
        return HostStatus(self.url, self.ejected_until is None, self.in_flight, self.served, self.failed,
                          self.ejections, self.reason)  # fmt: skip


def version_check(url: str, timeout_s: float) -> None:
    """The default health check: `GET /api/version` answers 200 within the timeout."""
    response = httpx.get(f"{url}/api/version", timeout=timeout_s)
    response.raise_for_status()


class HostPool:
    """Ollama hosts shared by every Ollama model of a process (one pool per host list)."""

    def __init__(
        self, urls: Sequence[str], config: PoolConfig | None = None, check: HealthCheck = version_check
    ) -> None:
        if not urls:
            raise ValueError("a host pool needs at least one host")
        self.config = config or PoolConfig()
        self._hosts = {url: _Host(url) for url in dict.fromkeys(u.rstrip("/") for u in urls)}
        self._check = check
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._checker: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def urls(self) -> list[str]:
        """Every host, in configured order."""
        return list(self._hosts)

    def pick(self, exclude: set[str] | frozenset[str] = frozenset()) -> tuple[str, bool] | None:
        """The host for the next call and whether it is in the pool (False: all are ejected); None if all excluded.

        Fewest calls in flight first; ties round-robin.
        """
        with self._lock:
            candidates = [h for h in self._hosts.values() if h.url not in exclude]
            if not candidates:
                return None
            healthy = [h for h in candidates if h.ejected_until is None]
            if not healthy:  # panic mode: the host whose ejection ends first
                return min(candidates, key=lambda h: h.ejected_until or 0.0).url, False
            least = min(h.in_flight for h in healthy)
            tied = [h for h in healthy if h.in_flight == least]
            return tied[next(self._turn) % len(tied)].url, True

    @contextmanager
    def serving(self, url: str) -> Iterator[None]:
        """Count one call in flight on a host for the duration of the block."""
        with self._lock:
            self._hosts[url].in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._hosts[url].in_flight -= 1

    def succeeded(self, url: str) -> None:
        """A call on the host worked: it is back in the pool, its run of ejections over."""
        with self._lock:
            host = self._hosts[url]
            host.served += 1
            host.ejections, host.ejected_until, host.reason = 0, None, None

    def failed(self, url: str, reason: str) -> bool:
        """A call on the host failed by the host's fault: eject it (True if it was in the pool until now).

        A pool of one host never ejects it: there is nowhere else to go, and retries keep their meaning.
        """
        with self._lock:
            host = self._hosts[url]
            host.failed += 1
            if len(self._hosts) == 1:
                return False
            was_in = host.ejected_until is None
            host.ejections += 1
            hold = min(self.config.eject_s * 2 ** (host.ejections - 1), self.config.eject_max_s)
            host.ejected_until = time.monotonic() + hold
            host.reason = reason
            self._start_checker()
            return was_in

    def status(self) -> list[HostStatus]:
        """Every host's state, in configured order."""
        with self._lock:
            return [h.status() for h in self._hosts.values()]

    def check(self, url: str) -> bool:
        """Health-check one host now; a host that passes is put back in the pool. True if it passed."""
        try:
            self._check(url, self.config.check_timeout_s)
        except Exception as exc:  # any failure of the check means "not healthy"; the reason is kept
            with self._lock:
                self._hosts[url].reason = f"health check failed: {type(exc).__name__}: {str(exc)[:200]}"
            return False
        with self._lock:
            host = self._hosts[url]
            host.ejected_until, host.reason = None, None
        return True

    def close(self) -> None:
        """Stop the health-check thread, if one runs."""
        self._stop.set()
        checker = self._checker
        if checker is not None:
            checker.join(timeout=self.config.check_timeout_s + 1.0)

    def _start_checker(self) -> None:
        """Start the health-check thread unless it runs (called with the lock held)."""
        if self._checker is None or not self._checker.is_alive():
            self._checker = threading.Thread(target=self._check_ejected, name="ollama-pool-health", daemon=True)
            self._checker.start()

    def _check_ejected(self) -> None:
        """Health-check ejected hosts whose ejection time is over, until no host is ejected (then the thread ends)."""
        while not self._stop.is_set():
            plan = self._due()
            if plan is None:
                return
            due, wake_in = plan
            for url in due:
                if not self.check(url):
                    self._extend(url)
            self._stop.wait(wake_in if not due else 0.0)

    def _due(self) -> tuple[list[str], float] | None:
        """Ejected hosts due for a check and seconds until the next one is; None when no host is ejected.

        Returning None also marks the checker as ended (under the lock, so a new ejection starts a new one).
        """
        with self._lock:
            ejected = [h.ejected_until for h in self._hosts.values() if h.ejected_until is not None]
            if not ejected:
                self._checker = None
                return None
            now = time.monotonic()
            due = [h.url for h in self._hosts.values() if h.ejected_until is not None and h.ejected_until <= now]
            wake_in = min(max(min(ejected) - now, 0.05), self.config.check_interval_s)
            return due, wake_in

    def _extend(self, url: str) -> None:
        """A failed health check keeps the host out for another check interval."""
        with self._lock:
            host = self._hosts[url]
            if host.ejected_until is not None:
                host.ejected_until = time.monotonic() + self.config.check_interval_s
