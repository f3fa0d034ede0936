"""The asker is never left without help or with a trace (issue 20, items 1-5), in Debian's
Chromium (tests/browser.py), at desktop (1280x800) and phone (390x844) size:

- a closed line in the evening shows its weekly hours, its coming exceptions and the help
  available now, in Finnish, Swedish and English, with no rules of a chat that cannot start;
- feedback is given inside the widget, and quick exit from it leaves no tab, storage or history
  entry; the feedback is stored with the line and month only;
- a minimised asker sees (and hears) the count of new messages on the launcher, and its state;
- a browser in another time zone is told the times are Finnish time;
- the group page has quick exit (Esc Esc), feedback and a neutral title; the widget leads to it;
- axe-core finds nothing serious or critical in any widget state or on the group page.
"""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.browser import (
    DESKTOP,
    accept_and_start,
    axe_violations,
    log_in,
    open_widget_on_line,
    screenshot,
    storage_of,
    wait_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
LOCALES = {"fi": "fi-FI", "sv": "sv-FI", "en": "en-GB"}
# What each language shows of a closed line (widget texts and the seeded sv/en referral names).
CLOSED = {
    "fi": {
        "launcher": "Avaa nimetön chat",
        "line": "Apua väkivaltaan",
        "help": "Apua saatavilla nyt",
        "hours": "Aukioloajat",
        "day": "maanantai 12.00–18.00",
        "exception": "suljettu",
        "nollalinja": "Nollalinja",
        "emergency": "Hätätilanteessa soita 112.",
        "rules": "Ennen kuin aloitat",
    },
    "sv": {
        "launcher": "Öppna den anonyma chatten",
        "line": "Hjälp vid våld",
        "help": "Hjälp som finns nu",
        "hours": "Öppettider",
        "day": "måndag 12.00–18.00",
        "exception": "stängd",
        "nollalinja": "Nollalinja",
        "emergency": "I en nödsituation, ring 112.",
        "rules": "Innan du börjar",
    },
    "en": {
        "launcher": "Open the anonymous chat",
        "line": "Help with violence",
        "help": "Help available now",
        "hours": "Opening hours",
        "day": "Monday 12:00–18:00",
        "exception": "closed",
        "nollalinja": "Nollalinja helpline",
        "emergency": "In an emergency, call 112.",
        "rules": "Before you start",
    },
}


@pytest.fixture
def closed_today(lines):
    """Apua väkivaltaan keeps its weekly hours (weekdays 12-18) but is closed today and
    tomorrow by an exception, so it is closed whatever the real time is."""
    from scheduling.models import HoursException

    today = timezone.localdate()
    HoursException.objects.create(
        line=lines["vakivalta"],
        first_day=today,
        last_day=today + timedelta(days=1),
        closed=True,
        note="tests: closed",
    )
    return lines["vakivalta"]


def evening(page, zone="Europe/Helsinki"):
    """The browser's clock at 20.30 Helsinki time today (the server keeps the real time)."""
    from zoneinfo import ZoneInfo

    helsinki = ZoneInfo("Europe/Helsinki")
    at = datetime.combine(timezone.localdate(), datetime.min.time(), helsinki).replace(
        hour=20, minute=30
    )
    page.clock.install(time=at)
    return at


def line_name(language):
    return CLOSED[language]["line"]


@VIEWPORTS
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_a_closed_line_in_the_evening_shows_hours_and_the_help_available_now(
    server, contexts, closed_today, viewport, language
):
    from playwright.sync_api import expect

    words = CLOSED[language]
    page = contexts(viewport=viewport, locale=LOCALES[language]).new_page()
    evening(page)
    page.goto(server.http + "/")
    page.get_by_role("button", name=words["launcher"]).click()
    page.locator(".va-line", has_text=words["line"]).click()

    help_now = page.locator(".va-urgent")
    expect(help_now.get_by_role("heading", name=words["help"])).to_be_visible()
    expect(help_now).to_contain_text(words["nollalinja"])
    expect(help_now).to_contain_text(words["emergency"])
    expect(help_now.locator("a[href^='tel:']").first).to_be_visible()
    hours = page.locator(".va-section", has=page.get_by_role("heading", name=words["hours"]))
    expect(hours).to_contain_text(words["day"])
    expect(hours.locator(".va-hours").last).to_contain_text(words["exception"])
    # A chat that cannot start shows no rules and no start button.
    expect(page.locator(".va-panel")).not_to_contain_text(words["rules"])
    assert page.locator("#va-accept").count() == 0
    # Nothing is squashed: every part of the view keeps its height.
    heights = page.locator(".va-body > *").evaluate_all(
        "nodes => nodes.map(n => n.getBoundingClientRect().height)"
    )
    assert min(heights) >= 16
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert axe_violations(page, ".va-root") == []
    screenshot(page, f"widget-closed-{language}-{viewport['width']}.png")


def test_the_region_pick_filters_in_the_browser_and_is_never_sent(server, contexts, closed_today):
    from playwright.sync_api import expect

    from chats.models import Referral

    Referral.objects.create(name="Helsingin palvelu", region="Helsinki", hours="ma–pe 9–15")
    Referral.objects.create(name="Tampereen palvelu", region="Tampere", hours="ma–pe 9–15")
    page = contexts().new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url + (request.post_data or "")))
    open_widget_on_line(page, server.http)
    more = page.locator(".va-section", has=page.locator("select"))
    expect(more).to_contain_text("Nettiturvakoti")
    expect(more).not_to_contain_text("Helsingin palvelu")
    sent_before = len(requests)
    more.get_by_label("Näytä myös oman alueesi palvelut").select_option("Helsinki")
    expect(more).to_contain_text("Helsingin palvelu")
    expect(more).not_to_contain_text("Tampereen palvelu")
    assert len(requests) == sent_before  # the pick went nowhere
    assert not any("Helsinki" in url for url in requests)
    assert storage_of(page) == {"session": 0, "local": 0, "cookie": ""}


