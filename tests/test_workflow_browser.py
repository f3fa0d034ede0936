"""A transfer in real browsers: a peer hands a chat to a professional, the asker sees who
continues, and nothing of the chat is lost (docs/workflow.md). Chromium and daphne as in
tests/browser.py."""

import re

import pytest

from tests.browser import (
    accept_and_start,
    axe_violations,
    log_in,
    open_widget_on_line,
    watch_for_alerts,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

CONSOLE = {"width": 1400, "height": 900}


def test_peer_hands_a_chat_to_a_professional_and_the_asker_sees_who_continues(
    server, contexts, make_helper
):
    from playwright.sync_api import expect

    peer = make_helper(role="peer", name="Pekka")
    professional = make_helper(role="professional", name="Paula")
    asker = contexts().new_page()
    asker_alerts = watch_for_alerts(asker)
    open_widget_on_line(asker, server.http)
    accept_and_start(asker)
    expect(asker.locator(".va-position")).to_have_text("Olet seuraavana vuorossa.")
    # Nobody is on duty yet: the widget says it cannot estimate, and promises nothing.
    expect(asker.locator(".va-estimate")).to_have_text("Odotusaikaa ei voi juuri nyt arvioida.")

    peer_page = contexts(viewport=CONSOLE).new_page()
    peer_alerts = watch_for_alerts(peer_page)
    log_in(peer_page, server.http, peer)
    pro_page = contexts(viewport=CONSOLE).new_page()
    pro_alerts = watch_for_alerts(pro_page)
    log_in(pro_page, server.http, professional)
    expect(pro_page.locator(".c-capacity")).to_have_text("Keskustelusi: 0/2")

    peer_page.locator('[data-take="vakivalta"]').click()
    chat = peer_page.locator(".c-chat")
    expect(peer_page.locator(".c-capacity")).to_have_text("Keskustelusi: 1/1 – täynnä")
    expect(asker.locator(".va-info")).to_have_text("Pekka liittyi keskusteluun.")
    asker.locator("#va-input").fill("Tarvitsen ammattilaista.")
    asker.locator("#va-input").press("Enter")
    expect(chat.locator(".c-from-asker .c-text")).to_have_text("Tarvitsen ammattilaista.")

    chat.locator(".c-workflow summary", has_text="Siirrä kollegalle").click()
    colleague = chat.get_by_label("Päivystävä kollega")
    expect(colleague.locator("option")).to_have_text(["Paula (ammattilainen) – keskusteluja 0/2"])
    colleague.select_option(str(professional.pk))
    chat.get_by_label("Siirtoviesti (vain kollega näkee sen)").fill("Ammattilaiselle, kiitos.")
    chat.get_by_role("button", name="Tarjoa keskustelua").click()
    expect(chat.locator(".c-workflow .c-hint")).to_have_text(
        "Tarjottu: Paula; odotetaan vastausta…"
    )

    offer = pro_page.locator(".c-offer")
    expect(offer).to_contain_text("Pekka tarjoaa sinulle keskustelua linjalla Apua väkivaltaan.")
    expect(offer).to_contain_text("Siirtoviesti: Ammattilaiselle, kiitos.")
    assert axe_violations(pro_page, ".c-offers") == []
    expect(asker.locator(".va-root")).not_to_contain_text("Ammattilaiselle")  # private
    offer.get_by_role("button", name="Ota keskustelu").click()

    taken = pro_page.locator(".c-chat")
    expect(taken.locator(".c-handover")).to_have_text(
        "Siirtäjä: Pekka. Viesti: Ammattilaiselle, kiitos."
    )
    expect(taken.locator(".c-from-asker .c-text")).to_have_text("Tarvitsen ammattilaista.")
    expect(pro_page.locator(".c-offer")).to_have_count(0)
    expect(pro_page.locator(".c-capacity")).to_have_text("Keskustelusi: 1/2")
    expect(chat.locator(".c-ended")).to_have_text("Keskustelu siirtyi: Paula.")
    expect(peer_page.locator(".c-capacity")).to_have_text("Keskustelusi: 0/1")

    notice = asker.locator(".va-from-system .va-text")
    expect(notice).to_have_text(
        "Keskustelua jatkaa nyt kanssasi Paula. Kaikki tähän asti kirjoitettu on tallessa."
    )
    expect(asker.locator(".va-info").last).to_have_text("Paula liittyi keskusteluun.")
    taken.locator(".c-input").fill("Hei, olen Paula ja jatkan tästä.")
    taken.locator(".c-input").press("Enter")
    reply = asker.locator(".va-from-helper").last
    expect(reply.locator(".va-text")).to_have_text("Hei, olen Paula ja jatkan tästä.")
    expect(reply.locator(".va-sender strong")).to_have_text("Paula")
    expect(reply.locator(".va-badge")).to_have_count(0)  # a professional, not a peer
    # Everything the asker wrote is still there, above the new helper's words.
    expect(asker.locator(".va-from-asker .va-text")).to_have_text(["Tarvitsen ammattilaista."])
    assert axe_violations(pro_page, ".c-chat") == []
    assert [alert for alert in asker_alerts + peer_alerts + pro_alerts] == []
    assert re.search(r"Paula", asker.locator(".va-messages").inner_text())


def test_youth_line_asks_an_age_range_and_shows_an_adult_the_adult_line(
    server, contexts, lines, always_open
):
    from playwright.sync_api import expect

    from stats.models import DailyCount

    always_open(lines["lapset-nuoret"])
    page = contexts().new_page()
    alerts = watch_for_alerts(page)
    open_widget_on_line(page, server.http, line_name="Lasten ja nuorten chat")
    ages = page.get_by_role("group", name="Kuinka vanha olet?")
    expect(ages).to_contain_text("Kysymme vain ikäryhmää tilastoja varten.")
    page.get_by_label("Olen lukenut tiedot ja hyväksyn keskustelun säännöt").check()
    page.get_by_role("button", name="Aloita keskustelu").click()
    expect(page.locator("#va-accept-error")).to_have_text("Valitse ensin ikäryhmäsi.")
    assert axe_violations(page, ".va-panel") == []

    page.get_by_label("18 tai yli").check()
    page.get_by_role("button", name="Aloita keskustelu").click()
    expect(page.locator(".va-body")).to_contain_text("Tämä chat on alle 18-vuotiaille.")
    page.get_by_role("button", name="Siirry palveluun Apua väkivaltaan").click()
    expect(page.locator(".va-subtitle")).to_have_text("Apua väkivaltaan")
    assert not DailyCount.objects.filter(metric="age").exists()  # nothing counted, nothing kept

    page.locator(".va-link-button", has_text="Muut palvelut").click()
    page.locator(".va-line", has_text="Lasten ja nuorten chat").click()
    page.get_by_label("13–15").check()
    accept_and_start(page)
    expect(page.locator(".va-position")).to_have_text("Olet seuraavana vuorossa.")
    assert list(DailyCount.objects.filter(metric="age").values_list("key", "count")) == [
        ("13_15", 1)
    ]
    assert alerts == []
