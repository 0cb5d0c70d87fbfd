"""The researcher's journey in real Chromium: log in, filter the traces, open one (its waterfall), compare two runs,
open the statistics; then every research page at desktop and phone width, with screenshots.

The runs are real (the same as tests/test_web_research.py makes: tutoring turns through the API, one reviewed item
run). Screenshots go to docs/screenshots/ only with FORGE_SCREENSHOTS=1, else into the test's tmp dir.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.browser import DESKTOP, PHONE, chromium_page, require_browser, screenshot_dir
from tests.support.services_helpers import make_services
from tests.support.web_helpers import PASSWORD, live_server
from tests.test_web_research import Site, make_traces

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: docs/screenshots with FORGE_SCREENSHOTS=1, else the test's tmp dir."""
    return screenshot_dir(tmp_path)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Iterator[Site]:
    """A live server whose trace store holds real runs (made only when a browser is there to look at them)."""
    require_browser()
    services = make_services(tmp_path_factory.mktemp("research-browser-data"), cache_dir)
    try:
        with live_server(services) as base:
            yield make_traces(services, base)
    finally:
        services.close()


def log_in(page: Page, name: str = "rita") -> None:
    """Log in through the login form, as a person does."""
    page.goto("/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/research")


def no_page_overflow(page: Page) -> bool:
    """Whether the page fits its viewport's width (wide tables and plots scroll inside their own boxes)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


#: Console errors that are not the research pages' (reported to the lead): the browser's own /favicon.ico request
#: (the app has none), and the CSP refusing the `style` attribute forge/web/plots.py puts on each <svg> (the pages'
#: stylesheet sizes the plots instead).
KNOWN_ERRORS = ("Applying inline style violates the following Content Security Policy directive 'style-src 'self''",)


def watch_console(page: Page) -> list[str]:
    """Collect the page's console errors (CSP violations, failed loads, script errors) as they happen."""
    errors: list[str] = []

    def seen(message: ConsoleMessage) -> None:
        if message.type != "error" or message.text.startswith(KNOWN_ERRORS):
            return
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        errors.append(f"{message.text} at {message.location.get('url')}")

    page.on("console", seen)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_a_researcher_filters_opens_a_trace_compares_two_and_reads_the_statistics(site: Site, shots: Path) -> None:
    require_browser()
    with chromium_page(site.base, width=DESKTOP[0], height=DESKTOP[1]) as page:
        errors = watch_console(page)
        log_in(page)
        rows = page.locator("table.runs tbody tr")
        assert rows.count() == 4

        page.get_by_label("Kind").select_option("tutoring_turn")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url("**/research?*kind=tutoring_turn*")
        assert rows.count() == 3
        page.get_by_label("Model contains").fill("smollm2")
        page.get_by_label("Model contains").press("Enter")  # the form sends by keyboard too
        page.wait_for_url("**model=smollm2*")
        assert rows.count() == 3 and page.get_by_label("Kind").input_value() == "tutoring_turn"
        page.screenshot(path=shots / "research-list-desktop.png", full_page=True)

        newest = site.ana[1]
        page.locator(f'a[href="/research/traces/{newest}"]').click()
        page.wait_for_url(f"**/research/traces/{newest}")
        waterfall = page.locator("figure.waterfall svg")
        assert waterfall.is_visible() and waterfall.locator("g.span").count() >= 5
        detect = page.locator("summary", has_text="invoke_agent detect")
        detect.click()  # a span opens to its attributes, events and decisions
        assert page.locator("details[open] .attrs").first.is_visible()
        page.screenshot(path=shots / "research-trace-desktop.png", full_page=True)

        page.go_back()
        page.get_by_role("radio", name=f"Compare as A: trace {site.ana[0][:12]}").check()
        page.get_by_role("radio", name=f"Compare as B: trace {site.ana[1][:12]}").check()
        page.get_by_role("button", name="Compare A with B").click()
        page.wait_for_url("**/research/diff?*")
        assert page.locator("table.diff tbody tr").count() >= 5
        assert page.locator("figure.waterfall svg").count() == 2
        assert page.get_by_text("Whole run:").is_visible()
        page.screenshot(path=shots / "research-diff-desktop.png", full_page=True)

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Statistics").click()
        page.wait_for_url("**/research/stats")
        assert page.get_by_role("heading", name="Acceptance by type").is_visible()
        assert page.locator("main svg").count() >= 6
        page.screenshot(path=shots / "research-stats-desktop.png", full_page=True)
        assert errors == []


def test_the_research_pages_fit_a_phone(site: Site, shots: Path) -> None:
    require_browser()
    pages = {
        "list": "/research",
        "trace": f"/research/traces/{site.item}",
        "diff": f"/research/diff?a={site.ana[0]}&b={site.ana[1]}",
        "stats": "/research/stats",
    }
    with chromium_page(site.base, width=PHONE[0], height=PHONE[1]) as page:
        errors = watch_console(page)
        log_in(page)
        for name, path in pages.items():
            page.goto(path)
            assert no_page_overflow(page), name
            page.screenshot(path=shots / f"research-{name}-phone.png", full_page=True)
        page.goto("/research")
        table = page.locator(".table-wrap").first
        assert page.evaluate("e => e.scrollWidth > e.clientWidth", table.element_handle())  # it scrolls sideways
        page.keyboard.press("Tab")  # keyboard: the skip link comes first
        assert page.evaluate("document.activeElement.className") == "skip"
        assert errors == []
