"""Queue abuse: per-address limits on open chats, chats started per hour and group joins, held in
the database so that every server process counts the same (docs/security.md).

The last tests run two real daphne processes: an abuser whose sockets land on both still meets
one limit, and a frame too big for daphne closes only the socket that sent it.
"""

import asyncio
import shutil
from datetime import timedelta

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from chats import asking, groups, services, taking
from chats.models import AddressCounter, Chat
from chats.services import ChatError
from stats import retention
from tests.conftest import (
    Daphne,
    RedisServer,
    WsClient,
    end_chat,
    in_threads,
    need,
    need_services,
    next_frame,
    on_postgres,
    server_env,
    start,
    tables_holding,
)

IP = "203.0.113.70"


def enqueue(ip=IP, now=None):
    return asking.enqueue_asker("vakivalta", language="fi", ip=ip, now=now)


# --- Open chats and starts per hour ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_an_address_holds_only_two_open_chats_until_one_ends(open_line, asker_socket):
    first, second, third = [await asker_socket(open_line, ip=IP) for _ in range(3)]
    assert (await start(first))["type"] == "queued"
    assert (await start(second))["type"] == "queued"
    refused = await start(third)
    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    assert "open chats" in refused["message"] and refused["limit"] == "open_chats"
    # Someone else is not affected, and the refused socket can try again once a chat ends.
    neighbour = await asker_socket(open_line, ip="203.0.113.71")
    assert (await start(neighbour))["type"] == "queued"
    await end_chat(first)
    assert (await start(third))["type"] == "queued"
    assert await sync_to_async(Chat.objects.filter(asker_ip=IP).count)() == 2


@pytest.mark.django_db
def test_an_address_starts_only_so_many_chats_an_hour(open_line, settings):
    settings.CHAT_MAX_STARTS_PER_HOUR = 3
    now = timezone.now()
    for _ in range(3):
        services.end_chat(enqueue(now=now).chat_id, by="asker", now=now)
    with pytest.raises(ChatError) as refused:
        enqueue(now=now)
    assert (refused.value.code, refused.value.extra) == ("rate_limited", {"limit": "starts"})
    assert not Chat.objects.exists()  # a refusal leaves nothing behind
    assert enqueue(ip="203.0.113.71", now=now).chat_id
    assert enqueue(now=now + timedelta(hours=1)).chat_id  # the next hour


@pytest.mark.django_db
def test_a_refused_start_is_not_counted(open_line, settings):
    settings.CHAT_MAX_STARTS_PER_HOUR = 3
    settings.CHAT_MAX_OPEN_PER_ADDRESS = 1
    now = timezone.now()
    held = enqueue(now=now)
    for _ in range(5):  # refused: the address already holds a chat
        with pytest.raises(ChatError):
            enqueue(now=now)
    services.end_chat(held.chat_id, by="asker", now=now)
    services.end_chat(enqueue(now=now).chat_id, by="asker", now=now)
    assert enqueue(now=now).chat_id  # the third start of the hour


@pytest.mark.django_db
def test_one_ipv6_network_counts_as_one_address(open_line):
    now = timezone.now()
    enqueue(ip="2001:db8:1:2::1", now=now)
    enqueue(ip="2001:db8:1:2:aaaa::7", now=now)
    with pytest.raises(ChatError) as refused:
        enqueue(ip="2001:db8:1:2:ffff:ffff:ffff:ffff", now=now)
    assert refused.value.code == "rate_limited"
    assert enqueue(ip="2001:db8:1:3::1", now=now).chat_id  # the next /64 is someone else


@pytest.mark.django_db
def test_a_barred_address_hears_blocked_before_any_limit(open_line, make_helper, settings):
    settings.CHAT_MAX_STARTS_PER_HOUR = 1
    helper = make_helper()
    first = enqueue()
    taking.accept_next(helper, "vakivalta")
    services.bar_asker(helper, first.chat_id, hours=2)
    with pytest.raises(ChatError) as refused:
        enqueue()
    assert refused.value.code == "blocked"
    later = timezone.now() + timedelta(hours=2, minutes=1)
    assert enqueue(now=later).chat_id  # the bar is over, and so is the hour


