"""Browser tests' helpers: Debian's chromium driven by Playwright's sync API, never a downloaded browser.

`.ci/browser` installs chromium and exports PF_TEST_CHROMIUM. A test calls `require_browser()` first (a skip with the
reason when chromium or playwright is missing; under CI, where browser tests must run, an error instead), then
opens pages with `with chromium_page(base_url) as page: ...` (a fresh browser, profile and context each time).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

DESKTOP = (1280, 900)
PHONE = (390, 844)
SYSTEM_CHROMIUM = "/usr/bin/chromium"

# Headless in a container, as root, offline: no sandbox (no user namespaces for it), no GPU, and none of the
# background traffic chromium starts on its own (updates, sync, QUIC probes), so a run inside `unshare -n` is quiet.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_executable() -> str | None:
    """The chromium to drive: $PF_TEST_CHROMIUM, else /usr/bin/chromium, else `chromium` on PATH (None if none)."""
    configured = os.environ.get("PF_TEST_CHROMIUM")
    if configured:
        return configured if _is_executable(configured) else None
    if _is_executable(SYSTEM_CHROMIUM):
        return SYSTEM_CHROMIUM
    return shutil.which("chromium")


def _is_executable(path: str) -> bool:
    """Whether `path` is an executable file."""
    return Path(path).is_file() and os.access(path, os.X_OK)


def missing_browser_reason() -> str | None:
    """Why browser tests cannot run here (one line), or None when chromium and playwright are both present."""
    if importlib.util.find_spec("playwright") is None:
        return "the Python package playwright is not installed (pip install 'playwright>=1.50')"
    if chromium_executable() is None:
        configured = os.environ.get("PF_TEST_CHROMIUM")
        where = f"PF_TEST_CHROMIUM={configured} is not executable" if configured else f"no {SYSTEM_CHROMIUM}"
        return f"chromium is missing ({where}); run `bash .ci/browser`"
    return None


def require_browser() -> None:
    """Skip the calling test when the browser is missing, except under CI (env CI set), where it is an error."""
    reason = missing_browser_reason()
    if reason is None:
        return
    if os.environ.get("CI"):  # set and not empty, as CI services and .ci/run's callers set it
        pytest.fail(f"browser tests must run under CI, but {reason}", pytrace=False)
    pytest.skip(reason)


@contextmanager
def chromium_page(base_url: str, *, width: int = DESKTOP[0], height: int = DESKTOP[1]) -> Iterator[Page]:
    """A page in a fresh headless chromium with a `width` x `height` viewport, relative URLs against `base_url`.

    The browser, its (temporary) profile and the context are closed on exit, also when the test fails.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    if executable is None:
        raise RuntimeError(missing_browser_reason() or "chromium is missing")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, base_url=base_url)
            try:
                yield context.new_page()
            finally:
                context.close()
        finally:
            browser.close()


#: Where the browser tests put their screenshots when asked (FORGE_SCREENSHOTS=1, kept by tests/conftest.py).
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot_dir(tmp_path: Path) -> Path:
    """docs/screenshots when FORGE_SCREENSHOTS=1 is set (to refresh the docs), else the test's own tmp dir."""
    target = DOCS_SHOTS if os.environ.get("FORGE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    return target
