"""Opening, driving and closing many chats; the TCP proxy that drops a helper's network."""

import asyncio
import random
import time
from collections import Counter

from .clients import Asker, Helper, Pair, RawPair
from .infra import free_port

SLUG = "vakivalta"
now = time.monotonic


async def wait_until(condition, timeout: float, step: float = 0.05) -> bool:
    deadline = now() + timeout
    while now() < deadline:
        if condition():
            return True
        await asyncio.sleep(step)
    return condition()


async def gather_limited(coros, limit: int = 25):
    semaphore = asyncio.Semaphore(limit)

    async def one(coro):
        async with semaphore:
            return await coro

    return await asyncio.gather(*(one(coro) for coro in coros))


class Load:
    """Each side of each chat writes every uniform(low, high) seconds; the rate can change."""

    def __init__(self, low: float = 2.0, high: float = 5.0):
        self.low, self.high = low, high
        self.generation = 0
        self.running = True
        self.tasks: set[asyncio.Task] = set()

    def set_interval(self, low: float, high: float):
        self.low, self.high = low, high
        self.generation += 1

    def add(self, pair):
        for role in ("asker", "helper"):
            task = asyncio.get_running_loop().create_task(self._writer(pair, role))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _writer(self, pair, role):
        generation = self.generation
        next_at = now() + random.uniform(0, self.high)  # stagger the first words
        while self.running and not pair.ended:
            if generation != self.generation:
                generation = self.generation
                next_at = min(next_at, now() + random.uniform(self.low, self.high))
            delay = next_at - now()
            if delay > 0:
                await asyncio.sleep(min(delay, 0.25))
                continue
            if not (self.running and not pair.ended):
                break
            await pair.say(role)
            next_at += random.uniform(self.low, self.high)
            if next_at < now() - 1.0:
                next_at = now()  # the generator fell behind: do not burst to catch up

    async def stop(self):
        self.running = False
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


# --- Product chats -------------------------------------------------------------------------------


class Cohort:
    """Helpers on duty and the chats they hold, opened through the contract."""

    def __init__(self, run, helpers: list[Helper]):
        self.run, self.helpers = run, helpers
        self.pairs: list[Pair] = []

    async def connect_helpers(self):
        for helper in self.helpers:
            helper.begin()
        ok = await wait_until(lambda: all(h.connected.is_set() for h in self.helpers), 60)
        if not ok:
            raise RuntimeError("helpers could not connect")

    def new_pair(self, asker_urls: list[str]) -> Pair:
        pair = Pair(self.run, self.run.next_pair_index())
        self.run.by_hello[pair.hello] = pair
        Asker(self.run, pair, asker_urls, SLUG)
        return pair

    async def queue_askers(self, pairs: list[Pair], timeout=60):
        """Connect, `start`, and say hello (so a helper's console can tell who it took)."""
        for pair in pairs:
            pair.asker.begin()
        await wait_until(lambda: all(p.asker.connected.is_set() for p in pairs), timeout)
        await gather_limited([p.asker.start() for p in pairs])
        await wait_until(lambda: all(p.asker.state_ready.is_set() for p in pairs), timeout)
        missing = [p for p in pairs if p.asker.state != "queued"]
        if missing:
            raise RuntimeError(f"{len(missing)} askers not queued ({missing[0].asker.state})")
        await gather_limited([p.say_hello() for p in pairs])
        await wait_until(lambda: all(p.sent[p.hello].confirmed for p in pairs), timeout)

    async def take(self, pairs: list[Pair], per_helper: int, timeout=120):
        """Helpers with room `accept_next` until every one of `pairs` has a helper."""

        async def fill(helper: Helper):
            while len(helper.chats) < per_helper and any(p.helper is None for p in pairs):
                answer = await helper.accept_next(SLUG)
                if answer.get("error") == "at_capacity":
                    self.run.recorder.events["helper_at_capacity"] += 1
                    return
                if answer.get("empty") or answer.get("error"):
                    await asyncio.sleep(0.2)

        await asyncio.wait_for(asyncio.gather(*(fill(h) for h in self.helpers)), timeout)
        untaken = sum(1 for p in pairs if p.helper is None)
        if untaken:
            raise RuntimeError(f"{untaken} chats not taken (helpers at capacity?)")
        await wait_until(lambda: all(p.ready for p in pairs), 30)

    async def open(self, n: int, asker_urls, per_helper: int, wave: int = 50, on_wave=None):
        """n chats: askers queue in waves, helpers take them."""
        for start in range(0, n, wave):
            batch = [self.new_pair(asker_urls(i)) for i in range(start, min(n, start + wave))]
            await self.queue_askers(batch)
            await self.take(batch, per_helper)
            self.pairs.extend(batch)
            if on_wave:
                on_wave(len(self.pairs))
        return self.pairs

    async def settle(self, pairs=None, timeout=20.0, patience=180.0) -> bool:
        """Wait until both sides of every chat agree. A server that is behind is waited for
        while deliveries keep coming (up to `patience` s): late is not lost."""
        pairs = self.pairs if pairs is None else pairs
        deadline = now() + patience
        while True:
            before = len(self.run.recorder.samples)
            if await wait_until(lambda: all(p.converged() for p in pairs), timeout, 0.2):
                return True
            if len(self.run.recorder.samples) == before or now() > deadline:
                return False

    async def close(self):
        """End every chat (the helper ends it, or the asker leaves the queue), close sockets."""
        for pair in self.pairs:
            pair.ended = True
        ends = []
        for pair in self.pairs:
            if pair.helper is not None and pair.chat_id in pair.helper.chats:
                ends.append(pair.helper.end_chat(pair))
            elif pair.asker and pair.asker.state == "queued":
                ends.append(pair.asker.end())
        await gather_limited(ends, 50)
        await wait_until(
            lambda: all(p.asker is None or p.asker.state != "assigned" for p in self.pairs), 15
        )
        await gather_limited([p.asker.close() for p in self.pairs if p.asker], 100)
        await gather_limited([h.close() for h in self.helpers], 100)


