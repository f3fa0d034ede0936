"""No session without a login, expired sessions purged, safe production defaults (issue 18)."""

import secrets
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from tests.conftest import ROOT
from verkkoapu import jobs

PASSWORD = "correct horse battery"  # conftest's make_helper
COOKIE = settings.SESSION_COOKIE_NAME
MADE_UP = "madeupmadeupmadeupmadeup12345678"
ASKER_PAGES = ["/", "/api/widget/", "/feedback/vakivalta/", "/group/unichat/"]


@pytest.fixture
def helper(make_helper):
    return make_helper()


def with_made_up_cookie() -> Client:
    client = Client()
    client.cookies[COOKIE] = MADE_UP
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*ASKER_PAGES, "/accounts/login/", "/admin/login/", "/console/"])
def test_a_made_up_session_cookie_creates_no_session_and_sets_no_cookie(lines, path):
    for _ in range(3):
        response = with_made_up_cookie().get(path)
        assert response.status_code < 500
        assert COOKIE not in response.cookies, response.cookies[COOKIE].OutputString()
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_a_wrong_password_with_a_made_up_cookie_creates_no_session(helper):
    client = with_made_up_cookie()
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/", {"username": helper.user.username, "password": "wrong password!"}
    )
    assert response.status_code == 200 and COOKIE not in response.cookies
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_a_real_login_gets_a_new_session_and_keeps_it(helper, lines):
    client = with_made_up_cookie()  # a planted cookie is never adopted
    response = client.post(
        "/accounts/login/", {"username": helper.user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    key = response.cookies[COOKIE].value
    assert key != MADE_UP and SessionStore(key).get("_auth_user_id") == str(helper.user.pk)
    assert Session.objects.count() == 1
    # Each page of the console counts as use: the session is saved and its cookie renewed.
    console = client.get("/console/")
    assert console.status_code == 200 and console.cookies[COOKIE].value == key
    # Asker pages never set (nor renew, nor delete) a cookie, even for a logged-in helper.
    for path in ASKER_PAGES:
        assert COOKIE not in client.get(path).cookies, path
    assert client.get("/console/").status_code == 200
    # Logging out ends the session and deletes its cookie.
    out = client.post("/accounts/logout/")
    assert out.cookies[COOKIE].value == "" and not Session.objects.exists()


@pytest.mark.django_db
def test_expired_sessions_are_removed_by_the_scheduled_jobs(helper):
    client = Client()
    client.force_login(helper.user)
    live = client.cookies[COOKIE].value
    old = Client()
    old.force_login(helper.user)
    Session.objects.filter(session_key=old.cookies[COOKIE].value).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    assert "clearsessions" in jobs.run_due()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live]
    # Hourly: not again at once, and again an hour on.
    assert "clearsessions" not in jobs.run_due()
    assert "clearsessions" in jobs.run_due(timezone.now() + timedelta(hours=1))


# --- Production defaults -------------------------------------------------------------------------

STRONG_KEY = secrets.token_urlsafe(50)


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    """A fresh interpreter with exactly this environment (PRODUCTION on)."""
    clean = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "verkkoapu.settings",
        "PRODUCTION": "true",
        "ALLOWED_HOSTS": "chat.example.fi",
        "DATABASE_URL": f"sqlite:///{ROOT / 'db.sqlite3'}",
        **env,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True
    )


OTP_PROBE = (
    "import django; django.setup(); from django.conf import settings; print(settings.OTP_REQUIRED)"
)


def test_production_turns_two_step_login_on_by_itself():
    on = run("-c", OTP_PROBE, SECRET_KEY=STRONG_KEY)
    assert (on.returncode, on.stdout.strip()) == (0, "True")
    assert "OTP_REQUIRED" not in on.stderr
    blank = run("-c", OTP_PROBE, SECRET_KEY=STRONG_KEY, OTP_REQUIRED="")
    assert blank.stdout.strip() == "True"


def test_two_step_login_turned_off_in_production_warns_at_start_and_in_the_deploy_check():
    off = run("-c", OTP_PROBE, SECRET_KEY=STRONG_KEY, OTP_REQUIRED="false")
    assert off.stdout.strip() == "False"
    assert off.stderr.count("Two-step login is off in production") == 1  # logged once, at start
    check = run("manage.py", "check", "--deploy", SECRET_KEY=STRONG_KEY, OTP_REQUIRED="false")
    assert "(verkkoapu.W001) Two-step login is off in production" in check.stderr
    clean = run("manage.py", "check", "--deploy", SECRET_KEY=STRONG_KEY)
    assert "verkkoapu.W001" not in clean.stderr + clean.stdout


@pytest.mark.parametrize(
    "key", ["", "x", "short-but-varied-0123456789", "x" * 60, "abcd" * 15, "ab" * 40]
)
def test_a_weak_secret_key_stops_production_with_one_line(key):
    result = run("-c", OTP_PROBE, SECRET_KEY=key)
    assert result.returncode != 0 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("SECRET_KEY ")
    assert "secrets.token_urlsafe(50)" in lines[0]


def test_a_strong_secret_key_starts_and_development_needs_none():
    assert run("-c", OTP_PROBE, SECRET_KEY=STRONG_KEY).returncode == 0
    dev = run("-c", OTP_PROBE, PRODUCTION="false")
    assert (dev.returncode, dev.stdout.strip()) == (0, "False")