@pytest.mark.django_db
def test_the_counters_hold_a_keyed_hash_and_go_with_their_hour(open_line):
    now = timezone.now()
    enqueue(now=now)
    assert AddressCounter.objects.count() == 1
    assert tables_holding(IP) == {"chats_chat"}  # the live chat only
    [purged] = [r for r in retention.purge_ip_addresses(now=now) if r.kind.startswith("address")]
    assert purged.count == 0  # this hour's counter still limits
    results = retention.purge_ip_addresses(now=now + timedelta(hours=2))
    assert {r.kind: r.count for r in results}["address_counters_expired"] == 1
    assert not AddressCounter.objects.exists()


@pytest.mark.django_db
def test_the_first_start_of_an_hour_clears_the_past_hours(
    open_line, django_capture_on_commit_callbacks
):
    now = timezone.now()
    enqueue(now=now)
    later = now + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(ip="203.0.113.99", now=later)
    [left] = AddressCounter.objects.all()
    assert left.window_start <= later < left.window_start + timedelta(hours=1)


@pytest.mark.django_db
def test_a_refused_first_start_of_an_hour_leaves_the_clearing_to_the_next(
    open_line, settings, django_capture_on_commit_callbacks
):
    now = timezone.now()
    enqueue(now=now)
    later = now + timedelta(hours=3)
    settings.CHAT_MAX_STARTS_PER_HOUR = 0
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ChatError):
        enqueue(ip="203.0.113.98", now=later)  # refused: its transaction, and clearing, undone
    settings.CHAT_MAX_STARTS_PER_HOUR = 10
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(ip="203.0.113.99", now=later)
    assert all(
        left.window_start <= later < left.window_start + timedelta(hours=1)
        for left in AddressCounter.objects.all()
    )


# --- The group chat: the same limits per session --------------------------------------------------


@pytest.fixture
def running_session(lines):
    now = timezone.now()
    return groups.schedule_session(
        "unichat",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        title="Iltaryhmä",
        moderators=[],
    )


@pytest.mark.django_db(transaction=True)
def test_simultaneous_starts_from_one_address_still_hold_two_open_chats(open_line, settings):
    """Six starts from one address released together on six connections: two are queued, the
    rest refused and not counted, whichever order the database took them in."""
    need_services(on_postgres(), "DATABASE_URL does not point at PostgreSQL")
    settings.CHAT_MAX_STARTS_PER_HOUR = 10
    now = timezone.now()
    answers, refusals = [], []

    def work(i):
        try:
            answers.append(enqueue(now=now))
        except ChatError as error:
            refusals.append(error.code)

    assert in_threads(6, work) == []
    assert len(answers) == 2 and refusals == ["rate_limited"] * 4
    assert Chat.objects.filter(asker_ip=IP).count() == 2
    assert AddressCounter.objects.get(kind="start").count == 2  # the refused ones do not count
    assert sorted(answer.frames[0]["position"] for answer in answers) == [1, 2]


@pytest.mark.django_db
def test_a_group_session_admits_two_people_from_one_address(running_session):
    assert groups.join("unichat", "Eka", ip=IP).session_id
    assert groups.join("unichat", "Toka", ip=IP).session_id
    with pytest.raises(ChatError) as refused:
        groups.join("unichat", "Kolmas", ip=IP)
    assert refused.value.code == "rate_limited"
    assert groups.join("unichat", "Naapuri", ip="203.0.113.71").session_id


@pytest.mark.django_db
def test_a_group_session_admits_only_so_many_joins_an_hour(running_session, settings):
    settings.CHAT_MAX_STARTS_PER_HOUR = 3
    for n in range(3):
        groups.leave(groups.join("unichat", f"Kävijä {n}", ip=IP).person_id)
    with pytest.raises(ChatError) as refused:
        groups.join("unichat", "Taas minä", ip=IP)
    assert refused.value.code == "rate_limited"


@pytest.mark.django_db(transaction=True)
async def test_the_group_socket_tells_a_flooder_rate_limited(running_session, sockets):
    opened = [await sockets("/ws/group/unichat/", client=[IP, 50000]) for _ in range(3)]
    answers = []
    for n, socket in enumerate(opened):
        await socket.send_json_to({"type": "join", "nickname": f"Nimi {n}"})
        answers.append(await next_frame(socket, "joined", "error"))
    assert [a["type"] for a in answers] == ["joined", "joined", "error"]
    assert answers[2]["code"] == "rate_limited"


