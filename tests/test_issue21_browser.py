"""Issue 21 in a real browser: a trained volunteer is shown to the asker as a volunteer."""

import pytest

from tests.browser import accept_and_start, log_in, open_widget_on_line, watch_for_alerts

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


def test_the_asker_sees_a_volunteer_as_vapaaehtoinen_not_chatvertainen(
    server, contexts, make_helper
):
    from playwright.sync_api import expect

    helper = make_helper(role="volunteer", name="Ville")
    asker = contexts().new_page()
    alerts = watch_for_alerts(asker)
    open_widget_on_line(asker, server.http)
    accept_and_start(asker)
    console = contexts(viewport={"width": 1400, "height": 900}).new_page()
    log_in(console, server.http, helper)
    console.locator('[data-take="vakivalta"]').click()
    chat = console.locator(".c-chat")
    chat.locator(".c-input").fill("Hei, olen Ville.")
    chat.locator(".c-input").press("Enter")
    helper_line = asker.locator(".va-from-helper")
    expect(helper_line.locator(".va-text")).to_have_text("Hei, olen Ville.")
    expect(helper_line.locator(".va-badge")).to_have_text("vapaaehtoinen")
    assert alerts == []
