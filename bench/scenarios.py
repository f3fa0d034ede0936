"""The scenarios: steady load, the ceiling, the opening burst, faults, and the soak.

Each returns a dict of figures plus `issues` (lost, duplicated, reordered messages; askers lost
or taken twice). Timings are measured, never judged here: only issues fail a run.
"""

import asyncio
import os
import random
import time
from collections import Counter
from dataclasses import dataclass

from .clients import Helper, Recorder, percentiles
from .infra import (
    RESULTS,
    CpuMeter,
    Daphne,
    Database,
    EchoServer,
    MachineMeter,
    Redis,
    log,
    manage,
    prepare_database,
    rss_bytes,
    sleep_until,
)
from .load import (
    SLUG,
    Cohort,
    FlakyLink,
    Load,
    check_pairs,
    close_raw_pairs,
    gather_limited,
    open_raw_pairs,
    wait_until,
)

PASSWORD = "bench-helper-password-42"
now = time.monotonic


@dataclass
class Config:
    quick: bool = False
    helpers: int = 50
    per_helper: int = 5  # chats a helper holds at once in the steady scenarios
    steady_chats: int = 250
    steady_seconds: float = 60
    warm_seconds: float = 10
    ceiling_chats: int = 100
    ceiling_start: float = 40  # msgs/s
    ceiling_factor: float = 1.35
    ceiling_step_seconds: float = 8
    ceiling_limit_ms: float = 100
    burst_askers: int = 300
    burst_helpers: int = 10
    fault_chats: int = 250
    faults: tuple = (
        "redis_restart",
        "helper_network",
        "postgres_cut",
        "rolling_upgrade",
        "daphne_sigkill",
    )
    fault_gap_seconds: float = 15
    soak_minutes: float = 20
    soak_life: tuple = (120, 360)  # seconds a chat lives before its helper ends it
    scenarios: tuple = ("steady", "ceiling", "burst", "faults", "soak")
    db_options: str = ""  # appended to the servers' DATABASE_URL, e.g. conn_max_age=600

    @classmethod
    def quick_run(cls):
        return cls(
            quick=True,
            helpers=10,
            steady_chats=50,
            warm_seconds=5,
            burst_askers=50,
            burst_helpers=4,
            fault_chats=50,
            faults=("redis_restart",),
            fault_gap_seconds=8,
            scenarios=("burst", "faults"),
        )


