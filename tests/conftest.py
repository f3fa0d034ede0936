"""Shared fixtures: lines that are open, helpers with sessions, sockets through the real ASGI app.

Tests marked `services` need the machine's PostgreSQL and Redis (DATABASE_URL / REDIS_URL): they
skip on a developer machine without them and fail under CI=true, where they must run.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from bench.infra import free_port, wait_for_port  # one way to find a port and wait for a server

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_sessionstart(session):
    """A SQLite test database is recreated each run, but its WAL files would outlive it."""
    database = settings.DATABASES["default"]
    name = database.get("TEST", {}).get("NAME")
    if database["ENGINE"].endswith("sqlite3") and name:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)


def need(condition: bool, reason: str):
    """Skip on a developer machine, fail in CI: CI must run every test."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


# .ci/run runs the suite twice: first on the embedded default (VERKKOAPU_RUN=embedded), where
# tests of PostgreSQL and Redis skip by design, then on the machine's services, where they run.
EMBEDDED_RUN = os.environ.get("VERKKOAPU_RUN") == "embedded"


def need_services(condition: bool, reason: str):
    """Like need(), but the embedded pass of CI skips: these tests run in the services pass."""
    if not condition and EMBEDDED_RUN:
        pytest.skip(f"{reason} (embedded run; the services run covers it)")
    need(condition, reason)


@pytest.fixture
def real_services():
    """PostgreSQL and Redis, as the CI machine has them."""
    need_services(on_postgres(), "DATABASE_URL does not point at PostgreSQL")
    need_services(bool(settings.REDIS_URL), "REDIS_URL is not set")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters in the cache (Redis in the services run) and the values a process keeps
    a few seconds must not leak between tests."""
    from django.core.cache import cache

    from verkkoapu.recent import Recent

    cache.clear()
    Recent.forget_all()  # lines, their rules and paces, kept a few seconds per process
    yield


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A new channel layer for each test (each event loop): channels-redis keeps asyncio locks in
    the layer, and one left locked by a consumer of a finished test's loop would fail every later
    test with "bound to a different event loop"."""
    yield
    from channels.layers import channel_layers

    channel_layers.backends.clear()


@pytest.fixture(scope="session", autouse=True)
def _pool_closed_before_the_test_database_goes(django_db_setup, django_db_blocker):
    """PostgreSQL's connection pool, and the sync threads' connections, keep sessions open, and
    a test database with sessions cannot be dropped: it was left behind after every run."""
    yield
    if not on_postgres():
        return
    from django.db import connection

    from chats import loopdb

    loopdb.close_all()
    with django_db_blocker.unblock():
        connection.close_pool()
        _end_other_sessions()  # the run is over: end what other threads hold
        connection.close()


@pytest.fixture(autouse=True)
def _database_work_settled(request):
    """A transactional test ends with a flush (TRUNCATE on PostgreSQL), which waits for every
    other open transaction on the test database. Work the test's sockets left on the database
    threads finishes first; a transaction still open after that is a leak, and fails the test
    with what it was doing, instead of hanging the suite (CI once hung here for an hour)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        yield
        return
    request.getfixturevalue("transactional_db")  # set up before, so torn down after this
    yield
    from chats import loopdb

    loopdb.close_all()  # the event loop's own connections (chats/loopdb.py): the loop is gone
    stuck = _drain_database_threads()
    leftover = _open_transactions() if on_postgres() else []
    if stuck or leftover:
        pytest.fail(
            "database work still going on after the test:\n"
            + "\n".join(stuck)
            + "".join(f"\nopen transaction (ended now): {row}" for row in leftover)
        )


def _drain_database_threads(timeout=20.0) -> list[str]:
    """Wait until every thread of runtime.DB_EXECUTOR is free; the stacks of any that aren't."""
    import threading
    import traceback

    from chats.runtime import DB_EXECUTOR

    workers = settings.CHAT_DB_THREADS  # what DB_EXECUTOR was made with
    barrier = threading.Barrier(workers + 1)
    for _ in range(workers):  # each job blocks until all have started: one on every thread
        DB_EXECUTOR.submit(barrier.wait, timeout)
    try:
        barrier.wait(timeout)
        return []
    except threading.BrokenBarrierError:
        frames = sys._current_frames()
        return [
            f"thread {thread.name} busy:\n" + "".join(traceback.format_stack(frames[thread.ident]))
            for thread in threading.enumerate()
            if thread.name.startswith("db") and thread.ident in frames
        ]


