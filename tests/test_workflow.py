"""The helper's workflow over the real ASGI app: transfers, capacity, limits, honest waiting and
the youth line (docs/workflow.md)."""

import importlib
from datetime import datetime, timedelta

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from chats import asking, duty, protocol, services, sweeps, taking, transfer, waiting
from chats.models import Chat, HelperProfile, LineLoad, Message
from chats.services import ChatError
from chats.waiting import Pace, can_serve_before_closing, estimate_range
from scheduling.hours import HELSINKI
from stats.models import DailyCount
from tests.conftest import next_frame, pair, start

pytestmark = pytest.mark.django_db(transaction=True)

# Frames a console gets besides the ones under test.
NOISE = ("queue", "capacity", "colleagues", "follow_ups", "typing", "transfer_withdrawn")
WEDNESDAY_1730 = datetime(2027, 3, 3, 17, 30, tzinfo=HELSINKI)  # vakivalta closes at 18


@pytest.fixture
def open_week(lines):
    """vakivalta open around the clock from yesterday for ten days (the clock moves by days)."""
    from scheduling.models import HoursException

    today = timezone.localdate()
    HoursException.objects.create(
        line=lines["vakivalta"],
        first_day=today - timedelta(days=1),
        last_day=today + timedelta(days=10),
        closed=False,
        opens="00:00",
        closes="00:00",
        weekdays_only=False,
        note="tests: open around the clock",
    )
    return lines["vakivalta"]


async def receive_nothing(communicator, timeout=0.3, ignore=NOISE):
    """No frame but `ignore` ones within `timeout`; unlike conftest's, the socket stays usable
    (a timed-out receive cancels the application)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if communicator.output_queue.empty():
            await asyncio.sleep(0.01)
            continue
        frame = await communicator.receive_json_from()
        if frame["type"] not in ignore:
            raise AssertionError(f"unexpected frame {frame}")
    return True


async def say(sender, receiver, frame):
    """Send a message and wait until both its echo and the other side's copy arrived."""
    await sender.send_json_to(frame)
    await next_frame(sender, "message")
    return await next_frame(receiver, "message")


# --- Transfer ---------------------------------------------------------------------------------


@pytest.fixture
def three_helpers(make_helper):
    return (
        make_helper(role="peer", name="Pekka"),
        make_helper(role="professional", name="Paula"),
        make_helper(role="professional", name="Olli"),
    )


async def transfer_setup(open_line, three_helpers, asker_socket, helper_socket):
    peer, professional, bystander = three_helpers
    consoles = [await helper_socket(helper) for helper in three_helpers]
    for console in consoles:
        await next_frame(console, "follow_ups")  # the last frame of connecting: on duty now
    asker = await asker_socket(open_line)
    assert (await start(asker))["type"] == "queued"
    chat = await pair(consoles[0], asker)
    await say(asker, consoles[0], {"type": "message", "text": "Minua pelottaa kotona."})
    await say(consoles[0], asker, {"type": "message", "chat": chat, "text": "Kerro lisää."})
    await consoles[0].send_json_to(
        {"type": "transfer", "chat": chat, "to": "paula", "note": "Vakava, ammattilaiselle."}
    )
    return asker, consoles, chat


