"""Surviving a Redis restart: the channel layer forgets every group when Redis does.

channels-redis keeps group memberships in Redis only. After Redis restarts, the sockets of a
server process mostly stay open but belong to no group any more, so no nudge reaches them and a
chat goes silent until its own side writes again (measured by bench/: every chat, for good).
Each process therefore watches Redis: when it answers again after a failure, or answers with a
new `run_id` (a restart or a failover), every consumer of the process re-joins its groups and
reads from the database what it missed. Nudges that fail meanwhile are skipped for a moment
instead of holding the database thread in redis-py's retries.
"""

import asyncio
import logging
import time
import weakref

from django.conf import settings

from verkkoapu import metrics

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
# After a failed nudge, skip nudges instead of holding the database thread in redis-py's
# retries: until the watch sees Redis answer again, or this long where no watch runs.
SKIP_SECONDS = 1.0

consumers: "weakref.WeakSet" = weakref.WeakSet()  # every open consumer of this process
skip_until = 0.0
missed = False  # a nudge failed or was skipped since the consumers last caught up


def available() -> bool:
    """False for a moment after a nudge failed: skip, the watch catches everyone up later."""
    global missed
    if time.monotonic() < skip_until:
        missed = True
        return False
    return True


def failed():
    global skip_until, missed
    watched = Watch.task is not None and not Watch.task.done()
    skip_until = time.monotonic() + (3600 if watched else SKIP_SECONDS)
    missed = True


class Watch:
    """One per process, started by the first consumer when the layer is Redis."""

    task: asyncio.Task | None = None

    @classmethod
    def ensure_running(cls):
        if not settings.REDIS_URL:
            return  # the in-memory layer lives and dies with the process
        if cls.task is None or cls.task.done():
            cls.task = asyncio.get_running_loop().create_task(cls.run())

    @classmethod
    async def run(cls):
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        global missed, skip_until
        client = redis.from_url(
            settings.REDIS_URL,
            socket_timeout=POLL_SECONDS,
            socket_connect_timeout=POLL_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
        known = None
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                run_id = (await client.info("server"))["run_id"]
            except Exception:
                if not missed:
                    log.warning("Redis unreachable; consumers catch up when it is back")
                missed = True
                continue
            if missed or (known is not None and run_id != known):
                if not await cls.round_trip():
                    missed = True
                    continue  # Redis answers, but the layer does not carry yet: poll again
                missed, skip_until = False, 0.0
                log.warning("Redis answers again; every consumer re-joins its groups")
                metrics.count_layer_rejoin()
                await cls.rejoin_all()
            known = run_id

    @classmethod
    async def round_trip(cls) -> bool:
        """Does a message sent through the layer come back? Redis may answer a command before
        the layer's own subscriber connection is back (the pub/sub layer reconnects it on its
        next read): catching up before that would miss what is said in between."""
        from channels.layers import get_channel_layer

        channel_layer = get_channel_layer()
        try:
            probe = await channel_layer.new_channel("layer-probe.")
            await channel_layer.send(probe, {"type": "layer.probe"})
            await asyncio.wait_for(channel_layer.receive(probe), POLL_SECONDS)
            return True
        except Exception:
            return False

    @classmethod
    async def rejoin_all(cls):
        """Ask each consumer (through its own channel, so it runs in order with its other
        events) to re-join its groups and catch up from the database."""
        global missed
        for consumer in list(consumers):
            try:
                await consumer.channel_layer.send(consumer.channel_name, {"type": "layer.rejoin"})
            except Exception:
                missed = True  # down again: the next poll tries everyone once more
                return
