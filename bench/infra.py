"""What the benchmark starts and measures: redis-server, a fresh PostgreSQL database, daphne.

Everything runs on ports and a database of its own, so the machine's 127.0.0.1:6379 and other
people's databases are never touched. Process figures come from /proc (CPU seconds, RSS, open
file descriptors), so nothing beyond the standard library is needed to read them.
"""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc=None, timeout=30.0, log_path=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = Path(log_path).read_text()[-3000:] if log_path else ""
            raise RuntimeError(f"process for port {port} exited ({proc.returncode}): {tail}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


# --- /proc ---------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (threads included)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def open_fds(pid: int) -> tuple[int, int]:
    """(all open descriptors, sockets among them)."""
    fds = sockets = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        fds += 1
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                sockets += 1
    return fds, sockets


def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


class CpuMeter:
    """CPU share of a set of processes over an interval (1.0 = one core busy)."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.start_wall = time.monotonic()
        self.start = {name: _cpu_or_none(pid) for name, pid in pids.items()}

    def read(self) -> dict[str, float | None]:
        """None for a process that died (or was restarted) meanwhile."""
        wall = time.monotonic() - self.start_wall
        shares = {}
        for name, pid in self.pids.items():
            used = _cpu_or_none(pid)
            if used is None or self.start[name] is None or used < self.start[name] or wall <= 0:
                shares[name] = None
            else:
                shares[name] = round((used - self.start[name]) / wall, 3)
        return shares


def _cpu_or_none(pid: int) -> float | None:
    try:
        return cpu_seconds(pid)
    except OSError:
        return None


# --- Processes -----------------------------------------------------------------------------------


class Process:
    """A child process with its output in bench/results/logs/<name>.log."""

    name = "process"

    def __init__(self, name: str, port: int | None = None):
        self.name = name
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = RESULTS / "logs" / f"{name}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict | None:
        return None

    def start(self, timeout=30.0):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C to the benchmark reaches only the benchmark
            )
        wait_for_port(self.port, self.proc, timeout, self.log_path)
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL: the process gets no chance to close anything."""
        if self.alive:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.alive:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def sample(self) -> dict:
        fds, sockets = open_fds(self.pid)
        return {
            "cpu_s": round(cpu_seconds(self.pid), 2),
            "rss_mib": round(rss_bytes(self.pid) / 2**20, 1),
            "fds": fds,
            "sockets": sockets,
            "threads": thread_count(self.pid),
        }


class Redis(Process):
    def command(self):
        return [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def crash_and_restart(self, down_seconds: float) -> tuple[float, float]:
        """SIGKILL, stay down, start again on the same port: (down at, up at) monotonic."""
        down_at = time.monotonic()
        self.kill()
        time.sleep(down_seconds)
        self.start()
        return down_at, time.monotonic()

    def info(self) -> dict:
        import redis  # channels-redis depends on it

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)
        try:
            info = client.info()
        finally:
            client.close()
        return {
            "clients": info.get("connected_clients", 0),
            "used_mib": round(info.get("used_memory", 0) / 2**20, 1),
            "keys": sum(v.get("keys", 0) for k, v in info.items() if k.startswith("db")),
        }


class Daphne(Process):
    """The product (or the bare relay) behind `python -m daphne` on its own port."""

    def __init__(self, name, database_url, redis_url, app="verkkoapu.asgi:application", **extra):
        super().__init__(name)
        self.database_url, self.redis_url, self.app = database_url, redis_url, app
        self.extra = {key: str(value) for key, value in extra.items()}

    def command(self):
        return [
            sys.executable,
            "-m",
            "daphne",
            "--access-log",
            "/dev/null",
            "-b",
            "127.0.0.1",
            "-p",
            str(self.port),
            self.app,
        ]

    def env(self):
        return server_env(self.database_url, self.redis_url, **self.extra)

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class EchoServer(Process):
    """The floor: a raw `websockets` server that relays each frame to both sockets of a pair."""

    def command(self):
        return [sys.executable, "-m", "bench.echo", str(self.port)]

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def server_env(database_url: str, redis_url: str, **extra) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "CI")
    }
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="verkkoapu.settings",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL=extra.pop("LOG_LEVEL", "WARNING"),
    )
    env.update(extra)
    return env


# --- PostgreSQL ----------------------------------------------------------------------------------