def _open_transactions() -> list[tuple]:
    """Other sessions on the test database idle inside a transaction for seconds: nothing the
    project does leaves one so. They are ended, so that the flush and the later tests go on."""
    return _end_other_sessions(
        " AND state LIKE 'idle in transaction%%' AND state_change < now() - interval '5 seconds'"
    )


def _end_other_sessions(condition: str = "") -> list[tuple]:
    """End the other sessions on the test database (those matching `condition`); what each
    was: pid, state, application name, last query."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, application_name, left(query, 200) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()" + condition
        )
        rows = cursor.fetchall()
        for pid, *_ in rows:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    return rows


def in_threads(count: int, work) -> list[BaseException]:
    """Run `work(i)` in `count` threads released together; the errors they raised."""
    barrier = threading.Barrier(count)
    errors = []

    def run(i):
        try:
            barrier.wait()
            work(i)
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@pytest.fixture
def always_open():
    """Make a line open around the clock for the next days (weekends and holidays too)."""
    from scheduling.models import HoursException

    def make(line):
        today = timezone.localdate()
        HoursException.objects.create(
            line=line,
            first_day=today - timedelta(days=1),
            last_day=today + timedelta(days=2),
            closed=False,
            opens="00:00",
            closes="00:00",
            weekdays_only=False,
            note="tests: open around the clock",
        )
        return line

    return make


@pytest.fixture
def lines(db):
    """The seeded service lines; transactional tests flush them, so seed again when needed."""
    import importlib

    from django.apps import apps as django_apps

    from chats.models import ServiceLine

    if not ServiceLine.objects.exists():
        importlib.import_module("chats.migrations.0002_seed_service_lines").seed(django_apps, None)
        # The lines' settings (the youth line's age question and slots) are data since issue 21.
        importlib.import_module("chats.migrations.0013_seed_issue21").seed(django_apps, None)
        # Swedish and English texts and Unichat as the baby-sleep line's group (issue 20).
        importlib.import_module("chats.migrations.0015_group_line_referral_translations").seed(
            django_apps, None
        )
        from scheduling.models import ShiftSlot
        from scheduling.signals import add_default_slots

        youth = ServiceLine.objects.get(slug="lapset-nuoret")
        ShiftSlot.objects.filter(line=youth).delete()  # made before its slot setting was set
        add_default_slots(ServiceLine, youth, created=True)
    return {line.slug: line for line in ServiceLine.objects.all()}


@pytest.fixture
def open_line(lines, always_open):
    return always_open(lines["vakivalta"])


@pytest.fixture
def make_helper(lines):
    from chats.accounts import create_helper

    counter = iter(range(1, 10_000))

    def make(role="professional", services=("vakivalta",), name=None):
        n = next(counter)
        username = f"helper{n}-{role}"
        return create_helper(
            username, "correct horse battery", role, name or f"Auttaja {n}", list(services)
        )

    return make


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def connect(path: str, cookie: str | None = None, origin=b"http://testserver", client=None):
    from verkkoapu.asgi import application

    headers = [(b"origin", origin)] if origin else []
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    if client:
        communicator.scope["client"] = client
    connected, _ = await communicator.connect()
    return communicator, connected


@pytest.fixture
async def sockets():
    """Open sockets through the real ASGI app; every one is disconnected at the end."""
    opened = []

    async def open_socket(path, cookie=None, **kwargs):
        communicator, connected = await connect(path, cookie, **kwargs)
        assert connected, f"{path} refused the connection"
        opened.append(communicator)
        return communicator

    yield open_socket
    for communicator in opened:
        if communicator.future.done():
            continue  # the test closed it, or the server did
        await communicator.disconnect()


@pytest.fixture
def asker_socket(sockets):
    async def open_asker(line, ip="203.0.113.7"):
        return await sockets(f"/ws/ask/{line.slug}/", client=[ip, 50000])

    return open_asker


@pytest.fixture
def helper_socket(sockets):
    from asgiref.sync import sync_to_async

    async def open_helper(helper):
        cookie = await sync_to_async(session_cookie)(helper.user)
        return await sockets("/ws/helper/", cookie)

    return open_helper


async def next_frame(communicator, *types, timeout=3):
    """The next frame of one of `types`, skipping others (e.g. `queue`, `typing`)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {types} frame within {timeout}s")
        frame = await communicator.receive_json_from(timeout=remaining)
        if not types or frame["type"] in types:
            return frame