class Run:
    """Everything one benchmark run starts, and what it found."""

    def __init__(self, config: Config):
        self.config = config
        self.recorder = Recorder()
        self.by_hello: dict = {}
        self._pair_index = 0
        self._address = 0
        self.background: set = set()
        self.clients: set = set()  # every socket still open, closed after each scenario
        self.processes: list = []
        self.cookies: dict[str, str] = {}
        self.usernames = [f"bench{i:03d}" for i in range(config.helpers)]
        self.db: Database | None = None
        self.redis: Redis | None = None

    def next_pair_index(self) -> int:
        self._pair_index += 1
        return self._pair_index

    def next_address(self) -> str:
        """A loopback address of its own for each asker: 127.1.0.1, 127.1.0.2, ..."""
        self._address += 1
        n = self._address
        return f"127.{1 + n // 62500}.{n // 250 % 250}.{1 + n % 250}"

    async def setup(self):
        for old in (RESULTS / "logs").glob("*.log"):
            old.unlink()
        self.db = Database.fresh()
        log(f"database {self.db.name}")
        self.redis = Redis("redis").start()
        log(f"redis-server on port {self.redis.port}")
        await asyncio.to_thread(
            prepare_database, self.db, self.redis.url, self.usernames, PASSWORD, SLUG
        )
        log(f"migrated; {len(self.usernames)} helpers created with createhelper")
        server = self.daphne("login")
        helpers = [Helper(self, name, PASSWORD, [server.ws]) for name in self.usernames]
        await gather_limited(
            [asyncio.to_thread(helper.login, server.http) for helper in helpers], 4
        )
        self.cookies = {helper.username: helper.cookie for helper in helpers}
        self.stop(server)
        log(f"{len(self.cookies)} helpers logged in through /accounts/login/")

    def daphne(self, name: str, app="verkkoapu.asgi:application", **extra) -> Daphne:
        url = self.db.url + (f"?{self.config.db_options}" if self.config.db_options else "")
        # Helpers hold `per_helper` chats each, as a coordinator may allow a person in admin.
        extra.setdefault("CHAT_MAX_CHATS_PROFESSIONAL", self.config.per_helper)
        server = Daphne(name, url, self.redis.url, app=app, **extra).start()
        self.processes.append(server)
        return server

    def echo(self) -> EchoServer:
        server = EchoServer("echo").start()
        self.processes.append(server)
        return server

    def stop(self, process):
        process.stop()
        if process in self.processes:
            self.processes.remove(process)

    def helpers(self, count: int, urls_for, proxied=()) -> list[Helper]:
        if count > len(self.usernames):
            raise RuntimeError(f"{count} helpers wanted, {len(self.usernames)} created")
        chosen = []
        for j, name in enumerate(self.usernames[:count]):
            helper = Helper(self, name, PASSWORD, urls_for(j), proxied=j in proxied)
            helper.cookie = self.cookies[name]
            chosen.append(helper)
        return chosen

    async def close_clients(self):
        await gather_limited([client.close() for client in list(self.clients)], 100)
        self.by_hello.clear()

    async def clear_leftovers(self) -> dict | None:
        """Between scenarios: chats a scenario could not end (its servers were behind) would be
        handed to the next scenario's helpers on connect. Wait a little, then delete them."""
        rows = {}
        for _ in range(20):
            rows = await asyncio.to_thread(self.db.rows)
            if not rows["chat"] and not rows["dutysession_connected"]:
                return None
            await asyncio.sleep(1)
        await asyncio.to_thread(
            manage,
            self.db.url,
            self.redis.url,
            "shell",
            "-c",
            "from chats.models import Chat, DutySession; "
            "Chat.objects.all().delete(); DutySession.objects.all().delete()",
        )
        log(f"cleared leftovers: {rows}")
        return rows

    def teardown(self):
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        if self.redis:
            self.redis.stop()
        if self.db:
            self.db.drop()


def kib_per_chat(before: int, after: int, chats: int) -> float:
    return round((after - before) / 1024 / max(chats, 1), 1)


async def warm_up(server):
    """One HTTP request so Django's lazy imports are done before RSS is read."""
    import urllib.request

    await asyncio.to_thread(
        lambda: urllib.request.urlopen(f"{server.http}/api/services/", timeout=30).read()
    )


# --- 1. Steady ---------------------------------------------------------------------------------


