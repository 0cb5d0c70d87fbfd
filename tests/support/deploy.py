"""A deployment for tests and benches: K real `forge serve` processes over one PostgreSQL, behind one address.

with Deployment(tmp_path, postgres_url=url, processes=2, env={"FORGE_OLLAMA_HOST": "http://127.0.0.1:9"}) as d:
    d.url                     # the round-robin proxy in front (tests/support/tcp_proxy.py)
    d.backends[0].url         # one process directly
    d.process_of("ab12...")   # which backend an X-Forge-Process id names
    d.kill(0)                 # kill -9, as a crash would
    d.restart(0)              # start it again on the same port, wait for /healthz

Each process is the project's CLI (`forge serve --port P`) with FORGE_POSTGRES_URL and a data dir of its own, the
rest of the environment shared (a real deployment shares settings such as the cache dir and the model). Its
output goes to `<root>/serve-<i>.log`. `PrivatePostgres` starts a PostgreSQL server of its own in a temp dir with
the binaries `.ci/postgres` installs, for tests that stop and restart the database without disturbing others.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from tests.support.tcp_proxy import TcpProxy
from tests.support.web_helpers import free_port

HEALTH_TIMEOUT_S = 120.0


def forge_command() -> list[str]:
    """The `forge` console script of this environment (the venv's), as a deployment runs it."""
    script = Path(sys.executable).with_name("forge")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from forge.cli.app import main; main()"]


@dataclass
class Backend:
    """One `forge serve` process: its port, its data dir, its log and (while it runs) its process."""

    index: int
    port: int
    data_dir: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """This process's own base URL."""
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict[str, object]:
        """Its /healthz answer (raises when it does not answer 200)."""
        response = httpx.get(f"{self.url}/healthz", timeout=10)
        response.raise_for_status()
        return dict(response.json())


class Deployment:
    """K `forge serve` processes sharing one PostgreSQL, with a round-robin TCP proxy in front."""

    def __init__(self, root: Path, *, postgres_url: str, processes: int = 2,
                 env: Mapping[str, str] | None = None) -> None:  # fmt: skip
        self.root = root
        self.postgres_url = postgres_url
        self.env = dict(env or {})
        self.backends = [Backend(i, free_port(), root / f"data-{i}", root / f"serve-{i}.log") for i in range(processes)]
        self.proxy = TcpProxy([("127.0.0.1", b.port) for b in self.backends])

    @property
    def url(self) -> str:
        """The one address in front of every process."""
        return self.proxy.url

    def start(self) -> Deployment:
        """Start every process, wait until each answers /healthz, then the proxy."""
        for backend in self.backends:
            self._spawn(backend)
        for backend in self.backends:
            self.wait_healthy(backend.index)
        self.proxy.start()
        return self

    def stop(self) -> None:
        """Stop the proxy and every process still running (SIGTERM, then SIGKILL after 20 s)."""
        self.proxy.stop()
        for backend in self.backends:
            if backend.proc is not None and backend.proc.poll() is None:
                backend.proc.terminate()
                try:
                    backend.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    backend.proc.kill()
                    backend.proc.wait()
            if backend._log_file is not None:
                backend._log_file.close()

    def kill(self, index: int) -> None:
        """kill -9 one process and reap it."""
        proc = self.backends[index].proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    def restart(self, index: int) -> None:
        """Start a stopped process again on its port and wait for its /healthz."""
        self._spawn(self.backends[index])
        self.wait_healthy(index)

    def wait_healthy(self, index: int, timeout_s: float = HEALTH_TIMEOUT_S) -> None:
        """Wait until a process answers /healthz with 200 (RuntimeError with its log's tail if it never does)."""
        backend = self.backends[index]
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                backend.health()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or backend.proc is None or backend.proc.poll() is not None:
                    tail = backend.log.read_text(errors="replace")[-2000:] if backend.log.exists() else ""
                    raise RuntimeError(f"forge serve #{index} did not become healthy:\n{tail}") from None
                time.sleep(0.2)

    def process_of(self, process_id: str) -> int:
        """The index of the backend whose /healthz names this process id (KeyError if none does)."""
        for backend in self.backends:
            if backend.proc is not None and backend.proc.poll() is None and backend.health()["process"] == process_id:
                return backend.index
        raise KeyError(process_id)

    def _spawn(self, backend: Backend) -> None:
        """Start `forge serve` for a backend, its output appended to its log."""
        backend.data_dir.mkdir(parents=True, exist_ok=True)
        env = os.environ | {"FORGE_POSTGRES_URL": self.postgres_url, "FORGE_DATA_DIR": str(backend.data_dir)}
        if backend._log_file is not None:
            backend._log_file.close()
        backend._log_file = backend.log.open("ab")
        backend.proc = subprocess.Popen([*forge_command(), "serve", "--port", str(backend.port)],
                                        env=env | self.env, stdout=backend._log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)  # fmt: skip

    def __enter__(self) -> Deployment:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PrivatePostgres:
    """A PostgreSQL server of its own in a temp dir (trust auth, a Unix socket there), to stop and start at will."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="forge-pg-"))
        self.root.chmod(0o755)
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.sock.mkdir()
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")

    @property
    def url(self) -> str:
        """The URL of its `postgres` database, over the Unix socket."""
        return f"postgresql://postgres@/postgres?host={self.sock}&port={self.port}"

    def start(self) -> PrivatePostgres:
        """Start the server and wait until it accepts connections."""
        options = f"-c listen_addresses='' -p {self.port} -c unix_socket_directories={self.sock} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60", "-o",
                  options, "start")  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server ('fast' ends every session, as a restart does)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs and delete its directory."""
        status = subprocess.run(self._as_owner("pg_ctl", "-D", str(self.data), "status"), capture_output=True)
        if status.returncode == 0:
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def _run(self, tool: str, *args: str) -> None:
        """Run one of the server's tools as the cluster's owner, failing with its output."""
        done = subprocess.run(self._as_owner(tool, *args), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stdout}{done.stderr}")

    def _as_owner(self, tool: str, *args: str) -> list[str]:
        """The command line running a server tool as the postgres user when we are root."""
        command = [str(self.bin / tool), *args]
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _pg_bin() -> Path:
    """The newest installed PostgreSQL server's bin directory (as `.ci/postgres` finds it)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL server binaries are missing; bash .ci/postgres start installs them.")
    return found[-1].parent
