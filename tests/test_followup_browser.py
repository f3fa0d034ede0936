"""Offering a follow-up from the console in real browsers (docs/follow-ups.md): the helper picks
a time of their own booked shift, the asker's widget shows it with the code. Chromium and daphne
as in tests/browser.py."""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from chats import followups
from chats.models import FollowUp
from scheduling.hours import HELSINKI
from scheduling.models import ShiftBooking
from scheduling.services import book_shift
from tests.browser import (
    accept_and_start,
    axe_violations,
    log_in,
    open_widget_on_line,
    watch_for_alerts,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

CONSOLE = {"width": 1400, "height": 900}
WEEKDAYS = ("ma", "ti", "ke", "to", "pe", "la", "su")  # as Chromium writes them in Finnish


def test_helper_offers_a_follow_up_in_their_shift_and_the_asker_gets_time_and_code(
    server, contexts, make_helper
):
    from playwright.sync_api import expect

    anna = make_helper(name="Anna")
    tomorrow = timezone.localdate() + timedelta(days=1)
    asker = contexts().new_page()
    asker_alerts = watch_for_alerts(asker)
    open_widget_on_line(asker, server.http)
    accept_and_start(asker)
    expect(asker.locator(".va-position")).to_have_text("Olet seuraavana vuorossa.")

    console = contexts(viewport=CONSOLE).new_page()
    console_alerts = watch_for_alerts(console)
    log_in(console, server.http, anna)
    console.locator('[data-take="vakivalta"]').click()
    chat = console.locator(".c-chat")
    expect(asker.locator(".va-info")).to_have_text("Anna liittyi keskusteluun.")

    # No booked shift of the line: a way to book one instead of an empty choice.
    expect(chat.locator(".c-follow-up-none")).to_have_text(
        "Jatkokeskustelun voi sopia vain omaan varattuun vuoroosi tällä linjalla."
        " Varaa vuoro kalenterista"
    )
    expect(chat.get_by_role("link", name="Varaa vuoro kalenterista")).to_have_attribute(
        "href", "/console/calendar/"
    )
    expect(chat.get_by_label("Tarjoa jatkokeskustelua")).to_be_hidden()

    # Booked, and back in the console: the chat is still there, with the shift's half hours.
    book_shift(anna, "vakivalta", tomorrow, "12-14")
    console.reload()
    day = f"{WEEKDAYS[tomorrow.weekday()]} {tomorrow.day}.{tomorrow.month}."
    choice = chat.get_by_label("Tarjoa jatkokeskustelua")
    expect(choice.locator("option")).to_have_text(
        ["Ei jatkokeskustelua"]
        + [f"{day} klo {time}" for time in ("12.00", "12.30", "13.00", "13.30")]
    )
    expect(choice).to_have_value("")  # no follow-up unless the helper chooses one
    expect(chat.locator(".c-follow-up-none")).to_be_hidden()
    assert axe_violations(console, ".c-chat") == []
    choice.select_option(label=f"{day} klo 12.30")

    # The shift is cancelled meanwhile: the server refuses, and the chat stays open.
    ShiftBooking.objects.filter(helper=anna).delete()
    chat.get_by_role("button", name="Päätä keskustelu").click()
    expect(chat.locator(".c-follow-up-error")).to_contain_text(
        "Jatkokeskustelua ei voitu sopia, joten keskustelu on yhä auki."
    )
    expect(chat.locator(".c-ended")).to_be_hidden()
    expect(chat.locator(".c-input")).to_be_enabled()
    expect(console.locator("#console-alert")).to_be_hidden()  # at the chat, not at the top
    expect(asker.locator(".va-follow-up")).to_have_count(0)

    book_shift(anna, "vakivalta", tomorrow, "12-14")
    chat.get_by_role("button", name="Päätä keskustelu").click()
    expect(chat.locator(".c-ended")).to_have_text(
        f"Keskustelu on päättynyt. Jatkokeskustelu sovittu: {day} klo 12.30."
        " Kysyjä sai sitä varten koodin."
    )
    expect(chat.locator(".c-follow-up-error")).to_be_hidden()

    offered = asker.locator(".va-follow-up")
    expect(offered).to_have_text(
        re.compile(
            r"^Auttaja tarjosi jatkokeskustelua huomenna klo 12\.30\. "
            r"Kirjoita koodi muistiin: [a-z]+(-[a-z]+){4}$"
        )
    )
    code = offered.inner_text().rsplit(" ", 1)[1]
    follow_up = FollowUp.objects.get(code_hash=followups.code_hash(code))
    assert follow_up.helper == anna
    assert follow_up.at == datetime(
        tomorrow.year, tomorrow.month, tomorrow.day, 12, 30, tzinfo=HELSINKI
    )
    assert code not in console.locator("body").inner_text()  # the code is the asker's alone
    assert asker_alerts + console_alerts == []


def test_follow_up_list_shows_helsinki_times_in_a_browser_set_to_another_time_zone(
    server, contexts, make_helper
):
    """The console's follow-up list (moderate.js) showed the browser's local time; a helper
    whose laptop is on New York time saw 05.30 for a 12.30 follow-up."""
    from playwright.sync_api import expect

    anna = make_helper(name="Anna")
    tomorrow = timezone.localdate() + timedelta(days=1)
    at = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 12, 30, tzinfo=HELSINKI)
    FollowUp.objects.create(
        line=anna.lines.get(),
        helper=anna,
        code_hash="0" * 64,
        at=at,
        expires_at=at + timedelta(minutes=90),
        created_at=timezone.now(),
    )
    console = contexts(viewport=CONSOLE, timezone_id="America/New_York").new_page()
    log_in(console, server.http, anna)
    listed = console.locator("#follow-ups li")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(f"{tomorrow.day}.{tomorrow.month}. klo 12.30")
    expect(listed).to_contain_text("14.00)")