async def steady(run: Run, kind: str) -> dict:
    """`n` chats on one process, each side writing every 2–5 s."""
    config = run.config
    n = config.steady_chats
    if kind == "echo":
        server = run.echo()
    elif kind == "relay":
        server = run.daphne("relay-steady", app="bench.relay:application")
    else:
        server = run.daphne("product-steady")
        await warm_up(server)
    await asyncio.sleep(1)
    rss_before = rss_bytes(server.pid)
    waves = []  # (chats open, RSS) after each wave of chats
    if kind == "product":
        helpers = run.helpers(n // config.per_helper, lambda j: [server.ws])
        cohort = Cohort(run, helpers)
        await cohort.connect_helpers()
        pairs = await cohort.open(
            n,
            lambda i: [server.ws],
            config.per_helper,
            on_wave=lambda k: waves.append((k, rss_bytes(server.pid))),
        )
    else:
        pairs = await open_raw_pairs(run, n, server.ws, "relay" if kind == "relay" else "pair")
        waves.append((n, rss_bytes(server.pid)))
    load = Load(2.0, 5.0)
    for pair in pairs:
        load.add(pair)
    await asyncio.sleep(config.warm_seconds)
    meter = CpuMeter({"server": server.pid, "redis": run.redis.pid, "generator": os.getpid()})
    machine = MachineMeter()
    log(f"steady {kind}: {n} chats open, measuring for {config.steady_seconds:g} s")
    start = now()
    await asyncio.sleep(config.steady_seconds)
    end = now()
    cpu, busy = meter.read(), machine.read()
    rss_after = rss_bytes(server.pid)
    result = {
        "chats": n,
        "seconds": config.steady_seconds,
        **run.recorder.window(start, end),
        "cpu": cpu,
        "machine_busy_cores": busy,
        "rss_mib": round(rss_after / 2**20, 1),
        # The cost of one more chat: RSS from the first wave of chats to all of them, under
        # load (the first wave also pays one-off costs: imports, pools, buffers).
        "rss_kib_per_chat": (
            kib_per_chat(waves[0][1], rss_after, n - waves[0][0])
            if len(waves) > 1
            else kib_per_chat(rss_before, rss_after, n)
        ),
        "rss_kib_per_chat_from_idle": kib_per_chat(rss_before, rss_after, n),
        "process": server.sample(),
    }
    await load.stop()
    if kind == "product":
        await cohort.settle()
        result["issues"] = dict(check_pairs(pairs))
        await cohort.close()
        result["db_rows_after"] = run.db.rows()
    else:
        await wait_until(lambda: all(p.converged() for p in pairs), 10, 0.2)
        result["issues"] = dict(check_pairs(pairs))
        await close_raw_pairs(pairs)
    run.stop(server)
    log(
        f"steady {kind}: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
        f"{result['msgs_per_s']} msgs/s, cpu {cpu['server']}, issues {result['issues']}"
    )
    return result


# --- 2. Ceiling --------------------------------------------------------------------------------


async def ceiling(run: Run, kind: str) -> dict:
    """Raise the message rate step by step until p99 passes the limit."""
    config = run.config
    n = config.ceiling_chats
    if kind == "relay":
        server = run.daphne("relay-ceiling", app="bench.relay:application")
        pairs = await open_raw_pairs(run, n, server.ws, "relay")
    else:
        # The flood limit (20 frames / 10 s per socket) would refuse the ramp's top rates; the
        # product's per-message work is what is measured here, so it is lifted for this process.
        server = run.daphne("product-ceiling", CHAT_RATE_MESSAGES=1_000_000)
        await warm_up(server)
        helpers = run.helpers(n // config.per_helper, lambda j: [server.ws])
        cohort = Cohort(run, helpers)
        await cohort.connect_helpers()
        pairs = await cohort.open(n, lambda i: [server.ws], config.per_helper)
    load = Load(1e6, 1e6)
    for pair in pairs:
        load.add(pair)
    steps = []
    rate = config.ceiling_start
    while True:
        mean = 2 * n / rate
        load.set_interval(0.5 * mean, 1.5 * mean)
        await asyncio.sleep(max(3.0, 1.5 * mean))
        meter = CpuMeter({"server": server.pid, "redis": run.redis.pid, "generator": os.getpid()})
        start = now()
        await asyncio.sleep(config.ceiling_step_seconds)
        step = {"target_msgs_per_s": round(rate), **run.recorder.window(start, now())}
        step["cpu"] = meter.read()
        steps.append(step)
        log(
            f"ceiling {kind}: target {step['target_msgs_per_s']}/s got {step['msgs_per_s']}/s "
            f"p99 {step['p99_ms']} ms cpu {step['cpu']['server']}"
        )
        p99 = step["p99_ms"]
        if p99 is None or p99 > config.ceiling_limit_ms or step["msgs_per_s"] < 0.8 * rate:
            break
        if step["cpu"]["generator"] > 0.9:
            step["note"] = "the load generator itself was saturated"
            break
        rate *= config.ceiling_factor
    await load.stop()
    good = [s for s in steps if s["p99_ms"] is not None and s["p99_ms"] <= config.ceiling_limit_ms]
    best = max(good, key=lambda s: s["msgs_per_s"], default=None)
    result = {
        "chats": n,
        "sustained_msgs_per_s": best["msgs_per_s"] if best else 0,
        "at_step": best,
        "steps": steps,
        "generator_bound": any("note" in s for s in steps),
    }
    if kind == "relay":
        await wait_until(lambda: all(p.converged() for p in pairs), 20, 0.2)
        result["issues"] = dict(check_pairs(pairs))
        await close_raw_pairs(pairs)
    else:
        await cohort.settle(timeout=60)
        result["issues"] = dict(check_pairs(pairs))
        await cohort.close()
    run.stop(server)
    return result


# --- 3. Opening burst --------------------------------------------------------------------------


async def burst(run: Run) -> dict:
    """`n` askers `start` within one second on two processes; then helpers take them in order."""
    config = run.config
    n = config.burst_askers
    # The helpers here take and end chats at machine speed, far past the flood limit
    # (20 frames / 10 s per socket) that a person never reaches: lifted for these processes.
    a = run.daphne("product-burst-a", CHAT_RATE_MESSAGES=1_000_000)
    b = run.daphne("product-burst-b", CHAT_RATE_MESSAGES=1_000_000)
    await asyncio.gather(warm_up(a), warm_up(b))
    helpers = run.helpers(config.burst_helpers, lambda j: [(a, b)[j % 2].ws])
    cohort = Cohort(run, helpers)
    await cohort.connect_helpers()
    pairs = [cohort.new_pair([a.ws, b.ws] if i % 2 == 0 else [b.ws, a.ws]) for i in range(n)]
    cohort.pairs = pairs
    for pair in pairs:
        pair.asker.begin()
    await wait_until(lambda: all(p.asker.connected.is_set() for p in pairs), 60)
    meter = CpuMeter({"a": a.pid, "b": b.pid, "redis": run.redis.pid, "generator": os.getpid()})
    first = now() + 0.3

    async def start_at(pair, moment):
        await sleep_until(moment)
        await pair.asker.start()

    await asyncio.gather(*(start_at(p, first + i / n) for i, p in enumerate(pairs)))
    await wait_until(lambda: all(p.asker.state_ready.is_set() for p in pairs), 60)
    queued = [p for p in pairs if p.asker.state == "queued"]
    all_queued_s = (
        round(max(p.asker.queued_at for p in queued) - first, 3) if len(queued) == n else None
    )
    waits = sorted(p.asker.queued_at - p.asker.start_sent_at for p in queued)
    await asyncio.sleep(1.0)  # `position` updates, if any, arrive
    cpu = meter.read()
    positions = sorted(p.asker.position for p in queued if p.asker.position)
    positions_exact = positions == list(range(1, n + 1))
    told = sorted(p.asker.queued_position for p in queued)  # positions in the `queued` answers
    first_answers_exact = told == list(range(1, n + 1))
    # Each asker says hello (the helper's console shows it with the chat), then helpers take.
    await gather_limited([p.say_hello() for p in queued], 50)
    await wait_until(lambda: all(p.sent[p.hello].confirmed for p in queued), 30)
    place = {p.idx: p.asker.position for p in queued}
    take_start = now()

    async def drain(helper: Helper):
        while True:
            answer = await helper.accept_next(SLUG)
            if answer.get("empty"):
                return
            pair = answer.get("pair")
            if pair is None:
                run.recorder.events[f"burst_accept_error {answer.get('error')}"] += 1
                await asyncio.sleep(0.1)
                continue
            # Triage: take, end, take the next (works whatever a helper's chat capacity is).
            pair.ended = True
            await helper.end_chat(pair)
            if not await wait_until(lambda p=pair: p.chat_id not in helper.chats, 10):
                run.recorder.events["burst_end_not_confirmed"] += 1

    await asyncio.wait_for(asyncio.gather(*(drain(h) for h in helpers)), 300)
    take_seconds = now() - take_start
    await wait_until(lambda: all(p.asker.assigned_count for p in queued), 10)
    takes = sorted(
        (t for h in helpers for t in h.takes if t.get("pair")), key=lambda t: t["answered"]
    )
    inversions = 0
    for i, x in enumerate(takes):
        for y in takes[i + 1 :]:
            # x was answered before y was asked for: x must have waited longer than y.
            if x["answered"] < y["sent"] and place[x["pair"].idx] > place[y["pair"].idx]:
                inversions += 1
    taken = Counter(t["pair"].idx for t in takes)
    issues = Counter(
        askers_not_queued=n - len(queued),
        askers_lost=sum(1 for p in queued if taken[p.idx] == 0),
        askers_taken_twice=sum(1 for c in taken.values() if c > 1)
        + sum(1 for p in queued if p.asker.assigned_count > 1)
        + run.recorder.events["chat_taken_twice"],
        fifo_inversions=inversions,
        positions_not_exact=0 if positions_exact else 1,
    )
    issues.update(check_pairs(queued))
    await cohort.close()
    run.stop(a)
    run.stop(b)
    result = {
        "askers": n,
        "processes": 2,
        "all_queued_s": all_queued_s,
        "start_to_queued": percentiles(waits),
        "first_answers_exact": first_answers_exact,
        "positions_exact": positions_exact,
        "take_seconds": round(take_seconds, 2),
        "takes_per_s": round(len(takes) / take_seconds, 1) if take_seconds else None,
        "fifo_inversions": inversions,
        "cpu": cpu,
        "issues": dict(+issues),
        "db_rows_after": run.db.rows(),
    }
    log(
        f"burst: all {n} queued in {all_queued_s}s, positions exact {positions_exact} "
        f"(first answers {first_answers_exact}), issues {result['issues']}"
    )
    return result


# --- 4. Faults ---------------------------------------------------------------------------------


async def probe_all(pairs, since: float, timeout: float = 30.0) -> list[float | None]:
    """Both sides of every chat say something; per chat, when both got through (s after `since`)."""

    async def probe(pair, role) -> float | None:
        deadline = since + timeout
        while now() < deadline:
            side_ready = (
                pair.asker.ready if role == "asker" else pair.helper and pair.helper.ready_for(pair)
            )
            if not side_ready:
                await asyncio.sleep(0.02)
                continue
            sent = await pair.say(role, probe=True)
            if sent is None:
                await asyncio.sleep(0.05)
                continue
            while now() < deadline:
                if sent.probe.done():
                    return sent.probe.result() - since
                if sent.rejected or (sent.in_flight_at_break and not sent.confirmed):
                    break  # lost with the socket: say it again once reconnected
                await asyncio.sleep(0.02)
        return None

    results = await asyncio.gather(*(probe(p, r) for p in pairs for r in ("asker", "helper")))
    per_pair = []
    for i in range(0, len(results), 2):
        two = results[i : i + 2]
        per_pair.append(None if None in two else max(two))
    return per_pair


async def wait_ready(server, timeout=60.0) -> None:
    """Until the process answers /readyz with 200 (verkkoapu/health.py), as an upgrade waits
    before it takes down the next process."""
    import urllib.error
    import urllib.request

    deadline = now() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{server.http}/readyz", timeout=5) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        if now() > deadline:
            raise RuntimeError(f"{server.name} not ready after {timeout}s")
        await asyncio.sleep(0.1)


async def rolling_upgrade(run: Run, servers) -> dict:
    """An upgrade as docs/operations.md gives it: migrations first (the old code keeps serving),
    then each process in turn stopped with SIGTERM, started again on its port and waited for
    until /readyz answers, before the next one goes. Its clients reconnect to the other."""
    began = now()
    await asyncio.to_thread(manage, run.db.url, run.redis.url, "migrate", "--noinput")
    detail = {"migrate_s": round(now() - began, 2)}
    for server in servers:
        down = now()
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(server.start)
        await wait_ready(server)
        detail[f"{server.name}_down_s"] = round(now() - down, 2)
    return detail


async def faults(run: Run) -> dict:
    """Steady load on two processes while things break, one after another."""
    config = run.config
    n = config.fault_chats
    a, b = run.daphne("product-faults-a"), run.daphne("product-faults-b")
    await asyncio.gather(warm_up(a), warm_up(b))
    links = []
    proxied = ()
    if "helper_network" in config.faults:
        links = [await FlakyLink(a.port).start(), await FlakyLink(b.port).start()]
        proxied = (0,)

    def helper_urls(j):
        servers = [link.ws for link in links] if j in proxied else [a.ws, b.ws]
        return servers if j % 2 == 0 else servers[::-1]

    helpers = run.helpers(n // config.per_helper, helper_urls, proxied)
    cohort = Cohort(run, helpers)
    await cohort.connect_helpers()
    pairs = await cohort.open(
        n, lambda i: [a.ws, b.ws] if i % 2 == 0 else [b.ws, a.ws], config.per_helper
    )
    load = Load(2.0, 5.0)
    for pair in pairs:
        load.add(pair)
    await asyncio.sleep(config.warm_seconds)
    start = now()
    meter = CpuMeter({"a": a.pid, "b": b.pid, "redis": run.redis.pid, "generator": os.getpid()})
    reports = {}
    for fault in config.faults:
        began = now()
        errors_before = Counter(run.recorder.errors)
        detail = {}
        if fault == "redis_restart":
            down_at, ended = await asyncio.to_thread(run.redis.crash_and_restart, 3.0)
            detail["down_s"] = round(ended - down_at, 2)
        elif fault == "helper_network":
            for link in links:
                link.drop()
            await asyncio.sleep(10)
            for link in links:
                link.restore()
            ended = now()
            detail["helper"] = helpers[proxied[0]].username
            detail["chats_of_that_helper"] = len(helpers[proxied[0]].chats)
        elif fault == "postgres_cut":
            detail["connections_cut"] = await asyncio.to_thread(run.db.cut_connections)
            ended = now()
        elif fault == "rolling_upgrade":
            detail.update(await rolling_upgrade(run, (a, b)))
            ended = now()
        elif fault == "daphne_sigkill":
            on_b = sum(1 for p in pairs if p.asker.urls[p.asker.url_index % 2] == b.ws)
            b.kill()
            ended = now()
            detail["askers_on_killed_process"] = on_b
        else:
            raise ValueError(fault)
        recovery = await probe_all(pairs, ended)
        done = [r for r in recovery if r is not None]
        detail.update(
            fault_s=round(ended - began, 2),
            chats=len(pairs),
            not_recovered_in_30s=sum(1 for r in recovery if r is None),
            recovery_p50_s=round(sorted(done)[len(done) // 2], 2) if done else None,
            recovery_max_s=round(max(done), 2) if done else None,
            over_5s=sum(1 for r in done if r > 5),
            errors=dict(Counter(run.recorder.errors) - errors_before),
        )
        reports[fault] = detail
        log(f"fault {fault}: {detail}")
        await asyncio.sleep(config.fault_gap_seconds)
    end = now()
    cpu = meter.read()
    await load.stop()
    settled = await cohort.settle(timeout=30)
    issues = check_pairs(pairs)
    outages = [
        round(back - broke, 2)
        for client in [p.asker for p in pairs] + helpers
        for broke, back in client.outages
    ]
    result = {
        "chats": n,
        "processes": 2,
        "faults": reports,
        **run.recorder.window(start, end),
        "cpu": cpu,
        "settled": settled,
        "reconnected_sockets": len(outages),
        "outage_max_s": max(outages, default=None),
        "issues": dict(issues),
    }
    await cohort.close()
    for link in links:
        await link.close()
    for server in (a, b):
        run.stop(server)
    result["db_rows_after"] = run.db.rows()
    log(f"faults: issues {result['issues']}, settled {settled}")
    return result


# --- 5. Soak -----------------------------------------------------------------------------------


async def soak(run: Run) -> dict:
    """Steady load for a long time with chats ending and new ones starting; sampled each minute."""
    config = run.config
    n = config.steady_chats
    server = run.daphne("product-soak")
    await warm_up(server)
    helpers = run.helpers(n // config.per_helper, lambda j: [server.ws])
    cohort = Cohort(run, helpers)
    await cohort.connect_helpers()
    pairs = await cohort.open(n, lambda i: [server.ws], config.per_helper)
    low, high = config.soak_life
    for pair in pairs:
        pair.retire_at = now() + random.uniform(0, high)  # staggered: some end early
    load = Load(2.0, 5.0)
    for pair in pairs:
        load.add(pair)
    issues = Counter()
    retired = 0
    running = True

    async def retire(helper: Helper, pair):
        nonlocal retired
        pair.ended = True
        await cohort.settle([pair], timeout=10, patience=40)
        issues.update(pair.check())
        await helper.end_chat(pair)
        await wait_until(lambda: pair.asker.state == "ended", 10)
        if pair.asker.state != "ended":
            issues["asker_not_told_ended"] += 1
        await pair.asker.close()
        cohort.pairs.remove(pair)
        run.by_hello.pop(pair.hello, None)
        retired += 1
        newcomer = cohort.new_pair([server.ws])
        await cohort.queue_askers([newcomer])
        cohort.pairs.append(newcomer)
        for _ in range(50):
            answer = await helper.accept_next(SLUG)
            taken = answer.get("pair")
            if taken is not None:
                taken.retire_at = now() + random.uniform(low, high)
                await wait_until(lambda p=taken: p.ready, 10)
                load.add(taken)
                return
            await asyncio.sleep(0.2)
        issues["replacement_not_taken"] += 1

    async def churn(helper: Helper):
        while running:
            due = [p for p in list(helper.chats.values()) if p.retire_at <= now() and not p.ended]
            for pair in due:
                if not running:
                    break
                await retire(helper, pair)
            await asyncio.sleep(1)

    churners = [asyncio.get_running_loop().create_task(churn(h)) for h in helpers]
    samples = []
    start = now()
    minutes = config.soak_minutes
    minute = 0
    while minute < minutes:
        minute_start = now()
        await sleep_until(start + (minute + 1) * 60)
        minute += 1
        window = run.recorder.window(minute_start, now())
        sample = {
            "minute": minute,
            **server.sample(),
            "pg_connections": run.db.connections(),
            "redis": run.redis.info(),
            "rows": run.db.rows(),
            "live_chats": len(cohort.pairs),
            "retired_chats": retired,
            "p99_ms": window["p99_ms"],
            "msgs_per_s": window["msgs_per_s"],
        }
        samples.append(sample)
        log(f"soak minute {minute}: {sample}")
    running = False
    # A retirement under way finishes: cancelled halfway, its newcomer's chat was queued but
    # not yet in the cohort, so nothing ended it (the full run of 23:09 counted it as a row
    # left behind).
    _, unfinished = await asyncio.wait(churners, timeout=60)
    for task in unfinished:
        task.cancel()
    await asyncio.gather(*churners, return_exceptions=True)
    await load.stop()
    await cohort.settle(timeout=30)
    issues.update(check_pairs(cohort.pairs))
    await cohort.close()
    await asyncio.sleep(2)
    after = {
        "rows": run.db.rows(),
        "pg_connections": run.db.connections(),
        **server.sample(),
    }
    run.stop(server)
    warm = samples[min(2, len(samples) - 1)] if samples else None
    growth = (
        round((samples[-1]["rss_mib"] - warm["rss_mib"]) / warm["rss_mib"] * 100, 1)
        if warm
        else None
    )
    result = {
        "chats": n,
        "minutes": minutes,
        "samples": samples,
        "rss_growth_after_warmup_pct": growth,
        "retired_chats": retired,
        "after_close": after,
        "issues": dict(+issues),
    }
    log(f"soak: rss growth {growth}%, issues {result['issues']}, after close {after}")
    return result
