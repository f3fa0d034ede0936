"""Issue 21 in the console: a peer's support person, the private advice channel and the debrief
prompt at the end of a peer's shift (frozen time), through the helper socket and the page."""

from datetime import date, datetime, time

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.test import Client

from chats.models import DutySession
from scheduling.hours import HELSINKI
from scheduling.models import Debrief, ShiftBooking, ShiftSlot
from tests.conftest import next_frame, tables_holding

pytestmark = pytest.mark.django_db(transaction=True)

WEDNESDAY = date(2027, 3, 3)


def at(hour, minute=0):
    return datetime.combine(WEDNESDAY, time(hour, minute), tzinfo=HELSINKI)


@sync_to_async
def book(helper, label):
    slot = ShiftSlot.objects.get(line__slug="vakivalta", starts=time(int(label.split("-")[0])))
    return ShiftBooking.objects.create(helper=helper, slot=slot, day=WEDNESDAY)


@sync_to_async
def supported(peer, person):
    peer.support_person = person
    peer.save()


async def gets_no(communicator, kind, timeout=0.4) -> bool:
    """True if no frame of `kind` arrives within `timeout` (other frames are fine). The wait's
    timeout ends the socket's app (asgiref), so call it last for a socket."""
    try:
        frame = await next_frame(communicator, kind, timeout=timeout)
    except (AssertionError, TimeoutError):
        return True
    raise AssertionError(f"unexpected {kind} frame {frame}")


async def ready(helper_socket, helper):
    """A console that has joined its layer groups: its `follow_ups` frame comes after them."""
    console = await helper_socket(helper)
    await next_frame(console, "follow_ups")
    return console


async def recheck(helper):
    """The console's heartbeat recheck, now (it runs on its own every heartbeat)."""
    names = await sync_to_async(list)(
        DutySession.objects.filter(helper=helper, connected=True).values_list(
            "channel_name", flat=True
        )
    )
    for name in names:
        await get_channel_layer().send(name, {"type": "chat.recheck"})


# --- 1. The support person ---------------------------------------------------------------------


async def test_a_peers_console_shows_the_support_person_and_whether_on_duty(
    lines, make_helper, helper_socket
):
    peer = await sync_to_async(make_helper)(role="peer", name="Pia")
    tuula = await sync_to_async(make_helper)(name="Tuula")
    await supported(peer, tuula)
    page = await sync_to_async(logged_in_console)(peer)
    assert "Your support person: Tuula (not on duty now)" in page

    console = await helper_socket(peer)
    first = await next_frame(console, "support")
    assert first["person"] == {"name": "Tuula", "on_duty": False}
    tuulas = await ready(helper_socket, tuula)  # a professional: no `support` frame of its own
    assert (await next_frame(console, "support"))["person"] == {"name": "Tuula", "on_duty": True}
    assert "Your support person: Tuula (on duty now)" in await sync_to_async(logged_in_console)(
        peer
    )
    await tuulas.disconnect()
    assert (await next_frame(console, "support"))["person"]["on_duty"] is False


def logged_in_console(helper) -> str:
    client = Client()
    client.force_login(helper.user)
    return client.get("/console/", headers={"accept-language": "en"}).content.decode()


# --- 2. The advice channel ---------------------------------------------------------------------