async def test_transfer_keeps_every_message_and_reaches_the_other_helper_only(
    open_line, three_helpers, asker_socket, helper_socket
):
    peer, professional, _bystander = three_helpers
    asker, (peer_console, pro_console, bystander), chat = await transfer_setup(
        open_line, three_helpers, asker_socket, helper_socket
    )
    offer = await next_frame(pro_console, "transfer_offer")
    assert offer["chat"] == chat and offer["service"] == "vakivalta"
    assert offer["from"] == {"id": peer.pk, "name": "Pekka", "role": "peer"}
    assert offer["note"] == "Vakava, ammattilaiselle."
    pending = await next_frame(peer_console, "transfer_pending")
    assert pending["to"] == {"id": professional.pk, "name": "Paula", "role": "professional"}
    # Only the chosen colleague hears of it; the asker sees nothing until it is accepted.
    assert await receive_nothing(bystander)
    assert await receive_nothing(asker)

    await pro_console.send_json_to({"type": "transfer_accept", "chat": chat})
    assigned = await next_frame(pro_console, "assigned")
    assert assigned["chat"] == chat and assigned["ip"] == "203.0.113.7"
    assert assigned["handover"] == {
        "from": {"id": peer.pk, "name": "Pekka", "role": "peer"},
        "note": "Vakava, ammattilaiselle.",
    }
    history = await next_frame(pro_console, "history")
    texts = [(m["id"], m["sender"], m["text"]) for m in history["messages"]]
    assert texts[:2] == [(1, "asker", "Minua pelottaa kotona."), (2, "helper", "Kerro lisää.")]
    assert texts[2][:2] == (3, "system") and "Paula" in texts[2][2]

    notice = await next_frame(asker, "message")
    assert notice["sender"] == "system" and "Paula" in notice["text"]
    assert await next_frame(asker, "assigned") == {
        "type": "assigned",
        "helper": {"name": "Paula", "role": "professional"},
    }
    transferred = await next_frame(peer_console, "transferred")
    assert transferred == {
        "type": "transferred",
        "chat": chat,
        "to": {"id": professional.pk, "name": "Paula", "role": "professional"},
    }

    # From now on the chat is the professional's alone.
    reply = await say(pro_console, asker, {"type": "message", "chat": chat, "text": "Olen Paula."})
    assert (reply["id"], reply["sender"]) == (4, "helper")
    assert await receive_nothing(peer_console)
    await peer_console.send_json_to({"type": "message", "chat": chat, "text": "vielä"})
    assert (await next_frame(peer_console, "error"))["code"] == "not_found"
    assert await receive_nothing(bystander)
    stored = await sync_to_async(list)(
        Message.objects.filter(chat_id=chat).values_list("seq", flat=True)
    )
    assert stored == [1, 2, 3, 4]
    assert await sync_to_async(DailyCount.objects.get)(metric="transfers", key="professional")


async def test_declined_transfer_stays_with_the_first_helper(
    open_line, three_helpers, asker_socket, helper_socket
):
    asker, (peer_console, pro_console, _bystander), chat = await transfer_setup(
        open_line, three_helpers, asker_socket, helper_socket
    )
    await next_frame(pro_console, "transfer_offer")
    await pro_console.send_json_to({"type": "transfer_decline", "chat": chat})
    declined = await next_frame(peer_console, "transfer_declined")
    assert declined["chat"] == chat and declined["reason"] == "declined"
    assert declined["by"]["name"] == "Paula"
    assert (await next_frame(pro_console, "transfer_withdrawn"))["chat"] == chat
    assert await receive_nothing(asker)

    reply = await say(peer_console, asker, {"type": "message", "chat": chat, "text": "Jatketaan."})
    assert reply["sender"] == "helper"
    await pro_console.send_json_to({"type": "message", "chat": chat, "text": "minä"})
    assert (await next_frame(pro_console, "error"))["code"] == "not_found"
    await pro_console.send_json_to({"type": "transfer_accept", "chat": chat})
    assert (await next_frame(pro_console, "error"))["code"] == "not_found"


async def test_unanswered_transfer_offer_returns_to_the_helper_who_made_it(
    open_line, three_helpers, asker_socket, helper_socket
):
    _asker, (peer_console, pro_console, _bystander), chat = await transfer_setup(
        open_line, three_helpers, asker_socket, helper_socket
    )
    await next_frame(pro_console, "transfer_offer")
    later = timezone.now() + timedelta(seconds=121)
    assert await sync_to_async(transfer.sweep)(later) == 1
    assert (await next_frame(peer_console, "transfer_declined"))["reason"] == "expired"
    assert (await next_frame(pro_console, "transfer_withdrawn"))["chat"] == chat
    chat_row = await sync_to_async(Chat.objects.get)(pk=chat)
    assert chat_row.transfer_to_id is None and chat_row.helper_id == three_helpers[0].pk


