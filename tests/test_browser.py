"""The asker's widget and the helper console in a real browser: Debian's Chromium via Playwright
(tests/browser.py). The screenshots in docs/screenshots/ are made by `./dev screenshots`.
"""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.browser import (
    PHONE,
    XSS,
    accept_and_start,
    axe_violations,
    log_in,
    open_widget_on_line,
    screenshot,
    storage_of,
    wait_until,
    watch_for_alerts,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


def test_asker_and_helper_chat_from_rules_to_feedback(server, contexts, make_helper):
    from playwright.sync_api import expect

    from stats.models import DailyCount

    helper = make_helper(role="peer", name="Anna")
    asker = contexts().new_page()
    asker_alerts = watch_for_alerts(asker)

    open_widget_on_line(asker, server.http)
    expect(asker.locator(".va-rules")).to_contain_text("vaitiolovelvollisuus")
    expect(asker.locator(".va-panel .va-line-state")).to_contain_text("Avoinna")
    asker.get_by_role("button", name="Aloita keskustelu").click()
    expect(asker.locator("#va-accept-error")).to_have_text("Hyväksy ensin keskustelun säännöt.")
    accept_and_start(asker)
    expect(asker.locator(".va-position")).to_have_text("Olet seuraavana vuorossa.")

    console = contexts(viewport={"width": 1400, "height": 900}).new_page()
    console_alerts = watch_for_alerts(console)
    log_in(console, server.http, helper)
    expect(console.locator('[data-queue="vakivalta"] strong')).to_have_text("1")
    expect(console).to_have_title(re.compile(r"^\(1\) "))  # noticed without watching
    console.locator('[data-take="vakivalta"]').click()
    chat = console.locator(".c-chat")
    expect(chat.locator(".c-chat-ip")).to_contain_text("127.0.0.1")
    expect(asker.locator(".va-info")).to_have_text("Anna liittyi keskusteluun.")
    expect(asker.locator(".va-queue")).to_be_hidden()

    chat.locator(".c-input").press_sequentially("Hei")
    expect(asker.locator(".va-typing")).to_have_text("Anna kirjoittaa…")
    chat.locator(".c-input").fill("Hei, olen Anna. Tässä tukea: https://www.nollalinja.fi.")
    chat.locator(".c-input").press("Enter")
    helper_line = asker.locator(".va-from-helper")
    expect(helper_line.locator(".va-text")).to_have_text(
        "Hei, olen Anna. Tässä tukea: https://www.nollalinja.fi."
    )
    expect(helper_line.locator(".va-badge")).to_have_text("chatvertainen")
    expect(helper_line.locator("a")).to_have_attribute("href", "https://www.nollalinja.fi/")

    asker.locator("#va-input").press_sequentially("Minua pelottaa")
    expect(chat.locator(".c-typing")).to_be_visible()
    asker.locator("#va-input").fill(f"Minua pelottaa {XSS}")
    asker.locator("#va-input").press("Enter")
    expect(chat.locator(".c-from-asker .c-text")).to_have_text(f"Minua pelottaa {XSS}")
    expect(asker.locator(".va-from-asker:not(.va-pending) .va-text")).to_have_text(
        f"Minua pelottaa {XSS}"
    )
    assert asker.locator(".va-root img").count() == 0
    assert console.locator(".c-chat img").count() == 0

    screenshot(asker, "widget-desktop.png")
    screenshot(console, "console.png")
    assert axe_violations(asker, ".va-root") == []
    assert axe_violations(console, "body") == []

    asker.reload()
    expect(asker.locator(".va-message")).to_have_count(2)
    expect(asker.locator(".va-from-helper .va-sender strong")).to_have_text("Anna")
    expect(asker.locator(".va-from-asker .va-text")).to_have_text(f"Minua pelottaa {XSS}")
    stored = storage_of(asker)
    assert (stored["session"], stored["local"], stored["cookie"]) == (1, 0, "")

    chat.get_by_label("Henkinen väkivalta").check()
    chat.locator(".c-end").click()
    expect(asker.get_by_role("heading", name="Keskustelu on päättynyt")).to_be_visible()
    expect(asker.get_by_role("status").filter(has_text="Auttaja lopetti")).to_be_visible()
    # Feedback stays inside the widget (issue 20): a button, not a link to a new tab.
    expect(asker.get_by_role("button", name="Anna nimetöntä palautetta")).to_be_visible()
    expect(asker.locator(".va-referrals a").first).to_have_attribute(
        "href", "https://www.nollalinja.fi/"
    )
    expect(chat.locator(".c-ended")).to_be_visible()
    assert storage_of(asker)["session"] == 0
    assert asker.context.cookies(server.http) == []
    assert DailyCount.objects.filter(metric="topic", key="henkinen", count=1).exists()
    assert asker_alerts == [] and console_alerts == []


def test_quick_exit_leaves_nothing_behind(server, contexts):
    from playwright.sync_api import expect

    from chats.models import Chat

    context = contexts()
    page = context.new_page()
    open_widget_on_line(page, server.http)
    accept_and_start(page)
    expect(page.locator(".va-position")).to_be_visible()
    assert storage_of(page)["session"] == 1

    page.get_by_role("button", name=re.compile("Poistu nopeasti")).first.click()

    page.wait_for_url(re.compile(r"^https://www\.google\.com/"))
    wait_until(lambda: not Chat.objects.exists())  # the chat ended with the exit
    page.goto(server.http + "/api/services/")  # same tab, same origin, no widget on it
    assert storage_of(page) == {"session": 0, "local": 0, "cookie": ""}
    assert context.cookies(server.http) == []

    # The Escape key pressed twice does the same, wherever the focus is.
    second = context.new_page()
    open_widget_on_line(second, server.http)
    second.keyboard.press("Escape")
    second.keyboard.press("Escape")
    second.wait_for_url(re.compile(r"^https://www\.google\.com/"))
    assert context.cookies(server.http) == []


def test_a_third_tab_is_told_to_use_the_chat_already_open(server, contexts):
    """Each tab has its own chat (sessionStorage is per tab); past the address's limit of open
    chats the widget says so in words and offers the start again, instead of a generic error."""
    from playwright.sync_api import expect

    from chats.models import Chat

    context = contexts()
    for _ in range(settings.CHAT_MAX_OPEN_PER_ADDRESS):
        page = context.new_page()
        open_widget_on_line(page, server.http)
        accept_and_start(page)
        expect(page.locator(".va-position")).to_be_visible()

    third = context.new_page()
    open_widget_on_line(third, server.http)
    accept_and_start(third)
    expect(third.get_by_role("alert")).to_contain_text("jo avoinna keskustelu")
    expect(third.get_by_role("button", name="Aloita keskustelu")).to_be_visible()
    assert storage_of(third)["session"] == 0  # nothing to resume: no chat was made
    assert Chat.objects.count() == settings.CHAT_MAX_OPEN_PER_ADDRESS


def test_the_widget_speaks_swedish_from_its_catalogue(server, contexts):
    """A Swedish page gets the widget in Swedish: the words come from the djangojs catalogue."""
    from playwright.sync_api import expect

    page = contexts(locale="sv-FI").new_page()
    page.goto(server.http + "/")
    assert page.evaluate("document.documentElement.lang") == "sv"
    page.get_by_role("button", name="Öppna den anonyma chatten").click()
    page.locator(".va-line").first.click()
    expect(
        page.get_by_label("Jag har läst informationen och godkänner reglerna för chatten")
    ).to_be_visible()


def test_widget_on_a_phone_by_keyboard_with_a_closed_line(server, contexts, lines):
    from playwright.sync_api import expect

    from scheduling.models import HoursException

    today = timezone.localdate()
    HoursException.objects.create(
        line=lines["lapset-nuoret"],
        first_day=today - timedelta(days=1),
        last_day=today + timedelta(days=2),
        closed=True,
        note="tests: closed",
    )
    page = contexts(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(server.http + "/")

    # Keyboard only: Tab to the launcher (after the quick exit), Enter, then the first line.
    page.keyboard.press("Tab")
    expect(page.locator(".va-dock .va-exit")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator(".va-launcher")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Valitse palvelu")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator(".va-line").first).to_be_focused()
    closed = page.locator(".va-line", has_text="Lasten ja nuorten chat")
    expect(closed).to_contain_text("Suljettu. Avautuu")
    panel = page.locator(".va-panel").bounding_box()
    assert panel["width"] == PHONE["width"]  # the whole screen on a phone
    screenshot(page, "widget-phone.png")
    assert axe_violations(page, ".va-root") == []

    page.keyboard.press("Enter")  # the first line: Apua väkivaltaan
    expect(page.get_by_role("heading", name="Apua väkivaltaan")).to_be_focused()
    for _ in range(10):
        if page.evaluate("document.activeElement.id") == "va-accept":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Space")
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Aloita keskustelu":
            break
    page.keyboard.press("Enter")
    expect(page.locator(".va-position")).to_have_text("Olet seuraavana vuorossa.")
    expect(page.locator("#va-input")).to_be_focused()
    page.keyboard.type("Hei")
    page.keyboard.press("Enter")
    expect(page.locator(".va-from-asker:not(.va-pending) .va-text")).to_have_text("Hei")
    assert axe_violations(page, ".va-root") == []


def test_duty_notice_and_consult_from_the_console(server, contexts, make_helper):
    from playwright.sync_api import expect

    from chats.models import PreparedText

    PreparedText.objects.create(
        kind="referral",
        title="Nollalinja",
        text="Soita 080 005 005.",
        url="https://www.nollalinja.fi",
    )
    PreparedText.objects.create(
        kind="duty_notice",
        title="Ilmoitusvelvollisuus",
        text="Minulla on velvollisuus tehdä ilmoitus viranomaisille.",
    )
    peer = make_helper(role="peer", name="Pia")
    professional = make_helper(name="Pekka")
    asker = contexts().new_page()
    open_widget_on_line(asker, server.http)
    accept_and_start(asker)
    expect(asker.locator(".va-position")).to_be_visible()

    peer_page = contexts(viewport={"width": 1400, "height": 900}).new_page()
    watch_for_alerts(peer_page)  # accepts the confirm() before a notice is sent
    log_in(peer_page, server.http, peer)
    pro_page = contexts(viewport={"width": 1400, "height": 900}).new_page()
    log_in(pro_page, server.http, professional)
    expect(pro_page.locator("#duty-state")).to_have_text("Päivystää")

    peer_page.locator('[data-take="vakivalta"]').click()
    chat = peer_page.locator(".c-chat")
    chat.locator(".c-prepared summary").click()
    chat.get_by_role("button", name="Nollalinja").click()  # a referral goes into the box
    expect(chat.locator(".c-input")).to_have_value(re.compile(r"https://www\.nollalinja\.fi$"))
    chat.get_by_role("button", name="Ilmoitusvelvollisuus").click()
    notice = asker.locator(".va-from-system")
    expect(notice.locator(".va-sender strong")).to_have_text("Ilmoitus")
    expect(notice.locator(".va-text")).to_contain_text("velvollisuus tehdä ilmoitus")

    peer_page.locator("#consult-text").fill("Miten vastaan tähän?")
    peer_page.locator("#consult-form button").click()
    expect(pro_page.locator("#consult-log")).to_contain_text("Pia")
    expect(pro_page.locator("#consult-log")).to_contain_text("Miten vastaan tähän?")
    expect(asker.locator(".va-root")).not_to_contain_text("Miten vastaan")


def test_asker_loses_nothing_to_a_network_outage(server, contexts, make_helper):
    from playwright.sync_api import expect

    helper = make_helper(name="Anna")
    asker_context = contexts()
    asker = asker_context.new_page()
    open_widget_on_line(asker, server.http)
    accept_and_start(asker)
    console = contexts(viewport={"width": 1400, "height": 900}).new_page()
    log_in(console, server.http, helper)
    console.locator('[data-take="vakivalta"]').click()
    chat = console.locator(".c-chat")
    expect(asker.locator(".va-info")).to_have_text("Anna liittyi keskusteluun.")

    asker_context.set_offline(True)
    expect(asker.locator(".va-status")).to_have_text("Yhteys katkesi. Yhdistetään uudelleen…")
    chat.locator(".c-input").fill("Oletko vielä siellä?")
    chat.locator(".c-input").press("Enter")
    expect(chat.locator(".c-from-helper")).to_have_count(1)
    asker.locator("#va-input").fill("Olen täällä")
    asker.locator("#va-input").press("Enter")
    expect(asker.locator(".va-pending")).to_have_count(1)  # kept until the server has it

    asker_context.set_offline(False)
    expect(asker.locator(".va-from-helper .va-text")).to_have_text("Oletko vielä siellä?")
    expect(chat.locator(".c-from-asker .c-text")).to_have_text("Olen täällä")
    expect(asker.locator(".va-pending")).to_have_count(0)
    expect(asker.locator(".va-message")).to_have_count(2)  # nothing twice
    expect(asker.locator(".va-status")).to_be_hidden()
