"""Security: logins that lock, two-factor codes, browser headers, socket origins, hostile input.

Each test plays the attacker of docs/security.md and checks what the person on the other side
notices: a clear error, a closed socket, a page that will not load in a frame, and nothing lost
or leaked to anyone else.
"""

import asyncio
import os
import secrets
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from chats.accounts import create_coordinator
from chats.models import Message
from chats.services import queue
from tests.conftest import ROOT, connect, next_frame, pair, receive_nothing, session_cookie

PASSWORD = "correct horse battery"
ON_DUTY = "Päivystää"  # the console's state once its socket is open (fi)
HELPER_IP = "198.51.100.20"


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def log_in(client: Client, username: str, password: str, ip=HELPER_IP, path="/accounts/login/"):
    return client.post(
        path, {"username": username, "password": password}, REMOTE_ADDR=ip, follow=False
    )


def verified_cookie(user) -> str:
    """A session that passed a code, as the verify page leaves it."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def closed_with(communicator, timeout=10.0) -> int:
    """Read until the server closes the socket; its close code."""
    while True:
        output = await communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            return output.get("code")


# --- Brute force on the login ---------------------------------------------------------------------


@pytest.fixture
def helper(make_helper):
    return make_helper()


@pytest.mark.django_db
def test_wrong_passwords_lock_the_login_with_a_clear_message(client, helper):
    name = helper.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, name, "wrong password!").status_code == 200
    locked = log_in(client, name, "wrong password!")
    assert locked.status_code == 429
    assert "security/locked.html" in [t.name for t in locked.templates]
    assert 'role="alert"' in locked.text and str(settings.AXES_COOLOFF_TIME.seconds // 60) in (
        locked.text
    )
    # The right password does not help while the lock holds.
    assert log_in(client, name, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_lock_holds_one_username_from_one_address_only(client, helper, make_helper):
    other = make_helper()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, helper.user.username, "wrong password!")
    assert log_in(client, helper.user.username, PASSWORD).status_code == 429
    # The same person from another address, and a colleague at the same address, log in.
    assert log_in(Client(), helper.user.username, PASSWORD, ip="198.51.100.21").status_code == 302
    assert log_in(Client(), other.user.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_lock_lifts_after_the_cool_off(client, helper):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, helper.user.username, "wrong password!")
    assert log_in(client, helper.user.username, PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        answer = log_in(client, helper.user.username, PASSWORD)
    assert answer.status_code == 302 and answer.url == "/console/"


@pytest.mark.django_db
def test_the_admin_login_locks_too(client):
    create_coordinator("koordinaattori", PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "koordinaattori", "wrong password!", path="/admin/login/")
    assert log_in(client, "koordinaattori", PASSWORD, path="/admin/login/").status_code == 429


@pytest.mark.django_db
def test_a_successful_login_forgets_earlier_mistakes(client, helper):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, helper.user.username, "wrong password!")
    assert log_in(client, helper.user.username, PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, helper.user.username, "wrong password!")
    assert log_in(client, helper.user.username, PASSWORD).status_code == 302


@pytest.mark.parametrize("password", ["lyhyt-123", "1234567890123", "password1234"])
def test_weak_passwords_are_refused_by_the_validators(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_uncommon_password_passes_the_validators():
    validate_password("kuusi kissaa kävi kaupassa")


# --- Two-factor authentication --------------------------------------------------------------------


@pytest.fixture
def otp_required(settings):
    settings.OTP_REQUIRED = True


@pytest.mark.django_db
def test_first_login_sets_up_the_authenticator_then_opens_the_console(otp_required, helper):
    from base64 import b32decode

    from chats.accounts import issue_enrolment_code

    enrolment = issue_enrolment_code(helper.user)  # from createhelper (tests/test_accounts.py)
    client = Client()
    assert log_in(client, helper.user.username, PASSWORD).url == "/console/"
    to_setup = client.get("/console/")
    assert to_setup.status_code == 302
    assert to_setup.url == "/accounts/2fa/setup/?next=%2Fconsole%2F"
    page = client.get(to_setup.url)
    assert page.status_code == 200 and "<svg" in page.text
    assert "no-store" in page["Cache-Control"]  # the secret is on it
    assert not TOTPDevice.objects.filter(user=helper.user).exists()  # looking writes nothing
    secret = page.context["form"]["secret"].value()
    key = b32decode(page.context["secret"].replace(" ", ""))
    form = {"secret": secret, "enrolment_code": enrolment, "next": "/console/"}
    wrong = client.post(to_setup.url, {**form, "code": "000000"})
    assert wrong.status_code == 200 and 'class="errorlist' in wrong.text
    right = client.post(to_setup.url, {**form, "code": f"{totp(key):06d}"})
    assert right.status_code == 302 and right.url == "/console/"
    assert client.get("/console/").status_code == 200
    device = TOTPDevice.objects.get(user=helper.user)
    assert device.confirmed


@pytest.mark.django_db
def test_later_logins_ask_for_a_code(otp_required, helper):
    device = TOTPDevice.objects.create(user=helper.user, name="phone", confirmed=True)
    client = Client()
    log_in(client, helper.user.username, PASSWORD)
    to_verify = client.get("/console/")
    assert to_verify.url == "/accounts/2fa/verify/?next=%2Fconsole%2F"
    # With a device set up, the setup page asks for the password and a current code
    # (tests/test_accounts.py).
    assert 'name="current_code"' in client.get("/accounts/2fa/setup/").text
    assert client.post(to_verify.url, {"code": "12345", "next": "/console/"}).status_code == 200
    assert client.get("/console/").status_code == 302
    answer = client.post(to_verify.url, {"code": code_of(device), "next": "https://evil.example/"})
    assert answer.status_code == 302 and answer.url == "/console/"  # no open redirect
    assert client.get("/console/").status_code == 200
    assert client.get("/console/calendar/").status_code == 200


@pytest.mark.django_db
def test_guessing_codes_is_slowed_down(otp_required, helper):
    device = TOTPDevice.objects.create(user=helper.user, name="phone", confirmed=True)
    client = Client()
    client.force_login(helper.user)
    for _ in range(3):
        client.post("/accounts/2fa/verify/", {"code": "000000"})
    # Even the right code waits until the throttle's delay has passed.
    slowed = client.post("/accounts/2fa/verify/", {"code": code_of(device)})
    assert slowed.status_code == 200 and 'class="errorlist' in slowed.text
    assert client.get("/console/").status_code == 302


@pytest.mark.django_db
def test_the_admin_needs_a_code_too(otp_required):
    coordinator = create_coordinator("koordinaattori", PASSWORD)
    client = Client()
    client.force_login(coordinator)
    assert client.get("/admin/").url.startswith("/accounts/2fa/setup/?next=%2Fadmin%2F")
    assert client.get("/admin/chats/serviceline/").status_code == 302
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_cookie(coordinator)
    assert client.get("/admin/chats/serviceline/").status_code == 200


@pytest.mark.django_db
def test_without_otp_required_the_password_alone_opens_the_console(client, helper):
    assert settings.OTP_REQUIRED is False  # development and the contract's black-box tests
    log_in(client, helper.user.username, PASSWORD)
    assert client.get("/console/").status_code == 200


@pytest.mark.django_db(transaction=True)
async def test_the_helper_socket_needs_a_verified_session(otp_required, helper, sockets):
    unverified = await sync_to_async(session_cookie)(helper.user)
    _, connected = await connect("/ws/helper/", unverified)
    assert not connected
    console = await sockets("/ws/helper/", await sync_to_async(verified_cookie)(helper.user))
    assert (await next_frame(console, "queue"))["service"] == "vakivalta"


# --- Sessions: logout and idle expiry close the helper's sockets ----------------------------------


@pytest.mark.django_db(transaction=True)
async def test_logging_out_closes_that_sessions_sockets_only(helper, sockets):
    this_browser, other_browser = Client(), Client()
    await sync_to_async(this_browser.force_login)(helper.user)
    await sync_to_async(other_browser.force_login)(helper.user)
    cookie = this_browser.cookies[settings.SESSION_COOKIE_NAME].value
    tabs = [await sockets("/ws/helper/", cookie), await sockets("/ws/helper/", cookie)]
    elsewhere = await sockets(
        "/ws/helper/", other_browser.cookies[settings.SESSION_COOKIE_NAME].value
    )
    # A console joins its login's group after it is accepted; its start frames end with
    # `follow_ups`. (Logging out before that is caught by the heartbeat, not by this nudge.)
    for console in [*tabs, elsewhere]:
        await next_frame(console, "follow_ups", timeout=15)
    await sync_to_async(this_browser.post)("/accounts/logout/")
    assert [await closed_with(tab) for tab in tabs] == [4403, 4403]
    assert await receive_nothing(elsewhere, ignore=("queue", "follow_ups"))
    _, connected = await connect("/ws/helper/", cookie)
    assert not connected


@pytest.mark.django_db(transaction=True)
async def test_an_idle_session_expires_and_its_socket_closes(helper, sockets, settings):
    settings.CHAT_HEARTBEAT_SECONDS = 0.05
    cookie = await sync_to_async(session_cookie)(helper.user)
    console = await sockets("/ws/helper/", cookie)
    await sync_to_async(Session.objects.filter(session_key=cookie).update)(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert await closed_with(console) == 4403


@pytest.mark.django_db(transaction=True)
async def test_a_helper_who_is_chatting_stays_logged_in(helper, sockets, settings):
    settings.CHAT_HEARTBEAT_SECONDS = 0.05
    cookie = await sync_to_async(session_cookie)(helper.user)
    console = await sockets("/ws/helper/", cookie)
    sessions = Session.objects.filter(session_key=cookie)
    soon = timezone.now() + timedelta(seconds=30)
    await sync_to_async(sessions.update)(expire_date=soon)
    await console.send_json_to({"type": "pause", "paused": True})
    await next_frame(console, "paused")
    for _ in range(40):  # until a heartbeat has counted the frame as use
        expiry = await sync_to_async(lambda: sessions.get().expire_date)()
        if expiry > soon:
            break
        await asyncio.sleep(0.05)
    assert expiry > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


@pytest.mark.django_db(transaction=True)
async def test_a_changed_password_or_a_closed_account_closes_the_socket(
    make_helper, sockets, settings
):
    settings.CHAT_HEARTBEAT_SECONDS = 0.05
    first, second = await sync_to_async(make_helper)(), await sync_to_async(make_helper)()
    consoles = [
        await sockets("/ws/helper/", await sync_to_async(session_cookie)(h.user))
        for h in (first, second)
    ]

    def change():
        first.user.set_password("a new password after a leak")
        first.user.save()
        second.user.is_active = False
        second.user.save()

    await sync_to_async(change)()
    assert [await closed_with(console) for console in consoles] == [4403, 4403]


# --- Browser headers on every page ----------------------------------------------------------------

# One real address for every page the project serves (the admin's own pages: two samples).
PAGES = {
    "home": "/",
    "api-services": "/api/services/",
    "api-service": "/api/services/vakivalta/",
    "api-widget": "/api/widget/?services=vakivalta",
    "login": "/accounts/login/",
    "logout": "/accounts/logout/",
    "otp-setup": "/accounts/2fa/setup/",
    "otp-verify": "/accounts/2fa/verify/",
    "console": "/console/",
    "scheduling:calendar": "/console/calendar/",
    "scheduling:book": "/console/calendar/book/",
    "scheduling:cancel": "/console/calendar/cancel/1/",
    "scheduling:debrief": "/console/calendar/debrief/1/",
    "group": "/group/unichat/",
    "practice": "/practice/harjoitus/?code=x",
    "feedback:form": "/feedback/vakivalta/",
    "feedback:thanks": "/feedback/vakivalta/kiitos/",
    "api-feedback": "/api/feedback/vakivalta/",
    "admin": "/admin/",
    "admin-login": "/admin/login/",
    "guide": "/admin/guides/guide-helper.fi",
    "guide-picture": "/admin/guides/screenshots/calendar-desktop.png",
    "set_language": "/i18n/setlang/",
    "not-found": "/no-such-page/",
    # Letters (docs/letters.md): the asker's pages and API, the helper's inbox and API.
    "letters-write": "/letters/vakivalta/",
    "letters-read": "/letters/read/",
    "api-letters-line": "/api/letters/vakivalta/",
    "api-letters-read": "/api/letters/read/",
    "api-letters-reply": "/api/letters/reply/",
    "api-letters-end": "/api/letters/end/",
    "letters-inbox": "/console/letters/",
    "letters-thread": "/console/letters/1/",
    "api-letters-inbox": "/console/letters/api/",
    "api-letters-thread": "/console/letters/api/1/",
    "api-letters-claim": "/console/letters/api/1/claim/",
    "api-letters-claim-next": "/console/letters/api/next/vakivalta/",
    "api-letters-hand-back": "/console/letters/api/1/hand-back/",
    "api-letters-answer": "/console/letters/api/1/answer/",
    "api-letters-helper-end": "/console/letters/api/1/end/",
    "api-letters-approve": "/console/letters/api/replies/1/approve/",
}
ASKER_PAGES = {
    "home",
    "api-widget",
    "group",
    "feedback:form",
    "feedback:thanks",
    "api-feedback",
} | {
    "letters-write",
    "letters-read",
    "api-letters-line",
    "api-letters-read",
    "api-letters-reply",
    "api-letters-end",
}


def _named_routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # Django's own admin: sampled above
            namespace = pattern.namespace
            yield from _named_routes(
                pattern.url_patterns, f"{prefix}{namespace}:" if namespace else prefix
            )
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + pattern.name


def test_every_page_of_the_project_is_in_the_header_check():
    missing = set(_named_routes(get_resolver().url_patterns)) - set(PAGES)
    assert not missing, f"add a sample address to PAGES for {missing}"


@pytest.fixture
def everyone_logged_in(lines, make_helper):
    """A helper who is also staff: every page answers with its own content."""
    helper = make_helper()
    helper.user.is_staff = helper.user.is_superuser = True
    helper.user.save()
    client = Client()
    client.force_login(helper.user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_page_has_the_security_headers(everyone_logged_in, name):
    response = everyone_logged_in.get(PAGES[name])
    assert response.status_code < 500
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in policy
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    expected_referrer = "no-referrer" if name in ASKER_PAGES else "same-origin"
    assert response["Referrer-Policy"] == expected_referrer
    if name != "home":
        assert directives["frame-ancestors"] == "'none'"
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_only_the_embedding_sites_may_frame_the_widget_page(client, lines, settings):
    assert "frame-ancestors 'none'" in client.get("/")["Content-Security-Policy"]
    settings.EMBEDDING_ORIGINS = ["https://nettiturvakoti.example", "https://ensi.example"]
    page = client.get("/")
    assert (
        "frame-ancestors https://nettiturvakoti.example https://ensi.example"
        in page["Content-Security-Policy"]
    )
    assert "X-Frame-Options" not in page  # it cannot name two sites; frame-ancestors does
    assert "frame-ancestors 'none'" in client.get("/accounts/login/")["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_asker_pages_set_no_cookie_with_the_login_machinery_on(client, lines):
    paths = ("/", "/feedback/vakivalta/", "/group/unichat/", "/api/widget/?services=ero")
    for path in (*paths, "/letters/read/", "/letters/vakivalta/"):
        assert not client.get(path).cookies, path


@pytest.mark.parametrize("asset", ["chats/widget.js", "chats/widget.css"])
def test_the_widget_files_send_no_referrer(client, asset):
    response = client.get(f"/static/{asset}")
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    env = {
        # (Not the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE either: their fixture may be open.)
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DEBUG", "TEST_DB", "DJANGO_ALLOW_ASYNC_UNSAFE"))
        },
        "PRODUCTION": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "chat.example.fi",
        "OTP_REQUIRED": "true",
    }
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no issues" in check.stdout
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.OTP_REQUIRED)",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "verkkoapu.settings"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert shown.stdout.split() == ["31536000", "True", "True"], shown.stderr


# --- WebSocket origins ----------------------------------------------------------------------------

FOREIGN_ORIGINS = [
    b"https://evil.example",
    b"http://testserver.evil.example",
    b"null",
    b"https://nettiturvakoti.example:99999",  # a port no browser sends: malformed
    None,  # no Origin at all
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
@pytest.mark.parametrize("route", ["/ws/ask/vakivalta/", "/ws/helper/", "/ws/group/unichat/"])
async def test_a_page_from_another_origin_cannot_open_any_socket(
    helper, sockets, route, origin, settings
):
    settings.EMBEDDING_ORIGINS = ["https://nettiturvakoti.example"]
    cookie = await sync_to_async(session_cookie)(helper.user)
    _, connected = await connect(route, cookie, origin=origin)
    assert not connected
    await sockets(route, cookie)  # the service's own page opens it (and it is closed after)


@pytest.mark.django_db(transaction=True)
async def test_an_embedding_site_opens_the_asker_sockets_but_never_the_helpers(helper, settings):
    settings.EMBEDDING_ORIGINS = ["https://nettiturvakoti.example"]
    embedder = b"https://nettiturvakoti.example"
    cookie = await sync_to_async(session_cookie)(helper.user)
    for route in ("/ws/ask/vakivalta/", "/ws/group/unichat/"):
        communicator, connected = await connect(route, origin=embedder)
        assert connected
        await communicator.disconnect()
    _, connected = await connect("/ws/helper/", cookie, origin=embedder)
    assert not connected


# --- Hostile frames -------------------------------------------------------------------------------


async def started(asker) -> dict:
    await asker.send_json_to({"type": "start", "language": "fi"})
    return await next_frame(asker, "queued")


async def live_chat(open_line, make_helper, asker_socket, helper_socket, ip="203.0.113.50"):
    helper = await sync_to_async(make_helper)()
    console = await helper_socket(helper)
    asker = await asker_socket(open_line, ip=ip)
    queued = await started(asker)
    chat = await pair(console, service=open_line.slug)
    await next_frame(console, "history")
    await next_frame(asker, "assigned")
    return asker, console, chat, queued["token"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "message", "text": "\\ud800"}',  # a lone surrogate: not UTF-8
        '{"type": "message", "text": "a\\u0000b"}',  # NUL: PostgreSQL refuses it
        '{"type": "message", "text": "hei", "client_id": "\\udfff"}',
        '{"type": "resume", "token": "\\u0000"}',
        '{"type": "start", "code": "kala\\u0000kissa"}',
    ],
)
async def test_text_a_database_cannot_hold_is_refused_and_the_chat_goes_on(
    open_line, make_helper, asker_socket, helper_socket, raw
):
    asker, console, chat, _ = await live_chat(open_line, make_helper, asker_socket, helper_socket)
    await asker.send_to(text_data=raw)
    assert (await next_frame(asker, "error"))["code"] == "invalid"
    await asker.send_json_to({"type": "message", "text": "vielä täällä"})
    assert (await next_frame(console, "message"))["text"] == "vielä täällä"
    assert (await next_frame(asker, "message"))["text"] == "vielä täällä"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message", "chat": "1", "text": "x"},
        {"type": "message", "chat": True, "text": "x"},
        {"type": "message", "chat": 2**80, "text": "x"},
        {"type": "message", "chat": 1, "text": ["x"]},
        {"type": "message", "chat": 1, "text": {"$gt": ""}},
        {"type": "end", "chat": 1, "topics": "henkinen"},
        {"type": "end", "chat": 1, "topics": [1, 2]},
        {"type": "end", "chat": 1, "follow_up_at": "huomenna"},
        {"type": "bar", "chat": 1, "hours": -5},
        {"type": "accept_next", "service": "x" * 10_000},
        {"type": "group_kick", "session": 1, "nickname": "\u202eevil"},
    ],
)
async def test_a_helper_frame_of_the_wrong_shape_gets_invalid(helper, sockets, frame):
    console = await sockets("/ws/helper/", await sync_to_async(session_cookie)(helper.user))
    await console.send_json_to(frame)
    assert (await next_frame(console, "error"))["code"] == "invalid"
    await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
    assert (await next_frame(console, "empty"))["service"] == "vakivalta"


@pytest.mark.django_db(transaction=True)
async def test_a_helper_cannot_type_notice_or_bar_in_another_helpers_chat(
    open_line, make_helper, asker_socket, helper_socket
):
    # (Writing and ending: tests/test_chat.py.)
    asker, owner, chat, _ = await live_chat(open_line, make_helper, asker_socket, helper_socket)
    intruder = await helper_socket(await sync_to_async(make_helper)())
    for frame in (
        {"type": "typing", "chat": chat},
        {"type": "notice", "chat": chat, "text": "Ilmoitusvelvollisuus"},
        {"type": "bar", "chat": chat, "hours": 24},
        {"type": "end", "chat": chat, "follow_up_at": "2099-01-01T12:00:00+02:00"},
    ):
        await intruder.send_json_to(frame)
        assert (await next_frame(intruder, "error"))["code"] == "not_found", frame
    # The chat goes on untouched: the next thing either side sees is the owner's message.
    await owner.send_json_to({"type": "message", "chat": chat, "text": "olen yhä tässä"})
    assert (await asker.receive_json_from())["text"] == "olen yhä tässä"
    assert (await next_frame(owner, "message", "typing", "ended"))["text"] == "olen yhä tässä"


@pytest.mark.django_db(transaction=True)
async def test_an_asker_naming_another_chat_still_writes_only_to_their_own(
    open_line, make_helper, asker_socket, helper_socket
):
    first, first_console, first_chat, _ = await live_chat(
        open_line, make_helper, asker_socket, helper_socket, ip="203.0.113.51"
    )
    second, second_console, second_chat, _ = await live_chat(
        open_line, make_helper, asker_socket, helper_socket, ip="203.0.113.52"
    )
    await first.send_json_to({"type": "message", "chat": second_chat, "text": "kenelle?"})
    got = await next_frame(first_console, "message")
    assert got["chat"] == first_chat and got["text"] == "kenelle?"
    assert await receive_nothing(second)
    assert await receive_nothing(second_console, ignore=("queue", "follow_ups"))


@pytest.mark.django_db(transaction=True)
async def test_guessing_tokens_is_rate_limited_per_socket(open_line, asker_socket):
    owner = await asker_socket(open_line, ip="203.0.113.60")
    token = (await started(owner))["token"]
    guesser = await asker_socket(open_line, ip="203.0.113.61")
    for _ in range(settings.CHAT_MAX_TOKEN_MISSES_PER_SOCKET):
        await guesser.send_json_to({"type": "resume", "token": secrets.token_urlsafe(24)})
        assert (await next_frame(guesser, "error"))["code"] == "not_found"
    # From now on even a right token is refused on this socket, and nothing is looked up.
    await guesser.send_json_to({"type": "resume", "token": token})
    assert (await next_frame(guesser, "error"))["code"] == "rate_limited"
    # The owner is unharmed: a new socket of theirs resumes the chat.
    again = await asker_socket(open_line, ip="203.0.113.60")
    await again.send_json_to({"type": "resume", "token": token})
    assert (await next_frame(again, "history"))["messages"] == []


@pytest.mark.django_db(transaction=True)
async def test_guessing_tokens_on_fresh_sockets_is_rate_limited_per_address(
    open_line, asker_socket, settings
):
    settings.CHAT_MAX_TOKEN_MISSES_PER_HOUR = 4
    for n in range(4):
        socket = await asker_socket(open_line, ip="203.0.113.62")
        await socket.send_json_to({"type": "resume", "token": f"arvaus-{n}"})
        assert (await next_frame(socket, "error"))["code"] == "not_found"
    socket = await asker_socket(open_line, ip="203.0.113.62")
    await socket.send_json_to({"type": "resume", "token": "arvaus-5"})
    assert (await next_frame(socket, "error"))["code"] == "rate_limited"
    neighbour = await asker_socket(open_line, ip="203.0.113.63")
    await neighbour.send_json_to({"type": "resume", "token": "vanha"})
    assert (await next_frame(neighbour, "error"))["code"] == "not_found"


# --- Hostile HTTP bodies --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/feedback/vakivalta/"])
def test_a_huge_form_is_refused_before_anything_reads_it(lines, path):
    client = Client()
    body = "username=" + "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + "&password=x"
    answer = client.post(path, body, content_type="application/x-www-form-urlencoded")
    assert answer.status_code in (400, 413)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'--x\r\nContent-Disposition: form-data; name="username"\r\n', "multipart/form-data"),
        (b"--x\r\ngarbage", "multipart/form-data; boundary=x"),
        (b"\xff\xfe\x00username=\x00", "application/x-www-form-urlencoded"),
        (b"username=a%00b&password=c%00d", "application/x-www-form-urlencoded"),
        (b"&".join(b"f%d=1" % n for n in range(2000)), "application/x-www-form-urlencoded"),
    ],
)
def test_a_malformed_login_gets_a_client_error_not_a_crash(lines, body, content_type):
    answer = Client().post("/accounts/login/", body, content_type=content_type)
    assert 200 <= answer.status_code < 500
    assert "_auth_user_id" not in Client().session


@pytest.mark.django_db
def test_the_api_refuses_writes_and_odd_queries_calmly(client, lines):
    assert (
        client.post("/api/services/", "{" * 10_000, content_type="application/json").status_code
        == 405
    )
    odd = client.get("/api/widget/", {"services": ",".join(["x" * 200] * 500), "language": "\x00"})
    assert odd.status_code == 200 and odd.json() == {"lines": []}
    assert client.get("/api/services/%00/").status_code == 404


def test_no_script_of_the_project_writes_network_text_as_html():
    """Every text from the network reaches the page through textContent (widget, console…)."""
    risky = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(")
    for script in (ROOT / "static").rglob("*.js"):
        source = script.read_text()
        found = [name for name in risky if name in source]
        assert not found, f"{script.relative_to(ROOT)} uses {found}"


@pytest.mark.django_db(transaction=True)
async def test_markup_in_a_message_travels_as_plain_text(
    open_line, make_helper, asker_socket, helper_socket
):
    asker, console, chat, _ = await live_chat(open_line, make_helper, asker_socket, helper_socket)
    markup = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    await asker.send_json_to({"type": "message", "text": markup})
    assert (await next_frame(console, "message"))["text"] == markup
    stored = await sync_to_async(lambda: Message.objects.get(chat_id=chat).text)()
    assert stored == markup  # stored as written; the pages show it as text (test above)


# --- In a real browser: the two-step login and the admin under the strict policy ----------------


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_two_step_login_in_a_browser_then_console_and_admin_without_csp_refusals(
    request, open_line, make_helper
):
    from base64 import b32decode

    from chats.accounts import enrolment_path, issue_enrolment_code
    from tests.browser import watch_for_alerts
    from tests.conftest import Daphne, server_env

    helper = make_helper()
    helper.user.is_staff = helper.user.is_superuser = True
    helper.user.save()
    enrolment = issue_enrolment_code(helper.user)
    server = Daphne(server_env(settings.REDIS_URL, OTP_REQUIRED="true")).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        page = request.getfixturevalue("contexts")().new_page()  # tests/browser.py
        refused = watch_for_alerts(page)
        page.goto(base + "/console/")
        page.locator("#id_username").fill(helper.user.username)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(base + "/accounts/2fa/setup/?next=%2Fconsole%2F")
        page.goto(base + enrolment_path(enrolment) + "&next=%2Fconsole%2F")  # the link given
        assert page.locator(".otp-qr svg").is_visible()
        key = b32decode(page.locator(".otp-secret").inner_text().replace(" ", ""))
        code = f"{totp(key):06d}"
        page.locator("#id_code").fill(code)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(base + "/console/")
        # The console's socket opened: a session verified in the browser passes the socket too.
        page.locator("#duty-state", has_text=ON_DUTY).wait_for()
        page.goto(base + "/admin/")
        assert page.locator("#site-name").is_visible()
        page.goto(base + "/admin/chats/serviceline/")
        assert page.locator("#result_list").is_visible()
        assert refused == []
    finally:
        server.stop()


@pytest.mark.django_db
def test_guessed_line_slugs_do_not_pile_up_in_a_process(lines, monkeypatch):
    """Unknown slugs are remembered a few seconds (guessing costs no query), but a prober's
    endless new slugs must not grow the process's memory without end."""
    from chats import services
    from verkkoapu.recent import Recent

    monkeypatch.setattr(Recent, "KEYS_KEPT", 50)
    for n in range(500):
        with pytest.raises(services.ChatError):
            services.get_line(f"guess-{n}")
    assert len(queue._lines.values) <= 50
    assert services.get_line("vakivalta").slug == "vakivalta"  # real lines still served