async def test_transfer_only_to_a_colleague_on_duty_with_room(
    open_line, make_helper, asker_socket, helper_socket
):
    peer = await sync_to_async(make_helper)(role="peer", name="Pekka")
    full = await sync_to_async(make_helper)(role="peer", name="Tiina")
    away = await sync_to_async(make_helper)(role="professional", name="Poissa")
    peer_console, full_console = await helper_socket(peer), await helper_socket(full)
    askers = [await asker_socket(open_line, ip=f"198.51.100.{i}") for i in (1, 2)]
    for asker in askers:
        await start(asker)
    chat = await pair(peer_console, askers[0])
    await pair(full_console, askers[1])

    await peer_console.send_json_to({"type": "transfer", "chat": chat, "to": away.pk})
    assert (await next_frame(peer_console, "error"))["code"] == "not_found"  # not on duty
    await peer_console.send_json_to({"type": "transfer", "chat": chat, "to": "Tiina"})
    refused = await next_frame(peer_console, "error")
    assert refused["code"] == "at_capacity" and "Tiina" in refused["message"]


async def test_console_lists_colleagues_on_duty_with_their_load(
    open_line, three_helpers, asker_socket, helper_socket
):
    peer, professional, bystander = three_helpers
    peer_console = await helper_socket(peer)
    for other in (professional, bystander):
        # On duty once the console has said hello (its follow-ups come last on connect).
        await next_frame(await helper_socket(other), "follow_ups")
    await peer_console.send_json_to({"type": "colleagues"})
    listed = await next_frame(peer_console, "colleagues")
    assert (listed["max_chats"], listed["chats"]) == (1, 0)  # the peer's own places
    assert [c["name"] for c in listed["colleagues"]] == ["Olli", "Paula"]
    paula = listed["colleagues"][1]
    assert paula == {
        "id": professional.pk,
        "name": "Paula",
        "role": "professional",
        "lines": ["vakivalta"],
        "chats": 0,
        "max_chats": 2,
        "paused": False,
    }


# --- Capacity ---------------------------------------------------------------------------------


async def test_capacity_refuses_the_third_chat_of_a_professional(
    open_line, make_helper, asker_socket, helper_socket
):
    helper = await sync_to_async(make_helper)(role="professional")
    console = await helper_socket(helper)
    askers = [await asker_socket(open_line, ip=f"198.51.100.{i}") for i in range(3)]
    for asker in askers:
        await start(asker)
    for held in (1, 2):
        await pair(console, askers[held - 1])
        await console.send_json_to({"type": "colleagues"})
        places = await next_frame(console, "colleagues")
        assert (places["max_chats"], places["chats"]) == (2, held)

    await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
    refused = await next_frame(console, "error", "assigned")
    assert refused["type"] == "error" and refused["code"] == "at_capacity"
    assert "2" in refused["message"]
    assert await receive_nothing(askers[2], ignore=("position",))
    third = await sync_to_async(Chat.objects.get)(asker_ip="198.51.100.2")
    assert third.status == Chat.Status.QUEUED and third.helper_id is None


def test_peer_holds_one_chat_and_a_coordinator_may_allow_more(open_line, make_helper):
    for i in range(3):
        asking.enqueue_asker("vakivalta", language="fi", ip=f"192.0.2.{i}")
    peer = make_helper(role="peer")
    assert taking.accept_next(peer, "vakivalta").chat_id
    with pytest.raises(ChatError) as refused:
        taking.accept_next(peer, "vakivalta")
    assert refused.value.code == "at_capacity"
    HelperProfile.objects.filter(pk=peer.pk).update(max_chats=2)
    peer.refresh_from_db()
    assert taking.accept_next(peer, "vakivalta").chat_id
    assert Chat.objects.queued().count() == 1


# --- Length limit and "come back later" ---------------------------------------------------------