def check_pairs(pairs) -> Counter:
    issues = Counter()
    for pair in pairs:
        issues.update(pair.check())
    return +issues


# --- Baseline pairs ------------------------------------------------------------------------------


async def open_raw_pairs(run, n: int, url: str, prefix: str) -> list[RawPair]:
    pairs = [RawPair(run, i, url, prefix) for i in range(n)]
    for pair in pairs:
        pair.asker.begin()
        pair.helper.begin()
    ok = await wait_until(
        lambda: all(p.asker.connected.is_set() and p.helper.connected.is_set() for p in pairs), 60
    )
    if not ok:
        raise RuntimeError("baseline sockets could not connect")
    return pairs


async def close_raw_pairs(pairs):
    for pair in pairs:
        pair.ended = True
    await gather_limited([side.close() for p in pairs for side in (p.asker, p.helper)], 100)


# --- A network that drops ------------------------------------------------------------------------


class FlakyLink:
    """A TCP proxy in front of one server. `drop()` makes the network vanish: bytes go nowhere,
    new connections fail, the server notices nothing; `restore()` brings it back, and the
    server's side of every connection that lived through the drop is reset (as the client's
    host answers the server's retransmissions with RST)."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.up = True
        self.live: set = set()
        self.dropped: set = set()

    async def start(self):
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def _handle(self, reader, writer):
        if not self.up:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        link = (writer, up_writer)
        self.live.add(link)

        async def pump(source, sink):
            try:
                while data := await source.read(65536):
                    if link in self.dropped:
                        continue  # the network is gone: the bytes vanish
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.CancelledError):
                pass
            if link not in self.dropped:
                sink.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self.live.discard(link)

    def drop(self):
        self.up = False
        self.dropped |= self.live

    def restore(self):
        self.up = True
        for client, upstream in self.dropped:
            upstream.transport.abort()
            client.transport.abort()
        self.dropped.clear()

    async def close(self):
        self.server.close()
        for client, upstream in list(self.live):
            upstream.transport.abort()
            client.transport.abort()
