"""The production topology of docker-compose.yml, without containers (docs/operations.md).

Debian's nginx runs deploy/nginx.conf — the file compose mounts — with only the lines marked
"# substituted:" changed (upstream addresses, listen ports, certificate and log paths), over
TLS with a certificate made here, in front of two daphnes configured as compose configures them
(PRODUCTION, OTP_REQUIRED, PROXY_IP_HEADER=X-Forwarded-For, TRUSTED_PROXIES=nginx's address),
the job runner, and the machine's PostgreSQL and Redis. Everything a client does goes through
nginx, from addresses of its own (127.0.0.2 the asker, 127.0.0.3 the helper; nginx and the
daphnes are 127.0.0.1).

Which daphne a socket reached is read from the kernel's table of TCP connections
(/proc/net/tcp): nginx keeps no idle connections to its upstreams, so an established
connection to a daphne's port is a socket proxied to it. The helper's console is reopened until
nginx's round robin puts it on the other daphne than the asker's.

In CI (CI=true) a missing nginx fails this test; on a developer machine it skips.
"""

import asyncio
import datetime
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from tests.conftest import (
    ROOT,
    Daphne,
    WsClient,
    free_port,
    need,
    need_services,
    on_postgres,
    server_env,
    wait_for_port,
)
from tests.test_cross_process import Side, assert_exactly_once_in_order

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.services,
    # Seven processes start on a 2-core machine: well within this, but past the default 180 s
    # when the machine is shared.
    pytest.mark.timeout(600),
]

ASKER_ADDRESS = "127.0.0.2"
HELPER_ADDRESS = "127.0.0.3"
FORGED_ADDRESS = "198.51.100.23"  # what the asker claims in its own X-Forwarded-For
HOST = "localhost"
PASSWORD = "correct horse battery"


# --- nginx -------------------------------------------------------------------------------------


def render_nginx_conf(upstreams, http_port, https_port, certs: Path, logs: Path) -> str:
    """deploy/nginx.conf with only its "# substituted:" lines changed; fails if the file has
    moved on so that a value is no longer where this expects it."""
    source = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = [
        ("server web1:8000 ", f"server 127.0.0.1:{upstreams[0]} ", 1),
        ("server web2:8000 ", f"server 127.0.0.1:{upstreams[1]} ", 1),
        ("listen 80;", f"listen 127.0.0.1:{http_port};", 1),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;", 1),
        ("/etc/nginx/certs/", f"{certs}/", 2),
        ("/var/log/nginx/", f"{logs}/", 4),
    ]
    lines = source.splitlines(keepends=True)
    for old, new, count in replacements:
        found = [i for i, line in enumerate(lines) if old in line]
        assert len(found) == count, f"deploy/nginx.conf: {old!r} {len(found)} times, not {count}"
        for i in found:
            assert "# substituted:" in lines[i], f"deploy/nginx.conf: unmarked {lines[i]!r}"
            lines[i] = lines[i].replace(old, new)
    rendered = "".join(lines)
    changed = sum(a != b for a, b in zip(source.splitlines(), rendered.splitlines(), strict=True))
    marked = len(re.findall(r";\s+# substituted:", source))
    assert changed == marked, "a marked line was left unchanged"
    return rendered


def nginx_binary() -> str | None:
    return shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


