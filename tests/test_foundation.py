"""The skeleton: settings from the environment, the seeded lines, the set-up commands, the API."""

import io
import json
import secrets
import subprocess
import sys
from datetime import datetime, time

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from chats.models import HelperProfile, ServiceLine
from scheduling.hours import HELSINKI
from scheduling.models import HoursException, OpeningHours
from tests.conftest import ROOT, server_env

PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], "
    "'db_name': str(s.DATABASES['default']['NAME']), "
    "'layer': s.CHANNEL_LAYERS['default']['BACKEND'], "
    "'hosts': s.CHANNEL_LAYERS['default'].get('CONFIG', {}).get('hosts'), "
    "'capacity': s.CHANNEL_LAYERS['default'].get('CONFIG', {}).get('capacity'), "
    "'tz': s.TIME_ZONE, 'lang': s.LANGUAGE_CODE, 'debug': s.DEBUG, "
    "'secure_cookie': s.SESSION_COOKIE_SECURE, 'hsts': s.SECURE_HSTS_SECONDS, "
    "'hosts_allowed': s.ALLOWED_HOSTS}, default=str))"
)


def settings_with(**env) -> dict:
    """Load verkkoapu.settings in a fresh interpreter with exactly this environment."""
    clean = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "verkkoapu.settings", **env}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    if result.returncode:
        return {"error": result.stderr.strip().splitlines()[-1]}
    return json.loads(result.stdout)


def test_no_environment_runs_on_sqlite_and_the_in_memory_layer():
    loaded = settings_with()
    assert loaded["db"] == "django.db.backends.sqlite3"
    assert loaded["db_name"].endswith("db.sqlite3")
    assert loaded["layer"] == "channels.layers.InMemoryChannelLayer"
    assert (loaded["tz"], loaded["lang"]) == ("Europe/Helsinki", "fi")


def test_urls_switch_to_postgresql_and_channels_redis():
    urls = {"DATABASE_URL": "postgres://app@db:5432/verkkoapu", "REDIS_URL": "redis://cache:6379/1"}
    loaded = settings_with(**urls)
    assert loaded["db"] == "django.db.backends.postgresql"
    # Pub/sub by default (docs/architecture.md); the pool must outgrow redis-py's 100.
    assert loaded["layer"] == "verkkoapu.channel_layer.PubSubChannelLayer"
    assert loaded["hosts"][0]["max_connections"] >= 1000
    # The core layer on request, with an inbox far above its default capacity of 100.
    core = settings_with(**urls, REDIS_LAYER="core")
    assert core["layer"] == "channels_redis.core.RedisChannelLayer"
    assert core["hosts"][0]["max_connections"] >= 1000 and core["capacity"] >= 1000
    assert "REDIS_LAYER must be pubsub or core" in settings_with(**urls, REDIS_LAYER="x")["error"]


def test_production_requires_a_secret_key_and_sets_secure_cookies():
    assert "SECRET_KEY must be set" in settings_with(PRODUCTION="true")["error"]
    key = secrets.token_urlsafe(50)  # "x" * 60 is too weak now (tests/test_sessions.py)
    loaded = settings_with(PRODUCTION="true", SECRET_KEY=key, ALLOWED_HOSTS="chat.example.fi")
    assert loaded["debug"] is False and loaded["secure_cookie"] is True
    assert loaded["hsts"] >= 31536000 and loaded["hosts_allowed"] == ["chat.example.fi"]


@pytest.mark.django_db
def test_migration_seeds_the_contract_lines_with_their_hours():
    # The contract's six are the lines in use; the brochures' other services (issue 21) wait,
    # switched off, for a coordinator to set their hours.
    lines = {line.slug: line for line in ServiceLine.objects.filter(active=True)}
    assert set(lines) == {"vakivalta", "lapset-nuoret", "ero", "vauvan-uni", "paihteet", "unichat"}
    assert lines["unichat"].kind == "group"
    assert {lines[s].kind for s in lines if s != "unichat"} == {"one_to_one"}

    def week(slug):
        return {
            (h.weekday, h.opens, h.closes) for h in OpeningHours.objects.filter(line__slug=slug)
        }

    assert week("vakivalta") == {(d, time(12), time(18)) for d in range(5)}
    assert week("lapset-nuoret") == {(d, time(15), time(18)) for d in range(5)}
    assert week("unichat") == set()
    assert lines["vakivalta"].topics.filter(slug="fyysinen").exists()
    assert all(lines[s].topics.count() >= 5 for s in lines if s != "unichat")


@pytest.mark.django_db
def test_createhelper_makes_a_helper_without_admin_access():
    call_command(
        "createhelper",
        "anna",
        "--password",
        "pw-123456789",
        "--role",
        "peer",
        "--display-name",
        "Anna",
        "--service",
        "vakivalta",
        "--service",
        "ero",
    )
    helper = HelperProfile.objects.get(user__username="anna")
    assert (helper.display_name, helper.role) == ("Anna", "peer")
    assert set(helper.lines.values_list("slug", flat=True)) == {"vakivalta", "ero"}
    assert helper.user.check_password("pw-123456789")
    assert not helper.user.is_staff


