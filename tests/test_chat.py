"""The one-to-one chat over the real ASGI app: the contract's sections 3 and 4."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from chats import asking, services, sweeps, taking
from chats.models import Chat, Message
from tests.conftest import (
    all_text_in_database,
    in_threads,
    need_services,
    next_frame,
    on_postgres,
    pair,
    receive_nothing,
    start,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def test_full_conversation_between_asker_and_helper(
    open_line, make_helper, asker_socket, helper_socket
):
    helper = await sync_to_async(make_helper)(role="peer", name="Anna")
    console = await helper_socket(helper)
    queue = await next_frame(console, "queue")
    assert queue == {"type": "queue", "service": "vakivalta", "length": 0}

    asker = await asker_socket(open_line)
    queued = await start(asker)
    assert queued["type"] == "queued" and queued["position"] == 1
    assert len(queued["token"]) >= 22  # ≥ 128 bits, URL-safe base64
    assert (await next_frame(console, "queue"))["length"] == 1

    await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
    assigned = await next_frame(console, "assigned")
    chat = assigned["chat"]
    assert assigned["service"] == "vakivalta" and assigned["ip"] == "203.0.113.7"
    assert await next_frame(asker, "assigned") == {
        "type": "assigned",
        "helper": {"name": "Anna", "role": "peer"},
    }

    await asker.send_json_to({"type": "typing"})
    assert await next_frame(console, "typing") == {"type": "typing", "chat": chat}
    await asker.send_json_to({"type": "message", "text": "Hei, tarvitsen apua."})
    echo = await next_frame(asker, "message")
    assert (echo["id"], echo["sender"], echo["text"]) == (1, "asker", "Hei, tarvitsen apua.")
    got = await next_frame(console, "message")
    assert (got["chat"], got["id"], got["sender"]) == (chat, 1, "asker")

    await console.send_json_to({"type": "typing", "chat": chat})
    assert await next_frame(asker, "typing") == {"type": "typing"}
    await console.send_json_to({"type": "message", "chat": chat, "text": "Hei, olen täällä."})
    reply = await next_frame(asker, "message")
    assert (reply["id"], reply["sender"], reply["text"]) == (2, "helper", "Hei, olen täällä.")
    assert (await next_frame(console, "message"))["id"] == 2  # the helper's own echo

    await console.send_json_to({"type": "end", "chat": chat, "topics": ["henkinen"]})
    assert await next_frame(asker, "ended") == {"type": "ended", "by": "helper"}
    assert await next_frame(console, "ended") == {"type": "ended", "by": "helper", "chat": chat}
    await asker.send_json_to({"type": "message", "text": "vielä yksi"})
    assert (await next_frame(asker, "error"))["code"] == "not_found"


async def test_asker_ends_and_helper_is_told(open_line, make_helper, asker_socket, helper_socket):
    console = await helper_socket(await sync_to_async(make_helper)())
    asker = await asker_socket(open_line)
    await start(asker)
    chat = await pair(console, asker)
    await asker.send_json_to({"type": "end"})
    assert await next_frame(asker, "ended") == {"type": "ended", "by": "asker"}
    assert await next_frame(console, "ended") == {"type": "ended", "by": "asker", "chat": chat}


async def test_two_helpers_racing_never_get_the_same_asker(
    open_line, make_helper, asker_socket, helper_socket
):
    askers = [await asker_socket(open_line, ip=f"198.51.100.{i}") for i in (1, 2)]
    for asker in askers:
        await start(asker)
    consoles = [await helper_socket(await sync_to_async(make_helper)()) for _ in range(2)]
    accept = {"type": "accept_next", "service": "vakivalta"}
    for _round in range(2):
        await asyncio.gather(*(c.send_json_to(accept) for c in consoles))
    answers = [await next_frame(c, "assigned", "empty") for c in consoles for _ in range(2)]
    taken = [a["chat"] for a in answers if a["type"] == "assigned"]
    assert len(taken) == 2 and len(set(taken)) == 2
    assert sum(a["type"] == "empty" for a in answers) == 2
    for asker in askers:
        assert (await next_frame(asker, "assigned"))["type"] == "assigned"


def test_accept_next_race_in_threads_takes_each_asker_once(open_line, make_helper, settings):
    """Many helpers in parallel threads (each with its own DB connection) drain one queue."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import close_old_connections

    settings.CHAT_MAX_CHATS_PROFESSIONAL = 12  # the race is under test here, not capacity
    for i in range(12):
        asking.enqueue_asker("vakivalta", language="fi", ip=f"192.0.2.{i}")
    helpers = [make_helper() for _ in range(4)]

    def drain(helper):
        taken = []
        try:
            while (answer := taking.accept_next(helper, "vakivalta")).chat_id:
                taken.append(answer.chat_id)
        finally:
            close_old_connections()
        return taken

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(drain, helpers))
    taken = [chat for result in results for chat in result]
    assert len(taken) == 12 and len(set(taken)) == 12