class Nginx:
    """Debian's nginx as a foreground process with its prefix, pid, temp and logs in `home`."""

    def __init__(self, home: Path, upstreams):
        self.home, self.http_port, self.https_port = home, free_port(), free_port()
        self.certs, self.logs = home / "certs", home / "logs"
        self.certs.mkdir(parents=True)
        self.logs.mkdir()
        make_certificate(self.certs)
        site = render_nginx_conf(upstreams, self.http_port, self.https_port, self.certs, self.logs)
        (home / "verkkoapu.conf").write_text(site)
        for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (home / temp).mkdir()
            (home / temp).chmod(0o777)  # as root, nginx's workers run as nobody
        home.chmod(0o755)
        (home / "nginx.conf").write_text(
            f"""
worker_processes 1;
pid {home}/nginx.pid;
error_log {self.logs}/error.log crit;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {home}/body;
    proxy_temp_path {home}/proxy;
    fastcgi_temp_path {home}/fastcgi;
    uwsgi_temp_path {home}/uwsgi;
    scgi_temp_path {home}/scgi;
    include {home}/verkkoapu.conf;
}}
"""
        )
        self.proc = None

    def start(self):
        self.output = open(self.home / "stderr.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [nginx_binary(), "-p", str(self.home), "-c", str(self.home / "nginx.conf")]
            + ["-g", "daemon off;"],
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.https_port, self.proc, 20.0, self.home / "stderr.log")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.output.close()

    def logs_text(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.logs.glob("*.log"))


def make_certificate(directory: Path):
    """A self-signed certificate for localhost, the test's own (cryptography, which daphne's
    twisted[tls] already brings)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (directory / "fullchain.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


# --- Clients through nginx ---------------------------------------------------------------------


class Browser:
    """HTTPS through nginx from one address, keeping cookies as a browser would."""

    def __init__(self, port: int, context: ssl.SSLContext, address: str):
        self.port, self.context, self.address = port, context, address
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []  # every Set-Cookie header seen

    def request(self, method, path, body=b"", headers=None, scheme="https", port=None):
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                HOST, self.port, context=self.context, source_address=(self.address, 0), timeout=20
            )
        else:
            connection = http.client.HTTPConnection(
                HOST, port, source_address=(self.address, 0), timeout=20
            )
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.set_cookies.append(header)
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response, content

    def form(self, path) -> tuple[str, str]:
        """GET a page with a form: (its csrf token, its final path)."""
        response, content = self.request("GET", path)
        assert response.status == 200, (path, response.status)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content).group(1)
        return token.decode(), path

    def post(self, path, fields: dict, referer_path: str):
        return self.request(
            "POST",
            path,
            urlencode(fields).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"https://{HOST}:{self.port}{referer_path}",
                "Origin": f"https://{HOST}:{self.port}",
            },
        )


class TlsWsClient(WsClient):
    """WsClient over wss:// through nginx, from an address of its own."""

    def __init__(self, url, cookie, context, address, extra_headers=None):
        super().__init__(url, cookie, origin=url.replace("wss://", "https://").split("/ws/")[0])
        self.context, self.address, self.extra_headers = context, address, extra_headers or {}

    async def open(self):
        import websockets

        headers = dict(self.extra_headers)
        if self.cookie:
            headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={self.cookie}"
        self.ws = await websockets.connect(
            self.url,
            origin=self.origin,
            additional_headers=headers,
            open_timeout=10,
            ssl=self.context,
            local_addr=(self.address, 0),
        )
        return self


class TlsSide(Side):
    """A chat participant (tests/test_cross_process.py) that connects through nginx."""

    def __init__(self, name, url, cookie, context, address, extra_headers=None):
        super().__init__(name, url, cookie)
        self.context, self.address, self.extra_headers = context, address, extra_headers

    async def read(self):
        """As Side.read, but a quiet socket is not a broken one: while the other side
        reconnects, nothing may come for longer than WsClient's default 5 s."""
        try:
            while True:
                frame = await self.client.recv(timeout=3600)
                if frame["type"] in ("message", "history"):
                    self.record(frame)
                await self.frames.put(frame)
        except Exception:
            await self.frames.put({"type": "_broken"})

    async def open(self, deadline=20.0):
        loop = asyncio.get_running_loop()
        until = loop.time() + deadline
        while True:
            try:
                client = TlsWsClient(
                    self.url, self.cookie, self.context, self.address, self.extra_headers
                )
                self.client = await client.open()
                return
            except Exception:
                if loop.time() > until:
                    raise
                await asyncio.sleep(0.2)


