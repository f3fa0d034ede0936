"""Group chats over the real ASGI app: contract section 6, its moderators (section 4) and
the `schedulegroup` command (section 1)."""

import asyncio
from datetime import datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from chats import groups
from chats.models import DutySession, GroupMessage, GroupParticipant, GroupSession
from scheduling.hours import HELSINKI
from stats.models import DailyCount
from tests.conftest import next_frame, receive_nothing

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def schedule(lines):
    """A group session of unichat, running now unless told otherwise."""

    def make(starts=-10, minutes=60, moderators=(), **kwargs):
        now = timezone.now()
        kwargs.setdefault("title", "Vauvaperheiden ilta")
        return groups.schedule_session(
            "unichat",
            starts_at=now + timedelta(minutes=starts),
            ends_at=now + timedelta(minutes=starts + minutes),
            moderators=[m.user.username for m in moderators],
            **kwargs,
        )

    return make


@pytest.fixture
def group_socket(sockets):
    async def open_group(ip="203.0.113.20", slug="unichat"):
        return await sockets(f"/ws/group/{slug}/", client=[ip, 50000])

    return open_group


@pytest.fixture
def moderator(make_helper):
    return make_helper(services=("unichat",), name="Moderaattori Mia")


async def join(socket, nickname, **extra):
    await socket.send_json_to({"type": "join", "nickname": nickname, **extra})
    return await next_frame(socket, "joined", "closed", "error")


async def participants_become(socket, count, timeout=3):
    """The participant count `socket` is shown reaches `count` (any earlier counts pass)."""
    while (await next_frame(socket, "participants", timeout=timeout))["participants"] != count:
        pass
    return True


async def moderate(console, session):
    await console.send_json_to({"type": "group_join", "service": "unichat"})
    joined = await next_frame(console, "group_joined", "error")
    assert joined["type"] == "group_joined" and joined["session"] == session.pk
    return joined


async def test_participants_join_and_everyone_gets_every_message(schedule, group_socket):
    session = await sync_to_async(schedule)()
    first, second = await group_socket("203.0.113.1"), await group_socket("203.0.113.2")
    joined = await join(first, "Aamuvirkku")
    assert (joined["nickname"], joined["participants"], joined["session"]) == (
        "Aamuvirkku",
        1,
        session.pk,
    )
    assert (await next_frame(first, "history"))["messages"] == []
    assert (await join(second, "Yökyöpeli"))["participants"] == 2
    assert (await next_frame(first, "participants"))["participants"] == 2

    await second.send_json_to({"type": "message", "text": "Hei kaikki!"})
    for socket in (first, second):
        got = await next_frame(socket, "message")
        assert (got["id"], got["nickname"], got["role"], got["text"]) == (
            1,
            "Yökyöpeli",
            "participant",
            "Hei kaikki!",
        )
        assert datetime.fromisoformat(got["sent_at"]).tzinfo is not None


async def test_a_late_joiner_sees_what_was_said_before(schedule, group_socket):
    await sync_to_async(schedule)()
    early, late = await group_socket("203.0.113.1"), await group_socket("203.0.113.2")
    await join(early, "Eka")
    await early.send_json_to({"type": "message", "text": "Ensimmäinen viesti"})
    await next_frame(early, "message")
    await join(late, "Toka")
    history = await next_frame(late, "history")
    assert [m["text"] for m in history["messages"]] == ["Ensimmäinen viesti"]


async def test_nickname_clash_is_refused_whatever_the_case(schedule, group_socket, moderator):
    await sync_to_async(schedule)(moderators=[moderator])
    first, second = await group_socket("203.0.113.1"), await group_socket("203.0.113.2")
    await join(first, "Maija")
    clash = await join(second, "  maija ")
    assert clash["code"] == "nickname_taken"
    # Nobody can pose as a moderator of the session either.
    assert (await join(second, "moderaattori mia"))["code"] == "nickname_taken"
    assert (await join(second, "Maija2"))["type"] == "joined"


async def test_a_nickname_is_free_again_when_its_owner_leaves(schedule, group_socket):
    await sync_to_async(schedule)()
    first = await group_socket("203.0.113.1")
    await join(first, "Maija")
    await first.disconnect()
    again = await group_socket("203.0.113.1")
    assert (await join(again, "Maija"))["type"] == "joined"


