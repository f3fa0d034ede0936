"""channels-redis' pub/sub layer, except that a closed socket's channel is always unsubscribed.

A consumer that closes unsubscribes its channel while it is being cancelled. channels-redis
does that under the one lock per Redis shard that every publish and (un)subscribe of the
process takes; when the lock is busy, daphne's `application_close_timeout` cancels that wait
as well, the unsubscribe is lost (logged as "Unexpected exception while cleaning-up channel")
and the process stays subscribed to a dead channel for good. A soak (bench/) found it: RSS
grew through 20 minutes, and tracemalloc showed daphne's per-connection objects and the
layer's queues piling up after 374 lost unsubscribes in a few minutes. Here the consumer goes
at once and a task of its own, which nothing cancels, unsubscribes its channel.

Publishing without the lock was tried too (docs/performance.md): nudges then reached Redis out
of order and sockets read the gaps from the database; it was slower.
"""

import asyncio
import logging

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
)
from channels_redis.utils import _wrap_close

log = logging.getLogger(__name__)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._cleanups: set[asyncio.Task] = set()

    async def receive(self, channel):
        if channel not in self.channels:
            await self._subscribe_to_channel(channel)
        queue = self.channels[channel]
        try:
            message = await queue.get()
        except (TimeoutError, asyncio.CancelledError, GeneratorExit):
            # Cancelled: the consumer is going (channels has no delete_channel yet).
            if self.channels.get(channel) is queue:
                del self.channels[channel]
                self._unsubscribe_later(channel)
            raise
        return self.channel_layer.deserialize(message)

    def _unsubscribe_later(self, channel):
        async def unsubscribe():
            try:
                await self._get_shard(channel).unsubscribe(channel)
            except Exception:
                # Redis is down: its restart forgets every subscription anyway.
                log.warning("could not unsubscribe a closed channel from Redis")

        task = asyncio.get_running_loop().create_task(unsubscribe())
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)


class PubSubChannelLayer(RedisPubSubChannelLayer):
    """settings.CHANNEL_LAYERS' backend with REDIS_LAYER=pubsub (the default)."""

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer
