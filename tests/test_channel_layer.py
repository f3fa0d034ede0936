"""The pub/sub layer (verkkoapu/channel_layer.py) against a real redis-server of the test's own.

What a user would notice: a closed socket must not stay subscribed forever (a server that
grows until it is restarted), and a socket that closes must not wait for Redis to go.
"""

import asyncio
import shutil

import pytest
from redis import asyncio as aioredis

from tests.conftest import RedisServer, need
from verkkoapu.channel_layer import PubSubChannelLayer


@pytest.fixture
def redis_url():
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    server = RedisServer().start()
    yield f"redis://127.0.0.1:{server.port}/0"
    server.stop()


async def subscribers(url: str, channel: str) -> int:
    client = aioredis.from_url(url)
    try:
        [(_, count)] = await client.pubsub_numsub(channel)
        return count
    finally:
        await client.aclose()


async def test_a_closed_channel_is_unsubscribed_even_when_its_consumer_is_cancelled_twice(
    redis_url,
):
    layer = PubSubChannelLayer(hosts=[redis_url])
    channel = await layer.new_channel()
    assert await subscribers(redis_url, channel) == 1
    receiving = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0.05)
    shard = layer._get_layer()._shards[0]
    async with shard._lock:  # the subscription connection is busy when the socket closes
        receiving.cancel()  # the consumer stops
        await asyncio.sleep(0.1)
        # Still waiting for the lock, daphne's application_close_timeout cancels it again.
        receiving.cancel()
        await asyncio.sleep(0.1)
        assert receiving.done()  # the consumer is gone at once, not stuck on the lock
    for _ in range(50):
        if await subscribers(redis_url, channel) == 0:
            break
        await asyncio.sleep(0.05)
    assert await subscribers(redis_url, channel) == 0
    assert channel not in shard._subscribed_to
    await layer.flush()
