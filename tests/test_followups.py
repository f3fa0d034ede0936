"""Follow-ups with the same helper (contract section 5) over the real ASGI app.

The clock is set to a Wednesday: the first chat at 12:10, the follow-up at 16:30 inside the
helper's booked 16–18 shift. Sockets are opened after each move of the clock and closed before
the next one, as a person's would be hours apart.
"""

import math
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from asgiref.sync import sync_to_async

from chats import followups
from chats.models import Chat, CodeGuess, FollowUp
from scheduling.hours import HELSINKI
from scheduling.services import book_shift
from stats.models import DailyCount
from tests.conftest import end_chat, next_frame, pair, receive_nothing, start
from verkkoapu import security

pytestmark = pytest.mark.django_db(transaction=True)

WEDNESDAY = datetime(2027, 3, 3, 12, 10, tzinfo=HELSINKI)
AT = WEDNESDAY.replace(hour=16, minute=30)
SHIFT_END = WEDNESDAY.replace(hour=18, minute=0)


@pytest.fixture
def clock():
    with time_machine.travel(WEDNESDAY, tick=True) as traveller:
        yield traveller


@pytest.fixture
def helper(lines, make_helper, clock):
    anna = make_helper(name="Anna")
    book_shift(anna, "vakivalta", WEDNESDAY.date(), "16-18")
    return anna


async def chat_with(asker, console):
    assert (await start(asker))["type"] == "queued"
    await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
    got = await next_frame(console, "assigned", "error", "empty")
    assert got["type"] == "assigned", got
    await next_frame(asker, "assigned")
    return got["chat"]


async def offer_follow_up(lines, helper, asker_socket, helper_socket, at=AT, note=None):
    """A whole first chat that ends with a follow-up; returns the asker's code."""
    console = await helper_socket(helper)
    asker = await asker_socket(lines["vakivalta"], ip="198.51.100.1")
    chat = await chat_with(asker, console)
    end = {"type": "end", "chat": chat, "topics": [], "follow_up_at": at.isoformat()}
    if note:
        end["note"] = note
    await console.send_json_to(end)
    ended = await next_frame(asker, "ended")
    helper_ended = await next_frame(console, "ended")
    assert helper_ended == {
        "type": "ended",
        "by": "helper",
        "chat": chat,
        "follow_up": {"at": at.isoformat()},
    }
    assert ended["by"] == "helper" and set(ended["follow_up"]) == {"code", "at"}
    assert datetime.fromisoformat(ended["follow_up"]["at"]) == at
    await asker.disconnect()
    await console.disconnect()
    return ended["follow_up"]["code"]


async def test_the_code_reaches_the_same_helper_ahead_of_an_asker_who_waited_longer(
    lines, helper, make_helper, clock, asker_socket, helper_socket
):
    code = await offer_follow_up(lines, helper, asker_socket, helper_socket, note="uni, jaksaminen")
    assert re.fullmatch(r"[a-z]+(-[a-z]+){4}", code)

    clock.move_to(AT - timedelta(minutes=10))
    longer = await asker_socket(lines["vakivalta"], ip="198.51.100.2")
    assert (await start(longer))["position"] == 1
    returning = await asker_socket(lines["vakivalta"], ip="198.51.100.3")
    queued = await start(returning, code=code.upper().replace("-", " "))
    assert (queued["type"], queued["position"]) == ("queued", 1)

    other = await helper_socket(await sync_to_async(make_helper)(name="Bertta"))
    await other.send_json_to({"type": "accept_next", "service": "vakivalta"})
    assert (await next_frame(other, "assigned"))["ip"] == "198.51.100.2"  # not the follow-up
    await other.send_json_to({"type": "accept_next", "service": "vakivalta"})
    assert (await next_frame(other, "empty", "assigned"))["type"] == "empty"

    console = await helper_socket(helper)
    listed = (await next_frame(console, "follow_ups"))["follow_ups"]
    assert [(f["waiting"], f["note"]) for f in listed] == [(True, "uni, jaksaminen")]
    await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
    assigned = await next_frame(console, "assigned")
    assert assigned["ip"] == "198.51.100.3"
    assert assigned["follow_up"] == {"at": AT.isoformat(), "note": "uni, jaksaminen"}
    assert await next_frame(returning, "assigned") == {
        "type": "assigned",
        "helper": {"name": "Anna", "role": "professional"},
    }
    assert (await next_frame(console, "follow_ups"))["follow_ups"] == []