async def test_length_limit_warns_then_ends_the_chat_at_its_time(
    open_line, make_helper, asker_socket, helper_socket, settings
):
    # The clock jumps half an hour: nobody's presence runs out meanwhile.
    settings.CHAT_ASKER_GRACE_SECONDS = settings.CHAT_HELPER_GRACE_SECONDS = 3 * 3600
    with time_machine.travel(timezone.now(), tick=False) as clock:
        console = await helper_socket(await sync_to_async(make_helper)())
        asker = await asker_socket(open_line)
        await start(asker)
        chat = await pair(console, asker)
        await console.send_json_to({"type": "limit", "chat": chat, "minutes": 30})
        told = await next_frame(asker, "message")
        assert told["sender"] == "system" and "30" in told["text"]
        limit = await next_frame(asker, "time_limit")
        ends_at = datetime.fromisoformat(limit["ends_at"])
        assert ends_at == timezone.now() + timedelta(minutes=30)
        assert (await next_frame(console, "time_limit"))["chat"] == chat

        sweep = sync_to_async(sweeps.sweep)
        clock.move_to(ends_at - timedelta(minutes=5, seconds=1))
        await sweep()
        assert await receive_nothing(asker)
        clock.move_to(ends_at - timedelta(minutes=5))
        await sweep()
        warning = await next_frame(asker, "message")
        assert warning["sender"] == "system" and "5" in warning["text"]
        clock.move_to(ends_at - timedelta(seconds=1))
        await sweep()
        assert await receive_nothing(asker)

        clock.move_to(ends_at)
        await sweep()
        goodbye = await next_frame(asker, "message")
        assert goodbye["sender"] == "system" and "aika" in goodbye["text"].lower()
        assert await next_frame(asker, "ended") == {
            "type": "ended",
            "by": "system",
            "reason": "time_limit",
        }
        ended = await next_frame(console, "ended")
        assert ended["chat"] == chat and ended["reason"] == "time_limit"
        assert not await sync_to_async(Chat.objects.exists)()


async def test_come_back_later_answers_blocked_until_it_expires_and_nothing_after(
    open_week, make_helper, asker_socket, helper_socket
):
    ip = "203.0.113.60"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        began = timezone.now()
        console = await helper_socket(await sync_to_async(make_helper)())
        asker = await asker_socket(open_week, ip=ip)
        await start(asker)
        chat = await pair(console, asker)
        await console.send_json_to({"type": "come_back_later", "chat": chat, "days": 2})
        kind = await next_frame(asker, "message")
        assert kind["sender"] == "system" and "Kiitos" in kind["text"]
        assert await next_frame(asker, "ended") == {
            "type": "ended",
            "by": "helper",
            "reason": "come_back_later",
        }
        await asker.disconnect()

        for moment in (began + timedelta(hours=1), began + timedelta(days=2, seconds=-1)):
            clock.move_to(moment)
            again = await asker_socket(open_week, ip=ip)
            blocked = await start(again)
            assert blocked["code"] == "blocked" and "tervetullut" in blocked["message"]
            assert datetime.fromisoformat(blocked["until"]) == began + timedelta(days=2)
            await again.disconnect()

        clock.move_to(began + timedelta(days=2))
        back = await asker_socket(open_week, ip=ip)
        assert (await start(back))["type"] == "queued"


# --- Honest waiting -------------------------------------------------------------------------------


def test_estimate_is_a_range_from_the_pace_of_the_line():
    two_busy_professionals = Pace(slots=4, free=0, handle_minutes=20)
    assert estimate_range(1, two_busy_professionals) == (0, 10)  # mean 5 min
    assert estimate_range(6, two_busy_professionals) == (15, 45)  # mean 30 min
    assert estimate_range(1, Pace(slots=2, free=1, handle_minutes=20)) == (0, 5)
    assert estimate_range(1, Pace(slots=0, free=0, handle_minutes=20)) is None


