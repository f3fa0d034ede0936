"""The console's own frames (`notice`, `consult`) and the pages that feed the two UIs."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.test import Client

from chats.models import PreparedText
from scheduling.hours import HELSINKI
from scheduling.models import ShiftBooking
from scheduling.services import book_shift, get_slot
from tests.conftest import next_frame, pair, receive_nothing

NOT_A_MESSAGE = ("queue", "follow_ups", "typing")


async def gets_no_consult(communicator, timeout=0.3) -> bool:
    """True if no `consult` frame arrives within `timeout` (other frames are fine)."""
    try:
        frame = await next_frame(communicator, "consult", timeout=timeout)
    except (AssertionError, TimeoutError):
        return True
    raise AssertionError(f"unexpected consult frame {frame}")


pytestmark = pytest.mark.django_db(transaction=True)


async def chat_between(open_line, helper, asker_socket, helper_socket):
    console = await helper_socket(helper)
    asker = await asker_socket(open_line)
    await asker.send_json_to({"type": "start", "language": "fi"})
    await next_frame(asker, "queued")
    chat = await pair(console, asker, open_line.slug)
    return asker, console, chat


async def test_duty_notice_reaches_the_asker_as_a_system_message(
    open_line, make_helper, asker_socket, helper_socket
):
    helper = await sync_to_async(make_helper)()
    asker, console, chat = await chat_between(open_line, helper, asker_socket, helper_socket)
    notice = "Minun on tehtävä lastensuojeluilmoitus."

    await console.send_json_to({"type": "notice", "chat": chat, "text": notice})

    got = await next_frame(asker, "message")
    assert (got["sender"], got["text"], got["id"]) == ("system", notice, 1)
    echo = await next_frame(console, "message")
    assert (echo["chat"], echo["sender"], echo["text"]) == (chat, "system", notice)


async def test_notice_to_someone_elses_chat_is_refused(
    open_line, make_helper, asker_socket, helper_socket
):
    owner, other = await sync_to_async(make_helper)(), await sync_to_async(make_helper)()
    asker, _, chat = await chat_between(open_line, owner, asker_socket, helper_socket)
    intruder = await helper_socket(other)

    await intruder.send_json_to({"type": "notice", "chat": chat, "text": "Ilmoitus"})

    assert (await next_frame(intruder, "error"))["code"] == "not_found"
    assert await receive_nothing(asker, ignore=NOT_A_MESSAGE)


async def test_consult_reaches_the_lines_helpers_and_never_the_asker(
    open_line, lines, make_helper, asker_socket, helper_socket
):
    peer = await sync_to_async(make_helper)(role="peer", name="Pia")
    professional = await sync_to_async(make_helper)(name="Pekka")
    elsewhere = await sync_to_async(make_helper)(services=("ero",))
    asker, peer_console, _ = await chat_between(open_line, peer, asker_socket, helper_socket)
    pro_console = await helper_socket(professional)
    other_console = await helper_socket(elsewhere)
    # A console joins its line's group after the socket is accepted; its start frames end
    # with `follow_ups`, sent after the joins (on a loaded machine the consult came first).
    await next_frame(pro_console, "follow_ups", timeout=15)
    await next_frame(other_console, "follow_ups", timeout=15)

    await peer_console.send_json_to(
        {"type": "consult", "service": "vakivalta", "text": "Miten vastaan tähän?"}
    )

    got = await next_frame(pro_console, "consult")
    assert got["service"] == "vakivalta" and got["text"] == "Miten vastaan tähän?"
    assert got["helper"] == {"name": "Pia", "role": "peer"} and got["mine"] is False
    assert (await next_frame(peer_console, "consult"))["mine"] is True
    assert await receive_nothing(asker)
    assert await gets_no_consult(other_console)


async def test_consult_on_a_line_one_does_not_serve_is_refused(
    open_line, lines, make_helper, helper_socket
):
    console = await helper_socket(await sync_to_async(make_helper)(services=("ero",)))
    colleague = await helper_socket(await sync_to_async(make_helper)())

    await console.send_json_to({"type": "consult", "service": "vakivalta", "text": "hei"})

    assert (await next_frame(console, "error"))["code"] == "not_found"
    assert await gets_no_consult(colleague)


async def test_consult_needs_text(open_line, make_helper, helper_socket):
    console = await helper_socket(await sync_to_async(make_helper)())
    await console.send_json_to({"type": "consult", "service": "vakivalta", "text": "  "})
    assert (await next_frame(console, "error"))["code"] == "invalid"


# --- Pages -------------------------------------------------------------------------------------


def test_demo_page_sets_no_cookie(lines):
    response = Client().get("/")
    assert response.status_code == 200
    assert not response.cookies
    assert b'data-services="vakivalta,' in response.content


def test_widget_lines_speak_the_askers_language(lines, settings):
    lines["vakivalta"].rules_sv = "Regler på svenska."
    lines["vakivalta"].save()
    settings.EMBEDDING_ORIGINS = ["https://turvakoti.example"]

    response = Client().get(
        "/api/widget/?services=vakivalta,nope,unichat&language=sv",
        headers={"origin": "https://turvakoti.example"},
    )

    assert response.status_code == 200
    assert not response.cookies
    assert response["Access-Control-Allow-Origin"] == "https://turvakoti.example"
    (line,) = response.json()["lines"]  # unknown and group lines are left out
    assert (line["slug"], line["name"], line["rules"]) == (
        "vakivalta",
        "Hjälp vid våld",
        "Regler på svenska.",
    )
    assert {"open", "opens_at", "closes_at", "queue_length"} <= line.keys()


def test_widget_lines_are_not_shared_with_unknown_sites(lines):
    response = Client().get(
        "/api/widget/?services=vakivalta", headers={"origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in response


def test_console_gives_the_helpers_lines_topics_and_prepared_texts(lines, make_helper):
    helper = make_helper(services=("vakivalta",))
    PreparedText.objects.create(
        kind="referral", title="Nollalinja", text="Soita", url="https://a.fi"
    )
    PreparedText.objects.create(line=lines["ero"], title="Vain erolle", text="x")
    client = Client()
    client.force_login(helper.user)

    response = client.get("/console/")

    assert response.status_code == 200
    data = response.context["console_data"]
    assert [line["slug"] for line in data["lines"]] == ["vakivalta"]
    assert "fyysinen" in [topic["slug"] for topic in data["lines"][0]["topics"]]
    titles = [text["title"] for text in data["prepared"]]
    assert "Nollalinja" in titles and "Vain erolle" not in titles
    nollalinja = next(text for text in data["prepared"] if text["title"] == "Nollalinja")
    assert nollalinja["text"] == "Soita\nhttps://a.fi"
    assert b'id="console-data" type="application/json"' in response.content


def test_console_sends_anonymous_visitors_to_login(lines):
    response = Client().get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_console_offers_follow_up_times_only_in_the_helpers_own_future_shifts(lines, make_helper):
    wednesday = date(2027, 3, 3)
    anna = make_helper(services=("vakivalta", "ero"), name="Anna")
    other = make_helper(services=("vakivalta",), name="Olli")
    with time_machine.travel(datetime(2027, 3, 3, 12, 10, tzinfo=HELSINKI), tick=False):
        book_shift(anna, "vakivalta", wednesday, "12-14")  # under way: 12:00 has passed
        book_shift(anna, "vakivalta", wednesday, "14-16")  # back to back: one shift 12–16
        book_shift(anna, "vakivalta", wednesday + timedelta(days=27), "16-18")
        book_shift(anna, "vakivalta", wednesday + timedelta(days=28), "16-18")  # 5th week
        book_shift(anna, "ero", wednesday + timedelta(days=1), "12-14")
        book_shift(other, "vakivalta", wednesday + timedelta(days=1), "14-16")
        # Bookings book_shift refuses: a past day, and a line Anna no longer serves.
        for line, day in (
            (lines["vakivalta"], wednesday - timedelta(days=1)),
            (lines["paihteet"], wednesday),
        ):
            ShiftBooking.objects.create(slot=get_slot(line, "16-18"), day=day, helper=anna)
        client = Client()
        client.force_login(anna.user)

        data = client.get("/console/").context["console_data"]

    times = {line["slug"]: line["follow_up_times"] for line in data["lines"]}
    assert set(times) == {"vakivalta", "ero"}
    assert times["vakivalta"] == [
        "2027-03-03T12:30:00+02:00",
        "2027-03-03T13:00:00+02:00",
        "2027-03-03T13:30:00+02:00",
        "2027-03-03T14:00:00+02:00",
        "2027-03-03T14:30:00+02:00",
        "2027-03-03T15:00:00+02:00",
        "2027-03-03T15:30:00+02:00",
        # Four weeks on, after the change to summer time.
        "2027-03-30T16:00:00+03:00",
        "2027-03-30T16:30:00+03:00",
        "2027-03-30T17:00:00+03:00",
        "2027-03-30T17:30:00+03:00",
    ]
    assert times["ero"] == [
        "2027-03-04T12:00:00+02:00",
        "2027-03-04T12:30:00+02:00",
        "2027-03-04T13:00:00+02:00",
        "2027-03-04T13:30:00+02:00",
    ]