def established(port: int) -> int:
    """Established TCP connections to 127.0.0.1:`port` (the kernel's table)."""
    wanted = f"0100007F:{port:04X}"
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted and fields[3] == "01":
            count += 1
    return count


async def until(condition, timeout=10.0, what="condition"):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"{what} not reached in {timeout}s"
        await asyncio.sleep(0.05)


# --- The topology ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def static_root():
    """collectstatic once for the module, as the image's build does (hashed names, manifest)."""
    # Module fixtures come first: skip (or, in CI, fail) before the work, as real_services does.
    need_services(on_postgres(), "DATABASE_URL does not point at PostgreSQL")
    need_services(bool(settings.REDIS_URL), "REDIS_URL is not set")
    home = Path(tempfile.mkdtemp(prefix="verkkoapu-static-"))
    # A production key only in strength: settings refuse a weak one when PRODUCTION is on.
    env = {**os.environ, "PRODUCTION": "true", "SECRET_KEY": secrets.token_urlsafe(50)}
    env["STATIC_ROOT"] = str(home)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def topology(open_line, make_helper, real_services, static_root, settings):
    need(nginx_binary() is not None, "nginx is not installed (apt-get install nginx)")
    # PRODUCTION refuses the development key; the test signs sessions with the servers' key.
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    home = Path(tempfile.mkdtemp(prefix="verkkoapu-topology-"))
    static = static_root
    env = server_env(
        settings.REDIS_URL,
        # As docker-compose.yml sets them for web1, web2 and jobs:
        PRODUCTION="true",
        OTP_REQUIRED="true",
        PROXY_IP_HEADER="X-Forwarded-For",
        TRUSTED_PROXIES="127.0.0.1",  # nginx, as it reaches the daphnes
        # From .env (the test's own): the session key signs what this process writes.
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS=HOST,
        STATIC_ROOT=str(static),
        CHAT_RATE_MESSAGES=200,
    )
    started = []

    class Topology:
        pass

    top = Topology()
    top.env, top.home, top.static = env, home, static
    top.started = started

    def start_daphne(port=None):
        server = Daphne(env, port=port).start()
        started.append(server)
        return server

    top.start_daphne = start_daphne
    jobs_log = open(home / "jobs.log", "wb")  # noqa: SIM115
    top.jobs = top.nginx = None
    try:
        top.daphnes = [start_daphne(), start_daphne()]
        top.jobs = subprocess.Popen(
            [sys.executable, "manage.py", "runjobs"],
            cwd=ROOT,
            env=env,
            stdout=jobs_log,
            stderr=subprocess.STDOUT,
        )
        top.nginx = Nginx(home / "nginx", [d.port for d in top.daphnes]).start()
        top.context = ssl.create_default_context(cafile=str(top.nginx.certs / "fullchain.pem"))
        top.wss = f"wss://{HOST}:{top.nginx.https_port}"
        yield top
    finally:
        if top.nginx:
            top.nginx.stop()
            print(f"--- nginx logs ---\n{top.nginx.logs_text()[-3000:]}")
        if top.jobs:
            top.jobs.terminate()
            top.jobs.wait(10)
        jobs_log.close()
        for server in started:
            server.stop()
        print(f"--- jobs ---\n{(home / 'jobs.log').read_text(errors='replace')[-2000:]}")
        for server in started:
            print(f"--- daphne {server.port} ---\n{server.output()[-2000:]}")
        shutil.rmtree(home, ignore_errors=True)


def helper_with_authenticator(make_helper):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    helper = make_helper(name="Auttaja Revontuli")
    device = TOTPDevice.objects.create(user=helper.user, name="phone", confirmed=True)
    return helper, device