async def start(asker, language="fi", **extra) -> dict:
    """An asker's `start` frame; the answer: `queued`, `closed` or `error`."""
    await asker.send_json_to({"type": "start", "language": language, **extra})
    return await next_frame(asker, "queued", "closed", "error")


async def pair(console, asker=None, service="vakivalta") -> int:
    """A helper's console takes the next asker of `service` (`accept_next`): the chat's id, once
    the console (and `asker`, if given) heard `assigned`."""
    await console.send_json_to({"type": "accept_next", "service": service})
    chat = (await next_frame(console, "assigned"))["chat"]
    if asker is not None:
        await next_frame(asker, "assigned")
    return chat


async def end_chat(side, chat=None, **extra) -> dict:
    """One side ends the chat (a helper's console names it): the `ended` frame that side gets."""
    frame = {"type": "end", **extra} if chat is None else {"type": "end", "chat": chat, **extra}
    await side.send_json_to(frame)
    return await next_frame(side, "ended")


async def receive_nothing(communicator, timeout=0.3, ignore=("queue",)):
    """True if no frame (other than `ignore` ones) arrives within `timeout`."""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            frame = await communicator.receive_json_from(timeout=remaining)
        except TimeoutError:
            return True
        if frame["type"] not in ignore:
            raise AssertionError(f"unexpected frame {frame}")
    return True


def text_by_table() -> dict[str, str]:
    """Every value of every column of every table in the database, as one string per table."""
    from django.db import connection

    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            found[table] = "\n".join(
                " ".join(str(bytes(v) if isinstance(v, memoryview) else v) for v in row)
                for row in cursor.fetchall()
            )
    return found


def all_text_in_database() -> str:
    return "\n".join(text_by_table().values())


def tables_holding(secret: str) -> set[str]:
    """The tables in which `secret` appears anywhere, in any column."""
    return {table for table, text in text_by_table().items() if secret in text}


# --- Real servers ------------------------------------------------------------------------------


class Daphne:
    """A daphne process on its own port, sharing this test's database and channel layer."""

    def __init__(self, env: dict, port: int | None = None):
        self.port = port or free_port()
        self.env = env
        self.proc = None

    def start(self):
        self.log = tempfile.NamedTemporaryFile(prefix=f"daphne-{self.port}-", suffix=".log")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "--access-log",
                "/dev/null",
                "-p",
                str(self.port),
                "verkkoapu.asgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            # A file, not a pipe: a pipe nobody reads fills up and blocks the server.
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.proc, 60.0, self.log.name)
        return self

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}"


class RedisServer:
    """A private redis-server on a free port: tests may restart it, never the machine's."""

    def __init__(self):
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


def server_env(redis_url: str, **extra) -> dict:
    """The environment for server processes: this test's database, the given Redis."""
    from django.db import connection

    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    if on_postgres():
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    env["REDIS_URL"] = redis_url
    env.update({k: str(v) for k, v in extra.items()})
    return env


class WsClient:
    """A real WebSocket client (the `websockets` library) that remembers every frame."""

    def __init__(self, url, cookie=None, origin="http://127.0.0.1"):
        self.url, self.cookie, self.origin = url, cookie, origin
        self.ws = None

    async def open(self):
        import websockets

        headers = {}
        if self.cookie:
            headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={self.cookie}"
        self.ws = await websockets.connect(
            self.url, origin=self.origin, additional_headers=headers, open_timeout=10
        )
        return self

    async def send(self, frame: dict):
        await self.ws.send(json.dumps(frame))

    async def recv(self, *types, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {types} frame within {timeout}s")
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), remaining))
            if not types or frame["type"] in types:
                return frame

    async def close(self):
        if self.ws is not None:
            await self.ws.close()


# --- Real browsers ------------------------------------------------------------------------------

# Chromium, a daphne and browser contexts for every test module (tests/browser.py); imported
# last, as that module builds on the helpers above.
from tests.browser import browser, contexts, server  # noqa: E402, F401