def test_simultaneous_starts_are_told_their_exact_places(open_line):
    """Twelve askers start at one instant on twelve connections: each is told the place the
    queue then gives them, 1 to 12, with no one put in front of a place already told."""
    need_services(on_postgres(), "DATABASE_URL does not point at PostgreSQL")
    answers = []

    def work(i):
        answers.append(asking.enqueue_asker("vakivalta", language="fi", ip=f"198.51.100.{i}"))

    assert in_threads(12, work) == []
    told = {answer.chat_id: answer.frames[0]["position"] for answer in answers}
    assert [told[chat_id] for chat_id in services.queue_order(open_line.pk)] == list(range(1, 13))


async def test_positions_move_as_the_queue_moves(
    open_line, make_helper, asker_socket, helper_socket
):
    askers = [await asker_socket(open_line, ip=f"198.51.100.{i}") for i in range(3)]
    assert [(await start(a))["position"] for a in askers] == [1, 2, 3]
    console = await helper_socket(await sync_to_async(make_helper)())
    await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
    await next_frame(askers[0], "assigned")
    assert (await next_frame(askers[1], "position"))["position"] == 1
    assert (await next_frame(askers[2], "position"))["position"] == 2
    # The second asker gives up: the third moves up.
    await askers[1].send_json_to({"type": "end"})
    assert (await next_frame(askers[2], "position"))["position"] == 1


async def test_resume_after_dropped_connection_returns_history_in_order(
    open_line, make_helper, asker_socket, helper_socket
):
    console = await helper_socket(await sync_to_async(make_helper)(name="Pia"))
    asker = await asker_socket(open_line)
    token = (await start(asker))["token"]
    await asker.send_json_to({"type": "message", "text": "kirjoitan jonossa"})
    await next_frame(asker, "message")
    chat = await pair(console)
    history = await next_frame(console, "history")
    assert [m["text"] for m in history["messages"]] == ["kirjoitan jonossa"]
    await asker.disconnect()

    # While the asker is away the helper writes; nothing may be lost.
    for n in range(3):
        await console.send_json_to({"type": "message", "chat": chat, "text": f"viesti {n}"})
        assert (await next_frame(console, "message"))["text"] == f"viesti {n}"
    again = await asker_socket(open_line)
    await again.send_json_to({"type": "resume", "token": token})
    history = await next_frame(again, "history")
    assert [(m["id"], m["text"]) for m in history["messages"]] == [
        (1, "kirjoitan jonossa"),
        (2, "viesti 0"),
        (3, "viesti 1"),
        (4, "viesti 2"),
    ]
    state = await next_frame(again, "assigned", "position")
    assert state == {"type": "assigned", "helper": {"name": "Pia", "role": "professional"}}
    await console.send_json_to({"type": "message", "chat": chat, "text": "oletko siellä?"})
    assert (await next_frame(again, "message"))["id"] == 5
    assert await receive_nothing(again)


async def test_resume_with_unknown_token_is_not_found_and_connection_stays(open_line, asker_socket):
    asker = await asker_socket(open_line)
    await asker.send_json_to({"type": "resume", "token": "x" * 32})
    assert (await next_frame(asker, "error"))["code"] == "not_found"
    assert (await start(asker))["type"] == "queued"


@pytest.mark.parametrize(
    "raw, code",
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"no": "type"}', "unknown_type"),
        (json.dumps({"type": "message", "text": "x" * 4001}), "too_long"),
        (json.dumps({"type": "start", "language": "de"}), "invalid"),
        (json.dumps({"type": "message", "text": "  "}), "invalid"),
    ],
)
async def test_bad_frames_get_clear_errors_and_the_socket_stays_usable(
    open_line, asker_socket, raw, code
):
    asker = await asker_socket(open_line)
    await asker.send_to(text_data=raw)
    assert (await next_frame(asker, "error"))["code"] == code
    assert (await start(asker))["type"] == "queued"


