"""Pytest plugin: application services over the real model, knowledge and index, built once per session.

Use it from a test module with `pytest_plugins = ["tests.support.item_fixtures"]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from forge.services import Services
from forge.telemetry import setup_tracing
from tests.support.services_helpers import make_services


@pytest.fixture(scope="session")
def shared_services(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Iterator[Services]:
    """Services with no reachable escalation target (the embedded model alone), index built once."""
    svc = make_services(tmp_path_factory.mktemp("forge-data"), cache_dir)
    svc.ensure_index()
    yield svc
    svc.close()


@pytest.fixture
def services(shared_services: Services) -> Iterator[Services]:
    """The shared services, with their trace store the active one for this test (other tests start their own)."""
    handle = setup_tracing(shared_services.settings)
    yield shared_services
    if handle is not None:
        handle.release()