def log_in(browser: Browser, helper, device) -> str:
    """The helper logs in as a person would: password, then the authenticator's code."""
    from django_otp.oath import totp

    token, _ = browser.form("/accounts/login/")
    response, _ = browser.post(
        "/accounts/login/?next=/console/",
        {"csrfmiddlewaretoken": token, "username": helper.user.username, "password": PASSWORD},
        "/accounts/login/",
    )
    for _hop in range(3):  # the console sends an unverified session to enter its code
        assert response.status == 302, response.status
        verify = response.headers["Location"]
        if verify.startswith("/accounts/2fa/verify/"):
            break
        response, _ = browser.request("GET", verify)
    assert verify.startswith("/accounts/2fa/verify/"), verify
    token, _ = browser.form(verify)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    response, _ = browser.post(verify, {"csrfmiddlewaretoken": token, "code": code}, verify)
    assert response.status == 302 and response.headers["Location"] == "/console/"
    return browser.cookies[settings.SESSION_COOKIE_NAME]


def test_the_https_front(topology):
    """What nginx and the daphnes answer over HTTPS: redirects, headers, cookies, limits."""
    browser = Browser(topology.nginx.https_port, topology.context, HELPER_ADDRESS)

    response, _ = browser.request("GET", "/console/", scheme="http", port=topology.nginx.http_port)
    assert response.status == 301
    assert response.headers["Location"] == f"https://{HOST}/console/"

    response, content = browser.request("GET", "/accounts/login/")
    assert response.status == 200
    hsts = response.headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    csrf = [c for c in browser.set_cookies if c.startswith("csrftoken=")]
    assert csrf and all("Secure" in c for c in csrf), browser.set_cookies

    # A body over nginx's limit never reaches a daphne.
    response, content = browser.request(
        "POST", "/feedback/", b"x" * (65 * 1024), {"Content-Type": "text/plain"}
    )
    assert response.status == 413
    assert b"nginx" in content

    # Static files: hashed names, cached for good.
    manifest = json.loads((topology.static / "staticfiles.json").read_text())
    hashed = manifest["paths"]["chats/widget.js"]
    response, content = browser.request("GET", f"/static/{hashed}")
    assert response.status == 200 and b"function" in content
    cache = response.headers["Cache-Control"]
    assert "max-age=315360000" in cache and "immutable" in cache, cache
    # The group page's module imports the shared module by its hashed name, and both load.
    response, content = browser.request("GET", "/group/unichat/")
    assert f'<script type="module" src="/static/{manifest["paths"]["chats/group.js"]}"' in (
        content.decode()
    )
    response, content = browser.request("GET", f"/static/{manifest['paths']['chats/group.js']}")
    common = manifest["paths"]["chats/common.js"]
    assert response.status == 200 and f'from "./{common.split("/")[-1]}"' in content.decode()
    response, content = browser.request("GET", f"/static/{common}")
    assert response.status == 200 and "javascript" in response.headers["Content-Type"]
    assert b"export function keepConnected" in content

    # Health through nginx; metrics not through nginx.
    response, content = browser.request("GET", "/healthz")
    assert (response.status, json.loads(content)) == (200, {"status": "ok"})
    assert response.headers.get("Set-Cookie") is None
    response, _ = browser.request("GET", "/healthz", scheme="http", port=topology.nginx.http_port)
    assert response.status == 200
    response, content = browser.request("GET", "/metrics")
    assert response.status == 404 and b"verkkoapu_" not in content