async def test_binary_and_huge_frames_are_refused_without_harm(open_line, asker_socket):
    asker = await asker_socket(open_line)
    await asker.send_to(bytes_data=b"\x00\xff" * 10)
    assert (await next_frame(asker, "error"))["code"] == "bad_json"
    await asker.send_to(text_data="x" * 2_000_000)
    assert (await next_frame(asker, "error"))["code"] == "too_long"
    assert (await start(asker))["type"] == "queued"


async def test_a_flood_is_rate_limited_and_nothing_accepted_is_lost(
    open_line, make_helper, asker_socket, helper_socket, settings
):
    settings.CHAT_RATE_MESSAGES = 5
    settings.CHAT_RATE_WINDOW = 60
    asker = await asker_socket(open_line)
    await start(asker)  # one frame of the five
    for n in range(8):
        await asker.send_json_to({"type": "message", "text": f"flood {n}"})
    frames = [await next_frame(asker, "message", "error") for _ in range(8)]
    stored = [f["text"] for f in frames if f["type"] == "message"]
    refused = [f for f in frames if f["type"] == "error"]
    assert stored == ["flood 0", "flood 1", "flood 2", "flood 3"]
    assert {f["code"] for f in refused} == {"rate_limited"} and len(refused) == 4
    assert await sync_to_async(Message.objects.count)() == 4


async def test_helper_socket_refuses_anonymous_and_non_helpers(db, sockets):
    from tests.conftest import connect

    _, connected = await connect("/ws/helper/")
    assert not connected


async def test_helper_cannot_write_to_another_helpers_chat(
    open_line, make_helper, asker_socket, helper_socket
):
    first = await helper_socket(await sync_to_async(make_helper)())
    other = await helper_socket(await sync_to_async(make_helper)())
    asker = await asker_socket(open_line)
    await start(asker)
    chat = await pair(first)
    await other.send_json_to({"type": "message", "chat": chat, "text": "tunkeilija"})
    assert (await next_frame(other, "error"))["code"] == "not_found"
    await other.send_json_to({"type": "end", "chat": chat, "topics": []})
    assert (await next_frame(other, "error"))["code"] == "not_found"
    assert await receive_nothing(asker, ignore=("assigned",))


async def test_helper_of_another_line_cannot_take_its_askers(
    open_line, make_helper, asker_socket, helper_socket
):
    console = await helper_socket(await sync_to_async(make_helper)(services=["ero"]))
    asker = await asker_socket(open_line)
    await start(asker)
    await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
    assert (await next_frame(console, "error", "assigned"))["code"] == "not_found"


async def test_unknown_topic_keeps_the_chat_open(
    open_line, make_helper, asker_socket, helper_socket
):
    console = await helper_socket(await sync_to_async(make_helper)())
    asker = await asker_socket(open_line)
    await start(asker)
    chat = await pair(console)
    await console.send_json_to({"type": "end", "chat": chat, "topics": ["no-such-topic"]})
    assert (await next_frame(console, "error"))["code"] == "unknown_topic"
    await console.send_json_to({"type": "message", "chat": chat, "text": "jatketaan"})
    assert (await next_frame(asker, "message"))["text"] == "jatketaan"


async def test_nothing_of_an_ended_chat_remains_in_any_table(
    open_line, make_helper, asker_socket, helper_socket
):
    console = await helper_socket(await sync_to_async(make_helper)())
    asker = await asker_socket(open_line, ip="203.0.113.99")
    token = (await start(asker))["token"]
    chat = await pair(console)
    await asker.send_json_to({"type": "message", "text": "salainen-asker-teksti"})
    await console.send_json_to({"type": "message", "chat": chat, "text": "salainen-auttaja"})
    await next_frame(asker, "message")
    live = await sync_to_async(all_text_in_database)()
    assert "203.0.113.99" in live and token in live and "salainen-asker-teksti" in live

    await console.send_json_to({"type": "end", "chat": chat, "topics": ["fyysinen"]})
    await next_frame(console, "ended")
    after = await sync_to_async(all_text_in_database)()
    for secret in ("203.0.113.99", token, "salainen-asker-teksti", "salainen-auttaja"):
        assert secret not in after
    assert not await sync_to_async(Chat.objects.exists)()


