"""The console's and the group page's shared script (static/chats/common.js) in real browsers:
times in Helsinki time whatever the browser's zone, the take button at full capacity, the
refusal that goes when a place frees, an ended chat said at the top of its card. Chromium and
daphne as in tests/browser.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chats import groups
from tests.browser import (
    DESKTOP,
    accept_and_start,
    axe_violations,
    log_in,
    open_widget_on_line,
    screenshot,
    watch_for_alerts,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

NEW_YORK = "America/New_York"


def helsinki_clocks(before, after) -> set[str]:
    """The Finnish clock texts ("12.30") of the minutes a message may have been sent in."""
    minutes = {timezone.localtime(before), timezone.localtime(after)}
    return {moment.strftime("%H.%M") for moment in minutes}


def test_group_message_times_are_helsinki_times_in_browsers_on_new_york_time(
    server, contexts, make_helper
):
    """The moderator's panel and the participant's page write a message's time in Helsinki
    time: the group page wrote the browser's own, seven hours off for someone in New York."""
    from playwright.sync_api import expect

    mia = make_helper(services=("unichat", "vakivalta"), name="Mia")
    now = timezone.now()
    session = groups.schedule_session(
        "unichat",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        title="Iltaryhmä",
        moderators=[mia.user.username],
    )
    console = contexts(timezone_id=NEW_YORK).new_page()
    console_alerts = watch_for_alerts(console)
    log_in(console, server.http, mia)
    console.get_by_role("button", name="Liity moderaattorina").click()
    panel = console.locator(f'[data-session="{session.pk}"]')
    panel.wait_for()

    participant = contexts(timezone_id=NEW_YORK).new_page()
    participant_alerts = watch_for_alerts(participant)
    participant.goto(f"{server.http}/group/unichat/")
    participant.fill("#join-nickname", "Yökyöpeli")
    participant.locator("#join-form button").click()
    participant.locator("#room").wait_for()
    before = timezone.now()
    participant.fill("#room-text", "Valvotaanko taas?")
    participant.locator("#room-compose button").click()
    said = panel.locator(".g-message", has_text="Valvotaanko taas?")
    said.wait_for()
    after = timezone.now()

    allowed = helsinki_clocks(before, after)
    shown = {
        said.locator("time").inner_text().strip(),
        participant.locator(".g-message time").inner_text().strip(),
    }
    assert shown <= allowed, (shown, allowed)
    # The panel's words come from its json_script dict, with the count put in its place.
    expect(panel.locator(".g-count")).to_have_text("Ryhmässä nyt: 2")
    assert axe_violations(console, "#moderation") == []
    assert console_alerts + participant_alerts == []


def test_a_full_helper_cannot_take_the_next_asker_and_sees_why(server, contexts, make_helper):
    """A peer holds one chat at most: at one the take button is off with the reason beside it,
    the header keeps its one row, a refusal says "1 keskustelu" and goes when the chat ends,
    and the ended chat says so under its title, not only at the foot of the card."""
    from playwright.sync_api import expect

    peer = make_helper(role="peer", name="Pekka")
    asker = contexts().new_page()
    asker_alerts = watch_for_alerts(asker)
    open_widget_on_line(asker, server.http)
    accept_and_start(asker)

    console = contexts(viewport=DESKTOP).new_page()
    console.on("dialog", lambda dialog: dialog.accept())
    log_in(console, server.http, peer)
    take = console.locator('[data-take="vakivalta"]')
    expect(console.locator(".c-capacity")).to_have_text("Keskustelusi: 0/1")
    header_height = console.locator(".c-top").bounding_box()["height"]
    expect(take).to_be_enabled()

    take.click()
    chat = console.locator(".c-chat")
    expect(console.locator(".c-capacity")).to_have_text("Keskustelusi: 1/1 – täynnä")
    expect(take).to_be_disabled()
    reason = "Kaikki keskustelupaikkasi ovat käytössä"
    expect(console.locator("#take-full")).to_contain_text(reason)
    expect(take).to_have_accessible_description(console.locator("#take-full").inner_text())
    assert console.locator(".c-top").bounding_box()["height"] == header_height
    # One wide chat, not a third of the screen beside two empty columns.
    chats_width = console.locator("#chats").bounding_box()["width"]
    assert chat.bounding_box()["width"] > 0.9 * chats_width

    # A click that got past the button (a second tab, a race with the capacity frame): the
    # server's refusal counts in the right form, and goes when the place frees.
    console.evaluate(
        """() => { const b = document.querySelector('[data-take="vakivalta"]');
                   b.disabled = false; b.click(); }"""
    )
    alert = console.locator("#console-alert")
    expect(alert).to_contain_text("Sinulla on jo 1 keskustelu, enimmäismääräsi kerralla.")
    screenshot(console, "console-full.png")
    assert axe_violations(console, "header") == []
    assert axe_violations(console, ".c-lines") == []

    chat.get_by_role("button", name="Päätä keskustelu").click()
    expect(chat.locator(".c-ended")).to_have_text("Keskustelu on päättynyt.")
    expect(alert).to_be_hidden()
    expect(take).to_be_enabled()
    expect(console.locator("#take-full")).to_be_hidden()
    head = chat.locator(".c-ended-head")
    expect(head).to_have_text("Keskustelu on päättynyt.")
    assert head.bounding_box()["y"] < chat.locator(".c-log").bounding_box()["y"]
    screenshot(console, "console-ended.png")
    assert axe_violations(console, ".c-chat") == []
    assert asker_alerts == []