async def test_a_chat_through_nginx_survives_a_killed_daphne_and_a_rolling_restart(
    topology, make_helper
):
    helper, device = await sync_to_async(helper_with_authenticator)(make_helper)
    browser = Browser(topology.nginx.https_port, topology.context, HELPER_ADDRESS)
    cookie = await sync_to_async(log_in)(browser, helper, device)
    session_cookies = [c for c in browser.set_cookies if c.startswith("sessionid=")]
    assert session_cookies and all("Secure" in c and "HttpOnly" in c for c in session_cookies)

    ports = [d.port for d in topology.daphnes]
    asker = TlsSide(
        "asker",
        f"{topology.wss}/ws/ask/vakivalta/",
        None,
        topology.context,
        ASKER_ADDRESS,
        # Anyone may send this header; only nginx's own is believed.
        {"X-Forwarded-For": FORGED_ADDRESS},
    )
    await asker.open()
    await until(lambda: sum(map(established, ports)) == 1, what="the asker's socket upstream")
    asker_on = next(i for i, port in enumerate(ports) if established(port) == 1)
    other = 1 - asker_on

    console = TlsSide(
        "helper",
        f"{topology.wss}/ws/helper/",
        cookie,
        topology.context,
        HELPER_ADDRESS,
        {"X-Forwarded-For": FORGED_ADDRESS},
    )
    for _attempt in range(6):
        await console.open()
        await until(lambda: sum(map(established, ports)) == 2, what="the console upstream")
        if established(ports[other]) == 1:
            break
        await console.close()
        await until(lambda: sum(map(established, ports)) == 1, what="the console closed")
    assert established(ports[other]) == 1, "nginx never sent the console to the other daphne"

    asker.start_reading()
    console.start_reading()
    await asker.client.send({"type": "start", "language": "fi"})
    asker.token = (await asker.expect("queued"))["token"]
    await console.client.send({"type": "accept_next", "service": "vakivalta"})
    assigned = await console.expect("assigned")
    console.chat = assigned["chat"]
    # The address nginx was given, not the one the asker claimed, nor nginx's own.
    assert assigned["ip"] == ASKER_ADDRESS
    assert (await asker.expect("assigned"))["helper"]["role"] == "professional"

    expected = []

    async def exchange(label, rounds=3):
        for n in range(rounds):
            await asker.send(f"{label} kysymys {n}")
            await console.send(f"{label} vastaus {n}")
            expected.extend([("asker", f"{label} kysymys {n}"), ("helper", f"{label} vastaus {n}")])

    try:
        await exchange("alussa")
        await asker.settle()
        await console.settle()

        # The asker's daphne dies mid-chat; the asker goes on through the other one.
        topology.daphnes[asker_on].kill()
        await exchange("kaatuessa", rounds=2)
        await asker.reconnect()
        await asker.resend_outbox()
        await exchange("kaatumisen jälkeen")
        await asker.settle()
        await console.settle()
        assert established(ports[other]) == 2  # both sockets now on the surviving daphne

        # A rolling restart, as an upgrade does it: migrations first, then one daphne at a
        # time, each back before the next goes (docs/operations.md).
        migrate = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=topology.env,
            capture_output=True,
            text=True,
        )
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        topology.daphnes[asker_on] = topology.start_daphne(ports[asker_on])
        topology.daphnes[other].stop()  # SIGTERM: both sockets are on it
        await exchange("vaihdossa", rounds=2)
        await asker.reconnect()
        await console.reconnect()
        await asker.resend_outbox()
        await console.resend_outbox()
        topology.daphnes[other] = topology.start_daphne(ports[other])
        await exchange("päivityksen jälkeen")
        await asker.settle()
        await console.settle()

        await asker.client.send({"type": "resume", "token": asker.token})
        await asker.expect("history")
        await console.received(len(expected))
        await asyncio.sleep(0.3)  # a duplicate would arrive now
        assert_exactly_once_in_order(asker, expected)
        assert_exactly_once_in_order(console, expected)

        await console.client.send({"type": "end", "chat": console.chat, "topics": ["henkinen"]})
        assert (await asker.expect("ended"))["by"] == "helper"
    finally:
        await asker.close()
        await console.close()

    assert topology.jobs.poll() is None, "the job runner stopped"
    logs = {
        "nginx": topology.nginx.logs_text(),
        "jobs": (topology.home / "jobs.log").read_text(errors="replace"),
        **{f"daphne {i} ({d.port})": d.output() for i, d in enumerate(topology.started)},
    }
    assert "/ws/ask/vakivalta/" in logs["nginx"], "nginx wrote no access log"
    for name, text in logs.items():
        for secret in (ASKER_ADDRESS, HELPER_ADDRESS, FORGED_ADDRESS, "kysymys", "vastaus"):
            assert secret not in text, f"{secret!r} in the {name} log"
        assert asker.token not in text, f"the asker's token in the {name} log"
