"""The browser test helpers drive the system chromium for real: a page from a local server, a click, a screenshot."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support import browser
from tests.support.browser import DESKTOP, PHONE, chromium_executable, chromium_page, require_browser

PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>forge browser check</title></head>
<body>
<p id="status">waiting</p>
<button id="go" onclick="document.getElementById('status').textContent = 'clicked ' + window.innerWidth">Go</button>
</body></html>
"""


class _PageHandler(BaseHTTPRequestHandler):
    """Serves PAGE at / and 404 elsewhere, without logging to stderr."""

    def do_GET(self) -> None:
        if self.path != "/":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_chromium_executable_is_the_system_one() -> None:
    require_browser()
    executable = chromium_executable()
    assert executable is not None
    assert ".cache/ms-playwright" not in executable


@pytest.mark.parametrize(("width", "height"), [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_click_changes_text_and_screenshot_is_png(base_url: str, tmp_path: Path, width: int, height: int) -> None:
    require_browser()
    with chromium_page(base_url, width=width, height=height) as page:
        page.goto("/")  # relative: resolved against base_url
        assert page.title() == "forge browser check"
        assert page.text_content("#status") == "waiting"
        page.click("#go")
        page.wait_for_function("document.getElementById('status').textContent !== 'waiting'")
        assert page.text_content("#status") == f"clicked {width}"
        shot = tmp_path / "page.png"
        page.screenshot(path=str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == width  # the IHDR width is the viewport's


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No chromium anywhere: none configured, none at the system path, none on PATH."""
    monkeypatch.delenv("PF_TEST_CHROMIUM", raising=False)
    monkeypatch.setattr(browser, "SYSTEM_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))


def test_require_browser_skips_with_a_reason_when_chromium_is_missing(
    no_chromium: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert browser.chromium_executable() is None
    with pytest.raises(pytest.skip.Exception, match=r"chromium is missing .*bash \.ci/browser"):
        require_browser()


def test_require_browser_fails_under_ci(no_chromium: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="browser tests must run under CI"):
        require_browser()


def test_forge_chromium_wins_and_must_be_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("PF_TEST_CHROMIUM", str(fake))
    assert browser.chromium_executable() is None  # not executable: reported as missing, not used
    fake.chmod(0o755)
    assert browser.chromium_executable() == str(fake)
