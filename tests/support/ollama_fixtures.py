"""Pytest plugin: the Ollama-API test server (one per session) with faults reset around every test.

Use it from a test module with `pytest_plugins = ["tests.support.ollama_fixtures"]`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.support.ollama_server import OllamaTestServer


@pytest.fixture(scope="session")
def ollama_server() -> Iterator[OllamaTestServer]:
    """The test server on an ephemeral loopback port, loaded once for the session."""
    with OllamaTestServer() as server:
        yield server


@pytest.fixture
def ollama_api(ollama_server: OllamaTestServer) -> Iterator[OllamaTestServer]:
    """The session's server with no faults and an empty request log, for one test."""
    ollama_server.clear_faults()
    yield ollama_server
    ollama_server.clear_faults()


@pytest.fixture
def closed_port_url() -> str:
    """URL of a loopback port nothing listens on (bound, then closed), for 'connection refused'."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
