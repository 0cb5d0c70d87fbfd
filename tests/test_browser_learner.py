"""The learner's journey in real Chromium: log in, chat by typing and pressing Enter (a mistake corrected inline, a
question answered, an exercise asked for and answered in place), watch the queue place and the reply as it
streams, open the progress page; then the learner pages at phone width, with screenshots.

The model is the real SmolLM2. To see the queue place for certain, another learner's turn is queued just before
the first message. Screenshots go to docs/screenshots/ only with FORGE_SCREENSHOTS=1, else into the test's tmp dir.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from forge.services import Services
from tests.support.browser import DESKTOP, PHONE, chromium_page, require_browser, screenshot_dir
from tests.support.services_helpers import make_services
from tests.support.web_helpers import PASSWORD, ApiClient, add_user, live_server

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page

#: Console errors that are not the learner pages': the CSP refusing the `style` attribute forge/web/plots.py puts on
#: each <svg> (learner.css sizes the plots instead); the browser's own /favicon.ico request is left out below.
KNOWN_ERRORS = ("Applying inline style violates the following Content Security Policy directive 'style-src 'self''",)
#: Another learner's turn that holds the model for a while (the item graph makes an exercise, ~20 s).
BUSY_MESSAGE = "Can I have an exercise on the past simple, please?"
#: Records what the forms' status blocks show into sessionStorage (it survives the page change at the end of a
#: turn); Playwright adds it to every page before the page's own scripts, outside the page's CSP.
STATUS_LOG = """
document.addEventListener("DOMContentLoaded", () => {
  const seen = JSON.parse(sessionStorage.getItem("forge-status") || "[]");
  const note = (kind, text) => {
    const last = seen[seen.length - 1];
    if (text && !(last && last[0] === kind && last[1] === text)) {
      seen.push([kind, text]);
      sessionStorage.setItem("forge-status", JSON.stringify(seen));
    }
  };
  new MutationObserver(() => {
    document.querySelectorAll("[data-job-message]").forEach((el) => note("message", el.textContent));
    document.querySelectorAll("[data-job-text]").forEach((el) => note("text", el.textContent));
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
});
"""
#: Long enough for a turn that makes an exercise (the item graph runs) on two busy cores.
TURN_MS = 240_000


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: docs/screenshots with FORGE_SCREENSHOTS=1, else the test's tmp dir."""
    return screenshot_dir(tmp_path)


@pytest.fixture
def services(isolated_env: Path, cache_dir: Path) -> Services:
    """Services over this test's data dir, with two learners."""
    found = make_services(isolated_env, cache_dir)
    add_user(found, "ana", "learner", class_name="7b")
    add_user(found, "bob", "learner", class_name="7b")
    return found


def log_in(page: Page, name: str = "ana") -> None:
    """Log in through the login form, as a person does."""
    page.goto("/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/learn")


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


def say(page: Page, text: str, box: str = "textarea[name=message]") -> None:
    """Type a message into the chat box and press Enter, as a learner does, and wait for the page of the turn."""
    before = page.locator("article.exchange").count()
    field = page.locator(box).last
    field.click()
    field.type(text)
    field.press("Enter")
    page.locator("article.exchange").nth(before).wait_for(timeout=TURN_MS)  # the page of the turn has one more


def status_seen(page: Page) -> list[tuple[str, str]]:
    """What the status blocks showed so far (see STATUS_LOG), as (kind, text) pairs, oldest first."""
    raw = page.evaluate("sessionStorage.getItem('forge-status') || '[]'")
    return [(str(kind), str(text)) for kind, text in json.loads(str(raw))]


def no_page_overflow(page: Page) -> bool:
    """Whether the page fits its viewport's width."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_a_learner_chats_three_turns_answers_an_exercise_and_opens_the_progress(
    services: Services, shots: Path
) -> None:
    require_browser()
    with live_server(services) as base, chromium_page(base, width=DESKTOP[0], height=DESKTOP[1]) as page:
        errors = watch_console(page)
        page.add_init_script(STATUS_LOG)
        log_in(page)
        assert page.get_by_role("heading", name="Your tutor").is_visible()
        page.screenshot(path=shots / "learner-start-desktop.png", full_page=True)

        # 1. a mistake, sent while another learner's exercise is being made: the page shows its place in the queue,
        # then the reply as the model writes it (it streams in well under a second on a warm model, so what the
        # status block showed is recorded as it happens, see STATUS_LOG)
        with ApiClient(base, "bob") as bob:
            bob.post("/api/tutor", {"message": BUSY_MESSAGE, "wait": False}, expect=202)
            box = page.get_by_label("Your first message")
            box.click()
            box.type("My sister have a big dog.")
            box.press("Enter")
            page.locator("[data-job-message]").filter(has_text="Waiting: 1 request(s) ahead").wait_for(timeout=30_000)
            page.screenshot(path=shots / "learner-waiting-desktop.png", full_page=True)
            page.wait_for_url(re.compile(r".*/learn/[0-9a-f]{12}$"), timeout=TURN_MS)
        shown = status_seen(page)
        assert any(kind == "message" and text.startswith("Waiting: 1 request") for kind, text in shown), shown
        assert any(kind == "message" and text == "Working…" for kind, text in shown), shown
        assert any(kind == "text" and text.strip() for kind, text in shown), shown  # the streamed reply
        mark = page.locator("mark.fix").first
        assert mark.is_visible() and mark.inner_text().startswith("have")
        fixes = page.locator("ol.fixes li").first
        assert "has" in fixes.locator("ins").inner_text() and "subject-verb agreement" in fixes.inner_text()

        # 2. a question, answered
        say(page, "What is the difference between for and since?")
        answer = page.locator(".bubble.tutor.answer").last
        assert "Since + the point when it started" in answer.inner_text()

        # 3. yes to the exercise the answer offers: shown in place with its own answer form
        say(page, "Yes, please.")
        exercise = page.locator("section.exercise").last
        assert exercise.is_visible() and exercise.get_by_label("Your answer").is_visible()
        assert page.locator("mark.fix").count() >= 1  # the first turn's correction is still marked
        page.screenshot(path=shots / "learner-exercise-desktop.png", full_page=True)

        # the answer, typed into the exercise's own form: graded in the next turn
        say(page, "music", box="section.exercise input[name=message]")
        grade = page.locator("p.grade").last
        assert grade.is_visible() and re.search("Right|Not quite", grade.inner_text())
        assert page.locator("section.exercise form").count() == 0  # answered: no form any more
        chat_url = page.url
        page.locator("#message").focus()
        page.screenshot(path=shots / "learner-chat-desktop.png", full_page=True)

        page.get_by_role("link", name="Progress").click()
        page.wait_for_url("**/learn/progress")
        plots = page.locator("figure.plot svg")
        assert plots.count() == 2 and plots.first.is_visible()
        assert page.locator("figure.plot svg circle.point").count() == 4  # one level estimate per turn
        assert "subject-verb agreement" in page.locator("figure.plot").nth(1).inner_text()
        assert "1 offered" in page.get_by_role("heading", name="Exercises").locator("xpath=..").inner_text()
        page.screenshot(path=shots / "learner-progress-desktop.png", full_page=True)
        page.get_by_role("link", name="Tutor").click()
        page.wait_for_url("**/learn")
        assert (
            page.locator(".session-list li").count() == 1 and page.get_by_text("My sister have a big dog.").is_visible()
        )
        page.screenshot(path=shots / "learner-sessions-desktop.png", full_page=True)
        assert errors == []

    with live_server(services) as base, chromium_page(base, width=PHONE[0], height=PHONE[1]) as phone:
        errors = watch_console(phone)
        log_in(phone)
        phone.screenshot(path=shots / "learner-sessions-phone.png", full_page=True)
        assert no_page_overflow(phone)
        phone.goto("/" + chat_url.split("/", 3)[3])
        assert phone.locator("mark.fix").first.is_visible() and no_page_overflow(phone)
        phone.screenshot(path=shots / "learner-chat-phone.png", full_page=True)
        phone.goto("/learn/progress")
        assert phone.locator("figure.plot svg").first.is_visible() and no_page_overflow(phone)
        phone.screenshot(path=shots / "learner-progress-phone.png", full_page=True)
        assert errors == []
