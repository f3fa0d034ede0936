"""Issue 21, the Red Cross group formats on the group page: "meeting 3 of 8" for the members of
a closed series, and an English session's page in English throughout."""

from datetime import time, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from chats import groups
from chats.models import GroupSeries, GroupSession
from tests.conftest import next_frame

pytestmark = pytest.mark.django_db(transaction=True)


def closed_series_running_its_third_meeting(lines) -> GroupSession:
    now = timezone.now()
    series = GroupSeries.objects.create(
        line=lines["unichat"], title="Yksinäisyys puheeksi", kind="closed", weekday=1,
        starts=time(17), ends=time(18, 30), first_day=now.date(), meetings=8,
        invite="YKSINAISYYS-KEVAT-2027", language="fi",
    )  # fmt: skip
    session = groups.schedule_session(
        "unichat",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=55),
        title=series.title,
        invite=series.invite,
    )
    GroupSession.objects.filter(pk=session.pk).update(series=series, number=3)
    return session


async def test_a_member_of_a_closed_series_sees_which_meeting_this_is(lines, sockets):
    await sync_to_async(closed_series_running_its_third_meeting)(lines)
    member = await sockets("/ws/group/unichat/", client=["203.0.113.20", 50000])
    await member.send_json_to(
        {"type": "join", "nickname": "Jäsen", "invite": "YKSINAISYYS-KEVAT-2027"}
    )
    joined = await next_frame(member, "joined")
    assert joined["meeting"] == {"number": 3, "of": 8}
    assert joined["title"] == "Yksinäisyys puheeksi"

    page = await sync_to_async(Client().get)("/group/unichat/")
    assert "tapaaminen %(number)s/%(total)s" in page.content.decode()  # the words, in Finnish


def test_a_one_off_session_has_no_meeting_number(lines):
    now = timezone.now()
    session = groups.schedule_session(
        "unichat", starts_at=now, ends_at=now + timedelta(hours=1), title="Ilta"
    )
    assert groups._session_fields(session)["meeting"] is None


def english_session(lines, language="en"):
    line = lines["unichat"]
    line.name_en, line.description_en = "Online meeting place", "A group chat for everyone."
    line.description = "Ryhmächat kaikille."
    line.save()
    now = timezone.now()
    groups.schedule_session(
        "unichat",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        title="Weekly chat",
        language=language,
    )


def test_an_english_sessions_page_is_english_throughout(lines):
    english_session(lines)
    page = Client().get("/group/unichat/", headers={"accept-language": "fi"}).content.decode()
    assert '<html lang="en">' in page
    assert "<h1>Online meeting place</h1>" in page
    assert "A group chat for everyone." in page and "Ryhmächat kaikille." not in page
    assert "Join the group" in page and "Liity ryhmään" not in page
    assert "The group chat is closed. The next session starts" in page  # the script's words


def test_a_finnish_sessions_page_stays_finnish(lines):
    english_session(lines, language="fi")
    page = Client().get("/group/unichat/").content.decode()
    assert '<html lang="fi">' in page
    assert "Ryhmächat kaikille." in page and "Online meeting place" not in page
    assert "Liity ryhmään" in page
    # A closed English group's invitation link names its language.
    linked = Client().get("/group/unichat/?language=en").content.decode()
    assert "Online meeting place" in linked and "Join the group" in linked
