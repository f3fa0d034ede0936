"""The base of every socket: frame rate limit, layer groups, heartbeat, recheck and dispatch.

Asker, helper and group consumers subclass `BaseChatConsumer`; no consumer imports another.
"""

import asyncio
import logging
import random
import time

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from . import layer, protocol
from .errors import ChatError
from .protocol import FrameError
from .runtime import Sweeper

log = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
CLOSE_FLOOD = 4429


class RateLimiter:
    """At most `limit` frames per `window` seconds (a token bucket), per socket."""

    def __init__(self, limit: int, window: float):
        self.limit, self.rate = limit, limit / window
        self.tokens, self.stamp = float(limit), time.monotonic()
        self.refused = 0

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.limit, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.refused = 0
            return True
        self.refused += 1
        return False


class BaseChatConsumer(AsyncJsonWebsocketConsumer):
    parser = None  # set by subclasses

    async def connect(self):
        self.limiter = RateLimiter(settings.CHAT_RATE_MESSAGES, settings.CHAT_RATE_WINDOW)
        self.groups_joined: set[str] = set()
        self.heartbeat = None
        Sweeper.ensure_running()
        layer.consumers.add(self)
        layer.Watch.ensure_running()

    async def join(self, group: str):
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    async def leave(self, group: str):
        if group in self.groups_joined:
            self.groups_joined.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    async def disconnect(self, code):
        layer.consumers.discard(self)
        if self.heartbeat:
            self.heartbeat.cancel()
        for group in list(self.groups_joined):
            try:
                await self.leave(group)
            except Exception:
                # The layer may be down (Redis restarting); its groups expire on their own.
                self.groups_joined.discard(group)

    async def dispatch(self, message):
        """Channels' own, less its hop to the one thread-sensitive executor to close stale
        database connections before every frame and nudge: `db()` calls run on pool threads
        that close their own (channels.db), and that hop was a queue of its own under load."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def layer_rejoin(self, event):
        """Redis came back (chats/layer.py): its groups are gone, and nudges may be missing."""
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.catch_up_after_outage()

    async def catch_up_after_outage(self):
        pass

    def renew_seconds(self) -> float:
        """A quarter of the layer's group_expiry: renewing is a Redis write per group, so not
        at every heartbeat (it was, and cost a busy process a tenth of its time)."""
        expiry = getattr(self.channel_layer, "group_expiry", None)
        return expiry / 4 if expiry else float("inf")

    async def renew_groups(self):
        # The layer forgets a member after its group_expiry (channels-redis: 3600 s here),
        # but sockets live longer: a group session, a helper's shift. Joining again renews.
        for group in list(self.groups_joined):
            try:
                await self.channel_layer.group_add(group, self.channel_name)
            except Exception:
                log.warning("could not renew a layer group; retrying at the next beat")

    async def recheck_soon(self):
        """A nudge can be dropped without any error: a server far behind fills its layer
        inbox (`capacity`) or lets nudges expire (`expiry`), and bench/ saw the last messages of
        a chat never arrive. With each heartbeat the socket asks itself, through its own
        channel so it runs in turn with its other events, to read what it may have missed."""
        try:
            await self.channel_layer.send(self.channel_name, {"type": "chat.recheck"})
        except Exception:
            pass  # the layer is down: chats/layer.py catches everyone up when it is back

    async def chat_recheck(self, event):
        pass

    def start_heartbeat(self, touch):
        """`touch`: a coroutine function; False from it closes the socket (a login is over)."""

        async def beat():
            renewed = time.time()
            while True:
                # ±20 %: sockets opened together (an opening, a reconnect after a restart)
                # drift apart instead of beating in step, which made a busy process stutter.
                await asyncio.sleep(settings.CHAT_HEARTBEAT_SECONDS * random.uniform(0.8, 1.2))
                if time.time() - renewed >= self.renew_seconds():
                    renewed = time.time()
                    await self.renew_groups()
                await self.recheck_soon()
                try:
                    alive = await touch()
                except Exception:
                    log.warning("heartbeat failed; retrying")
                    continue
                if alive is False:  # the login behind the socket is over (helper sockets)
                    await self.close(code=CLOSE_FORBIDDEN)
                    return

        if self.heartbeat is None:
            self.heartbeat = asyncio.get_running_loop().create_task(beat())

    async def receive(self, text_data=None, bytes_data=None):
        if not self.limiter.allow():
            await self.send_json(
                protocol.error_frame(
                    "rate_limited", "Too many frames; slow down and resend.", limit="frames"
                )
            )
            if self.limiter.refused > settings.CHAT_RATE_MESSAGES * 5:
                await self.close(code=CLOSE_FLOOD)
            return
        try:
            frame = type(self).parser(text_data)
        except FrameError as error:
            await self.send_json(error.as_frame())
            if error.close:
                await self.close()
            return
        try:
            await getattr(self, f"handle_{frame.type}")(frame)
        except ChatError as error:
            await self.send_json(protocol.refusal_frame(error))

    @classmethod
    async def encode_json(cls, content):
        return protocol.dumps(content)
