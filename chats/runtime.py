"""The server process's runtime for the sockets: the database thread pool and `db()`, the one
sweeper, and the full garbage collection.

Every socket reaches the database through `db()` (or `loop_or_thread`, which falls back to it):
a pool thread runs the work, and the nudges it made are sent from the event loop once it is done.
"""

import asyncio
import gc
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from django.conf import settings

from verkkoapu import metrics

from . import loopdb, notify, services, sweeps
from .models import Message

log = logging.getLogger(__name__)


# One pool of database threads per process, for the life of the process. Not the event loop's
# default executor: a thread that dies with its loop (each test has its own) keeps its pooled
# PostgreSQL connection checked out forever, and the pool ran dry after ~20 socket tests.
DB_EXECUTOR = ThreadPoolExecutor(max_workers=settings.CHAT_DB_THREADS, thread_name_prefix="db")


def db(function):
    """Database work off the event loop on a pool of threads. Channels' default (one thread per
    process) queued every query of every socket behind each other: an opening burst waited
    seconds for `queued` (bench/, docs/performance.md). Services are safe to run concurrently:
    they already are, across processes. The nudges the work makes are sent from the event loop
    once it is done, in order, also when it raised (notify.collected)."""

    def collecting(*args, **kwargs):
        with notify.collected() as outbox:
            try:
                return function(*args, **kwargs), outbox
            except Exception as error:
                error.nudges = outbox
                raise

    run = database_sync_to_async(collecting, thread_sensitive=False, executor=DB_EXECUTOR)

    async def call(*args, **kwargs):
        try:
            result, outbox = await run(*args, **kwargs)
        except Exception as error:
            await notify.deliver(getattr(error, "nudges", ()))
            raise
        await notify.deliver(outbox)
        return result

    return call


async def loop_or_thread(in_loop, on_thread, *args, **kwargs):
    """The event loop's statement when it can (chats/loopdb.py: None means it could not), else
    the same work on a database thread through `services`, which knows every rule."""
    found = await in_loop(*args, **kwargs)
    return found if found is not None else await db(on_thread)(*args, **kwargs)


async def store_message(chat_id: int, sender: str, text: str, **who) -> Message:
    """A message in one round trip when it can; a resend or a chat not writable on a thread."""
    return await loop_or_thread(
        loopdb.store_message, services.post_message, chat_id, sender, text, **who
    )


async def messages_after(chat_id: int, seq: int) -> list[Message]:
    return await loop_or_thread(loopdb.messages_after, services.messages_after, chat_id, seq)


class Sweeper:
    """One background sweep per process: ends chats of vanished askers, requeues orphans."""

    task: asyncio.Task | None = None

    @classmethod
    def ensure_running(cls):
        if cls.task is None or cls.task.done():
            cls.task = asyncio.get_running_loop().create_task(cls.run())

    @classmethod
    async def run(cls):
        collected = time.monotonic()
        while True:
            await asyncio.sleep(settings.CHAT_SWEEP_SECONDS)
            metrics.count_sweep()
            for sweep in sweeps.STEPS:
                try:
                    await db(sweep)()
                except Exception:
                    log.exception("sweep failed; retrying at the next interval")
            if time.monotonic() - collected >= settings.CHAT_GC_SECONDS:
                collected = time.monotonic()
                collect_garbage()


def collect_garbage() -> float:
    """A full collection of the process's own objects (verkkoapu/asgi.py froze the start-up's):
    a closed socket's daphne and autobahn objects hold each other in cycles that only a full
    collection frees, and the collector's own schedule, driven by allocations that outlive
    their moment, came to one only every 15-20 minutes of a busy process; its memory grew
    until then (docs/performance.md, item 19). Seconds taken."""
    began = time.monotonic()
    gc.collect()
    took = time.monotonic() - began
    if took > 0.1:
        log.warning("a full garbage collection took %.0f ms", took * 1000)
    return took
