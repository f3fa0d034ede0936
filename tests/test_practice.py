"""Issue 21, practice mode: a coordinator opens a practice line with a code; its trainees reach
it through the link, one plays the asker and another answers; nothing reaches the statistics or
the public picker."""

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from chats.models import ServiceLine
from stats.models import DailyCount
from tests.conftest import next_frame, session_cookie, start

pytestmark = pytest.mark.django_db(transaction=True)

CODE = "harjoitus-kevat-7Q2"


@pytest.fixture
def practice_line(lines, always_open):
    line = ServiceLine.objects.create(
        slug="harjoitus-kevat", name="Harjoituslinja", practice=True, practice_code=CODE
    )
    return always_open(line)


def page(user, path):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(path)


def test_the_practice_link_opens_only_with_its_code_for_the_lines_trainees(
    practice_line, make_helper
):
    trainee = make_helper(services=("harjoitus-kevat",), role="volunteer")
    outsider = make_helper()
    link = f"/practice/harjoitus-kevat/?code={CODE}"
    answer = page(trainee.user, link)
    assert answer.status_code == 200
    assert 'data-services="harjoitus-kevat"' in answer.content.decode()
    assert page(trainee.user, "/practice/harjoitus-kevat/?code=arvaus").status_code == 404
    assert page(trainee.user, "/practice/harjoitus-kevat/").status_code == 404
    assert page(outsider.user, link).status_code == 404  # not a trainee of this line
    assert page(None, link).status_code == 302  # to the login
    practice_line.practice_code = ""
    practice_line.save()
    assert page(trainee.user, link).status_code == 404  # no code: the page is closed
    ServiceLine.objects.filter(pk=practice_line.pk).update(practice=False, practice_code=CODE)
    assert page(trainee.user, link).status_code == 404  # only a practice line has the page


async def test_a_trainee_plays_the_asker_and_nothing_reaches_the_statistics(
    practice_line, make_helper, sockets, helper_socket
):
    asker_trainee = await sync_to_async(make_helper)(services=("harjoitus-kevat",), name="Aino")
    helper_trainee = await sync_to_async(make_helper)(services=("harjoitus-kevat",), name="Heta")
    stranger = await sockets("/ws/ask/harjoitus-kevat/", client=["203.0.113.9", 50000])
    refused = await start(stranger)
    assert (refused["type"], refused["code"]) == ("error", "not_found")

    cookie = await sync_to_async(session_cookie)(asker_trainee.user)
    asker = await sockets("/ws/ask/harjoitus-kevat/", cookie, client=["203.0.113.9", 50001])
    assert (await start(asker))["type"] == "queued"
    console = await helper_socket(helper_trainee)
    await console.send_json_to({"type": "accept_next", "service": "harjoitus-kevat"})
    chat = (await next_frame(console, "assigned"))["chat"]
    assert (await next_frame(asker, "assigned"))["helper"]["name"] == "Heta"
    await console.send_json_to({"type": "message", "chat": chat, "text": "Hei, miten voin auttaa?"})
    assert (await next_frame(asker, "message"))["text"] == "Hei, miten voin auttaa?"
    await console.send_json_to({"type": "end", "chat": chat, "topics": []})
    await next_frame(asker, "ended")

    assert not await sync_to_async(DailyCount.objects.filter(line=practice_line).exists)()
    listed = await sync_to_async(Client().get)("/api/services/")
    assert "harjoitus-kevat" not in [line["slug"] for line in listed.json()]
    picker = await sync_to_async(Client().get)("/")
    assert "harjoitus-kevat" not in picker.content.decode()