async def test_a_full_session_refuses_the_next_participant(schedule, group_socket, moderator):
    await sync_to_async(schedule)(capacity=2, moderators=[moderator])
    sockets = [await group_socket(f"203.0.113.{i}") for i in range(1, 4)]
    assert (await join(sockets[0], "Yksi"))["type"] == "joined"
    assert (await join(sockets[1], "Kaksi"))["type"] == "joined"
    assert (await join(sockets[2], "Kolme"))["code"] == "full"
    await sockets[1].disconnect()
    assert (await join(sockets[2], "Kolme"))["type"] == "joined"


async def test_moderator_removal_is_seen_by_all_and_the_text_is_gone(
    schedule, group_socket, moderator, helper_socket
):
    session = await sync_to_async(schedule)(moderators=[moderator])
    console = await helper_socket(moderator)
    joined = await moderate(console, session)
    assert joined["participants"] == 1  # the moderator
    first, second = await group_socket("203.0.113.1"), await group_socket("203.0.113.2")
    await join(first, "Eka")
    assert (await join(second, "Toka"))["participants"] == 3

    await first.send_json_to({"type": "message", "text": "jotain asiatonta"})
    said = await next_frame(second, "message")
    seen = await next_frame(console, "group_message")
    assert (seen["session"], seen["id"], seen["nickname"]) == (session.pk, said["id"], "Eka")

    await console.send_json_to({"type": "group_remove", "session": session.pk, "id": said["id"]})
    for socket in (first, second):
        assert await next_frame(socket, "removed") == {"type": "removed", "id": said["id"]}
    assert await next_frame(console, "group_removed") == {
        "type": "group_removed",
        "id": said["id"],
        "session": session.pk,
    }
    stored = await sync_to_async(GroupMessage.objects.get)(session=session, seq=said["id"])
    assert stored.removed and stored.text == ""
    # A later joiner does not see it at all.
    third = await group_socket("203.0.113.3")
    await join(third, "Kolmas")
    assert (await next_frame(third, "history"))["messages"] == []


async def test_moderator_messages_are_marked_as_such(
    schedule, group_socket, moderator, helper_socket
):
    session = await sync_to_async(schedule)(moderators=[moderator])
    console = await helper_socket(moderator)
    await moderate(console, session)
    participant = await group_socket()
    await join(participant, "Eka")
    await console.send_json_to(
        {"type": "group_message", "session": session.pk, "text": "Tervetuloa!"}
    )
    got = await next_frame(participant, "message")
    assert (got["nickname"], got["role"], got["text"]) == (
        "Moderaattori Mia",
        "moderator",
        "Tervetuloa!",
    )
    echo = await next_frame(console, "group_message")
    assert (echo["id"], echo["role"]) == (got["id"], "moderator")


async def test_kicked_participant_is_closed_and_refused_with_any_nickname(
    schedule, group_socket, moderator, helper_socket
):
    session = await sync_to_async(schedule)(moderators=[moderator])
    console = await helper_socket(moderator)
    await moderate(console, session)
    troll, other = await group_socket("203.0.113.66"), await group_socket("203.0.113.2")
    await join(troll, "Peikko")
    await join(other, "Kiltti")

    await console.send_json_to({"type": "group_kick", "session": session.pk, "nickname": "peikko"})
    assert (await next_frame(troll, "error"))["code"] == "kicked"
    assert (await troll.receive_output(timeout=3))["type"] == "websocket.close"
    # The count after the kick. With the pub/sub layer a count from just before `other` joined
    # may reach it first (its process got the nudge after it joined): each frame is the count
    # at its moment, and the last one holds.
    assert await participants_become(other, 2)

    again = await group_socket("203.0.113.66")
    assert (await join(again, "Ihan Uusi Nimi"))["code"] == "kicked"
    newcomer = await group_socket("203.0.113.3")
    assert (await join(newcomer, "Peikko"))["type"] == "joined"  # the nickname itself is free


async def test_room_is_closed_outside_the_schedule(schedule, group_socket):
    socket = await group_socket()
    assert await join(socket, "Aikainen") == {"type": "closed", "opens_at": None}
    later = await sync_to_async(schedule)(starts=24 * 60)
    await sync_to_async(schedule)(starts=-120, minutes=60)  # already over
    closed = await join(socket, "Aikainen")
    assert closed["type"] == "closed"
    assert datetime.fromisoformat(closed["opens_at"]) == later.starts_at

    info = await sync_to_async(lambda: Client().get("/api/services/unichat/").json())()
    assert (info["open"], info["kind"]) == (False, "group")
    assert datetime.fromisoformat(info["opens_at"]) == later.starts_at


