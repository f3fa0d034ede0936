"""Messages stored from the event loop (chats/loopdb.py, PostgreSQL): the same chat as through
the database threads, also when PostgreSQL cuts the loop's connections mid-chat."""

import pytest
from asgiref.sync import sync_to_async

from chats import loopdb
from chats.models import Chat, Message
from tests.conftest import need_services, next_frame, on_postgres, pair, receive_nothing

pytestmark = pytest.mark.django_db(transaction=True)


async def _chat(open_line, make_helper, asker_socket, helper_socket):
    console = await helper_socket(await sync_to_async(make_helper)())
    asker = await asker_socket(open_line)
    await asker.send_json_to({"type": "start", "language": "fi"})
    await next_frame(asker, "queued")
    chat = await pair(console, asker)
    return asker, console, chat


async def _say(sender, receiver, frame):
    await sender.send_json_to(frame)
    echo = await next_frame(sender, "message")
    seen = await next_frame(receiver, "message")
    assert echo["id"] == seen["id"] and seen["text"] == frame["text"]
    return seen["id"]


def _cut(pids: list[int]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


async def test_a_chat_goes_on_when_postgresql_cuts_the_loops_connections(
    open_line, make_helper, asker_socket, helper_socket
):
    need_services(on_postgres(), "the event loop's statements run on PostgreSQL only")
    asker, console, chat = await _chat(open_line, make_helper, asker_socket, helper_socket)
    said = [await _say(asker, console, {"type": "message", "text": "hei", "client_id": "a-1"})]
    said.append(
        await _say(
            console, asker, {"type": "message", "chat": chat, "text": "moi", "client_id": "h-1"}
        )
    )
    # Both went the loop's way: its connections are what the server is about to cut.
    pids = [conn.info.backend_pid for conn in loopdb.pool().every]
    assert pids
    await sync_to_async(_cut)(pids)

    said.append(await _say(asker, console, {"type": "message", "text": "oot", "client_id": "a-2"}))
    said.append(
        await _say(
            console, asker, {"type": "message", "chat": chat, "text": "tääl", "client_id": "h-2"}
        )
    )
    assert said == [1, 2, 3, 4]
    await receive_nothing(asker)  # no message twice
    stored = await sync_to_async(list)(
        Message.objects.filter(chat_id=chat).order_by("seq").values_list("seq", "text")
    )
    assert stored == [(1, "hei"), (2, "moi"), (3, "oot"), (4, "tääl")]
    assert (await Chat.objects.aget(pk=chat)).last_seq == 4


async def test_a_helper_cannot_write_into_a_chat_that_is_not_theirs_from_the_loop_either(
    open_line, make_helper, asker_socket, helper_socket
):
    asker, console, chat = await _chat(open_line, make_helper, asker_socket, helper_socket)
    other = await helper_socket(await sync_to_async(make_helper)())
    await other.send_json_to({"type": "message", "chat": chat, "text": "väärä", "client_id": "x-1"})
    error = await next_frame(other, "error")
    assert error["code"] == "not_found"
    await receive_nothing(asker)
    assert not await Message.objects.filter(text="väärä").aexists()
