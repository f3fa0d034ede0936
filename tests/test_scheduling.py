"""The chat obeys the calendar, and helpers book shifts: scheduling/services.py and its users.

Enforcement runs at a frozen time (time-machine): Tuesday 1.12.2026, the violence line is open
weekdays 12–18 as seeded.
"""

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from asgiref.sync import sync_to_async

from chats import services
from chats.models import Chat
from scheduling.hours import HELSINKI
from tests.conftest import next_frame

TUESDAY = date(2026, 12, 1)


def helsinki(hour, minute=0, second=0, day=TUESDAY):
    return datetime.combine(day, time(hour, minute, second), tzinfo=HELSINKI)


async def start(asker, language="fi"):
    await asker.send_json_to({"type": "start", "language": language})
    return await next_frame(asker, "queued", "closed", "error")


# --- Enforcement at the line's hours -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_start_before_noon_is_closed_with_todays_noon(lines, asker_socket):
    with time_machine.travel(helsinki(11, 0), tick=False):
        asker = await asker_socket(lines["vakivalta"])
        assert await start(asker) == {"type": "closed", "opens_at": "2026-12-01T12:00:00+02:00"}
    assert not await sync_to_async(Chat.objects.exists)()


@pytest.mark.django_db(transaction=True)
async def test_at_closing_time_queued_askers_are_served_and_newcomers_are_not(
    lines, make_helper, asker_socket, helper_socket
):
    line = lines["vakivalta"]
    with time_machine.travel(helsinki(17, 59), tick=False) as traveller:
        first = await asker_socket(line, ip="203.0.113.1")
        second = await asker_socket(line, ip="203.0.113.2")
        assert (await start(first))["type"] == "queued"
        assert (await start(second))["position"] == 2

        traveller.move_to(helsinki(17, 59, 30))
        console = await helper_socket(await sync_to_async(make_helper)(name="Iltavuoro"))

        traveller.move_to(helsinki(18, 0))
        newcomer = await asker_socket(line, ip="203.0.113.3")
        assert await start(newcomer) == {
            "type": "closed",
            "opens_at": "2026-12-02T12:00:00+02:00",
        }
        # The sweep after closing leaves them alone: a helper of the line is on duty.
        await sync_to_async(services.sweep)(now=helsinki(18, 0, 30))
        assert await sync_to_async(Chat.objects.queued().count)() == 2

        await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
        chat = (await next_frame(console, "assigned"))["chat"]
        assert (await next_frame(first, "assigned"))["helper"]["name"] == "Iltavuoro"
        await first.send_json_to({"type": "message", "text": "Ehdinkö vielä?"})
        assert (await next_frame(console, "message"))["chat"] == chat
        await console.send_json_to({"type": "message", "chat": chat, "text": "Ehdit."})
        assert (await next_frame(first, "message"))["sender"] == "asker"  # the own echo
        assert (await next_frame(first, "message", "ended"))["text"] == "Ehdit."

        await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
        await next_frame(console, "assigned")
        assert (await next_frame(second, "assigned"))["type"] == "assigned"


@pytest.mark.django_db(transaction=True)
async def test_queued_asker_is_told_plainly_when_nobody_is_left_after_closing(lines, asker_socket):
    with time_machine.travel(helsinki(17, 59), tick=False) as traveller:
        asker = await asker_socket(lines["vakivalta"])
        assert (await start(asker))["type"] == "queued"
        # Before closing the queue waits for a helper, even with nobody on duty.
        await sync_to_async(services.sweep)(now=helsinki(17, 59, 30))
        assert await sync_to_async(Chat.objects.queued().count)() == 1

        traveller.move_to(helsinki(18, 0, 10))
        await sync_to_async(services.sweep)(now=helsinki(18, 0, 10))
        told = await next_frame(asker, "message")
        assert told["sender"] == "system"
        assert "2. joulukuuta 2026" in told["text"]  # when the line opens again
        assert await next_frame(asker, "ended") == {"type": "ended", "by": "system"}
    assert not await sync_to_async(Chat.objects.exists)()


@pytest.mark.django_db
def test_after_closing_a_dropped_helper_keeps_the_queue_only_for_the_grace_period(
    lines, make_helper, settings
):
    grace = timedelta(seconds=settings.CHAT_HELPER_GRACE_SECONDS)
    waiting = services.enqueue_asker("vakivalta", language="fi", ip=None, now=helsinki(17, 59))
    own = make_helper()
    other_line = make_helper(services=("ero",))
    services.start_duty(own, "own-console", now=helsinki(17, 59))
    services.start_duty(other_line, "ero-console", now=helsinki(17, 59))
    services.end_duty("own-console", now=helsinki(18, 0))  # a page reload, or leaving?

    just_after = helsinki(18, 0) + grace / 2
    services.touch_asker(waiting.chat_id, now=just_after)
    services.touch_duty("ero-console", now=just_after)
    services.sweep(now=just_after)
    assert Chat.objects.filter(pk=waiting.chat_id).exists()

    # The grace is over; a helper of another line being there does not serve this one.
    later = helsinki(18, 0) + grace + timedelta(seconds=1)
    services.touch_asker(waiting.chat_id, now=later)
    services.touch_duty("ero-console", now=later)
    assert services.sweep(now=later)["ended"] == 1
    assert not Chat.objects.filter(pk=waiting.chat_id).exists()


@pytest.mark.django_db
def test_open_line_without_helpers_keeps_its_queue(lines, settings):
    waiting = services.enqueue_asker("vakivalta", language="fi", ip=None, now=helsinki(13, 0))
    services.touch_asker(waiting.chat_id, now=helsinki(13, 1))
    assert services.sweep(now=helsinki(13, 1))["ended"] == 0
    assert Chat.objects.filter(pk=waiting.chat_id).exists()