async def test_service_object_says_open_while_a_session_runs(schedule):
    running = await sync_to_async(schedule)(starts=-5, minutes=30)
    info = await sync_to_async(lambda: Client().get("/api/services/unichat/").json())()
    assert info["open"] is True and info["opens_at"] is None
    assert datetime.fromisoformat(info["closes_at"]) == running.ends_at


async def test_a_closed_group_admits_only_its_invite(schedule, group_socket):
    await sync_to_async(schedule)(invite="KEVÄT-RYHMÄ")
    socket = await group_socket()
    assert (await join(socket, "Jäsen"))["code"] == "not_found"
    assert (await join(socket, "Jäsen", invite="väärä"))["code"] == "not_found"
    assert (await join(socket, "Jäsen", invite="KEVÄT-RYHMÄ"))["type"] == "joined"
    # A closed group is not announced as the line being open.
    info = await sync_to_async(lambda: Client().get("/api/services/unichat/").json())()
    assert info["open"] is False


async def test_guessing_invitations_is_rate_limited_by_address(schedule, group_socket, settings):
    settings.FOLLOW_UP_GUESS_LIMIT = 2
    await sync_to_async(schedule)(invite="KEVÄT-RYHMÄ")
    for guess in ("syksy", "talvi"):
        guesser = await group_socket("192.0.2.66")
        assert (await join(guesser, "Arvaaja", invite=guess))["code"] == "not_found"
        await guesser.disconnect()
    guesser = await group_socket("192.0.2.66")
    assert (await join(guesser, "Arvaaja", invite="KEVÄT-RYHMÄ"))["code"] == "rate_limited"
    member = await group_socket("203.0.113.5")
    assert (await join(member, "Jäsen", invite=" kevät-ryhmä "))["type"] == "joined"


async def test_session_end_closes_the_room_for_everyone_and_keeps_only_counts(
    schedule, group_socket, moderator, helper_socket
):
    session = await sync_to_async(schedule)(starts=-50, minutes=60, moderators=[moderator])
    following = await sync_to_async(schedule)(starts=7 * 24 * 60)
    console = await helper_socket(moderator)
    await moderate(console, session)
    people = [await group_socket(f"203.0.113.{i}") for i in (1, 2)]
    for n, socket in enumerate(people):
        await join(socket, f"Osallistuja {n}")
    await people[0].send_json_to({"type": "message", "text": "Kiitos illasta"})
    await console.send_json_to({"type": "group_message", "session": session.pk, "text": "Hei!"})
    for _ in range(2):
        await next_frame(people[1], "message")

    await sync_to_async(groups.sweep)(now=session.ends_at + timedelta(seconds=1))
    opens_at = following.starts_at
    for socket in people:
        closed = await next_frame(socket, "closed")
        assert datetime.fromisoformat(closed["opens_at"]) == opens_at
    group_closed = await next_frame(console, "group_closed")
    assert group_closed["session"] == session.pk

    assert not await sync_to_async(GroupMessage.objects.exists)()
    assert not await sync_to_async(GroupParticipant.objects.exists)()
    counts = await sync_to_async(
        lambda: {c.metric: c.count for c in DailyCount.objects.filter(metric__startswith="group")}
    )()
    assert counts == {"group_sessions": 1, "group_participants": 2, "group_messages": 2}
    # The room stays closed: a message after the end is refused, a new join gets `closed`.
    await people[0].send_json_to({"type": "message", "text": "vielä"})
    assert (await next_frame(people[0], "error"))["code"] == "not_found"


async def test_sockets_stay_in_the_room_longer_than_the_layers_group_expiry(
    schedule, group_socket, moderator, helper_socket, settings, monkeypatch
):
    """channels-redis forgets a group member after group_expiry; a session may last longer."""
    import time_machine
    from channels.layers import get_channel_layer

    if not hasattr(get_channel_layer(), "group_expiry"):
        pytest.skip("the pub/sub layer keeps groups in each process: they never expire")
    settings.CHAT_HEARTBEAT_SECONDS = 0.05
    monkeypatch.setattr(get_channel_layer(), "group_expiry", 60)
    session = await sync_to_async(schedule)(moderators=[moderator])
    with time_machine.travel(timezone.now(), tick=True) as clock:
        console = await helper_socket(moderator)
        await moderate(console, session)
        participant = await group_socket()
        await join(participant, "Pitkäjänteinen")
        later = timezone.now() + timedelta(minutes=5)
        clock.move_to(later)
        # One heartbeat of each socket after the clock moved: the renewal comes first in it.
        await wait_until(
            lambda: (
                GroupParticipant.objects.filter(seen_at__gte=later).count() == 1
                and DutySession.objects.filter(seen_at__gte=later).count() == 1
            )
        )
        await console.send_json_to(
            {"type": "group_message", "session": session.pk, "text": "Vielä täällä?"}
        )
        assert (await next_frame(participant, "message"))["text"] == "Vielä täällä?"


