"""The web app for tests: a real uvicorn server on a free loopback port, accounts, and a logged-in HTTP client.

with live_server(services) as base:            # http://127.0.0.1:PORT
    add_user(services, "ana", "learner", class_name="7b")
    with ApiClient(base, "ana") as api:        # logged in through POST /api/login
        turn = api.post("/api/tutor", {"message": "I go to school yesterday."})
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from forge.services import Services
from forge.web.accounts import Accounts, User
from forge.web.app import create_app

PASSWORD = "correct horse battery"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(services: Services) -> Iterator[str]:
    """Serve the app over these services in a background thread; yields its base URL, stops it on exit."""
    port = free_port()
    config = uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="on")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="forge-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def add_user(services: Services, name: str, role: str, *, class_name: str | None = None,
             password: str = PASSWORD) -> User:  # fmt: skip
    """Create an account directly in the session database."""
    return Accounts(services.sessions).add(name, role, password, class_name)


class ApiClient:
    """An httpx client logged in as one user, sending the CSRF token with every change."""

    def __init__(self, base: str, username: str, password: str = PASSWORD, timeout_s: float = 600.0) -> None:
        self.http = httpx.Client(base_url=base, timeout=timeout_s)
        response = self.http.post("/api/login", json={"username": username, "password": password})
        response.raise_for_status()
        self.csrf = str(response.json()["csrf"])

    def post(self, path: str, body: dict[str, Any], expect: int = 200) -> Any:
        """POST JSON and return the JSON answer, checking the status."""
        response = self.http.post(path, json=body, headers={"X-CSRF-Token": self.csrf})
        assert response.status_code == expect, (response.status_code, response.text[:500])
        return response.json()

    def get(self, path: str, expect: int = 200, **params: Any) -> Any:
        """GET and return the JSON answer, checking the status."""
        response = self.http.get(path, params=params, headers={"Accept": "application/json"})
        assert response.status_code == expect, (response.status_code, response.text[:500])
        return response.json()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()


def job_events(http: httpx.Client, job: str) -> list[tuple[str, str]]:
    """Read a job's server-sent events until done or failed: (kind, data) pairs."""
    found: list[tuple[str, str]] = []
    with http.stream("GET", f"/api/jobs/{job}/events") as response:
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                found.append((kind, line[6:]))
                if kind in ("done", "failed"):
                    break
    return found