async def test_the_helpers_own_follow_up_comes_before_the_general_queue(
    lines, helper, clock, asker_socket, helper_socket
):
    code = await offer_follow_up(lines, helper, asker_socket, helper_socket)
    clock.move_to(AT - timedelta(minutes=5))
    waited_longer = await asker_socket(lines["vakivalta"], ip="198.51.100.2")
    await start(waited_longer)
    returning = await asker_socket(lines["vakivalta"], ip="198.51.100.3")
    await start(returning, code=code)
    console = await helper_socket(helper)
    await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
    assert (await next_frame(console, "assigned"))["ip"] == "198.51.100.3"
    await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
    assert (await next_frame(console, "assigned"))["ip"] == "198.51.100.2"


async def test_a_second_use_and_a_wrong_code_are_refused(
    lines, helper, clock, asker_socket, helper_socket
):
    code = await offer_follow_up(lines, helper, asker_socket, helper_socket)
    clock.move_to(AT)
    first = await asker_socket(lines["vakivalta"], ip="198.51.100.3")
    assert (await start(first, code=code))["type"] == "queued"
    again = await asker_socket(lines["vakivalta"], ip="198.51.100.4")
    assert (await start(again, code=code))["code"] == "not_found"
    wrong = followups.new_code()
    assert (await start(again, code=wrong))["code"] == "not_found"
    # Once the follow-up chat is over the code is gone for good.
    await end_chat(first)
    assert (await start(again, code=code))["code"] == "not_found"
    assert not await sync_to_async(FollowUp.objects.exists)()


async def test_an_early_start_is_closed_with_opens_at_and_the_code_stays_valid(
    lines, helper, clock, asker_socket, helper_socket
):
    code = await offer_follow_up(lines, helper, asker_socket, helper_socket)
    clock.move_to(AT - timedelta(minutes=16))
    asker = await asker_socket(lines["vakivalta"], ip="198.51.100.3")
    assert await start(asker, code=code) == {"type": "closed", "opens_at": AT.isoformat()}
    clock.move_to(AT - timedelta(minutes=14))
    assert (await start(asker, code=code))["type"] == "queued"


async def test_the_shift_end_is_excluded(lines, helper, clock, asker_socket, helper_socket):
    code = await offer_follow_up(lines, helper, asker_socket, helper_socket)
    clock.move_to(SHIFT_END)
    asker = await asker_socket(lines["vakivalta"], ip="198.51.100.3")
    assert (await start(asker, code=code))["code"] == "not_found"


async def test_bad_follow_up_keeps_the_chat_open(
    lines, helper, make_helper, clock, asker_socket, helper_socket
):
    colleague = await sync_to_async(make_helper)(name="Bertta")
    await sync_to_async(book_shift)(colleague, "vakivalta", WEDNESDAY.date(), "14-16")
    console = await helper_socket(helper)
    asker = await asker_socket(lines["vakivalta"])
    chat = await chat_with(asker, console)
    outside = [
        WEDNESDAY.replace(hour=14, minute=30),  # the colleague's shift, not Anna's
        SHIFT_END,  # the end itself is outside
        WEDNESDAY - timedelta(hours=1),  # the past
        (WEDNESDAY + timedelta(days=1)).replace(hour=16, minute=30),  # not booked that day
    ]
    said = []
    for at in outside:
        await console.send_json_to(
            {"type": "end", "chat": chat, "topics": [], "follow_up_at": at.isoformat()}
        )
        refused = await next_frame(console, "error")
        assert refused["code"] == "bad_follow_up"
        said.append(refused["message"])
    # The console shows the message as it is: in the UI's first language.
    assert said[0] == "Jatkokeskustelun ajan pitää osua johonkin varaamaasi vuoroon."
    assert said[2] == "Jatkokeskustelun ajan pitää olla tulevaisuudessa."
    await console.send_json_to({"type": "message", "chat": chat, "text": "Jatketaan vielä."})
    assert (await next_frame(asker, "message"))["text"] == "Jatketaan vielä."
    assert await receive_nothing(asker)
    assert not await sync_to_async(FollowUp.objects.exists)()