async def test_after_a_layer_outage_the_room_catches_up_from_the_database(
    schedule, group_socket, moderator, helper_socket
):
    from channels.layers import get_channel_layer

    from chats.sockets import BaseChatConsumer

    if not hasattr(BaseChatConsumer, "layer_rejoin"):
        pytest.skip("the layer watch (chats/layer.py) is not in this tree")
    session = await sync_to_async(schedule)(moderators=[moderator])
    console = await helper_socket(moderator)
    await moderate(console, session)
    participant = await group_socket()
    await join(participant, "Eka")

    def said_while_the_layer_was_down():
        # Stored as groups.py stores it, but no nudge: as if Redis had dropped it.
        GroupSession.objects.filter(pk=session.pk).update(last_seq=1)
        GroupMessage.objects.create(
            session_id=session.pk,
            seq=1,
            nickname="Toka",
            role="participant",
            text="kuuluuko?",
            sent_at=timezone.now(),
        )

    await sync_to_async(said_while_the_layer_was_down)()
    layer = get_channel_layer()
    await layer.group_send(f"groupchat.{session.pk}", {"type": "layer.rejoin"})
    assert (await next_frame(participant, "message"))["text"] == "kuuluuko?"
    assert (await next_frame(console, "group_message"))["text"] == "kuuluuko?"

    await sync_to_async(GroupSession.objects.filter(pk=session.pk).update)(closed_at=timezone.now())
    await layer.group_send(f"groupchat.{session.pk}", {"type": "layer.rejoin"})
    assert (await next_frame(participant, "closed"))["type"] == "closed"
    assert (await next_frame(console, "group_closed"))["session"] == session.pk