async def test_barred_asker_is_blocked_on_the_next_start(
    open_line, make_helper, asker_socket, helper_socket
):
    console = await helper_socket(await sync_to_async(make_helper)())
    asker = await asker_socket(open_line, ip="203.0.113.50")
    await start(asker)
    chat = await pair(console)
    await console.send_json_to({"type": "bar", "chat": chat, "hours": 2})
    assert (await next_frame(asker, "ended"))["by"] == "helper"
    again = await asker_socket(open_line, ip="203.0.113.50")
    assert (await start(again))["code"] == "blocked"
    other = await asker_socket(open_line, ip="203.0.113.51")
    assert (await start(other))["type"] == "queued"
    stored = await sync_to_async(all_text_in_database)()
    assert "203.0.113.50" not in stored  # only the keyed hash is kept


async def test_helper_reconnecting_gets_its_chats_back(
    open_line, make_helper, asker_socket, helper_socket
):
    helper = await sync_to_async(make_helper)()
    console = await helper_socket(helper)
    asker = await asker_socket(open_line)
    await start(asker)
    chat = await pair(console)
    await asker.send_json_to({"type": "message", "text": "ensimmäinen"})
    await next_frame(console, "message")
    await console.disconnect()
    await asker.send_json_to({"type": "message", "text": "toinen"})
    await next_frame(asker, "message")
    await next_frame(asker, "message")

    console = await helper_socket(helper)
    assigned = await next_frame(console, "assigned")
    history = await next_frame(console, "history")
    assert assigned["chat"] == chat
    assert [m["text"] for m in history["messages"]] == ["ensimmäinen", "toinen"]


def test_sweep_ends_chats_of_vanished_askers_and_requeues_orphans(open_line, make_helper, settings):
    from datetime import timedelta

    from django.utils import timezone

    from stats.models import DailyCount

    helper = make_helper()
    start_time = timezone.now()
    gone = asking.enqueue_asker("vakivalta", language="fi", ip="192.0.2.1", now=start_time)
    kept = asking.enqueue_asker("vakivalta", language="fi", ip="192.0.2.2", now=start_time)
    services.start_duty(helper, "channel-x", now=start_time)
    taking.accept_next(helper, "vakivalta", now=start_time)  # takes `gone`'s chat
    later = start_time + timedelta(seconds=settings.CHAT_ASKER_GRACE_SECONDS + 1)
    services.touch_asker(kept.chat_id, now=later)
    services.touch_duty("channel-x", now=later)
    assert sweeps.sweep(now=later) == {"ended": 1, "requeued": 0}
    assert not Chat.objects.filter(pk=gone.chat_id).exists()
    assert DailyCount.objects.get(metric="ended_by", key="system").count == 1

    # The helper takes the other asker, then vanishes: the chat returns to the front.
    taking.accept_next(helper, "vakivalta", now=later)
    services.end_duty("channel-x", now=later)
    much_later = later + timedelta(seconds=settings.CHAT_HELPER_GRACE_SECONDS + 1)
    services.touch_asker(kept.chat_id, now=much_later)
    assert sweeps.sweep(now=much_later) == {"ended": 0, "requeued": 1}
    chat = Chat.objects.get(pk=kept.chat_id)
    assert chat.status == Chat.Status.QUEUED and chat.helper is None
    assert chat.messages.get().sender == "system"


async def test_a_resend_after_a_lost_echo_is_stored_once(
    open_line, make_helper, asker_socket, helper_socket
):
    console = await helper_socket(await sync_to_async(make_helper)())
    asker = await asker_socket(open_line)
    token = (await start(asker))["token"]
    frame = {"type": "message", "text": "tuliko tämä perille?", "client_id": "a-1"}
    await asker.send_json_to(frame)
    first = await next_frame(asker, "message")
    # The connection drops before the asker saw the echo; the widget resends after resuming.
    again = await asker_socket(open_line)
    await again.send_json_to({"type": "resume", "token": token})
    await next_frame(again, "history")
    await again.send_json_to(frame)
    echo = await next_frame(again, "message")
    assert (echo["id"], echo["client_id"]) == (first["id"], "a-1")
    await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
    history = await next_frame(console, "history")
    assert [m["text"] for m in history["messages"]] == ["tuliko tämä perille?"]
