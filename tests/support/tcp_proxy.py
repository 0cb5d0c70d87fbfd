"""A small round-robin TCP proxy on loopback: several backends behind one address, as a load balancer puts them.

with TcpProxy([("127.0.0.1", 8001), ("127.0.0.1", 8002)]) as proxy:   # proxy.url == "http://127.0.0.1:PORT"
    ...

Each accepted connection goes to the next backend in turn (per connection, not per request: an HTTP client that
keeps its connection alive stays on one backend). A backend whose connect is refused is skipped for that
connection and the next one tried, as HAProxy does by default; when none accepts, the client's connection is
closed at once. Bytes are copied both ways by two threads per connection; when either side closes or resets,
both sockets are closed, so a backend killed mid-request resets its client's connection.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
from collections.abc import Sequence

Address = tuple[str, int]
CONNECT_TIMEOUT_S = 2.0


class TcpProxy:
    """Listen on a free loopback port and spread connections round-robin over the backends."""

    def __init__(self, backends: Sequence[Address], host: str = "127.0.0.1", port: int = 0) -> None:
        self.backends = list(backends)
        self._turn = itertools.count()
        self._listener = socket.create_server((host, port))
        self.address: Address = (host, int(self._listener.getsockname()[1]))
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)
        #: How many connections each backend took, by index (for tests that check the spreading).
        self.connections = [0] * len(self.backends)

    @property
    def url(self) -> str:
        """The proxy's HTTP base URL."""
        return f"http://{self.address[0]}:{self.address[1]}"

    def start(self) -> TcpProxy:
        """Start accepting connections."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and close every open connection."""
        self._stopped.set()
        self._listener.close()
        with self._lock:
            for sock in list(self._open):
                _close(sock)
            self._open.clear()
        self._thread.join(timeout=5)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        """Accept clients until stopped, each handed to its own connection thread."""
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), name="tcp-proxy-conn", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        """Connect the client to the next backend that accepts, then copy both ways."""
        upstream = self._connect()
        if upstream is None:
            _close(client)
            return
        with self._lock:
            self._open.update((client, upstream))
        done = threading.Event()
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pump, args=(source, sink, done), name="tcp-proxy-pump", daemon=True).start()
        done.wait()
        for sock in (client, upstream):
            _close(sock)
        with self._lock:
            self._open.difference_update((client, upstream))

    def _connect(self) -> socket.socket | None:
        """A connection to the next backend in turn, skipping those that refuse; None when none accepts."""
        start = next(self._turn)
        for offset in range(len(self.backends)):
            index = (start + offset) % len(self.backends)
            try:
                sock = socket.create_connection(self.backends[index], timeout=CONNECT_TIMEOUT_S)
            except OSError:
                continue
            sock.settimeout(None)
            self.connections[index] += 1
            return sock
        return None


def _pump(source: socket.socket, sink: socket.socket, done: threading.Event) -> None:
    """Copy bytes from source to sink until either side ends; then signal `done`."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        done.set()


def _close(sock: socket.socket) -> None:
    """Close a socket, ignoring one already closed."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