# --- Two real server processes --------------------------------------------------------------------


def redis_url_for_test():
    if settings.REDIS_URL:
        return settings.REDIS_URL, None  # the machine's Redis, as in production
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    redis = RedisServer().start()
    return redis.url, redis


@pytest.fixture
def two_daphnes(open_line):
    started, redis = [], None

    def start(count=2, **env):
        nonlocal redis
        url, redis = redis_url_for_test()
        base = server_env(url, **env)
        started.extend(Daphne(base).start() for _ in range(count))
        return started

    yield start
    for server in started:
        server.stop()
        print(f"--- daphne {server.port} ---\n{server.output()[-3000:]}")
    if redis:
        redis.stop()


async def asker_on(server, frame) -> tuple[WsClient, dict]:
    client = await WsClient(f"{server.url}/ws/ask/vakivalta/").open()
    await client.send(frame)
    return client, await client.recv("queued", "error", "history")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_limits_hold_across_two_processes(two_daphnes):
    first, second = two_daphnes(
        CHAT_MAX_OPEN_PER_ADDRESS=2,
        CHAT_MAX_STARTS_PER_HOUR=4,
        CHAT_MAX_TOKEN_MISSES_PER_HOUR=3,
        CHAT_MAX_TOKEN_MISSES_PER_SOCKET=100,
    )
    start = {"type": "start", "language": "fi"}
    clients = []
    try:
        # Open chats: one on each process, then a third on either is refused.
        for server in (first, second):
            client, answer = await asker_on(server, start)
            clients.append(client)
            assert answer["type"] == "queued"
        for server in (first, second):
            client, answer = await asker_on(server, start)
            clients.append(client)
            assert answer["code"] == "rate_limited"
        # Starts per hour: ending a chat frees a place, but the hour's count goes on.
        await clients[0].send({"type": "end"})
        await clients[0].recv("ended")
        client, answer = await asker_on(second, start)
        clients.append(client)
        assert answer["type"] == "queued"  # the third start
        await client.send({"type": "end"})
        await client.recv("ended")
        client, answer = await asker_on(first, start)
        clients.append(client)
        assert answer["type"] == "queued"  # the fourth
        await client.send({"type": "end"})
        await client.recv("ended")
        client, answer = await asker_on(second, start)
        clients.append(client)
        assert answer["code"] == "rate_limited" and "Too many chats" in answer["message"]
        # Unknown tokens: counted per address whichever process answers.
        for server in (first, second, first):
            client, answer = await asker_on(server, {"type": "resume", "token": "arvaus"})
            clients.append(client)
            assert answer["code"] == "not_found"
        client, answer = await asker_on(second, {"type": "resume", "token": "arvaus"})
        clients.append(client)
        assert answer["code"] == "rate_limited"
    finally:
        for client in clients:
            await client.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_a_frame_too_big_for_daphne_closes_only_its_own_socket(two_daphnes):
    [server] = two_daphnes(count=1)
    asker, answer = await asker_on(server, {"type": "start", "language": "fi"})
    assert answer["type"] == "queued"
    attacker = await WsClient(f"{server.url}/ws/ask/vakivalta/").open()
    try:
        # Over our limit but under daphne's: a clear error, and the socket stays.
        await attacker.ws.send('{"type": "message", "text": "' + "x" * 200_000 + '"}')
        assert (await attacker.recv("error"))["code"] == "too_long"
        # Over daphne's 1 MiB: the server drops the connection (1009) as soon as the frame's
        # header announces the size, while the rest is still being sent.
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await attacker.ws.send("x" * (5 * 1024 * 1024))
            await asyncio.wait_for(attacker.ws.recv(), 10)
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1009
        # Everyone else goes on.
        await asker.send({"type": "message", "text": "vielä täällä"})
        assert (await asker.recv("message"))["text"] == "vielä täällä"
    finally:
        await attacker.close()
        await asker.close()