def test_the_zone_is_named_when_the_browser_is_elsewhere(server, contexts, closed_today):
    from playwright.sync_api import expect

    page = contexts(timezone_id="America/New_York").new_page()
    open_widget_on_line(page, server.http)
    expect(page.locator(".va-zone")).to_have_text("Ajat ovat Suomen aikaa.")
    expect(page.locator(".va-panel .va-line-state")).to_contain_text(
        re.compile(r"Suomen aikaa \(sinun aikaasi \d\d\.\d\d\)")
    )

    at_home = contexts(timezone_id="Europe/Helsinki").new_page()
    open_widget_on_line(at_home, server.http)
    expect(at_home.locator(".va-urgent")).to_be_visible()
    assert at_home.locator(".va-zone").count() == 0
    expect(at_home.locator(".va-panel .va-line-state")).not_to_contain_text("Suomen aikaa")


def end_in_queue(page):
    from playwright.sync_api import expect

    accept_and_start(page)
    expect(page.locator(".va-position")).to_be_visible()
    page.get_by_role("button", name="Poistu jonosta").click()
    expect(page.get_by_role("heading", name="Keskustelu on päättynyt")).to_be_visible()


@VIEWPORTS
def test_feedback_inside_the_widget_and_quick_exit_from_it_leaves_nothing(
    server, contexts, viewport
):
    from playwright.sync_api import expect

    context = contexts(viewport=viewport)
    page = context.new_page()
    open_widget_on_line(page, server.http)
    end_in_queue(page)
    expect(page.locator(".va-section", has_text="Nollalinja")).to_be_visible()  # referrals
    history = page.evaluate("history.length")
    page.get_by_role("button", name="Anna nimetöntä palautetta").click()
    expect(page.get_by_role("heading", name="Nimetön palaute")).to_be_visible()
    expect(page.get_by_text("Saitko apua?")).to_be_visible()
    assert len(context.pages) == 1  # no new tab
    assert page.url == server.http + "/"
    assert "väkivalta" not in page.title().lower()
    assert axe_violations(page, ".va-root") == []

    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(r"^https://www\.google\.com/"))
    assert len(context.pages) == 1
    assert page.evaluate("history.length") == history  # replaced, not added
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0
    assert context.cookies() == []
    page.go_back()
    assert not page.url.startswith(server.http)


def test_feedback_from_the_widget_is_kept_with_line_and_month_only(server, contexts):
    from playwright.sync_api import expect

    from feedback.models import Feedback

    page = contexts().new_page()
    open_widget_on_line(page, server.http)
    end_in_queue(page)
    page.get_by_role("button", name="Anna nimetöntä palautetta").click()
    page.get_by_role("button", name="Lähetä palaute").click()
    expect(page.locator(".va-fb .va-error")).to_contain_text("Vastaa ainakin yhteen")
    page.locator(".va-fb fieldset").first.get_by_label("5").check()
    page.get_by_role("button", name="Lähetä palaute").click()
    expect(page.get_by_text("Kiitos palautteestasi.")).to_be_visible()
    saved = Feedback.objects.get()
    assert (saved.line.slug, saved.rating, saved.month.day) == ("vakivalta", 5, 1)
    assert storage_of(page) == {"session": 0, "local": 0, "cookie": ""}