@pytest.mark.django_db
def test_a_weak_password_is_taken_with_a_warning_and_a_strong_one_silently():
    """The commands never stop on the password validators (scripts set up with any password),
    but an operator is told which rules a password breaks."""
    out, err = io.StringIO(), io.StringIO()
    call_command("createcoordinator", "kim", "--password", "12345", stdout=out, stderr=err)
    assert get_user_model().objects.get(username="kim").check_password("12345")
    assert "Weak password" in err.getvalue() and "too short" in err.getvalue()
    assert "entirely numeric" in err.getvalue()
    err = io.StringIO()
    call_command(
        "createhelper", "anna", "--password", "kahvi-ja-pulla-42", "--role", "peer",
        "--display-name", "Anna", "--service", "ero", stdout=out, stderr=err,
    )  # fmt: skip
    assert err.getvalue() == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, reason",
    [
        (["--role", "boss", "--service", "vakivalta"], "Unknown role 'boss'"),
        (["--role", "peer", "--service", "nope"], "Unknown service 'nope'"),
    ],
)
def test_createhelper_refuses_bad_arguments_and_changes_nothing(args, reason):
    with pytest.raises(CommandError, match=reason):
        call_command("createhelper", "bea", "--password", "pw", "--display-name", "Bea", *args)
    assert not get_user_model().objects.filter(username="bea").exists()


@pytest.mark.django_db
def test_existing_username_is_refused_by_both_commands():
    call_command("createcoordinator", "kim", "--password", "pw-123456789")
    with pytest.raises(CommandError, match="already exists"):
        call_command("createcoordinator", "kim", "--password", "other")
    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "createhelper",
            "kim",
            "--password",
            "pw",
            "--role",
            "peer",
            "--display-name",
            "K",
            "--service",
            "ero",
        )
    assert get_user_model().objects.get(username="kim").check_password("pw-123456789")


def test_commands_exit_non_zero_with_a_one_line_reason(transactional_db, lines):
    """As an operator sees it: a real process, its exit code and its last line."""
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createhelper",
            "x",
            "--password",
            "p",
            "--role",
            "peer",
            "--display-name",
            "X",
            "--service",
            "no-such-line",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=server_env(redis_url=""),
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["CommandError: Unknown service 'no-such-line'."]


@pytest.mark.django_db
def test_coordinator_gets_the_admin_and_a_helper_does_not(client):
    call_command("createcoordinator", "kim", "--password", "pw-123456789")
    call_command(
        "createhelper",
        "anna",
        "--password",
        "pw-123456789",
        "--role",
        "professional",
        "--display-name",
        "Anna",
        "--service",
        "ero",
    )
    assert client.login(username="kim", password="pw-123456789")
    page = client.get("/admin/chats/serviceline/")
    assert page.status_code == 200 and "Apua väkivaltaan" in page.text
    assert client.get("/admin/scheduling/hoursexception/add/").status_code == 200
    client.logout()
    assert client.login(username="anna", password="pw-123456789")
    assert client.get("/admin/").status_code == 302  # to the admin login: not staff


@pytest.mark.django_db
def test_api_answers_for_an_open_and_a_closed_line_at_a_fixed_time(client):
    # Thursday 26.11.2026 at 16:00 Helsinki: the violence line (12–18) and the youth line
    # (15–18) are open; at 13:00 the youth line is closed until 15:00.
    with time_machine.travel(datetime(2026, 11, 26, 16, 0, tzinfo=HELSINKI), tick=False):
        answer = client.get("/api/services/").json()
    by_slug = {line["slug"]: line for line in answer}
    assert by_slug["vakivalta"] == {
        "slug": "vakivalta",
        "name": "Apua väkivaltaan",
        "kind": "one_to_one",
        "open": True,
        "opens_at": None,
        "closes_at": "2026-11-26T18:00:00+02:00",
        "queue_length": 0,
        # Additions (docs/workflow.md): a newcomer would be taken into the queue; no age asked.
        "accepting": True,
        "asks_age": False,
    }
    with time_machine.travel(datetime(2026, 11, 26, 13, 0, tzinfo=HELSINKI), tick=False):
        youth = client.get("/api/services/lapset-nuoret/").json()
    assert youth["open"] is False
    assert youth["opens_at"] == "2026-11-26T15:00:00+02:00" and youth["closes_at"] is None


@pytest.mark.django_db
def test_api_follows_a_closure_and_friday_evening_opens_on_monday(client):
    HoursException.objects.create(
        line=None, first_day="2026-11-27", last_day="2026-11-27", closed=True, note="koulutus"
    )
    with time_machine.travel(datetime(2026, 11, 26, 19, 0, tzinfo=HELSINKI), tick=False):
        line = client.get("/api/services/vakivalta/").json()
    # Friday is closed for everyone, the weekend too: next opening Monday 12:00.
    assert (line["open"], line["opens_at"]) == (False, "2026-11-30T12:00:00+02:00")


@pytest.mark.django_db
def test_api_unknown_slug_is_a_json_404(client):
    response = client.get("/api/services/ei-ole/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.django_db
def test_demo_page_embeds_the_widget_and_sets_no_cookie(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "chats/widget.js" in response.text
    assert not response.cookies


def test_the_widget_carries_every_translation_of_its_catalogues():
    """widget.js's words are msgids of the djangojs catalogues; the script holds what the
    compiled catalogues say, for every language, or this fails with what to run."""
    out = io.StringIO()
    call_command("widgettexts", "--check", stdout=out)
    assert "up to date" in out.getvalue()


def test_a_widget_text_without_a_translation_is_caught(tmp_path, monkeypatch):
    from chats.management.commands import widgettexts

    copy = tmp_path / "widget.js"
    script = widgettexts.WIDGET.read_text(encoding="utf-8")
    copy.write_text(
        script.replace(
            "  var MESSAGES = {", '  var MESSAGES = {\n    x: gettext_noop("New words"),'
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(widgettexts, "WIDGET", copy)
    with pytest.raises(CommandError, match="fi: New words"):
        call_command("widgettexts", "--check")
    assert copy.read_text(encoding="utf-8").count("New words") == 1  # nothing written
