"""Real servers: two daphne processes sharing one database and one Redis act as one service.

The asker talks to one process, the helper to the other. Then Redis is restarted mid-chat:
every socket breaks, the clients reconnect, `resume`, resend what was not echoed, and every
message sent before, during and after the outage is there exactly once, in order.
"""

import asyncio
import itertools
import shutil

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from tests.conftest import Daphne, RedisServer, WsClient, need, server_env, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


class Side:
    """One participant with a real socket that survives outages the way the widget does.

    It remembers every message by id, keeps what it sent in an outbox until the echo arrives,
    and after a reconnect resumes and resends the outbox (the server drops duplicates by
    `client_id`).
    """

    ids = itertools.count(1)

    def __init__(self, name: str, url: str, cookie=None):
        self.name, self.url, self.cookie = name, url, cookie
        self.messages: dict[int, tuple[str, str]] = {}  # id -> (sender, text)
        self.outbox: dict[str, str] = {}  # client_id -> text, in sending order
        self.client = None
        self.reader = None
        self.token = None
        self.chat = None
        self.frames = asyncio.Queue()

    async def open(self, deadline=20.0):
        loop = asyncio.get_running_loop()
        until = loop.time() + deadline
        while True:
            try:
                self.client = await WsClient(self.url, self.cookie).open()
                return
            except (OSError, Exception):
                if loop.time() > until:
                    raise
                await asyncio.sleep(0.2)

    def record(self, frame):
        for message in frame.get("messages", [frame]):
            known = self.messages.get(message["id"])
            assert known in (None, (message["sender"], message["text"])), "id reused"
            self.messages[message["id"]] = (message["sender"], message["text"])
            self.outbox.pop(message.get("client_id"), None)

    async def read(self):
        try:
            while True:
                frame = await self.client.recv()
                if frame["type"] in ("message", "history"):
                    self.record(frame)
                await self.frames.put(frame)
        except Exception:
            await self.frames.put({"type": "_broken"})

    def start_reading(self):
        self.reader = asyncio.get_running_loop().create_task(self.read())

    async def expect(self, *types, timeout=10.0):
        while True:
            frame = await asyncio.wait_for(self.frames.get(), timeout)
            if frame["type"] in types:
                return frame

    async def send(self, text: str):
        client_id = f"{self.name}-{next(self.ids)}"
        self.outbox[client_id] = text
        frame = {"type": "message", "text": text, "client_id": client_id}
        if self.chat:
            frame["chat"] = self.chat
        try:
            await self.client.send(frame)
        except Exception:
            pass  # stays in the outbox; resent after the reconnect

    async def reconnect(self, deadline=20.0):
        """As the widget does: reconnect with a pause until `resume` answers with the history."""
        loop = asyncio.get_running_loop()
        until = loop.time() + deadline
        while True:
            await self.close()
            self.frames = asyncio.Queue()
            await self.open(deadline=until - loop.time())
            self.start_reading()
            if self.token:  # the asker resumes; the console gets its chats back on connect
                await self.client.send({"type": "resume", "token": self.token})
            try:
                frame = await self.expect("history", "_broken", timeout=5)
            except TimeoutError:
                frame = {"type": "_broken"}
            if frame["type"] == "history":
                return
            assert loop.time() < until, f"{self.name} could not resume"
            await asyncio.sleep(0.3)

    async def resend_outbox(self):
        for client_id, text in list(self.outbox.items()):
            frame = {"type": "message", "text": text, "client_id": client_id}
            if self.chat:
                frame["chat"] = self.chat
            await self.client.send(frame)

    async def settle(self, timeout=10.0):
        """Wait until everything sent has been echoed back."""
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        while self.outbox:
            assert loop.time() < until, f"{self.name} never got echoes for {self.outbox}"
            await asyncio.sleep(0.05)

    async def received(self, count: int, timeout=20.0):
        """Wait until this side holds `count` messages. The other side's words come by a nudge;
        one lost in the instant Redis comes back is read at the socket's next heartbeat check
        (15 s ± 20 %), so a busy machine may take that long, never longer."""
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        while len(self.messages) < count and loop.time() < until:
            await asyncio.sleep(0.05)

    async def close(self):
        if self.reader:
            self.reader.cancel()
        if self.client:
            await self.client.close()


def redis_for_test():
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    return RedisServer().start()