@VIEWPORTS
def test_a_minimised_asker_sees_the_unread_count_and_the_state(
    server, contexts, make_helper, viewport
):
    from playwright.sync_api import expect

    helper = make_helper(name="Anna")
    page = contexts(viewport=viewport).new_page()
    title = None
    open_widget_on_line(page, server.http)
    accept_and_start(page)
    expect(page.locator(".va-position")).to_be_visible()
    assert axe_violations(page, ".va-root") == []  # queued
    page.get_by_role("button", name="Pienennä").click()
    launcher = page.locator(".va-launcher")
    expect(launcher).to_contain_text("jonossa")
    title = page.title()

    console = contexts(viewport={"width": 1400, "height": 900}).new_page()
    log_in(console, server.http, helper)
    console.locator('[data-take="vakivalta"]').click()
    expect(launcher).to_contain_text("keskustelu auki")
    chat = console.locator(".c-chat")
    for text in ("Hei, olen Anna.", "Miten voin auttaa?"):
        chat.locator(".c-input").fill(text)
        chat.locator(".c-input").press("Enter")
    expect(launcher.locator(".va-unread")).to_have_text("2")
    expect(page.locator(".va-dock [aria-live=polite]")).to_have_text("Uusia viestejä: 2")
    expect(
        page.get_by_role("button", name=re.compile("keskustelu auki.*Uusia viestejä: 2"))
    ).to_be_visible()
    assert page.title() == title  # the host page's title is not the widget's
    assert axe_violations(page, ".va-root") == []  # minimised with a count

    launcher.click()
    expect(launcher.locator(".va-unread")).to_be_hidden()
    expect(page.locator(".va-from-helper")).to_have_count(2)
    assert axe_violations(page, ".va-root") == []  # chatting
    page.get_by_role("button", name="Pienennä").click()
    chat.locator(".c-end").click()
    expect(launcher).to_contain_text("keskustelu päättyi")
    launcher.click()
    expect(page.get_by_role("heading", name="Keskustelu on päättynyt")).to_be_visible()
    assert axe_violations(page, ".va-root") == []  # ended


def test_the_picker_tells_open_from_closed_and_a_reload_keeps_the_line(server, contexts, lines):
    from playwright.sync_api import expect

    page = contexts().new_page()
    page.goto(server.http + "/")
    assert page.title() == "Verkkoapu"
    assert (
        page.evaluate("fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)")
        == 200
    )
    page.get_by_role("button", name="Avaa nimetön chat").click()
    expect(page.locator(".va-line-open", has_text="Apua väkivaltaan")).to_be_visible()
    expect(page.locator(".va-line-closed").first).to_be_visible()
    assert axe_violations(page, ".va-root") == []  # the picker
    head = page.locator(".va-head").bounding_box()
    assert head["height"] < 70  # one row, not wrapped
    page.locator(".va-line", has_text="Apua väkivaltaan").click()
    back = page.get_by_role("button", name="← Muut palvelut").bounding_box()
    assert back["height"] >= 20
    heading = page.locator(".va-body h3").bounding_box()
    assert back["y"] + back["height"] <= heading["y"]  # no overlap
    accept_and_start(page)
    expect(page.locator(".va-position")).to_be_visible()
    page.reload()
    expect(page.locator(".va-body h3")).to_have_text("Apua väkivaltaan")


def test_the_group_page_has_quick_exit_feedback_and_a_neutral_title(server, contexts, lines):
    from playwright.sync_api import expect

    from chats.models import ServiceLine

    ServiceLine.objects.filter(slug="vauvan-uni").update(
        group_line=ServiceLine.objects.get(slug="unichat")
    )
    from scheduling.models import HoursException

    HoursException.objects.create(
        line=lines["vauvan-uni"],
        first_day=timezone.localdate(),
        last_day=timezone.localdate() + timedelta(days=1),
        closed=True,
    )
    context = contexts()
    page = context.new_page()
    open_widget_on_line(page, server.http, "Apua vauvan uneen")
    page.get_by_role("link", name="Ryhmächat: Unichat-ryhmächat").click()
    page.wait_for_url(server.http + "/group/unichat/")
    assert page.title() == "Ryhmächat"
    assert axe_violations(page, "body") == []
    expect(page.get_by_role("link", name="Anna nimetöntä palautetta")).to_have_attribute(
        "href", "/feedback/unichat/?lang=fi"
    )
    page.get_by_role("link", name="Anna nimetöntä palautetta").click()
    assert page.title() == "Palaute"
    assert axe_violations(page, "body") == []
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(r"^https://www\.google\.com/"))
    assert len(context.pages) == 1

    group = context.new_page()
    group.goto(server.http + "/group/unichat/")
    group.get_by_role("button", name=re.compile("Poistu nopeasti")).click()
    group.wait_for_url(re.compile(r"^https://www\.google\.com/"))
    wait_until(lambda: group.evaluate("history.length") == 2)  # about:blank and the exit