async def wait_until(condition, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not await sync_to_async(condition)():
        assert asyncio.get_running_loop().time() < deadline, "condition never met"
        await asyncio.sleep(0.02)


async def test_moderator_closes_the_session_early(schedule, group_socket, moderator, helper_socket):
    session = await sync_to_async(schedule)(moderators=[moderator])
    console = await helper_socket(moderator)
    await moderate(console, session)
    participant = await group_socket()
    await join(participant, "Eka")
    await console.send_json_to({"type": "group_close", "session": session.pk})
    assert await next_frame(participant, "closed") == {"type": "closed", "opens_at": None}
    assert (await next_frame(console, "group_closed"))["session"] == session.pk
    assert (await join(participant, "Eka"))["type"] == "closed"


async def test_only_named_moderators_of_the_line_moderate(
    schedule, group_socket, moderator, make_helper, helper_socket
):
    session = await sync_to_async(schedule)(moderators=[moderator])
    other_unichat = await helper_socket(await sync_to_async(make_helper)(services=("unichat",)))
    await other_unichat.send_json_to({"type": "group_join", "service": "unichat"})
    assert (await next_frame(other_unichat, "error"))["code"] == "not_found"
    one_to_one = await helper_socket(await sync_to_async(make_helper)())
    await one_to_one.send_json_to({"type": "group_join", "service": "unichat"})
    assert (await next_frame(one_to_one, "error"))["code"] == "not_found"
    participant = await group_socket()
    await join(participant, "Eka")
    await other_unichat.send_json_to(
        {"type": "group_kick", "session": session.pk, "nickname": "Eka"}
    )
    assert (await next_frame(other_unichat, "error"))["code"] == "not_found"
    assert await receive_nothing(participant, ignore=("history",))


async def test_pinned_message_reaches_participants_and_later_joiners(
    schedule, group_socket, moderator, helper_socket
):
    session = await sync_to_async(schedule)(moderators=[moderator])
    console = await helper_socket(moderator)
    await moderate(console, session)
    early = await group_socket("203.0.113.1")
    await join(early, "Eka")
    rules = "Tervetuloa! Puhutaan toisiamme kunnioittaen."
    await console.send_json_to({"type": "group_pin", "session": session.pk, "text": rules})
    assert await next_frame(early, "pinned") == {"type": "pinned", "text": rules}
    late = await group_socket("203.0.113.2")
    assert (await join(late, "Toka"))["pinned"] == rules


async def test_a_flood_in_the_group_is_rate_limited(schedule, group_socket, settings):
    settings.CHAT_RATE_MESSAGES = 5
    settings.CHAT_RATE_WINDOW = 60
    await sync_to_async(schedule)()
    socket = await group_socket()
    await join(socket, "Tulva")
    for n in range(6):
        await socket.send_json_to({"type": "message", "text": f"viesti {n}"})
    frames = [await next_frame(socket, "message", "error") for _ in range(6)]
    assert [f["type"] for f in frames].count("message") == 4
    assert {f["code"] for f in frames if f["type"] == "error"} == {"rate_limited"}


async def test_bad_join_frames_get_clear_errors(schedule, group_socket):
    await sync_to_async(schedule)()
    socket = await group_socket()
    for bad in (
        {"type": "join"},
        {"type": "join", "nickname": "x" * 33},
        {"type": "join", "nickname": "\u202e"},
    ):
        await socket.send_json_to(bad)
        assert (await next_frame(socket, "error"))["code"] == "invalid"
    await socket.send_json_to({"type": "message", "text": "ennen liittymistä"})
    assert (await next_frame(socket, "error"))["code"] == "not_found"


async def test_unknown_group_line_is_not_found(lines, group_socket):
    socket = await group_socket(slug="vakivalta")
    assert (await join(socket, "Eka"))["code"] == "not_found"


# --- schedulegroup ---------------------------------------------------------------------------


def test_schedulegroup_takes_helsinki_time_and_moderators(lines, moderator, capsys):
    call_command(
        "schedulegroup",
        "unichat",
        "--start",
        "2027-03-04T18:00",
        "--end",
        "2027-03-04T19:30",
        "--title",
        "Iltaryhmä",
        "--language",
        "en",
        "--capacity",
        "12",
        "--moderator",
        moderator.user.username,
        "--invite",
        "SARJA-7",
    )
    session = GroupSession.objects.get()
    assert session.starts_at == datetime(2027, 3, 4, 18, 0, tzinfo=HELSINKI)
    assert session.ends_at == datetime(2027, 3, 4, 19, 30, tzinfo=HELSINKI)
    assert (session.title, session.language, session.capacity, session.invite) == (
        "Iltaryhmä",
        "en",
        12,
        "SARJA-7",
    )
    assert list(session.moderators.all()) == [moderator]
    assert "Scheduled" in capsys.readouterr().out


def test_schedulegroup_accepts_an_offset(lines):
    call_command(
        "schedulegroup",
        "unichat",
        "--start",
        "2027-03-04T16:00+00:00",
        "--end",
        "2027-03-04T17:00+00:00",
        "--title",
        "UTC",
    )
    assert GroupSession.objects.get().starts_at == datetime(2027, 3, 4, 18, 0, tzinfo=HELSINKI)


@pytest.mark.parametrize(
    "args, reason",
    [
        (["unichat", "--end", "2027-03-04T17:00"], "end must be after the start"),
        (["unichat", "--moderator", "nobody"], "Unknown moderator"),
        (["unichat", "--moderator", "ONE_TO_ONE"], "is not a helper of 'unichat'"),
        (["vakivalta"], "not a group line"),
        (["nosuchline"], "Unknown service"),
        (["unichat", "--start", "huomenna"], "not an ISO 8601 time"),
        (["unichat", "--language", "sv"], "Unknown language"),
    ],
)
def test_schedulegroup_refuses_bad_arguments_and_changes_nothing(lines, make_helper, args, reason):
    one_to_one = make_helper(services=("vakivalta",))
    args = [one_to_one.user.username if a == "ONE_TO_ONE" else a for a in args]
    defaults = {"--start": "2027-03-04T18:00", "--end": "2027-03-04T19:00", "--title": "Ryhmä"}
    for option, value in defaults.items():
        if option not in args:
            args += [option, value]
    with pytest.raises(CommandError) as error:
        call_command("schedulegroup", *args)
    assert reason in str(error.value) and "\n" not in str(error.value)
    assert not GroupSession.objects.exists()


def test_admin_refuses_moderators_from_another_line(lines, make_helper):
    from chats.admin import GroupSessionForm

    outsider = make_helper(services=("vakivalta",))
    form = GroupSessionForm(
        data={
            "line": lines["unichat"].pk,
            "title": "Ryhmä",
            "language": "fi",
            "starts_at": "2027-03-04 18:00",
            "ends_at": "2027-03-04 19:00",
            "capacity": 10,
            "moderators": [outsider.pk],
        }
    )
    assert not form.is_valid() and "moderators" in form.errors