@pytest.fixture
def two_servers(open_line, make_helper):
    """Start a private Redis and two daphne processes; yield what a test needs."""

    def start(redis_url):
        env = server_env(redis_url, CHAT_RATE_MESSAGES=200)
        servers = [Daphne(env).start(), Daphne(env).start()]
        started.extend(servers)
        return servers

    started = []
    yield start
    for server in started:
        server.stop()
        print(f"--- daphne {server.port} ---\n{server.output()[-3000:]}")


async def begin_chat(asker_url, helper_url, helper):
    cookie = await sync_to_async(session_cookie)(helper.user)
    asker = Side("asker", f"{asker_url}/ws/ask/vakivalta/")
    console = Side("helper", f"{helper_url}/ws/helper/", cookie)
    await asker.open()
    await console.open()
    asker.start_reading()
    console.start_reading()
    await asker.client.send({"type": "start", "language": "fi"})
    asker.token = (await asker.expect("queued"))["token"]
    await console.client.send({"type": "accept_next", "service": "vakivalta"})
    console.chat = (await console.expect("assigned"))["chat"]
    assert (await asker.expect("assigned"))["helper"]["role"] == "professional"
    return asker, console


def assert_exactly_once_in_order(side: Side, expected: list[tuple[str, str]]):
    ids = sorted(side.messages)
    assert ids == list(range(1, len(ids) + 1)), f"{side.name} saw gaps: {ids}"
    seen = [side.messages[i] for i in ids]
    assert sorted(seen) == sorted(expected), f"{side.name}: lost or duplicated messages"
    for sender in ("asker", "helper"):
        own_order = [text for who, text in expected if who == sender]
        assert [text for who, text in seen if who == sender] == own_order


async def test_asker_and_helper_on_two_processes_chat_normally(two_servers, make_helper):
    if settings.REDIS_URL:
        redis_url, redis = settings.REDIS_URL, None  # the machine's Redis, as in production
    else:
        redis = redis_for_test()
        redis_url = redis.url
    first, second = two_servers(redis_url)
    helper = await sync_to_async(make_helper)()
    asker, console = await begin_chat(first.url, second.url, helper)
    try:
        expected = []
        for n in range(5):
            await asker.send(f"kysymys {n}")
            await console.send(f"vastaus {n}")
            expected += [("asker", f"kysymys {n}"), ("helper", f"vastaus {n}")]
        await asker.settle()
        await console.settle()
        await asker.received(len(expected))  # the other side's copies were in flight
        await console.received(len(expected))
        assert_exactly_once_in_order(asker, expected)
        assert_exactly_once_in_order(console, expected)
        await console.client.send({"type": "end", "chat": console.chat, "topics": ["henkinen"]})
        assert (await asker.expect("ended"))["by"] == "helper"
    finally:
        await asker.close()
        await console.close()
        if redis:
            redis.stop()


async def test_redis_restart_mid_chat_loses_and_duplicates_nothing(two_servers, make_helper):
    redis = redis_for_test()
    first, second = two_servers(redis.url)
    helper = await sync_to_async(make_helper)()
    asker, console = await begin_chat(first.url, second.url, helper)
    expected = []
    try:
        for n in range(5):
            await asker.send(f"ennen {n}")
            await console.send(f"ennen vastaus {n}")
            expected += [("asker", f"ennen {n}"), ("helper", f"ennen vastaus {n}")]
        await asker.settle()
        await console.settle()

        redis.stop()
        for n in range(3):  # written while Redis is down
            await asker.send(f"aikana {n}")
            await console.send(f"aikana vastaus {n}")
            expected += [("asker", f"aikana {n}"), ("helper", f"aikana vastaus {n}")]
            await asyncio.sleep(0.3)
        await asyncio.sleep(3)
        redis = RedisServer()
        redis.port = int(first.env["REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
        redis.start()

        # Both sides reconnect (their sockets broke or will), resume and resend.
        await asker.reconnect()
        await console.reconnect()
        await asker.resend_outbox()
        await console.resend_outbox()
        for n in range(3):
            await asker.send(f"jälkeen {n}")
            await console.send(f"jälkeen vastaus {n}")
            expected += [("asker", f"jälkeen {n}"), ("helper", f"jälkeen vastaus {n}")]
        await asker.settle()
        await console.settle()
        # A last resume reads the whole chat from the database, as a reload would.
        await asker.client.send({"type": "resume", "token": asker.token})
        await asker.expect("history")
        await console.received(len(expected))
        await asyncio.sleep(0.3)  # nothing more may come: a duplicate would show now
        assert_exactly_once_in_order(asker, expected)
        assert_exactly_once_in_order(console, expected)
    finally:
        await asker.close()
        await console.close()
        redis.stop()
