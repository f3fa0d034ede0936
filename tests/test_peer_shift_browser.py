"""Issue 21 in a real browser: a peer's shift. The peer books beside a professional in the
calendar, asks for advice during the shift (it reaches the professional's console, nobody
else's), and at the shift's end both consoles prompt the debrief, recorded with one click.

The server is another process, so its clock cannot be frozen: the shift is a slot around now,
and its end is injected by moving the slot's end to a minute ago."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.conf import settings

from scheduling.hours import HELSINKI
from scheduling.models import Debrief, ShiftBooking, ShiftSlot
from tests.browser import log_in, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def quick_server(open_line):
    """A daphne whose consoles beat and read their support state every second."""
    from tests.conftest import Daphne, server_env

    env = server_env(settings.REDIS_URL, CHAT_HEARTBEAT_SECONDS=1, CHAT_SUPPORT_CHECK_SECONDS=1)
    daphne = Daphne(env).start()
    daphne.http = f"http://127.0.0.1:{daphne.port}"
    yield daphne
    daphne.stop()


def minute(moment: datetime) -> time:
    return moment.replace(second=0, microsecond=0).time()


def test_a_peers_shift_beside_a_professional_with_advice_and_the_debrief(
    quick_server, contexts, make_helper, lines
):
    from playwright.sync_api import expect

    from tests.conftest import need

    now = datetime.now(HELSINKI)
    need(time(0, 35) < now.time() < time(23, 25), "the shift around now would cross midnight")
    slot = ShiftSlot.objects.create(
        line=lines["vakivalta"],
        starts=minute(now - timedelta(minutes=30)),
        ends=minute(now + timedelta(minutes=30)),
    )
    peer = make_helper(role="peer", name="Pia")
    sanna = make_helper(name="Sanna")
    peer.support_person = sanna
    peer.save()
    ShiftBooking.objects.create(helper=sanna, slot=slot, day=now.date())

    # The peer books the shift beside Sanna in the calendar.
    pia = contexts().new_page()
    log_in(pia, quick_server.http, peer)
    pia.goto(quick_server.http + "/console/calendar/")
    today = re.escape(f"{now.day}.{now.month}. {slot.label}")
    pia.get_by_role("button", name=re.compile(rf"^Varaa \w+ {today}$")).click()
    expect(pia.get_by_role("status")).to_contain_text("Varattu: Apua väkivaltaan")
    expect(pia.locator(".cal-person", has_text="Sanna").first).to_be_visible()  # beside her
    assert ShiftBooking.objects.filter(helper=peer, slot=slot, day=now.date()).exists()

    pro = contexts().new_page()
    log_in(pro, quick_server.http, sanna)
    pia.goto(quick_server.http + "/console/")
    expect(pia.locator("#support-person")).to_have_text("Tukihenkilösi: Sanna (vuorossa nyt)")

    # Advice during the shift: to Sanna's console, marked private.
    pia.locator("#consult-text").fill("Miten vastaan, kun kysyjä ei halua kertoa ikäänsä?")
    pia.get_by_role("button", name="Lähetä kollegoille").click()
    advice = pro.locator("#consult-log .c-consult-item")
    expect(advice).to_contain_text("Miten vastaan, kun kysyjä ei halua kertoa ikäänsä?")
    expect(advice).to_contain_text("yksityinen")

    # The shift ends (moved to a minute ago): both consoles prompt the debrief.
    ShiftSlot.objects.filter(pk=slot.pk).update(ends=minute(now - timedelta(minutes=1)))
    expect(pia.locator("#debriefs .c-debrief")).to_contain_text("käy loppukeskustelu: Sanna")
    prompt = pro.locator("#debriefs .c-debrief")
    expect(prompt).to_contain_text("Pia")
    prompt.get_by_role("button", name="Loppukeskustelu pidetty").click()
    expect(pro.locator("#debriefs .c-debrief")).to_have_count(0)
    expect(pia.locator("#debriefs .c-debrief")).to_have_count(0)
    wait_until(lambda: Debrief.objects.filter(booking__helper=peer, recorded_by=sanna).exists())