@dataclass
class Database:
    """A fresh database on the machine's PostgreSQL, dropped at the end."""

    admin_url: str
    name: str

    @classmethod
    def fresh(cls) -> "Database":
        given = os.environ.get("DATABASE_URL", "")
        base = given if given.startswith(("postgres://", "postgresql://")) else DEFAULT_PG
        parts = urlsplit(base)
        admin = urlunsplit(parts._replace(path="/postgres", query=""))
        database = cls(admin, f"verkkoapu_bench_{os.getpid()}")
        database.execute(f'DROP DATABASE IF EXISTS "{database.name}"')
        database.execute(f'CREATE DATABASE "{database.name}"')
        return database

    @property
    def url(self) -> str:
        return urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{self.name}"))

    def execute(self, sql: str, *params, db: str | None = None):
        import psycopg

        url = self.url if db == "bench" else self.admin_url
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else None

    def query(self, sql: str, *params):
        return self.execute(sql, *params, db="bench")

    def cut_connections(self) -> int:
        """pg_terminate_backend on every connection of the bench database but this one."""
        rows = self.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            self.name,
        )
        return rows[0][0]

    def connections(self) -> int:
        rows = self.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            self.name,
        )
        return rows[0][0]

    def rows(self) -> dict[str, int]:
        """Live rows that must not pile up: chats, messages, on-duty connections."""
        counts = {}
        for table in ("chats_chat", "chats_message", "chats_dutysession"):
            counts[table.removeprefix("chats_")] = self.query(f"SELECT count(*) FROM {table}")[0][0]
        counts["dutysession_connected"] = self.query(
            "SELECT count(*) FROM chats_dutysession WHERE connected"
        )[0][0]
        return counts

    def drop(self):
        with contextlib.suppress(Exception):
            self.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def manage(database_url: str, redis_url: str, *args, input_text: str | None = None) -> str:
    """Run `python manage.py ...` against the bench database; raise with its output on failure."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=server_env(database_url, redis_url),
        input=input_text,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {args[0]} failed: {result.stdout}{result.stderr}")
    return result.stdout


OPEN_ALL_DAY = """
from datetime import timedelta
from django.utils import timezone
from scheduling.models import HoursException
today = timezone.localdate()
HoursException.objects.create(
    line=None, first_day=today - timedelta(days=1), last_day=today + timedelta(days=2),
    closed=False, opens="00:00", closes="00:00", weekdays_only=False,
    note="benchmark: open around the clock",
)
"""

CREATE_HELPERS = """
from django.core.management import call_command
for username in {usernames!r}:
    call_command(
        "createhelper", username, password={password!r}, role="professional",
        display_name="Bench " + username, service=[{slug!r}], verbosity=0,
    )
"""


def prepare_database(database: Database, redis_url: str, usernames, password, slug):
    """migrate, open every line around the clock for the bench dates, create the helpers."""
    manage(database.url, redis_url, "migrate", "--noinput", "-v", "0")
    manage(database.url, redis_url, "shell", "-c", OPEN_ALL_DAY)
    # Each helper costs one PBKDF2 hash: two processes share the work over the two cores.
    halves = [usernames[0::2], usernames[1::2]]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                CREATE_HELPERS.format(usernames=half, password=password, slug=slug),
            ],
            cwd=ROOT,
            env=server_env(database.url, redis_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for half in halves
        if half
    ]
    for proc in procs:
        output, _ = proc.communicate(timeout=600)
        if proc.returncode:
            raise RuntimeError(f"createhelper failed: {output}")


async def sleep_until(moment: float):
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


class MachineMeter:
    """How busy the whole machine was (in cores): other people's work shows up here too."""

    def __init__(self):
        self.start = _cpu_times()

    def read(self) -> float:
        busy0, total0 = self.start
        busy1, total1 = _cpu_times()
        if total1 == total0:
            return 0.0
        return round((busy1 - busy0) / (total1 - total0) * os.cpu_count(), 2)


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def machine() -> dict:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError), open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    versions = {}
    for name in ("django", "channels", "channels_redis", "daphne", "websockets", "psycopg"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[name] = version(name.replace("_", "-"))
    redis_version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True
    ).stdout.split()[2:3]
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kib / 2**20, 1),
        "python": sys.version.split()[0],
        "redis": redis_version[0].removeprefix("v=") if redis_version else "",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        **versions,
    }