async def test_advice_reaches_only_the_shifts_professional_and_is_never_stored(
    lines, make_helper, helper_socket
):
    peer = await sync_to_async(make_helper)(role="peer", name="Pia")
    sanna = await sync_to_async(make_helper)(name="Sanna")
    olli = await sync_to_async(make_helper)(name="Olli")
    pekka = await sync_to_async(make_helper)(role="peer", name="Pekka")
    await book(peer, "12-14")
    await book(sanna, "12-14")
    await book(pekka, "12-14")
    await book(olli, "14-16")
    question, answer = "Kysymys-7f3a: miten vastaan tähän?", "Vastaus-91bc: kysy turvasta."
    with time_machine.travel(at(13), tick=True):
        consoles = {
            h.display_name: await ready(helper_socket, h) for h in (peer, sanna, olli, pekka)
        }
        await consoles["Pia"].send_json_to(
            {"type": "consult", "service": "vakivalta", "text": question}
        )
        got = await next_frame(consoles["Sanna"], "consult")
        assert (got["text"], got["helper"], got["private"]) == (
            question, {"name": "Pia", "role": "peer"}, True,
        )  # fmt: skip
        assert (await next_frame(consoles["Pia"], "consult"))["mine"] is True

        # The professional answers the peer privately: not the line's other consoles.
        await consoles["Sanna"].send_json_to(
            {"type": "consult", "service": "vakivalta", "text": answer, "to": got["from"]}
        )
        reply = await next_frame(consoles["Pia"], "consult")
        assert (reply["text"], reply["helper"]["name"], reply["mine"]) == (answer, "Sanna", False)
        # Neither the question nor the answer: not another peer of the same shift, not
        # another shift's professional (a silent socket is closed after: check each once).
        assert await gets_no(consoles["Pekka"], "consult")
        assert await gets_no(consoles["Olli"], "consult")
    assert await sync_to_async(tables_holding)(question) == set()
    assert await sync_to_async(tables_holding)(answer) == set()


async def test_a_peer_with_no_professional_on_shift_is_told_their_support_person(
    lines, make_helper, helper_socket
):
    peer = await sync_to_async(make_helper)(role="peer", name="Pia")
    await supported(peer, await sync_to_async(make_helper)(name="Tuula", services=("ero",)))
    other_peer = await ready(helper_socket, await sync_to_async(make_helper)(role="peer"))
    console = await helper_socket(peer)
    await console.send_json_to({"type": "consult", "service": "vakivalta", "text": "Apua?"})
    error = await next_frame(console, "error")
    assert error["code"] == "no_professional"
    assert "Tuula" in error["message"]  # named, in the console's language
    assert await gets_no(other_peer, "consult")


# --- 3. The debrief prompt ---------------------------------------------------------------------


async def test_both_consoles_prompt_the_debrief_when_a_peers_shift_ends(
    lines, make_helper, helper_socket
):
    peer = await sync_to_async(make_helper)(role="peer", name="Pia")
    sanna = await sync_to_async(make_helper)(name="Sanna")
    olli = await sync_to_async(make_helper)(name="Olli")
    shift = await book(peer, "12-14")
    await book(sanna, "12-14")
    with time_machine.travel(at(13, 58), tick=False) as clock:
        # Nothing to prompt yet: no `support` frame (the page's own state is empty too).
        pia, sannas, ollis = [await ready(helper_socket, h) for h in (peer, sanna, olli)]
        clock.move_to(at(14, 1))
        for helper in (peer, sanna, olli):
            await recheck(helper)
        (due,) = (await next_frame(pia, "support"))["debriefs"]
        assert (due["booking"], due["peer"], due["professionals"]) == (shift.pk, "Pia", ["Sanna"])
        assert due["can_record"] is False  # the professional records it
        (prompt,) = (await next_frame(sannas, "support"))["debriefs"]
        assert prompt == {**due, "can_record": True}
        assert await gets_no(ollis, "support")  # not on that shift: unchanged, not re-sent
        page = await sync_to_async(logged_in_console)(sanna)
        assert '"can_record": true' in page  # the page starts with the prompt too

        await sannas.send_json_to({"type": "debrief", "booking": shift.pk})  # the one click
        assert (await next_frame(sannas, "support"))["debriefs"] == []
        assert (await next_frame(pia, "support"))["debriefs"] == []
    debrief = await sync_to_async(Debrief.objects.select_related("recorded_by").get)(booking=shift)
    assert (debrief.recorded_by.display_name, debrief.held_at) == ("Sanna", at(14, 1))


async def test_a_peer_cannot_record_the_debrief_themselves(lines, make_helper, helper_socket):
    peer = await sync_to_async(make_helper)(role="peer", name="Pia")
    shift = await book(peer, "12-14")
    with time_machine.travel(at(14, 5), tick=False):
        console = await helper_socket(peer)
        (due,) = (await next_frame(console, "support"))["debriefs"]
        assert due["professionals"] == [] and due["can_record"] is False
        await console.send_json_to({"type": "debrief", "booking": shift.pk})
        assert (await next_frame(console, "error"))["code"] == "invalid"
    assert not await sync_to_async(Debrief.objects.exists)()
