"""The teacher's journey in real Chromium over the real SmolLM2: log in, make a set of three with the form (the
progress bar shows each item being made), reject one with a reason, edit one in place, and export Moodle XML
(Playwright's download, read back with lxml); then the teacher pages at desktop and phone width, with screenshots.

Screenshots go to docs/screenshots/ only with FORGE_SCREENSHOTS=1, else into the test's tmp dir.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from lxml import etree

from forge.reviews.store import ReviewFilter, ReviewStore
from forge.services import Services
from forge.web.accounts import Accounts
from tests.support.browser import DESKTOP, PHONE, chromium_page, require_browser, screenshot_dir
from tests.support.services_helpers import make_services
from tests.support.web_helpers import PASSWORD, add_user, live_server

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page

#: Long enough for a set of three on two busy cores (the first run also builds the retrieval index).
SET_MS = 420_000
#: Long enough for an edit's checks (the meaning checks score with the model).
REVIEW_MS = 120_000


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: docs/screenshots with FORGE_SCREENSHOTS=1, else the test's tmp dir."""
    return screenshot_dir(tmp_path)


@pytest.fixture
def services(isolated_env: Path, cache_dir: Path) -> Services:
    """Services over this test's data dir: teacher bo and learners ana and eve of class 7b, with a conversation each."""
    found = make_services(isolated_env, cache_dir)
    add_user(found, "bo", "teacher", class_name="7b")
    accounts = Accounts(found.sessions)
    for name, title, level in (("ana", "My weekend in the mountains", "A2"), ("eve", "Ordering food", "B1")):
        add_user(found, name, "learner", class_name="7b")
        accounts.own("session", found.sessions.create("tutor", title=title, level=level).id, name)
    return found


def log_in(page: Page, name: str = "bo") -> None:
    """Log in through the login form, as a person does."""
    page.goto("/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/teach")


