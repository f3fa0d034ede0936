"""A group session in a real browser: two participants on /group/unichat/ and a moderator in the
helper console, all through a daphne process (Debian's Chromium driven by Playwright)."""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from chats import duty, groups
from chats.models import DutySession
from tests.conftest import Daphne, need, server_env, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
SHOTS = os.environ.get("GROUP_SCREENSHOTS", "")  # a folder to keep screenshots in, if set


@contextmanager
def chromium():
    """Playwright's sync API runs an event loop: the database work must be done before it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def server(lines):
    daphne = Daphne(server_env(settings.REDIS_URL)).start()
    yield f"http://127.0.0.1:{daphne.port}"
    daphne.stop()


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_group_session_with_two_participants_and_a_moderator(server, make_helper, lines):
    need(shutil.which("chromium") is not None, "chromium is not installed")
    moderator = make_helper(services=("unichat", "vakivalta"), name="Mia")
    now = timezone.now()
    session = groups.schedule_session(
        "unichat",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        title="Vauvaperheiden ilta",
        moderators=[moderator.user.username],
    )

    cookie = session_cookie(moderator.user)
    with chromium() as browser:
        run_session(browser, server, session, cookie, moderator.pk)


def from_database(work):
    """Playwright's loop runs in this thread: Django's queries go to a thread of their own."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


def run_session(browser, server, session, cookie, moderator_id):
    console_context = browser.new_context(locale="en-US")
    console_context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": server}]
    )
    console = console_context.new_page()
    console.on("dialog", lambda dialog: dialog.accept())
    console.goto(f"{server}/console/")
    console.get_by_role("button", name="Join as moderator").click()
    panel = console.locator(f'[data-session="{session.pk}"]')
    panel.wait_for()
    # The moderation panel speaks through the console's socket: one duty session, so a break
    # taken in the console pauses the helper (a second socket stayed on duty).
    live = DutySession.objects.filter(helper_id=moderator_id, connected=True)
    assert from_database(live.count) == 1
    console.locator("#pause-toggle").click()
    console.locator("#duty-state").filter(has_text="break").wait_for()
    assert from_database(lambda: duty.paused_ids([moderator_id], None)) == {moderator_id}

    people = []
    for nickname in ("Aamuvirkku", "Yökyöpeli"):
        page = browser.new_context(locale="en-US").new_page()
        page.goto(f"{server}/group/unichat/")
        assert page.context.cookies() == []  # the participant's page sets no cookie
        page.fill("#join-nickname", nickname)
        page.locator("#join-form button").click()
        page.locator("#room").wait_for()
        people.append(page)
    first, second = people
    assert "Vauvaperheiden ilta" in first.locator("#room-title").inner_text()
    first.locator("#room-count").filter(has_text="3").wait_for()  # two people and Mia

    first.fill("#room-text", "Hei kaikki, täällä ollaan valvottu taas.")
    first.locator("#room-compose button").click()
    said = second.locator(".g-message", has_text="täällä ollaan valvottu")
    said.wait_for()
    assert "Aamuvirkku" in said.inner_text()
    panel.locator(".g-message", has_text="täällä ollaan valvottu").wait_for()

    panel.locator(".m-say textarea").fill("Tervetuloa! Muistetaan kunnioittaa toisiamme.")
    panel.locator(".m-say button").click()
    for page in people:
        from_moderator = page.locator(".g-from-moderator", has_text="Tervetuloa!")
        from_moderator.wait_for()
        assert "Mia" in from_moderator.inner_text()
    shot(first, "group-participant")

    panel.locator(".g-message", has_text="täällä ollaan valvottu").locator(".m-remove").click()
    for page in people:
        page.locator(".g-removed").wait_for()
        assert page.locator(".g-message", has_text="täällä ollaan valvottu").count() == 0

    second.fill("#room-text", "asiatonta")
    second.locator("#room-compose button").click()
    panel.locator(".g-message", has_text="asiatonta").locator(".m-kick").click()
    second.locator("#group-alert").filter(has_text="removed you").wait_for()
    assert second.locator("#room").is_hidden()
    first.locator("#room-count").filter(has_text="2").wait_for()
    shot(console, "group-moderator")

    panel.locator(".m-close").click()
    first.locator("#join-form").wait_for()
    assert "closed" in first.locator("#group-status").inner_text()
    shot(first, "group-closed")
