"""Real-browser support for the tests: Debian's Chromium via Playwright, a daphne to drive.

The fixtures (`browser`, `server`, `contexts`) reach every test module through tests/conftest.py;
the helpers are imported from here. One daphne process serves each test (on SQLite with the
in-memory channel layer, which works only within one process; with PostgreSQL and Redis when
DATABASE_URL and REDIS_URL say so). axe-core comes from npm (`npm ci`).
"""

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from django.conf import settings

# tests/conftest.py imports this module for its fixtures, so what this needs of conftest is
# imported where it is used.
ROOT = Path(__file__).resolve().parent.parent

CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"
XSS = "<img src=x onerror=alert(1)>"
NEUTRAL = "https://www.google.com/"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 780}


@pytest.fixture(scope="module")
def browser():
    from tests.conftest import need

    need(shutil.which("chromium") is not None and Path(CHROMIUM).exists(), "no Chromium")
    need(AXE.exists(), "axe-core is not installed: run `npm ci`")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the test's own ORM
    # calls are still plain blocking code, so let Django allow them (as pytest-django advises).
    allowed = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            yield chromium
            chromium.close()
    finally:
        if allowed is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = allowed


@pytest.fixture
def server(open_line):
    """A real daphne on this test's database; `open_line` (vakivalta) is open around the clock."""
    from tests.conftest import Daphne, server_env

    daphne = Daphne(server_env(settings.REDIS_URL, CHAT_SWEEP_SECONDS=1)).start()
    daphne.http = f"http://127.0.0.1:{daphne.port}"
    yield daphne
    daphne.stop()


@pytest.fixture
def contexts(browser):
    opened = []

    def make(viewport=DESKTOP, locale="fi-FI", **kwargs):
        context = browser.new_context(locale=locale, viewport=viewport, **kwargs)
        context.set_default_timeout(10_000)
        # Quick exit goes to a search engine; this machine has no network, so answer locally.
        context.route(
            re.compile(r"^https://www\.google\.com/.*"),
            lambda route: route.fulfill(
                status=200, content_type="text/html", body="<title>Haku</title>neutral"
            ),
        )
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


def watch_for_alerts(page) -> list:
    """Any dialog other than our own confirm() means injected script ran; and any CSP refusal
    means the UI needs something the strict policy does not allow."""
    seen = []

    def on_dialog(dialog):
        seen.append((dialog.type, dialog.message))
        dialog.accept()

    def on_console(message):
        if "Content Security Policy" in message.text:
            seen.append(("csp", message.text))

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    return seen


def axe_violations(page, include: str) -> list:
    """Serious or critical axe-core findings for the part of the page under `include`."""
    # Evaluated through the DevTools protocol: the page's CSP (no inline script) stays on.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async (include) => {
            const result = await axe.run({include: [include]}, {resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}));
        }""",
        include,
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def screenshot(page, name: str):
    """Keep a picture of the page only when TEST_SCREENSHOTS names a folder: the tracked ones in
    docs/screenshots/ are made by `./dev screenshots` (tools/screenshots.py), never by a test."""
    folder = os.environ.get("TEST_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name))


def open_widget_on_line(page, base: str, line_name="Apua väkivaltaan"):
    page.goto(base + "/")
    page.get_by_role("button", name="Avaa nimetön chat").click()
    page.locator(".va-line", has_text=line_name).click()


def accept_and_start(page):
    page.get_by_label("Olen lukenut tiedot ja hyväksyn keskustelun säännöt").check()
    page.get_by_role("button", name="Aloita keskustelu").click()


def log_in(page, base: str, helper):
    page.goto(base + "/console/")
    page.locator("#id_username").fill(helper.user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(base + "/console/")


def storage_of(page) -> dict:
    return page.evaluate(
        "() => ({session: sessionStorage.length, local: localStorage.length,"
        " cookie: document.cookie})"
    )


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)