def test_cut_off_refuses_a_newcomer_the_queue_cannot_serve_before_closing():
    # 30 minutes left, one busy professional (2 places), chats of 20 min: 3 more answered.
    assert can_serve_before_closing(2, 30, slots=2, free=0, handle_minutes=20)
    assert not can_serve_before_closing(3, 30, slots=2, free=0, handle_minutes=20)
    # A free place answers at once, even just before closing.
    assert can_serve_before_closing(1, 2, slots=2, free=2, handle_minutes=20)
    assert not can_serve_before_closing(3, 2, slots=2, free=2, handle_minutes=20)
    # Nobody on duty: one helper with one place is assumed to come, so an empty queue takes a
    # newcomer until closing, and one waiting asker needs a whole chat's time left.
    assert can_serve_before_closing(0, 1, slots=0, free=0, handle_minutes=20)
    assert can_serve_before_closing(1, 21, slots=0, free=0, handle_minutes=20)
    assert not can_serve_before_closing(1, 19, slots=0, free=0, handle_minutes=20)
    assert not can_serve_before_closing(0, 0, slots=5, free=5, handle_minutes=20)


def test_newcomers_past_the_cut_off_are_told_the_next_opening_and_other_services(
    lines, make_helper
):
    from django.apps import apps

    # The referral texts (transactional tests empty the tables; the seed migration refills).
    importlib.import_module("chats.migrations.0004_prepared_texts").seed(apps, None)
    with time_machine.travel(WEDNESDAY_1730, tick=False):
        busy = make_helper(role="professional", name="Paula")
        services.start_duty(busy, "console-1")
        for i in range(2):
            asking.enqueue_asker("vakivalta", language="fi", ip=f"192.0.2.{i}")
            taking.accept_next(busy, "vakivalta")
        waiting._paces.forget()  # a moment later: the pace a process keeps for a second is old
        # 30 min left, 2 busy places, 20-minute chats: three more askers can be answered.
        answers = [
            asking.enqueue_asker("vakivalta", language="fi", ip=f"198.51.100.{i}") for i in range(3)
        ]
        assert [a.frames[0]["position"] for a in answers] == [1, 2, 3]
        assert Client().get("/api/services/vakivalta/").json()["accepting"] is False
        with pytest.raises(ChatError) as refused:
            asking.enqueue_asker("vakivalta", language="fi", ip="203.0.113.9")
        frame = protocol.refusal_frame(refused.value)
        assert frame["code"] == "queue_full"
        assert datetime.fromisoformat(frame["opens_at"]) == datetime(
            2027, 3, 4, 12, tzinfo=HELSINKI
        )
        assert "Nollalinja" in [referral["title"] for referral in frame["referrals"]]
        assert Chat.objects.queued().count() == 3  # the newcomer never joined

        # A second professional comes on duty: two free places, and the newcomer fits.
        services.start_duty(make_helper(role="professional"), "console-2")
        assert Client().get("/api/services/vakivalta/").json()["accepting"] is True
        joined = asking.enqueue_asker("vakivalta", language="fi", ip="203.0.113.9")
        assert joined.frames[0]["type"] == "queued" and joined.frames[0]["position"] == 4


async def test_queued_and_position_carry_an_estimated_range(
    open_line, make_helper, asker_socket, helper_socket
):
    first = await asker_socket(open_line, ip="198.51.100.1")
    assert (await start(first))["estimate"] is None  # nobody on duty: no estimate
    console = await helper_socket(await sync_to_async(make_helper)(role="peer"))
    await next_frame(console, "follow_ups")  # the last frame of connecting: on duty now
    waiting._paces.forget()  # a moment later: the pace a process keeps for a second is old
    second = await asker_socket(open_line, ip="198.51.100.2")
    queued = await start(second)
    # One peer, free, chats of 20 min: the first asker gets the place, the second waits one.
    assert queued["position"] == 2
    assert queued["estimate"] == {"min_minutes": 10, "max_minutes": 30}
    waiting._paces.forget()  # a moment later again
    await pair(console, first)
    moved = await next_frame(second, "position")
    assert moved["position"] == 1
    assert moved["estimate"] == {"min_minutes": 10, "max_minutes": 30}


