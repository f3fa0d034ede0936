"""The pages coordinators and helpers use, in a real browser (issue 20): every admin page a
coordinator uses and the shift calendar have no serious or critical axe-core finding, the
Finnish admin has no English left, and the rota fits the screen with its breadcrumbs."""

import re

import pytest

from tests.browser import DESKTOP, axe_violations
from tools import screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# What the Finnish admin showed in English before (issue 20).
ENGLISH = [
    re.compile(p, re.I)
    for p in (
        r"select an option",
        r"\bRun\b",
        r"filter by",
        r"by selecting them",
        r"\bweekday\b",
        r"\bopens\b",
        r"\bcloses\b",
        r"\bslug\b",
        r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d",
        r"queue_abandoned|chats_started",
        r"Djangon",
        r"Django administration|Django site admin",
    )
]


@pytest.fixture
def example(server):
    ids = screenshots.seed()
    return ids


def logged_in(contexts, server, username, viewport=DESKTOP):
    context = contexts(viewport=viewport)
    # A login hashes a password and the admin pages are heavy: on a busy machine that is slow.
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(server.http + "/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(screenshots.PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    return page


@pytest.mark.timeout(900)  # some twenty pages, each checked by axe: minutes on a busy machine
def test_every_admin_page_is_accessible_and_finnish(server, example, contexts):
    page = logged_in(contexts, server, "demo-koordinaattori")
    assert page.url == server.http + "/admin/"
    problems = {}
    for name, who, path, *_steps in screenshots.PAGES:
        if who != "coordinator":
            continue
        page.goto(server.http + path.format(**example))
        page.wait_for_load_state("load")
        if page.locator("span.search-label-icon").count():  # the two-list selector, once built
            page.wait_for_selector("span.search-label-icon[role=img]", state="attached")
        text = page.locator("body").inner_text()
        english = [pattern.pattern for pattern in ENGLISH if pattern.search(text)]
        found = axe_violations(page, "body")
        if english or found:
            problems[name] = {"english": english, "axe": found}
        if name == "admin-rota":
            assert page.locator("nav ol.breadcrumbs li").count() == 4
            assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    assert problems == {}


def test_the_statistics_counters_cannot_be_deleted(server, example, contexts):
    page = logged_in(contexts, server, "demo-koordinaattori")
    page.goto(server.http + "/admin/stats/dailycount/")
    options = page.locator("select[name=action] option").all_inner_texts()
    assert not any("Poista" in option for option in options)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_shift_calendar_is_accessible_and_shows_the_month(server, example, contexts, viewport):
    page = logged_in(contexts, server, "demo-auttaja", viewport)
    page.goto(server.http + "/console/calendar/")
    assert axe_violations(page, "body") == []
    # Four weeks of seven days, today marked, and a slot booked from the grid.
    assert page.locator(".cal-line").first.locator("td.cal-day").count() == 28
    assert page.locator('td[aria-current="date"]').count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    book = page.get_by_role("button", name=re.compile(r"^Varaa ")).first
    book.click()
    page.wait_for_load_state()
    assert "Varattu" in page.locator(".cal-messages").inner_text()