async def test_after_expiry_nothing_of_the_follow_up_remains(
    lines, helper, clock, asker_socket, helper_socket
):
    await offer_follow_up(lines, helper, asker_socket, helper_socket, note="muista kysyä")
    code = await offer_follow_up(lines, helper, asker_socket, helper_socket)
    clock.move_to(SHIFT_END - timedelta(minutes=10))
    waiting = await asker_socket(lines["vakivalta"], ip="198.51.100.3")
    await start(waiting, code=code)
    await sync_to_async(followups.sweep)()
    assert await sync_to_async(FollowUp.objects.count)() == 2  # nothing expires before the end

    clock.move_to(SHIFT_END + timedelta(seconds=1))
    result = await sync_to_async(followups.sweep)()
    assert result == {"expired": 1, "released": 1}
    assert not await sync_to_async(FollowUp.objects.exists)()
    # The one who was waiting is not left hanging: the general queue serves them now.
    assert (await next_frame(waiting, "position"))["position"] == 1
    expired = await sync_to_async(
        lambda: DailyCount.objects.get(metric="follow_ups_expired").count
    )()
    assert expired == 1


async def test_guessing_codes_at_speed_is_rate_limited_across_connections(
    lines, helper, clock, asker_socket, helper_socket, settings
):
    settings.FOLLOW_UP_GUESS_LIMIT = 3
    code = await offer_follow_up(lines, helper, asker_socket, helper_socket)
    clock.move_to(AT)
    for _ in range(3):
        guesser = await asker_socket(lines["vakivalta"], ip="192.0.2.66")
        assert (await start(guesser, code=followups.new_code()))["code"] == "not_found"
        await guesser.disconnect()
    guesser = await asker_socket(lines["vakivalta"], ip="192.0.2.66")
    assert (await start(guesser, code=code))["code"] == "rate_limited"
    # Counted per address, as a keyed hash only.
    stored = await sync_to_async(
        lambda: list(CodeGuess.objects.values_list("address_hash", flat=True))
    )()
    assert stored == [security.address_hash("192.0.2.66")]
    honest = await asker_socket(lines["vakivalta"], ip="198.51.100.3")
    assert (await start(honest, code=code))["type"] == "queued"


async def test_a_follow_up_may_offer_the_next_one_and_statistics_tell_them_apart(
    lines, helper, clock, asker_socket, helper_socket
):
    await sync_to_async(book_shift)(helper, "vakivalta", WEDNESDAY.date(), "14-16")
    first_code = await offer_follow_up(
        lines, helper, asker_socket, helper_socket, at=WEDNESDAY.replace(hour=14, minute=15)
    )
    clock.move_to(WEDNESDAY.replace(hour=14, minute=5))
    console = await helper_socket(helper)
    asker = await asker_socket(lines["vakivalta"], ip="198.51.100.3")
    chat = await chat_with_code(asker, console, first_code)
    await console.send_json_to(
        {"type": "end", "chat": chat, "topics": [], "follow_up_at": AT.isoformat()}
    )
    second_code = (await next_frame(asker, "ended"))["follow_up"]["code"]
    assert second_code != first_code
    assert await sync_to_async(FollowUp.objects.count)() == 1
    counts = await sync_to_async(
        lambda: {
            (c.metric, c.key): c.count
            for c in DailyCount.objects.filter(metric__in=["contact", "follow_ups_offered"])
        }
    )()
    assert counts == {
        ("contact", "first"): 1,
        ("contact", "follow_up"): 1,
        ("follow_ups_offered", ""): 2,
    }


async def chat_with_code(asker, console, code):
    assert (await start(asker, code=code))["type"] == "queued"
    chat = await pair(console, asker)
    return chat


async def test_the_code_is_stored_only_as_a_keyed_hash(
    lines, helper, clock, asker_socket, helper_socket
):
    from tests.conftest import all_text_in_database

    code = await offer_follow_up(lines, helper, asker_socket, helper_socket, note="yksityinen")
    text = await sync_to_async(all_text_in_database)()
    assert code not in text and followups.normalize(code) not in text
    row = await sync_to_async(FollowUp.objects.get)()
    assert row.code_hash == followups.code_hash(code) and row.helper_id == helper.pk
    assert not await sync_to_async(Chat.objects.exists)()


def test_codes_have_at_least_40_bits_and_read_aloud_one_way():
    assert len(set(followups.WORDS)) == len(followups.WORDS) >= 256
    assert followups.CODE_BITS >= 40
    assert math.isclose(followups.CODE_BITS, 5 * math.log2(len(followups.WORDS)))
    assert all(re.fullmatch(r"[a-z]+", word) for word in followups.WORDS)
    collapsed = {re.sub(r"(.)\1", r"\1", word) for word in followups.WORDS}
    assert len(collapsed) == len(followups.WORDS)  # no tuli/tuuli pairs
    code = followups.new_code()
    assert followups.normalize(f"  {code.upper().replace('-', ' , ')} ") == code
    assert followups.code_hash(code) == followups.code_hash(code.replace("-", " "))