def test_line_pace_learns_from_answered_chats(open_line, make_helper):
    helper = make_helper()
    now = timezone.now()
    for minutes in (40, 40, 40):
        asking.enqueue_asker("vakivalta", language="fi", ip="192.0.2.1", now=now)
        chat = taking.accept_next(helper, "vakivalta", now=now).chat_id
        services.end_chat(chat, by="helper", now=now + timedelta(minutes=minutes))
    load = LineLoad.objects.get(line=open_line)
    assert load.samples == 3
    # 20 → 24 → 27.2 → 29.76 minutes: towards 40, a step at a time.
    assert load.handle_seconds / 60 == pytest.approx(29.76)
    assert waiting.handle_minutes(open_line.pk) == pytest.approx(29.76)


# --- The youth line -------------------------------------------------------------------------------


async def test_youth_line_counts_the_age_range_once_and_sends_adults_elsewhere(
    lines, always_open, asker_socket
):
    youth = await sync_to_async(always_open)(lines["lapset-nuoret"])
    adult = await asker_socket(youth, ip="198.51.100.1")
    refused = await start(adult, age="18_plus")
    assert refused["code"] == "over_age"
    assert refused["service"] == {"slug": "vakivalta", "name": "Apua väkivaltaan"}
    wrong = await asker_socket(youth, ip="198.51.100.2")
    assert (await start(wrong, age="17"))["code"] == "invalid"

    child = await asker_socket(youth, ip="198.51.100.3")
    queued = await start(child, age="13_15")
    assert queued["type"] == "queued"
    await child.disconnect()
    again = await asker_socket(youth, ip="198.51.100.3")
    await again.send_json_to({"type": "resume", "token": queued["token"]})
    await next_frame(again, "history")

    counts = await sync_to_async(list)(
        DailyCount.objects.filter(metric="age").values_list("key", "count")
    )
    assert counts == [("13_15", 1)]
    assert not await sync_to_async(Chat.objects.filter(line__slug="vakivalta").exists)()


def test_service_objects_say_which_line_asks_an_age(lines):
    found = {item["slug"]: item for item in Client().get("/api/services/").json()}
    assert found["lapset-nuoret"]["asks_age"] is True
    assert found["vakivalta"]["asks_age"] is False
    assert "asks_age" not in found["unichat"]  # a group line


def test_youth_line_has_prepared_texts_for_children(lines):
    from django.apps import apps

    from chats.models import PreparedText

    # Transactional tests empty the tables; the seed migration fills them again.
    importlib.import_module("chats.migrations.0008_workflow_prepared_texts").seed(apps, None)
    titles = set(
        PreparedText.objects.filter(line__slug="lapset-nuoret").values_list("title", flat=True)
    )
    assert {"Et ole syyllinen", "Turvallinen aikuinen", "Hätätilanne (lapset ja nuoret)"} <= titles
    assert PreparedText.objects.filter(line=None, title="Epäasiallinen keskustelu").exists()


def test_duty_capacity_defaults_follow_the_role(make_helper, settings):
    settings.CHAT_MAX_CHATS_PEER, settings.CHAT_MAX_CHATS_PROFESSIONAL = 1, 3
    assert duty.capacity_of(make_helper(role="peer")) == 1
    professional = make_helper(role="professional")
    assert duty.capacity_of(professional) == 3
    professional.max_chats = 1
    assert duty.capacity_of(professional) == 1


def test_workflow_frames_are_validated():
    from chats.protocol import FrameError, parse_helper_frame

    assert parse_helper_frame('{"type":"limit","chat":1,"minutes":30}').minutes == 30
    for bad in (
        '{"type":"limit","chat":1,"minutes":0}',
        '{"type":"limit","chat":1}',
        '{"type":"come_back_later","chat":1,"days":91}',
        '{"type":"transfer","chat":1,"to":true}',
        '{"type":"transfer","chat":1,"to":""}',
    ):
        with pytest.raises(FrameError):
            parse_helper_frame(bad)
    assert parse_helper_frame('{"type":"transfer","chat":1,"to":7}').to == 7
