"""The address rule (docs/security.md): one IPv6 home connection holds a whole /64 and can pick any
address in it, so every per-address measure counts the /64 as one address, and another /64 is
someone else. And a closed group's invitation is as hard to guess as a follow-up code."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from chats import asking, followups, group_moderators, groups, services, taking
from chats.models import Bar, Chat, GroupSession
from chats.services import ChatError
from verkkoapu import security
from verkkoapu.security import limit_key

pytestmark = pytest.mark.django_db

HOME = "2001:db8:77:1::{:x}"  # one home connection's /64: any address in it
NEIGHBOUR = "2001:db8:77:2::1"  # the next /64: another household


def home(i: int) -> str:
    return HOME.format(i + 1)


def refused_code(call) -> str | None:
    try:
        call()
    except ChatError as error:
        return error.code
    return None


def test_the_rule_is_the_address_or_its_slash_64(settings):
    assert limit_key("192.0.2.5") == "192.0.2.5"
    assert limit_key("::ffff:192.0.2.5") == "192.0.2.5"  # IPv4-mapped IPv6 is the IPv4 address
    assert (
        security.address_hash(home(1))
        == security.address_hash(home(500))
        != security.address_hash(NEIGHBOUR)
    )
    assert security.address_hash("::ffff:192.0.2.5") == security.address_hash("192.0.2.5")
    settings.ADDRESS_IPV6_PREFIX = 56
    assert security.address_hash("2001:db8:77:100::1") == security.address_hash(
        "2001:db8:77:1ff::1"
    )
    assert security.address_hash("2001:db8:77:100::1") != security.address_hash(
        "2001:db8:77:200::1"
    )


def test_follow_up_code_guesses_from_one_slash_64_share_one_limit(lines, settings):
    settings.FOLLOW_UP_GUESS_LIMIT = 4

    def guess(ip):
        return refused_code(
            lambda: followups.enqueue_with_code(
                "vakivalta", followups.new_code(), language="fi", ip=ip
            )
        )

    assert [guess(home(i)) for i in range(4)] == ["not_found"] * 4
    assert [guess(home(i)) for i in range(4, 40)] == ["rate_limited"] * 36
    assert guess(NEIGHBOUR) == "not_found"


@pytest.fixture
def schedule(lines):
    def make(**kwargs):
        now = timezone.now()
        kwargs.setdefault("title", "Vertaisryhmä")
        return groups.schedule_session(
            "unichat",
            starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(hours=1),
            **kwargs,
        )

    return make


def test_invitation_guesses_from_one_slash_64_share_one_limit(schedule, settings):
    settings.FOLLOW_UP_GUESS_LIMIT = 3
    schedule(invite=groups.new_invite())

    def guess(ip, invite="kala"):
        return refused_code(lambda: groups.join("unichat", "Arvaaja", ip=ip, invite=invite))

    assert [guess(home(i)) for i in range(3)] == ["not_found"] * 3
    assert [guess(home(i)) for i in range(3, 30)] == ["rate_limited"] * 27
    assert guess(NEIGHBOUR) == "not_found"


def test_invitation_guesses_are_limited_in_total_for_the_session(schedule, settings):
    settings.GROUP_INVITE_GUESS_LIMIT = 5
    session = schedule(invite=groups.new_invite())

    def guess(ip, invite="kala"):
        return refused_code(lambda: groups.join("unichat", "Arvaaja", ip=ip, invite=invite))

    # Many households, one wrong guess each: the session's own limit still holds.
    assert [guess(f"2001:db8:{i:x}::1") for i in range(5)] == ["not_found"] * 5
    assert guess("198.51.100.9") == "rate_limited"
    assert guess("198.51.100.10", invite=session.invite) == "rate_limited"  # not even compared


def test_right_invitations_do_not_use_up_the_limit(schedule, settings):
    settings.FOLLOW_UP_GUESS_LIMIT = 2
    settings.GROUP_INVITE_GUESS_LIMIT = 2
    session = schedule(invite=groups.new_invite())
    for i in range(6):  # a member who reconnects joins again with the invitation
        answer = groups.join("unichat", f"Jäsen {i}", ip=home(0), invite=session.invite)
        groups.leave(answer.person_id)


def test_feedback_from_one_slash_64_shares_one_limit(lines, settings):
    settings.FEEDBACK_RATE_LIMIT = 3
    answer = {"rating": "4", "text": "Kiitos"}

    def send(ip):
        return Client().post("/feedback/vakivalta/", answer, REMOTE_ADDR=ip).status_code

    assert [send(home(i)) for i in range(3)] == [302] * 3
    assert [send(home(i)) for i in range(3, 10)] == [429] * 7
    assert send(NEIGHBOUR) == 302


def test_chat_starts_from_one_slash_64_share_one_limit(open_line, settings):
    settings.CHAT_MAX_OPEN_PER_ADDRESS = 100
    settings.CHAT_MAX_STARTS_PER_HOUR = 3

    def start(ip):
        return refused_code(lambda: asking.enqueue_asker("vakivalta", language="fi", ip=ip))

    assert [start(home(i)) for i in range(3)] == [None] * 3
    assert [start(home(i)) for i in range(3, 8)] == ["rate_limited"] * 5
    assert start(NEIGHBOUR) is None


@pytest.mark.parametrize("kind", [Bar.Kind.BAR, Bar.Kind.COME_BACK_LATER])
def test_a_bar_holds_for_the_whole_slash_64_and_the_helper_saw_the_real_address(
    open_line, make_helper, kind
):
    helper = make_helper()
    asking.enqueue_asker("vakivalta", language="fi", ip=home(1))
    chat_id = taking.accept_next(helper, "vakivalta").chat_id
    assert Chat.objects.get(pk=chat_id).asker_ip == home(1)  # the helper sees the real address
    if kind == Bar.Kind.BAR:
        services.bar_asker(helper, chat_id, 2)
    else:
        services.bar_asker(helper, chat_id, None, days=1, kind=kind)

    def start(ip):
        return refused_code(lambda: asking.enqueue_asker("vakivalta", language="fi", ip=ip))

    assert [start(home(i)) for i in (2, 99, 4000)] == ["blocked"] * 3
    assert start(NEIGHBOUR) is None


def test_a_kick_holds_for_the_whole_slash_64(schedule, make_helper):
    moderator = make_helper(services=("unichat",), name="Moderaattori Mia")
    session = schedule(moderators=[moderator.user.username])
    groups.join("unichat", "peikko", ip=home(1))
    group_moderators.kick(moderator, session.pk, "peikko")

    def join(ip, nickname):
        return refused_code(lambda: groups.join("unichat", nickname, ip=ip))

    assert join(home(2), "Uusi nimi") == "kicked"
    assert join(home(12345), "Toinen nimi") == "kicked"
    assert join(NEIGHBOUR, "Naapuri") is None


# --- Invitations ------------------------------------------------------------------------------


def schedulegroup(*args):
    out, err = StringIO(), StringIO()
    start = timezone.now() + timedelta(days=1)
    call_command(
        "schedulegroup",
        "unichat",
        "--start",
        start.isoformat(),
        "--end",
        (start + timedelta(hours=1)).isoformat(),
        "--title",
        "Vertaisryhmä",
        *args,
        stdout=out,
        stderr=err,
    )
    return GroupSession.objects.latest("pk"), out.getvalue(), err.getvalue()


def test_a_generated_invitation_is_as_strong_as_a_follow_up_code(lines):
    session, out, err = schedulegroup("--closed")
    assert f"Invitation: {session.invite}" in out and not err
    assert len(session.invite.split("-")) == followups.CODE_WORDS
    assert all(word in followups.WORDS for word in session.invite.split("-"))
    assert groups.invite_bits(session.invite) >= followups.CODE_BITS - 0.5
    assert not groups.weak_invite(session.invite)
    assert schedulegroup("--closed")[0].invite != session.invite


def test_a_weak_invitation_set_by_hand_is_accepted_with_a_warning(lines):
    session, out, err = schedulegroup("--invite", "kala")
    assert session.invite == "kala"  # the contract's --invite CODE stays as it is
    assert "Scheduled session" in out
    assert "easy to guess" in err
    session, out, err = schedulegroup("--invite", "x7k2-m9p4-q1z8-v3n6")
    assert session.invite == "x7k2-m9p4-q1z8-v3n6" and not err


def test_the_admin_warns_of_a_weak_invitation_and_can_generate_one(lines, admin_client):
    now = timezone.localtime() + timedelta(days=1)

    def add(**extra):
        data = {
            "line": lines["unichat"].pk,
            "title": "Vertaisryhmä",
            "language": "fi",
            "starts_at_0": now.strftime("%Y-%m-%d"),
            "starts_at_1": "18:00:00",
            "ends_at_0": now.strftime("%Y-%m-%d"),
            "ends_at_1": "19:00:00",
            "capacity": "30",
            **extra,
        }
        return admin_client.post("/admin/chats/groupsession/add/", data, follow=True)

    answer = add(invite="kala")
    assert [str(m) for m in answer.context["messages"] if "kala" in str(m) or "bit" in str(m)]
    assert GroupSession.objects.latest("pk").invite == "kala"
    answer = add(invite="", new_invite="on")
    generated = GroupSession.objects.latest("pk").invite
    assert groups.invite_bits(generated) >= followups.CODE_BITS - 0.5
    assert any(generated in str(m) for m in answer.context["messages"])