def watch_console(page: Page) -> list[str]:
    """Collect the page's console errors (CSP violations, failed loads, script errors) as they happen."""
    errors: list[str] = []

    def seen(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{message.text} at {message.location.get('url')}")

    page.on("console", seen)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def overflowing(page: Page) -> list[str]:
    """The elements that reach past the viewport's right edge (none when the page fits its width)."""
    if page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"):
        return []
    found = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${el.textContent.trim().slice(0, 60)}`)""")
    return [str(line) for line in found][:8]


def make_set_with_the_form(page: Page, shots: Path) -> str:
    """Fill the form (A2, gap fill, 3, food), watch the progress bar, and land on the new set's page; its id."""
    from playwright.sync_api import expect

    form = page.locator("form[data-job='/teach/sets']")
    form.get_by_label("Level").select_option("A2")
    form.get_by_label("Exercise type").select_option("gap_fill")
    form.get_by_label("How many").select_option("3")
    form.get_by_label("Topic").fill("food")
    form.get_by_role("button", name="Make the set").click()
    bar = form.locator("progress")
    bar.wait_for(state="visible", timeout=SET_MS)
    message = form.locator("[data-job-message]")  # an expression for wait_for_function would need unsafe-eval
    expect(message).to_have_text(re.compile(r"Made [1-3] of 3 item\(s\)…"), timeout=SET_MS)
    assert bar.get_attribute("max") == "3" and bar.get_attribute("value") in ("1", "2", "3")
    page.screenshot(path=shots / "teacher-progress-desktop.png", full_page=False)
    page.wait_for_url(re.compile(r".*/teach/sets/[0-9a-f]{12}$"), timeout=SET_MS)
    return page.url.rsplit("/", 1)[1]


def reject_item(page: Page, number: int) -> None:
    """Reject an item with the rubric's 'wrong key' and a note, and wait for the card to show it."""
    card = page.locator(f"#item-{number}")
    form = card.locator("form.reject-form")
    form.get_by_label("Reason").select_option("wrong_key")
    form.get_by_label("Note (optional)").fill("Another option fits as well.")
    form.get_by_role("button", name=f"Reject item {number}").click()
    page.wait_for_url(f"**reviewed={number}#item-{number}", timeout=REVIEW_MS)
    assert page.locator(f"#item-{number} .badge.decision.reject").inner_text() == "bo: rejected (wrong key)"


def edit_item(page: Page, number: int) -> list[str]:
    """Edit an item's distractor in place and wait for the card to show the edit; the options as edited."""
    card = page.locator(f"#item-{number}")
    card.get_by_text(f"Edit item {number} in place").click()
    box = card.locator("textarea[name='field.options']")
    answer = card.locator("p.key").inner_text().split(") ", 1)[1].strip()
    options = [o for o in box.input_value().splitlines() if o.strip()]
    options[next(i for i, o in enumerate(options) if o != answer)] = "window"
    box.fill("\n".join(options))
    card.get_by_role("button", name="Save the edit").click()
    page.wait_for_url(f"**reviewed={number}#item-{number}", timeout=REVIEW_MS)
    edited = page.locator(f"#item-{number}")
    assert edited.locator(".badge.decision.modify").inner_text() == "bo: edited"
    assert "window" in edited.locator(".edited").inner_text()
    return options


def export_moodle(page: Page, session: str, tmp_path: Path) -> etree._Element:
    """Download the set as Moodle XML through the export form; the file's root element."""
    form = page.locator("form[action$='/export']")
    form.get_by_label("Format").select_option("moodle")
    with page.expect_download() as download:
        form.get_by_role("button", name="Download version 1").click()
    assert download.value.suggested_filename == f"exercises-{session}-v1.xml"
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    return etree.parse(str(target)).getroot()


def take_shots(base: str, session: str, shots: Path) -> None:
    """The teacher pages at desktop and phone width, each checked to fit its width."""
    pages = {"sets": "/teach", "set": f"/teach/sets/{session}", "class": "/teach/class"}
    for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
        with chromium_page(base, width=width, height=height) as page:
            errors = watch_console(page)
            log_in(page)
            for name, path in pages.items():
                page.goto(path)
                if name == "set":  # the first card's evidence opened, as a teacher reading it sees it
                    page.locator("#item-1 details.more summary").click()
                assert overflowing(page) == [], f"{path} is wider than {width} px"
                page.screenshot(path=shots / f"teacher-{name}-{label}.png", full_page=True)
            assert errors == []


def test_a_teacher_makes_a_set_rejects_one_edits_one_and_exports_moodle(
    services: Services, shots: Path, tmp_path: Path
) -> None:
    require_browser()
    with live_server(services) as base:
        with chromium_page(base, width=DESKTOP[0], height=DESKTOP[1]) as page:
            errors = watch_console(page)
            log_in(page)
            assert page.get_by_role("heading", name="Exercise sets").is_visible()
            session = make_set_with_the_form(page, shots)
            assert page.locator("article.item-card").count() == 3
            assert "three gap fills about food at A2" in page.locator("h1").inner_text()
            reject_item(page, 1)
            options = edit_item(page, 2)
            root = export_moodle(page, session, tmp_path)
            questions = [q for q in root.findall("question") if q.get("type") != "category"]
            assert root.tag == "quiz" and len(questions) == 3
            page.goto("/teach/class")
            assert (
                page.get_by_role("link", name="Progress of ana").get_attribute("href") == "/learn/progress?learner=ana"
            )
            assert errors == []
        reviews = ReviewStore(services.sessions).find(ReviewFilter(session_id=session))
        assert [(r.number, r.decision, r.reason, r.reviewer) for r in reviews] == [
            (1, "reject", "wrong_key", "bo"), (2, "modify", None, "bo")]  # fmt: skip
        assert reviews[1].edited is not None and reviews[1].edited["options"] == options
        take_shots(base, session, shots)
