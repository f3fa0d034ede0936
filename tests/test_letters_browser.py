"""Letters in real browsers (docs/letters.md): an asker writes while the line's chat is closed,
a helper answers, the asker reads with the code and ends the thread; quick exit from the letter
view leaves no storage, no cookie and no letter in the history. Chromium and daphne as in
tests/browser.py, at phone and desktop sizes.

The server is another process, so its clock cannot be frozen at night: the line is closed for
the days of the test instead, which is what night means to the chat (open hours do not apply to
letters either way; tests/test_letters.py writes at 03:00 with a frozen clock).
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from letters import answering as letters
from letters.models import LetterSettings, Thread
from scheduling.models import HoursException
from scheduling.services import line_status
from tests.browser import (
    DESKTOP,
    PHONE,
    axe_violations,
    log_in,
    storage_of,
    watch_for_alerts,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

LETTER = "Kirjoitan yöllä, kun muut nukkuvat. Kotona on vaikeaa."
REPLY = "Kiitos, että kirjoitit. Kerro lisää, kun jaksat."
TALL_PHONE = {"width": 390, "height": 844}


@pytest.fixture
def closed_letter_line(lines):
    line = lines["ero"]
    today = timezone.localdate()
    HoursException.objects.create(
        line=line,
        first_day=today - timedelta(days=1),
        last_day=today + timedelta(days=2),
        closed=True,
        note="tests: closed, as at night",
    )
    LetterSettings.objects.create(line=line, offers_letters=True, answer_days=3)
    assert not line_status(line).open
    return line


def write_letter(page, base, text=LETTER):
    page.goto(base + "/letters/ero/")
    page.get_by_label("Kirjeesi").fill(text)
    page.locator("input[name=topics]").first.check()
    page.get_by_role("button", name="Lähetä kirje").click()
    return page.locator("#letter-code").inner_text()


def read_with(page, base, code):
    page.goto(base + "/letters/read/")
    page.get_by_label("Kirjekoodi").fill(code)
    page.get_by_role("button", name="Lue", exact=True).click()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_asker_writes_while_closed_reads_the_reply_with_the_code_and_ends_it(
    server, contexts, make_helper, closed_letter_line, viewport
):
    from playwright.sync_api import expect

    context = contexts(viewport=viewport)
    page = context.new_page()
    alerts = watch_for_alerts(page)
    page.goto(server.http + "/letters/ero/")
    expect(page.locator(".l-answer-time")).to_have_text(
        "Kirjeisiin vastataan yleensä 3 arkipäivän kuluessa."
    )
    expect(page.locator(".l-warning")).to_contain_text(
        "Kuka tahansa, jolla koodi on, voi lukea vastaukset"
    )
    assert axe_violations(page, ".l-main") == []
    code = write_letter(page, server.http)
    assert len(code.split("-")) == 6
    expect(page.get_by_role("heading", name="Kirjeesi lähetettiin")).to_be_visible()
    assert code not in page.url
    assert storage_of(page) == {"session": 0, "local": 0, "cookie": ""}
    assert context.cookies(server.http) == []

    helper = make_helper(services=("ero",), name="Eeva")
    thread = letters.inbox(helper)[0]["id"]
    letters.claim(helper, thread)
    letters.answer(helper, thread, REPLY)

    # Another device, later: only the code.
    reader = contexts(viewport=viewport).new_page()
    reader_alerts = watch_for_alerts(reader)
    read_with(reader, server.http, "kala-kissa-koira-lintu-karhu-kettu")
    expect(reader.get_by_role("alert")).to_have_text("Tällä koodilla ei löytynyt kirjeitä.")
    read_with(reader, server.http, code)
    expect(reader.locator(".l-from-asker .l-text")).to_have_text(LETTER)
    expect(reader.locator(".l-from-helper .l-text")).to_have_text(REPLY)
    expect(reader.locator(".l-from-helper .l-meta")).to_have_text("Eeva")
    assert axe_violations(reader, ".l-main") == []
    reader.get_by_role("button", name="Lopeta ja poista keskustelu").click()
    expect(reader.get_by_role("heading", name="Keskustelu poistettiin")).to_be_visible()
    assert not Thread.objects.exists()
    assert storage_of(reader) == {"session": 0, "local": 0, "cookie": ""}
    assert alerts == [] and reader_alerts == []


def test_quick_exit_from_the_letter_view_leaves_no_storage_or_history(
    server, contexts, closed_letter_line
):
    from playwright.sync_api import expect

    context = contexts(viewport=PHONE)
    page = context.new_page()
    code = write_letter(page, server.http)
    read_with(page, server.http, code)
    expect(page.locator(".l-from-asker .l-text")).to_have_text(LETTER)

    page.get_by_role("button", name="Poistu nopeasti").click()
    page.wait_for_url(re.compile(r"^https://www\.google\.com/"))
    # Back leads to the empty code form, never to the letter (the view was replaced, and the
    # letter pages are not cached).
    page.go_back()
    expect(page.get_by_label("Kirjekoodi")).to_have_value("")
    assert LETTER not in page.content() and code not in page.content()
    assert storage_of(page) == {"session": 0, "local": 0, "cookie": ""}
    assert context.cookies(server.http) == []

    # Esc pressed twice does the same, wherever the focus is.
    second = context.new_page()
    read_with(second, server.http, code)
    second.get_by_label("Kirjoita uudelleen").focus()
    second.keyboard.press("Escape")
    second.keyboard.press("Escape")
    second.wait_for_url(re.compile(r"^https://www\.google\.com/"))
    assert context.cookies(server.http) == []
    assert Thread.objects.count() == 1  # leaving is not ending: the code still works


# --- The same from the widget (static/chats/widget.js: lettersOffer) ------------------------------


def widget_letter_view(page, base):
    """The widget on the demo page, opened on the closed separation line: its letters offer."""
    page.goto(base + "/")
    page.get_by_role("button", name="Avaa nimetön chat").click()
    page.locator(".va-line", has_text="Apua eroon").click()


def widget_write(page, text=LETTER):
    page.get_by_role("button", name="Kirjoita kirje").click()
    page.get_by_label("Kirjeesi").fill(text)
    page.locator(".va-letter-topics input").first.check()
    page.get_by_role("button", name="Lähetä kirje").click()
    return page.locator("#va-letter-code").inner_text()


def widget_read(page, code):
    page.get_by_role("button", name="Minulla on jo kirjekoodi").click()
    page.get_by_label("Kirjekoodi").fill(code)
    page.get_by_role("button", name="Lue", exact=True).click()


@pytest.mark.parametrize("viewport", [TALL_PHONE, DESKTOP], ids=["phone", "desktop"])
def test_from_the_widget_an_asker_writes_at_night_reads_the_reply_and_ends_it(
    server, contexts, make_helper, closed_letter_line, viewport
):
    from playwright.sync_api import expect

    helper = make_helper(services=("ero",), name="Eeva")
    console = contexts().new_page()
    console_alerts = watch_for_alerts(console)
    log_in(console, server.http, helper)
    badge = console.locator("#letters-link")
    expect(badge).to_have_text("Kirjeiden saapuneet 0")  # the count at the console's start

    context = contexts(viewport=viewport)
    page = context.new_page()
    alerts = watch_for_alerts(page)
    widget_letter_view(page, server.http)
    expect(page.locator(".va-line-state").first).to_contain_text("Suljettu")
    offer = page.locator(".va-letters")
    expect(offer).to_contain_text("Kirjeisiin vastataan yleensä 3 arkipäivän kuluessa.")
    assert axe_violations(page, ".va-root") == []
    page.get_by_role("button", name="Kirjoita kirje").click()
    expect(page.locator(".va-letter-warning")).to_contain_text(
        "Kuka tahansa, jolla koodi on, voi lukea vastaukset"
    )
    assert axe_violations(page, ".va-root") == []
    page.get_by_label("Kirjeesi").fill(LETTER)
    page.locator(".va-letter-topics input").first.check()
    page.get_by_role("button", name="Lähetä kirje").click()
    expect(page.get_by_role("heading", name="Kirjeesi lähetettiin")).to_be_visible()
    code = page.locator("#va-letter-code").inner_text()
    assert len(code.split("-")) == 6
    expect(page.locator(".va-letter-warning")).to_contain_text("näytetään vain tämän kerran")
    expect(page.locator(".va-panel")).to_contain_text("3 arkipäivän kuluessa")
    assert code not in page.url
    assert storage_of(page) == {"session": 0, "local": 0, "cookie": ""}
    assert context.cookies(server.http) == []

    # The helper's console hears of it live, and the helper answers from the letters inbox.
    expect(badge).to_have_text("Kirjeiden saapuneet 1")
    badge.click()
    console.get_by_role("button", name="Ota vastattavaksi").click()
    console.get_by_label("Vastauksesi").fill(REPLY)
    console.get_by_role("button", name="Lähetä vastaus").click()
    expect(console.get_by_text("Yksikään kirje ei odota.")).to_be_visible()
    console.goto(server.http + "/console/")
    expect(badge).to_have_text("Kirjeiden saapuneet 0")

    # Another device, later: the widget and the code only.
    reader_context = contexts(viewport=viewport)
    reader = reader_context.new_page()
    reader_alerts = watch_for_alerts(reader)
    widget_letter_view(reader, server.http)
    widget_read(reader, "kala-kissa-koira-lintu-karhu-kettu")
    expect(reader.get_by_role("alert")).to_have_text("Tällä koodilla ei löytynyt kirjeitä.")
    reader.get_by_label("Kirjekoodi").fill(code)
    reader.get_by_role("button", name="Lue", exact=True).click()
    expect(reader.locator(".va-from-asker .va-text")).to_have_text(LETTER)
    expect(reader.locator(".va-from-helper .va-text")).to_have_text(REPLY)
    expect(reader.locator(".va-from-helper .va-sender")).to_contain_text("Eeva")
    assert axe_violations(reader, ".va-root") == []

    reader.get_by_label("Kirjoita uudelleen").fill("Kiitos vastauksesta.")
    reader.get_by_role("button", name="Lähetä kirje").click()
    expect(reader.locator(".va-from-asker .va-text").nth(1)).to_have_text("Kiitos vastauksesta.")
    expect(reader.locator(".va-panel")).to_contain_text("Kirjeesi odottaa vastausta.")
    expect(badge).to_have_text("Kirjeiden saapuneet 1")

    reader.get_by_role("button", name="Lopeta ja poista keskustelu").click()
    expect(reader.get_by_role("heading", name="Keskustelu poistettiin")).to_be_visible()
    assert not Thread.objects.exists()
    expect(badge).to_have_text("Kirjeiden saapuneet 0")
    assert storage_of(reader) == {"session": 0, "local": 0, "cookie": ""}
    assert reader_context.cookies(server.http) == []
    assert alerts == [] and reader_alerts == [] and console_alerts == []


def test_quick_exit_from_the_widgets_letter_view_leaves_no_storage_or_history(
    server, contexts, closed_letter_line
):
    from playwright.sync_api import expect

    context = contexts(viewport=TALL_PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    widget_letter_view(page, server.http)
    code = widget_write(page)
    history = page.evaluate("history.length")
    page.get_by_role("button", name="Lue vastaukset koodilla").click()
    page.get_by_label("Kirjekoodi").fill(code)
    page.get_by_role("button", name="Lue", exact=True).click()
    expect(page.locator(".va-from-asker .va-text")).to_have_text(LETTER)
    assert page.evaluate("history.length") == history  # no view of the letters is an entry
    assert storage_of(page) == {"session": 0, "local": 0, "cookie": ""}

    page.get_by_label("Kirjoita uudelleen").focus()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(r"^https://www\.google\.com/"))
    # The neutral page took the place of the one with the widget: Back goes to what came
    # before it (here, nothing), never to the letter.
    assert page.evaluate("history.length") == history
    page.go_back()
    assert not page.url.startswith(server.http)
    assert LETTER not in page.content() and code not in page.content()
    assert context.cookies(server.http) == []
    assert Thread.objects.count() == 1  # leaving is not ending: the code still works
